"""ernie: Ernie's handler API for Python, standard library only.

An external handler for imperial's Ernie server (or Ernie itself): the
server starts the handler with its fds 3 and 4 open, writes each request as a
4-byte big-endian length and a BERT term on fd 3, and reads one reply in the
same framing on fd 4. stdout and stderr are free.

    import ernie

    def add(a, b):
        return a + b

    ernie.logfile("/var/log/py.log")      # optional; logs everything, then
    ernie.loglevel("info")                # optionally less
    ernie.expose("py", {"add": add})      # or a module, a class, an object

When the handler file has run, ernie.start() serves requests (unless
ernie.auto_start is set to False). Replies, as Ernie's Ruby library gives
them:

    {call, M, F, A}  -> {reply, Result}
                        {error, {server, 0, "ServerError", Msg, Backtrace}}
                          for an unknown module or function
                        {error, {user, 0, ExceptionClass, Msg, Backtrace}}
                          when the function raised
    {cast, M, F, A}  -> {noreply} after running it (exceptions are dropped)
    anything else    -> {error, {server, 0, "Invalid request: ..."}}

BERT <-> Python: atoms are Atom (a str subclass), integers int, floats
float, binaries bytes (a str result is sent as its UTF-8 bytes), tuples
tuple, lists list (Erlang strings arrive as lists of ints), {bert, nil} None,
{bert, true|false} True/False, {bert, dict, ...} dict, {bert, time, ...} an
aware datetime (UTC), {bert, regex, ...} a compiled re pattern.
"""

import atexit
import datetime
import logging
import os
import re
import struct
import sys
import traceback

VERSION = "2.5.2"

MAX_PACKET = 64 << 20  # largest request accepted
MAX_DEPTH = 10000  # deepest nesting decoded


class Atom(str):
    """An Erlang atom."""

    __slots__ = ()

    def __repr__(self):
        return "Atom(%s)" % str.__repr__(self)


class ServerError(Exception):
    """Raised by dispatch for an unknown module or function."""


class DecodeError(ValueError):
    """The bytes are not a BERT term this decoder knows."""


# --- BERT decoding ----------------------------------------------------------

_BERT, _NIL, _TRUE, _FALSE = Atom("bert"), Atom("nil"), Atom("true"), Atom("false")
_REGEX_FLAGS = (("caseless", re.IGNORECASE), ("extended", re.VERBOSE), ("multiline", re.MULTILINE))
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def decode(data):
    """Decode one BERT (version byte 131 first) into Python values."""
    data = bytes(data)
    if not data or data[0] != 131:
        raise DecodeError("bad magic")
    value, pos = _decode(data, 1, 0)
    if pos != len(data):
        raise DecodeError("%d trailing bytes" % (len(data) - pos))
    return value


def _need(data, pos, n):
    if pos + n > len(data):
        raise DecodeError("truncated term")


def _decode(data, pos, depth):
    if depth > MAX_DEPTH:
        raise DecodeError("nested too deep")
    _need(data, pos, 1)
    tag = data[pos]
    pos += 1
    if tag == 97:  # SMALL_INTEGER_EXT
        _need(data, pos, 1)
        return data[pos], pos + 1
    if tag == 98:  # INTEGER_EXT
        _need(data, pos, 4)
        return struct.unpack_from(">i", data, pos)[0], pos + 4
    if tag == 99:  # FLOAT_EXT
        _need(data, pos, 31)
        text = data[pos:pos + 31].split(b"\0", 1)[0]
        try:
            return float(text), pos + 31
        except ValueError:
            raise DecodeError("bad float text") from None
    if tag == 70:  # NEW_FLOAT_EXT
        _need(data, pos, 8)
        return struct.unpack_from(">d", data, pos)[0], pos + 8
    if tag in (100, 118):  # ATOM_EXT, ATOM_UTF8_EXT
        _need(data, pos, 2)
        n = struct.unpack_from(">H", data, pos)[0]
        pos += 2
        _need(data, pos, n)
        return _atom(data[pos:pos + n], tag), pos + n
    if tag in (115, 119):  # SMALL_ATOM_EXT, SMALL_ATOM_UTF8_EXT
        _need(data, pos, 1)
        n = data[pos]
        pos += 1
        _need(data, pos, n)
        return _atom(data[pos:pos + n], tag), pos + n
    if tag in (104, 105):  # SMALL_TUPLE_EXT, LARGE_TUPLE_EXT
        if tag == 104:
            _need(data, pos, 1)
            n, pos = data[pos], pos + 1
        else:
            _need(data, pos, 4)
            n, pos = struct.unpack_from(">I", data, pos)[0], pos + 4
        _need(data, pos, n)  # every element takes at least one byte
        items = []
        for _ in range(n):
            v, pos = _decode(data, pos, depth + 1)
            items.append(v)
        return _complex(tuple(items)), pos
    if tag == 106:  # NIL_EXT
        return [], pos
    if tag == 107:  # STRING_EXT: a list of small integers
        _need(data, pos, 2)
        n = struct.unpack_from(">H", data, pos)[0]
        pos += 2
        _need(data, pos, n)
        return list(data[pos:pos + n]), pos + n
    if tag == 108:  # LIST_EXT
        _need(data, pos, 4)
        n = struct.unpack_from(">I", data, pos)[0]
        pos += 4
        _need(data, pos, n)
        items = []
        for _ in range(n):
            v, pos = _decode(data, pos, depth + 1)
            items.append(v)
        tail, pos = _decode(data, pos, depth + 1)
        if tail != []:
            raise DecodeError("improper list")
        return items, pos
    if tag == 109:  # BINARY_EXT
        _need(data, pos, 4)
        n = struct.unpack_from(">I", data, pos)[0]
        pos += 4
        _need(data, pos, n)
        return data[pos:pos + n], pos + n
    if tag in (110, 111):  # SMALL_BIG_EXT, LARGE_BIG_EXT
        if tag == 110:
            _need(data, pos, 2)
            n, pos = data[pos], pos + 1
        else:
            _need(data, pos, 5)
            n, pos = struct.unpack_from(">I", data, pos)[0], pos + 4
        _need(data, pos, n + 1)
        sign = data[pos]
        value = int.from_bytes(data[pos + 1:pos + 1 + n], "little")
        return (-value if sign else value), pos + 1 + n
    if tag == 116:  # MAP_EXT
        _need(data, pos, 4)
        n = struct.unpack_from(">I", data, pos)[0]
        pos += 4
        _need(data, pos, 2 * n)
        out = {}
        for _ in range(n):
            k, pos = _decode(data, pos, depth + 1)
            v, pos = _decode(data, pos, depth + 1)
            out[_hashable(k)] = v
        return out, pos
    raise DecodeError("unknown term tag %d" % tag)


def _atom(raw, tag):
    return Atom(raw.decode("latin-1" if tag in (100, 115) else "utf-8", "replace"))


def _hashable(v):
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple((_hashable(k), _hashable(x)) for k, x in v.items())
    return v


def _complex(t):
    if not t or t[0] != _BERT:
        return t
    if len(t) == 2 and t[1] == _NIL:
        return None
    if len(t) == 2 and t[1] == _TRUE:
        return True
    if len(t) == 2 and t[1] == _FALSE:
        return False
    if len(t) == 3 and t[1] == "dict" and isinstance(t[2], list):
        out = {}
        for pair in t[2]:
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise DecodeError("bad dict pair")
            out[_hashable(pair[0])] = pair[1]
        return out
    if len(t) == 5 and t[1] == "time" and all(isinstance(x, int) for x in t[2:]):
        return _EPOCH + datetime.timedelta(seconds=t[2] * 1000000 + t[3], microseconds=t[4])
    if len(t) == 4 and t[1] == "regex" and isinstance(t[2], bytes) and isinstance(t[3], list):
        flags = 0
        for name, flag in _REGEX_FLAGS:
            if name in t[3]:
                flags |= flag
        return re.compile(t[2].decode("utf-8", "replace"), flags)
    raise DecodeError("unknown complex type %r" % (t[1],))


# --- BERT encoding ----------------------------------------------------------


def encode(value):
    """Encode a Python value as a BERT (version byte 131 first)."""
    out = bytearray(b"\x83")
    _encode(out, value, 0)
    return bytes(out)


def _encode(out, v, depth):
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deep")
    if v is None:
        _encode(out, (_BERT, _NIL), depth + 1)
    elif v is True:
        _encode(out, (_BERT, _TRUE), depth + 1)
    elif v is False:
        _encode(out, (_BERT, _FALSE), depth + 1)
    elif isinstance(v, Atom):
        raw = v.encode("latin-1")
        if len(raw) > 255:
            raise ValueError("atom longer than 255 characters")
        out += b"d" + struct.pack(">H", len(raw)) + raw
    elif isinstance(v, int):
        if 0 <= v <= 255:
            out += b"a" + bytes((v,))
        elif -(1 << 31) <= v < (1 << 31):
            out += b"b" + struct.pack(">i", v)
        else:
            mag = abs(v)
            raw = mag.to_bytes((mag.bit_length() + 7) // 8, "little")
            if len(raw) < 256:
                out += b"n" + bytes((len(raw), 1 if v < 0 else 0)) + raw
            else:
                out += b"o" + struct.pack(">I", len(raw)) + bytes((1 if v < 0 else 0,)) + raw
    elif isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError("NaN and infinities have no BERT form")
        text = ("%.20e" % v).encode("ascii")
        out += b"c" + text + b"\0" * (31 - len(text))
    elif isinstance(v, str):
        raw = v.encode("utf-8")
        out += b"m" + struct.pack(">I", len(raw)) + raw
    elif isinstance(v, (bytes, bytearray, memoryview)):
        raw = bytes(v)
        out += b"m" + struct.pack(">I", len(raw)) + raw
    elif isinstance(v, tuple):
        if len(v) < 256:
            out += b"h" + bytes((len(v),))
        else:
            out += b"i" + struct.pack(">I", len(v))
        for x in v:
            _encode(out, x, depth + 1)
    elif isinstance(v, list):
        if not v:
            out += b"j"
            return
        out += b"l" + struct.pack(">I", len(v))
        for x in v:
            _encode(out, x, depth + 1)
        out += b"j"
    elif isinstance(v, dict):
        _encode(out, (_BERT, Atom("dict"), [(k, x) for k, x in v.items()]), depth + 1)
    elif isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.astimezone()
        delta = v - _EPOCH
        secs = delta.days * 86400 + delta.seconds
        _encode(out, (_BERT, Atom("time"), secs // 1000000, secs % 1000000, delta.microseconds), depth + 1)
    elif isinstance(v, re.Pattern):
        opts = [Atom(name) for name, flag in _REGEX_FLAGS if v.flags & flag]
        _encode(out, (_BERT, Atom("regex"), v.pattern.encode("utf-8"), opts), depth + 1)
    else:
        raise TypeError("cannot encode %s to BERT" % type(v).__name__)


# --- handler API ------------------------------------------------------------

mods = {}
auto_start = True
count = 0
log = logging.getLogger("ernie")
_console = logging.StreamHandler(sys.stdout)
_console.setFormatter(logging.Formatter("%(levelname).1s, [%(asctime)s #%(process)d] %(levelname)s -- : %(message)s"))
log.addHandler(_console)
log.setLevel(logging.CRITICAL)
log.propagate = False
_started = False
_failed = False


def mod(name, funcs):
    """Define module name from a mapping of function name to callable."""
    mods[str(name)] = dict((str(k), f) for k, f in funcs.items())


def expose(name, obj):
    """Expose obj's public callables as module name. obj may be a dict of
    callables, a module, a class (its instance is created) or an object."""
    if isinstance(obj, dict):
        mod(name, obj)
        return obj
    if isinstance(obj, type):
        obj = obj()
    funcs = {}
    for attr in dir(obj):
        if attr.startswith("_"):
            continue
        f = getattr(obj, attr)
        if callable(f) and not isinstance(f, type):
            funcs[attr] = f
    mod(name, funcs)
    return obj


def logfile(path):
    """Log to path; a new log file logs everything until loglevel is called."""
    global log
    for h in list(log.handlers):
        log.removeHandler(h)
    handler = logging.FileHandler(path)
    handler.setFormatter(_console.formatter)
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)


def loglevel(level):
    """Set the log level: a logging level or one of debug, info, warn,
    error, fatal (Ruby's names)."""
    if isinstance(level, str):
        level = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
                 "warning": logging.WARNING, "error": logging.ERROR, "fatal": logging.CRITICAL}[level.lower()]
    log.setLevel(level)


def dispatch(module, fun, args):
    """Call module:fun(*args)."""
    m = mods.get(str(module))
    if m is None:
        raise ServerError("No such module '%s'" % module)
    f = m.get(str(fun))
    if f is None:
        raise ServerError("No such function '%s:%s'" % (module, fun))
    return f(*args)


def _read_exact(f, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = f.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def read_berp(f):
    """Read and decode one BERP; None at end of input."""
    header = _read_exact(f, 4)
    if header is None:
        return None
    n = struct.unpack(">I", header)[0]
    if n > MAX_PACKET:
        raise DecodeError("packet of %d bytes" % n)
    data = _read_exact(f, n) if n else b""
    if data is None:
        return None
    return decode(data)


def write_berp(f, value):
    """Encode value and write it as one BERP."""
    data = encode(value)
    f.write(struct.pack(">I", len(data)) + data)
    f.flush()


def _error(kind, exc, tb=None):
    lines = [line.rstrip("\n") for line in traceback.format_tb(tb or exc.__traceback__)]
    return (Atom("error"), (Atom(kind), 0, type(exc).__name__, str(exc), lines))


def process(inp, out):
    """Handle one request; returns (request, reply)."""
    global count
    try:
        req = read_berp(inp)
    except (DecodeError, struct.error) as e:
        reply = (Atom("error"), (Atom("protocol"), 2, type(e).__name__, "Undecodable request: %s" % e, []))
        write_berp(out, reply)
        return None, reply
    if req is None:
        msg = "Could not read BERP length header. Ernie server may have gone away. Exiting now."
        print(msg, flush=True)
        log.info("(%d) %s", os.getpid(), msg)
        os._exit(0)
    if isinstance(req, tuple) and len(req) == 4 and req[0] == "call":
        log.info("-> %r", req)
        try:
            reply = (Atom("reply"), dispatch(req[1], req[2], req[3]))
            data = encode(reply)
        except ServerError as e:
            reply = _error("server", e)
            data = encode(reply)
        except Exception as e:  # the function raised, or its result has no BERT form
            reply = _error("user", e)
            data = encode(reply)
        if reply[0] == "error":
            log.error("<- %r", reply)
        else:
            log.debug("<- %r", reply)
        out.write(struct.pack(">I", len(data)) + data)
        out.flush()
        count += 1
        return req, reply
    elif isinstance(req, tuple) and len(req) == 4 and req[0] == "cast":
        log.info("-> %r", req)
        try:
            dispatch(req[1], req[2], req[3])
        except Exception as e:
            log.error("cast %s:%s raised %s: %s", req[1], req[2], type(e).__name__, e)
        reply = (Atom("noreply"),)
    else:
        log.error("-> %r", req)
        reply = (Atom("error"), (Atom("server"), 0, "Invalid request: %r" % (req,)))
    write_berp(out, reply)
    count += 1
    return req, reply


def start():
    """Serve requests from fd 3, replying on fd 4, until the server goes away."""
    global _started
    _started = True
    log.info("(%d) Starting", os.getpid())
    log.debug("%r", mods)
    inp = os.fdopen(3, "rb", buffering=0)
    out = os.fdopen(4, "wb", buffering=0)
    while True:
        process(inp, out)


def _excepthook(kind, value, tb):
    global _failed
    _failed = True
    _prev_excepthook(kind, value, tb)


_prev_excepthook = sys.excepthook
sys.excepthook = _excepthook


@atexit.register
def _auto_start():
    if auto_start and not _started and not _failed and mods:
        start()
