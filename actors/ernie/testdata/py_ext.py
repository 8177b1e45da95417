"""py_ext: the external Python handler of the tests, on imperial's ernie.py."""
import os
import ernie


def add(a, b):
    return a + b


def echo(x):
    return x


def fail(msg):
    raise ValueError(msg.decode() if isinstance(msg, bytes) else msg)


def pid():
    return os.getpid()


ernie.expose("py", {"add": add, "echo": echo, "fail": fail, "pid": pid})
