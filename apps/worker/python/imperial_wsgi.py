"""imperial's WSGI adapter: runs one WSGI application as an imperial external worker.

imperial starts this script once per worker process (see apps/worker). It reads requests
on fd 3 and writes replies on fd 4; every message is a 4-byte big-endian length and that
many bytes of BERT (Erlang external term format):

    imperial -> worker   {request, Environ, Body}
    worker -> imperial   {response, Status, Headers, Body}

Environ is a list of {Name, Value} binaries (the CGI variables as the uwsgi protocol carries
them), Body a binary. The application's status, headers and body come back as binaries; a
body the application yields in pieces is joined (one reply per request).

Usage:  python3 imperial_wsgi.py (--module MOD[:CALLABLE] | --wsgi-file FILE [--callable NAME])

Python applications also get the seed's Erlang API, backed by imperial's node through the
unix socket named by $IMPERIAL_ERLANG_BRIDGE (same framing):

    import uwsgi   # or: import imperial
    node = uwsgi.erlang_connect('erl@127.0.0.1')
    uwsgi.erlang_rpc(node, 'erlang', 'node', [])
    uwsgi.erlang_send_message(node, 'proc_name', ('hello', 1))
    uwsgi.erlang_register_process('pyproc')              # then {pyproc, ImperialNode} ! Msg
    uwsgi.erlang_recv_message('pyproc', timeout=5.0)     # -> (from_pid, msg) or None
    uwsgi.erlang_register_process('pyproc2', callback)   # callback(msg) in a thread
    uwsgi.erlang_close(node)

Atoms are uwsgi.Atom (a str), binaries bytes, strings are sent as binaries, tuples, lists
and dicts map to tuples, lists and maps, pids stay opaque.
"""

import io
import os
import socket
import struct
import sys
import threading
import traceback
import types


# ---------------------------------------------------------------- external term format

class Atom(str):
    """An Erlang atom."""

    def __repr__(self):
        return "Atom(%s)" % str.__repr__(self)


class Opaque(object):
    """A pid, reference, port or fun: kept as its encoded bytes."""

    def __init__(self, tag, raw):
        self.tag, self.raw = tag, raw

    def __eq__(self, other):
        return isinstance(other, Opaque) and (self.tag, self.raw) == (other.tag, other.raw)

    def __hash__(self):
        return hash((self.tag, self.raw))

    def __repr__(self):
        kind = {88: "Pid", 103: "Pid", 90: "Ref", 114: "Ref", 89: "Port", 102: "Port", 120: "Port"}.get(self.tag, "Term")
        return "<%s %s>" % (kind, self.raw.hex())


class TermError(ValueError):
    pass


MAX_DEPTH = 1000


def decode(data):
    if not data or data[0] != 131:
        raise TermError("missing version byte 131")
    term, pos = _decode(memoryview(data), 1, 0)
    return term


def _atom(name):
    if name == "true":
        return True
    if name == "false":
        return False
    return Atom(name)


def _decode(b, pos, depth):
    if depth > MAX_DEPTH:
        raise TermError("term too deep")
    if pos >= len(b):
        raise TermError("truncated term")
    tag = b[pos]
    pos += 1

    def need(n):
        if pos + n > len(b):
            raise TermError("truncated term")

    if tag == 97:  # SMALL_INTEGER
        need(1)
        return b[pos], pos + 1
    if tag == 98:  # INTEGER
        need(4)
        return struct.unpack(">i", b[pos:pos + 4])[0], pos + 4
    if tag == 70:  # NEW_FLOAT
        need(8)
        return struct.unpack(">d", b[pos:pos + 8])[0], pos + 8
    if tag == 99:  # FLOAT (string)
        need(31)
        return float(bytes(b[pos:pos + 31]).split(b"\0", 1)[0]), pos + 31
    if tag in (100, 118):  # ATOM, ATOM_UTF8
        need(2)
        n = struct.unpack(">H", b[pos:pos + 2])[0]
        pos += 2
        need(n)
        enc = "latin-1" if tag == 100 else "utf-8"
        return _atom(bytes(b[pos:pos + n]).decode(enc)), pos + n
    if tag in (115, 119):  # SMALL_ATOM, SMALL_ATOM_UTF8
        need(1)
        n = b[pos]
        pos += 1
        need(n)
        enc = "latin-1" if tag == 115 else "utf-8"
        return _atom(bytes(b[pos:pos + n]).decode(enc)), pos + n
    if tag in (104, 105):  # SMALL_TUPLE, LARGE_TUPLE
        if tag == 104:
            need(1)
            n = b[pos]
            pos += 1
        else:
            need(4)
            n = struct.unpack(">I", b[pos:pos + 4])[0]
            pos += 4
        if n > len(b) - pos:
            raise TermError("tuple larger than its input")
        items = []
        for _ in range(n):
            item, pos = _decode(b, pos, depth + 1)
            items.append(item)
        return tuple(items), pos
    if tag == 106:  # NIL
        return [], pos
    if tag == 107:  # STRING (list of bytes)
        need(2)
        n = struct.unpack(">H", b[pos:pos + 2])[0]
        pos += 2
        need(n)
        return list(bytes(b[pos:pos + n])), pos + n
    if tag == 108:  # LIST
        need(4)
        n = struct.unpack(">I", b[pos:pos + 4])[0]
        pos += 4
        if n > len(b) - pos:
            raise TermError("list larger than its input")
        items = []
        for _ in range(n):
            item, pos = _decode(b, pos, depth + 1)
            items.append(item)
        tail, pos = _decode(b, pos, depth + 1)
        if tail != []:
            items.append(tail)  # improper list: the tail becomes the last item
        return items, pos
    if tag == 109:  # BINARY
        need(4)
        n = struct.unpack(">I", b[pos:pos + 4])[0]
        pos += 4
        need(n)
        return bytes(b[pos:pos + n]), pos + n
    if tag == 77:  # BIT_BINARY
        need(5)
        n = struct.unpack(">I", b[pos:pos + 4])[0]
        pos += 5
        need(n)
        return bytes(b[pos:pos + n]), pos + n
    if tag in (110, 111):  # SMALL_BIG, LARGE_BIG
        if tag == 110:
            need(1)
            n = b[pos]
            pos += 1
        else:
            need(4)
            n = struct.unpack(">I", b[pos:pos + 4])[0]
            pos += 4
        need(n + 1)
        sign = b[pos]
        value = int.from_bytes(bytes(b[pos + 1:pos + 1 + n]), "little")
        return (-value if sign else value), pos + 1 + n
    if tag == 116:  # MAP
        need(4)
        n = struct.unpack(">I", b[pos:pos + 4])[0]
        pos += 4
        if n > len(b) - pos:
            raise TermError("map larger than its input")
        d = {}
        for _ in range(n):
            k, pos = _decode(b, pos, depth + 1)
            v, pos = _decode(b, pos, depth + 1)
            if isinstance(k, list):
                k = tuple(k)
            d[k] = v
        return d, pos
    if tag in (88, 103, 90, 114, 89, 102, 120, 112, 113):  # pids, refs, ports, funs, exports
        start = pos - 1
        end = _skip(b, start, depth)
        return Opaque(tag, bytes(b[start:end])), end
    raise TermError("unsupported tag %d" % tag)


def _skip(b, pos, depth):
    """Returns the end of the term at pos (used for opaque terms)."""
    tag = b[pos]
    p = pos + 1
    if tag in (88, 103):  # NEW_PID / PID: node, id, serial, creation
        _, p = _decode(b, p, depth + 1)
        return p + (12 if tag == 88 else 9)
    if tag in (89, 102, 120):  # ports
        _, p = _decode(b, p, depth + 1)
        return p + {89: 8, 102: 5, 120: 12}[tag]
    if tag in (90, 114):  # NEWER/NEW reference: len, node, creation, ids
        n = struct.unpack(">H", b[p:p + 2])[0]
        _, p = _decode(b, p + 2, depth + 1)
        return p + (4 if tag == 90 else 1) + 4 * n
    if tag == 112:  # NEW_FUN: size includes itself
        return p + struct.unpack(">I", b[p:p + 4])[0]
    if tag == 113:  # EXPORT: module, function, arity
        _, p = _decode(b, p, depth + 1)
        _, p = _decode(b, p, depth + 1)
        _, p = _decode(b, p, depth + 1)
        return p
    raise TermError("unsupported tag %d" % tag)


def encode(term):
    out = bytearray(b"\x83")
    _encode(term, out, 0)
    return bytes(out)


def _encode_atom(name, out):
    raw = name.encode("utf-8")
    if len(raw) < 256:
        out += bytes((119, len(raw))) + raw
    else:
        out += b"v" + struct.pack(">H", len(raw)) + raw


def _encode(t, out, depth):
    if depth > MAX_DEPTH:
        raise TermError("term too deep")
    if t is True or t is False:
        _encode_atom("true" if t else "false", out)
    elif t is None:
        _encode_atom("undefined", out)
    elif isinstance(t, Atom):
        _encode_atom(str(t), out)
    elif isinstance(t, int):
        if 0 <= t < 256:
            out += bytes((97, t))
        elif -(1 << 31) <= t < (1 << 31):
            out += b"b" + struct.pack(">i", t)
        else:
            mag = abs(t)
            raw = mag.to_bytes((mag.bit_length() + 7) // 8, "little")
            if len(raw) < 256:
                out += bytes((110, len(raw), 1 if t < 0 else 0)) + raw
            else:
                out += b"o" + struct.pack(">I", len(raw)) + bytes((1 if t < 0 else 0,)) + raw
    elif isinstance(t, float):
        out += b"F" + struct.pack(">d", t)
    elif isinstance(t, (bytes, bytearray, memoryview)):
        raw = bytes(t)
        out += b"m" + struct.pack(">I", len(raw)) + raw
    elif isinstance(t, str):
        raw = t.encode("utf-8")
        out += b"m" + struct.pack(">I", len(raw)) + raw
    elif isinstance(t, tuple):
        if len(t) < 256:
            out += bytes((104, len(t)))
        else:
            out += b"i" + struct.pack(">I", len(t))
        for item in t:
            _encode(item, out, depth + 1)
    elif isinstance(t, list):
        if not t:
            out += b"j"
        else:
            out += b"l" + struct.pack(">I", len(t))
            for item in t:
                _encode(item, out, depth + 1)
            out += b"j"
    elif isinstance(t, dict):
        out += b"t" + struct.pack(">I", len(t))
        for k, v in t.items():
            _encode(k, out, depth + 1)
            _encode(v, out, depth + 1)
    elif isinstance(t, Opaque):
        out += t.raw
    else:
        raise TermError("cannot encode %r" % type(t))


MAX_PACKET = 64 << 20


def read_packet(f):
    head = _read_exact(f, 4)
    if head is None:
        return None
    n = struct.unpack(">I", head)[0]
    if n > MAX_PACKET:
        raise TermError("packet of %d bytes" % n)
    body = _read_exact(f, n)
    if body is None:
        raise TermError("truncated packet")
    return body


def _read_exact(f, n):
    chunks, got = [], 0
    while got < n:
        chunk = f.read(n - got)
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def write_packet(f, payload):
    f.write(struct.pack(">I", len(payload)) + payload)
    f.flush()


# ---------------------------------------------------------------- Erlang bridge

class ErlangError(Exception):
    pass


class _Bridge(object):
    """One connection to imperial's Erlang bridge per thread."""

    def __init__(self):
        self.local = threading.local()

    def call(self, request):
        path = os.environ.get("IMPERIAL_ERLANG_BRIDGE")
        if not path:
            raise ErlangError("no Erlang bridge: imperial runs this worker without one")
        sock = getattr(self.local, "sock", None)
        if sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(path)
            self.local.sock = sock
            self.local.file = sock.makefile("rwb")
        f = self.local.file
        try:
            write_packet(f, encode(request))
            reply = read_packet(f)
        except (OSError, TermError):
            self.local.sock = None
            sock.close()
            raise
        if reply is None:
            self.local.sock = None
            raise ErlangError("Erlang bridge closed")
        term = decode(reply)
        if isinstance(term, tuple) and len(term) == 2 and term[0] == "error":
            reason = term[1]
            raise ErlangError(reason.decode("utf-8", "replace") if isinstance(reason, bytes) else repr(reason))
        return term


_bridge = _Bridge()


def erlang_connect(node):
    """Connects imperial's node to an Erlang node; returns the node name to use."""
    _bridge.call((Atom("connect"), Atom(node)))
    return node


def erlang_rpc(node, module, function, args=()):
    """Calls module:function(args...) on node and returns the result."""
    reply = _bridge.call((Atom("rpc"), Atom(node), Atom(module), Atom(function), list(args)))
    return reply[1]


def erlang_send_message(node, process, message):
    """Sends message to process (a registered name or a pid) on node."""
    dest = process if isinstance(process, Opaque) else Atom(process)
    _bridge.call((Atom("send"), Atom(node), dest, message))


def erlang_register_process(name, callback=None):
    """Registers name on imperial's node. With a callback, a thread calls callback(message)
    for each message; otherwise read them with erlang_recv_message(name) from this thread."""
    if callback is None:
        _bridge.call((Atom("register"), Atom(name)))
        return
    # A mailbox belongs to one bridge connection, and each thread has its own: the
    # thread that reads the messages registers the name.
    ready, failure = threading.Event(), []

    def loop():
        try:
            _bridge.call((Atom("register"), Atom(name)))
        except Exception as e:
            failure.append(e)
            return
        finally:
            ready.set()
        while True:
            got = erlang_recv_message(name, None)
            if got is not None:
                try:
                    callback(got[1])
                except Exception:
                    traceback.print_exc()

    threading.Thread(target=loop, daemon=True).start()
    ready.wait()
    if failure:
        raise failure[0]


def erlang_recv_message(name, timeout=None):
    """Waits for a message sent to a registered name: (from_pid, message), or None after
    timeout seconds (None waits forever)."""
    ms = -1 if timeout is None else int(timeout * 1000)
    reply = _bridge.call((Atom("recv"), Atom(name), ms))
    if reply == "timeout":
        return None
    return reply[1], reply[2]


def erlang_close(node):
    """Drops the connection to node."""
    _bridge.call((Atom("close"), Atom(node)))


def _api_module(name):
    m = types.ModuleType(name)
    m.__doc__ = "imperial's uWSGI-style API for WSGI applications"
    for f in (erlang_connect, erlang_rpc, erlang_send_message, erlang_register_process,
              erlang_recv_message, erlang_close):
        setattr(m, f.__name__, f)
    m.Atom, m.ErlangError, m.version = Atom, ErlangError, b"imperial"
    return m


# ---------------------------------------------------------------- WSGI

def load_app(argv):
    module = wsgi_file = None
    callable_name = "application"
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--module", "--wsgi", "-w") and i + 1 < len(argv):
            module = argv[i + 1]
            i += 2
        elif a in ("--wsgi-file", "--file") and i + 1 < len(argv):
            wsgi_file = argv[i + 1]
            i += 2
        elif a == "--callable" and i + 1 < len(argv):
            callable_name = argv[i + 1]
            i += 2
        else:
            raise SystemExit("imperial_wsgi: unknown argument %r" % a)
    if module:
        mod_name, _, attr = module.partition(":")
        mod_name = mod_name.replace("/", ".")
        if mod_name.endswith(".py"):
            mod_name = mod_name[:-3]
        __import__(mod_name)
        mod = sys.modules[mod_name]
        return getattr(mod, attr or callable_name)
    if wsgi_file:
        namespace = {"__file__": wsgi_file, "__name__": "uwsgi_file_" + os.path.basename(wsgi_file).replace(".", "_")}
        with open(wsgi_file, "rb") as f:
            code = compile(f.read(), wsgi_file, "exec")
        exec(code, namespace)
        return namespace[callable_name]
    raise SystemExit("imperial_wsgi: need --module or --wsgi-file")


_REQUEST_HEAD = {b"\x83h\x03d\x00\x07request", b"\x83h\x03v\x00\x07request",
                 b"\x83h\x03s\x07request", b"\x83h\x03w\x07request"}
_u32 = struct.Struct(">I").unpack_from


def decode_request(data):
    """The request's environ (a dict of str) and body, read straight from
    the shape imperial sends ({request, [{Name, Value}], Body}, binaries
    only); None for anything else, which the generic decoder then reads.
    Why: the generic decoder costs more per request than a whole WSGI hello
    app."""
    try:
        return _decode_request(data)
    except (IndexError, struct.error):
        return None  # truncated: the generic decoder says so


def _decode_request(data):
    head = bytes(data[:13 if data[3:4] in (b"d", b"v") else 12])
    if head not in _REQUEST_HEAD:
        return None
    pos, end = len(head), len(data)
    env = {}  # already str: environ_from takes it as it is
    tag = data[pos]
    if tag == 108:  # LIST
        count = _u32(data, pos + 1)[0]
        pos += 5
        u32 = _u32
        for _ in range(count):
            if data[pos:pos + 3] != b"h\x02m":
                return None
            n = u32(data, pos + 3)[0]
            pos += 7
            k = data[pos:pos + n]
            pos += n
            if data[pos] != 109:
                return None
            n = u32(data, pos + 1)[0]
            pos += 5
            env[k.decode("latin-1")] = data[pos:pos + n].decode("latin-1")
            pos += n
        if data[pos] != 106:
            return None
        pos += 1
    elif tag == 106:  # NIL
        pos += 1
    else:
        return None
    if data[pos] != 109:
        return None
    n = _u32(data, pos + 1)[0]
    if pos + 5 + n != end:
        return None
    return env, data[pos + 5:end]


def encode_response(reply):
    """encode() of {response, Status, Headers, Body} with binaries, without
    the generic walk."""
    _, status, headers, body = reply
    out = [b"\x83h\x04w\x08response", b"m", struct.pack(">I", len(status)), status]
    if headers:
        out.append(b"l" + struct.pack(">I", len(headers)))
        for k, v in headers:
            out += (b"h\x02m", struct.pack(">I", len(k)), k, b"m", struct.pack(">I", len(v)), v)
    out += (b"jm", struct.pack(">I", len(body)), body)
    return b"".join(out)


def environ_from(env_list, body):
    """The WSGI environ of a request: env_list is the decoded term's list of
    {Name, Value} pairs, or a dict of str already (decode_request)."""
    if isinstance(env_list, dict):
        environ = env_list
    else:
        environ = {}
        for item in env_list:
            if isinstance(item, tuple) and len(item) == 2:
                k, v = item
                environ[k.decode("latin-1")] = v.decode("latin-1") if isinstance(v, bytes) else str(v)
    environ.setdefault("REQUEST_METHOD", "GET")
    environ.setdefault("SCRIPT_NAME", "")
    if "PATH_INFO" not in environ:
        uri = environ.get("REQUEST_URI", "/")
        environ["PATH_INFO"] = uri.split("?", 1)[0]
    environ.setdefault("QUERY_STRING", "")
    environ.setdefault("SERVER_NAME", "localhost")
    environ.setdefault("SERVER_PORT", "80")
    environ.setdefault("SERVER_PROTOCOL", "HTTP/1.0")
    if environ.get("CONTENT_LENGTH", None) == "":
        del environ["CONTENT_LENGTH"]
    environ["wsgi.version"] = (1, 0)
    environ["wsgi.url_scheme"] = environ.get("REQUEST_SCHEME") or ("https" if environ.get("HTTPS") == "on" else "http")
    environ["wsgi.input"] = io.BytesIO(body)
    environ["wsgi.errors"] = sys.stderr
    environ["wsgi.multithread"] = False
    environ["wsgi.multiprocess"] = True
    environ["wsgi.run_once"] = False
    environ["uwsgi.version"] = b"imperial"
    return environ


def _bin(s):
    return s.encode("latin-1") if isinstance(s, str) else bytes(s)


def handle(app, env_list, body):
    environ = environ_from(env_list, body)
    state = {}
    chunks = []

    def start_response(status, headers, exc_info=None):
        if exc_info and state.get("sent"):
            raise exc_info[1].with_traceback(exc_info[2])
        state["status"], state["headers"] = status, headers
        return chunks.append

    try:
        result = app(environ, start_response)
        try:
            for chunk in result:
                if chunk:
                    state["sent"] = True
                    chunks.append(chunk)
        finally:
            if hasattr(result, "close"):
                result.close()
        if "status" not in state:
            raise RuntimeError("the application did not call start_response")
    except Exception:
        traceback.print_exc()
        text = b"Internal Server Error\n"
        return (Atom("response"), b"500 Internal Server Error",
                [(b"Content-Type", b"text/plain"), (b"Content-Length", str(len(text)).encode())], text)
    headers = [(_bin(k), _bin(v)) for k, v in state["headers"]]
    return Atom("response"), _bin(state["status"]), headers, b"".join(_bin(c) for c in chunks)


def main():
    api = _api_module("imperial")
    sys.modules["imperial"] = api
    try:
        import uwsgi  # noqa: F401  (a real uWSGI module wins)
    except ImportError:
        sys.modules["uwsgi"] = _api_module("uwsgi")
    app = load_app(sys.argv[1:])
    # buffered: a packet's length and payload come in with one read
    requests = os.fdopen(3, "rb")
    replies = os.fdopen(4, "wb", buffering=0)
    while True:
        payload = read_packet(requests)
        if payload is None:
            return
        try:
            req = decode_request(payload)
            if req is None:
                term = decode(payload)
                if not (isinstance(term, tuple) and len(term) == 3 and term[0] == "request"):
                    raise TermError("want {request, Environ, Body}")
                req = term[1], term[2]
            reply = handle(app, req[0], req[1])
            out = encode_response(reply)
        except TermError as e:
            out = encode((Atom("error"), str(e).encode()))
        write_packet(replies, out)


if __name__ == "__main__":
    main()
