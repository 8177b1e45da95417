//go:build peers

package worker_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"imperial/actors/wire/uwsgi"
	"imperial/node/nodetest"
	"imperial/node/rpc"
	"imperial/rel/peers"
	"imperial/rel/peers/imperialtest"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestPeerWerkzeugTestApp is the example: imperial --http :PORT
// --module werkzeug.testapp:test_app -p 2 serves Debian's werkzeug test app
// through the Python adapter.
func TestPeerWerkzeugTestApp(t *testing.T) {
	addr := peers.FreeAddr(t)
	imperialtest.Start(t, nil, "", "--http", addr, "--module", "werkzeug.testapp:test_app", "-p", "2")
	peers.WaitFor(t, 10*time.Second, func() error { return peers.Accepts(addr) })
	code, body := httpGet(t, "http://"+addr+"/some/path?x=1")
	if code != 200 || !strings.Contains(body, "<title>WSGI Information</title>") || !strings.Contains(body, "/some/path") {
		t.Fatalf("werkzeug: %d %.300q", code, body)
	}
	resp, err := http.Post("http://"+addr+"/", "application/x-www-form-urlencoded", strings.NewReader("a=1&b=2"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestPeerRPCFromRealUWSGI: a real uWSGI app's uwsgi.rpc('127.0.0.1:P',
// b'hello', b'a', b'b') reaches the function registered in imperial's RPC
// registry (the one erl reaches with rpc:call), including a 70000-byte
// answer (modifier2 5 framing); an unknown function gives None.
func TestPeerRPCFromRealUWSGI(t *testing.T) {
	reg := rpc.NewRegistry()
	reg.Register("demo", "hello", func(c rpc.Call) (any, error) {
		parts := make([]string, len(c.Args))
		for i, a := range c.Args {
			b, _ := a.([]byte)
			parts[i] = string(b)
		}
		return []byte("Hello " + strings.Join(parts, ",")), nil
	})
	reg.Register("demo", "big", func(c rpc.Call) (any, error) { return bytes.Repeat([]byte("z"), 70000), nil })
	imp := peers.FreeAddr(t)
	imperialtest.Start(t, reg, "", "--socket", imp, "--app", "hello")
	dir := t.TempDir()
	app := peers.PythonApp(t, dir, "rpc.py", fmt.Sprintf(`
import uwsgi
def application(env, start_response):
    a = uwsgi.rpc('%[1]s', b'hello', b'a', b'b')
    b = uwsgi.rpc('%[1]s', b'big')
    c = uwsgi.rpc('%[1]s', b'nosuch')
    body = b'%%s|%%d|%%s' %% (a, len(b or b''), repr(c).encode())
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [body]
`, imp))
	front := peers.FreeAddr(t)
	peers.StartUWSGI(t, "--plugins", "python3,rpc", "--master", "--http-socket", front, "--wsgi-file", app)
	peers.WaitFor(t, 10*time.Second, func() error { return peers.Accepts(front) })
	code, body := httpGet(t, "http://"+front+"/")
	if code != 200 || body != "Hello a,b|70000|None" {
		t.Fatalf("rpc through real uWSGI: %d %q", code, body)
	}
}

// TestPeerErlangBridge: a Python app run by imperial's adapter uses the
// seed's Erlang API against a real erl node: erlang_connect, erlang_rpc,
// erlang_register_process, erlang_send_message, erlang_recv_message.
func TestPeerErlangBridge(t *testing.T) {
	peers.EnsureEPMD(t)
	erlName := peers.UniqueName("erl") + "@127.0.0.1"
	impName := peers.UniqueName("imp") + "@127.0.0.1"
	erl := peers.StartErl(t, peers.ErlOptions{Name: erlName, Cookie: nodetest.Cookie,
		Eval: `register(echo, spawn(fun L() -> receive {N, Nd, M} = X -> io:format("echo got ~p~n", [X]), {N, Nd} ! {echo, M}, L(); X -> io:format("echo got other ~p~n", [X]), L() end end)), receive stop -> ok end`})
	defer func() {
		if t.Failed() {
			t.Logf("erl output:\n%s", erl.Output())
		}
	}()
	dir := t.TempDir()
	app := peers.PythonApp(t, dir, "bridge.wsgi", fmt.Sprintf(`
import time
import uwsgi
ERL, ME = %q, %q
def application(env, start_response):
    n = uwsgi.erlang_connect(ERL)
    for _ in range(100):  # erl runs its -eval (which registers echo) after it accepts nodes
        if uwsgi.erlang_rpc(n, 'erlang', 'whereis', [uwsgi.Atom('echo')]) != 'undefined':
            break
        time.sleep(0.05)
    rev = uwsgi.erlang_rpc(n, 'lists', 'reverse', [[1, 2, 3]])
    who = uwsgi.erlang_rpc(n, 'erlang', 'node', [])
    uwsgi.erlang_register_process('pyproc')
    uwsgi.erlang_send_message(n, 'echo', (uwsgi.Atom('pyproc'), uwsgi.Atom(ME), b'hi'))
    got = uwsgi.erlang_recv_message('pyproc', 10)
    body = ('%%r %%s %%r' %% (rev, who, got[1] if got else None)).encode()
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [body]
`, erlName, impName))
	addr := peers.FreeAddr(t)
	imperialtest.Start(t, nil, impName, "--http-socket", addr, "--wsgi-file", app)
	peers.WaitFor(t, 20*time.Second, func() error {
		return peers.Accepts(addr)
	})
	var code int
	var body string
	peers.WaitFor(t, 20*time.Second, func() error { // erl registers with epmd a little after it starts
		code, body = httpGet(t, "http://"+addr+"/")
		if code != 200 {
			return fmt.Errorf("%d %q", code, body)
		}
		return nil
	})
	want := fmt.Sprintf("[3, 2, 1] %s (Atom('echo'), b'hi')", erlName)
	if body != want {
		t.Fatalf("bridge: %q, want %q", body, want)
	}
}

// TestPeerErlangApp: the native erlang app serves HTTP by calling
// web:handle(Environ, Body) on a real erl node.
func TestPeerErlangApp(t *testing.T) {
	peers.EnsureEPMD(t)
	src := filepath.Join(t.TempDir(), "web.erl")
	os.WriteFile(src, []byte(`-module(web).
-export([handle/2]).
handle(Env, Body) ->
    Path = proplists:get_value(<<"PATH_INFO">>, Env),
    {200, [{<<"content-type">>, "text/plain"}], [<<"erl says ">>, Path, $\s, Body]}.
`), 0o644)
	beams := peers.Erlc(t, src)
	erlName := peers.UniqueName("erl") + "@127.0.0.1"
	peers.StartErl(t, peers.ErlOptions{Name: erlName, Cookie: nodetest.Cookie, CodePath: []string{beams},
		Eval: `receive stop -> ok end`})
	addr := peers.FreeAddr(t)
	imperialtest.Start(t, nil, peers.UniqueName("imp")+"@127.0.0.1", "--http-socket", addr, "--app", "erlang",
		"--erlang-app-node", erlName, "--erlang-app-call", "web:handle")
	var body string
	peers.WaitFor(t, 20*time.Second, func() error {
		resp, err := http.Post("http://"+addr+"/from/go", "text/plain", strings.NewReader("body!"))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		if resp.StatusCode != 200 {
			return fmt.Errorf("%d %q", resp.StatusCode, b)
		}
		return nil
	})
	if body != "erl says /from/go body!" {
		t.Fatalf("erlang app: %q", body)
	}
}

// TestPeerHarakiriPython: a Python request running past --harakiri kills its
// worker process; the pool replaces it and the next request is served.
func TestPeerHarakiriPython(t *testing.T) {
	dir := t.TempDir()
	app := peers.PythonApp(t, dir, "slow.wsgi", `
import time
def application(env, start_response):
    if env['PATH_INFO'] == '/slow':
        time.sleep(30)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'fast']
`)
	addr := peers.FreeAddr(t)
	imperialtest.Start(t, nil, "", "--socket", addr, "--wsgi-file", app, "--harakiri", "1", "-p", "1")
	peers.WaitFor(t, 10*time.Second, func() error { return peers.Accepts(addr) })
	req := func(path string) []byte {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		pkt, _ := uwsgi.AppendPacket(nil, 0, 0, uwsgi.Vars{}.Add("PATH_INFO", path).Add("REQUEST_URI", path))
		c.Write(pkt)
		out, _ := io.ReadAll(c)
		return out
	}
	start := time.Now()
	// The connection closes without an answer (as when uWSGI's harakiri kills
	// the worker that owns it; nginx would answer 502), or a 502 arrives.
	if out := req("/slow"); (len(out) > 0 && !bytes.Contains(out, []byte(" 502 "))) || time.Since(start) > 10*time.Second {
		t.Fatalf("slow request: %q after %s", out, time.Since(start))
	}
	if out := req("/"); !bytes.HasSuffix(out, []byte("fast")) {
		t.Fatalf("after harakiri: %q", out)
	}
}

// TestPeerRack: a Rack app (Debian's ruby-rack) through the Ruby adapter.
func TestPeerRack(t *testing.T) {
	peers.Require(t, "ruby")
	dir := t.TempDir()
	ru := filepath.Join(dir, "config.ru")
	os.WriteFile(ru, []byte(`run lambda { |env|
  body = "rack #{env['REQUEST_METHOD']} #{env['PATH_INFO']} #{env['QUERY_STRING']} #{env['rack.input'].read}"
  [201, {'Content-Type' => 'text/plain', 'X-Rack' => 'yes'}, [body]]
}
`), 0o644)
	addr := peers.FreeAddr(t)
	imperialtest.Start(t, nil, "", "--http-socket", addr, "--rack", ru, "-p", "2")
	peers.WaitFor(t, 10*time.Second, func() error { return peers.Accepts(addr) })
	resp, err := http.Post("http://"+addr+"/x/y?q=1", "text/plain", strings.NewReader("data"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || resp.Header.Get("X-Rack") != "yes" || string(b) != "rack POST /x/y q=1 data" {
		t.Fatalf("rack: %d %v %q", resp.StatusCode, resp.Header, b)
	}
}
