package worker_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/wire/uwsgi"
	"imperial/actors/worker"
	"imperial/node/etf"
	"imperial/node/rpc"
	"imperial/rel/peers"
	"imperial/rel/peers/ergotest"
)

func startNode(t *testing.T) gen.Node {
	return ergotest.Start(t, "wtest", gen.LogLevelError)
}

func uwsgiDo(t *testing.T, addr string, m1, m2 uint8, vars uwsgi.Vars, body []byte) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	pkt, err := uwsgi.AppendPacket(nil, m1, m2, vars)
	if err != nil {
		t.Fatal(err)
	}
	c.Write(append(pkt, body...))
	out, _ := io.ReadAll(c)
	return out
}

func spawnWorker(t *testing.T, n gen.Node, o worker.Options) {
	t.Helper()
	if _, err := n.Spawn(worker.Factory, gen.ProcessOptions{}, o); err != nil {
		t.Fatal(err)
	}
}

func TestNativeApps(t *testing.T) {
	n := startNode(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("static file"), 0o644)
	hello, test, static := peers.FreeAddr(t), peers.FreeAddr(t), peers.FreeAddr(t)
	httpAddr := peers.FreeAddr(t)
	spawnWorker(t, n, worker.Options{Sockets: []string{hello}, App: "hello", Processes: 2})
	spawnWorker(t, n, worker.Options{Sockets: []string{test}, HTTPSockets: []string{httpAddr}, App: "testapp"})
	spawnWorker(t, n, worker.Options{Sockets: []string{static}, App: "static", AppEnv: worker.AppEnv{Static: dir}})

	vars := uwsgi.Vars{}.Add("REQUEST_METHOD", "GET").Add("REQUEST_URI", "/").Add("PATH_INFO", "/").
		Add("SERVER_PROTOCOL", "HTTP/1.1").Add("HTTP_HOST", "example.com").Add("HTTP_X_FOO", "bar")
	out := uwsgiDo(t, hello, 0, 0, vars, nil)
	if want := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"; string(out) != want {
		t.Fatalf("hello: %q, want %q", out, want)
	}
	post := append(uwsgi.Vars{}, vars...).Add("CONTENT_LENGTH", "7").Add("CONTENT_TYPE", "text/plain")
	out = uwsgiDo(t, test, 5, 0, post, []byte("a=1&b=2"))
	for _, want := range []string{"HTTP/1.1 200 OK", "<th>HTTP_X_FOO</th><td><code>bar</code>", "Request body: 7 bytes"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Fatalf("testapp: %q lacks %q", out, want)
		}
	}
	out = uwsgiDo(t, static, 0, 0, uwsgi.Vars{}.Add("REQUEST_URI", "/a.txt").Add("SERVER_PROTOCOL", "HTTP/1.0"), nil)
	if !bytes.HasPrefix(out, []byte("HTTP/1.0 200 OK")) || !bytes.HasSuffix(out, []byte("\r\n\r\nstatic file")) {
		t.Fatalf("static: %q", out)
	}
	// HTTP/1.1 with keep-alive on the http socket.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for i := 0; i < 3; i++ {
		resp, err := cl.Get("http://" + httpAddr + "/path?q=1")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "<th>QUERY_STRING</th><td><code>q=1</code>") {
			t.Fatalf("http testapp: %d %q", resp.StatusCode, b)
		}
	}
	// Ping answers pong; a bad packet is closed and the worker still serves.
	if out := uwsgiDo(t, hello, 100, 0, nil, nil); !bytes.Equal(out, []byte{100, 0, 0, 1}) {
		t.Fatalf("ping: %x", out)
	}
	c, _ := net.Dial("tcp", hello)
	c.Write([]byte{0, 5, 0, 0, 0, 0, 1, 0, 'x'})
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, _ := io.ReadAll(c); len(b) != 0 {
		t.Fatalf("bad packet answered %q", b)
	}
	c.Close()
	if out := uwsgiDo(t, hello, 0, 0, vars, nil); !bytes.HasSuffix(out, []byte("hello")) {
		t.Fatalf("after bad packet: %q", out)
	}
}

func TestRPC(t *testing.T) {
	n := startNode(t)
	reg := rpc.NewRegistry()
	reg.Register("m", "hello", func(c rpc.Call) (any, error) {
		parts := make([]string, len(c.Args))
		for i, a := range c.Args {
			parts[i] = string(a.([]byte))
		}
		return []byte("Hello " + strings.Join(parts, ",")), nil
	})
	reg.Register("m", "big", func(c rpc.Call) (any, error) { return bytes.Repeat([]byte("x"), 70000), nil })
	reg.Register("m", "atom", func(c rpc.Call) (any, error) { return etf.Atom("pong"), nil })
	if _, err := n.SpawnRegister(worker.RPCName, worker.RPCFactory, gen.ProcessOptions{}, worker.RPCOptions{Registry: reg}); err != nil {
		t.Fatal(err)
	}
	addr := peers.FreeAddr(t)
	spawnWorker(t, n, worker.Options{Sockets: []string{addr}, App: "hello", RPC: worker.RPCName})
	call := func(m2 uint8, fn string, args ...string) []byte {
		req := uwsgi.RPCRequest{Modifier2: m2, Func: []byte(fn)}
		for _, a := range args {
			req.Args = append(req.Args, []byte(a))
		}
		pkt, err := uwsgi.AppendRPCRequest(nil, req)
		if err != nil {
			t.Fatal(err)
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write(pkt)
		out, _ := io.ReadAll(c)
		return out
	}
	if out := call(0, "hello", "foo", "bar"); !bytes.Equal(out, append([]byte{0xad, 13, 0, 0}, "Hello foo,bar"...)) {
		t.Fatalf("framed: %q", out)
	}
	if out := call(1, "hello", "foo"); string(out) != "Hello foo" {
		t.Fatalf("raw: %q", out)
	}
	out := call(0, "big")
	res, _, err := uwsgi.ParseRPCResponse(out, uwsgi.Limits{})
	if err != nil || len(res) != 70000 || out[3] != uwsgi.RPCLarge {
		t.Fatalf("large: %d bytes, m2 %d, %v", len(res), out[3], err)
	}
	if out := call(0, "atom"); string(out[4:]) != "pong" {
		t.Fatalf("atom: %q", out)
	}
	if out := call(0, "nosuch"); len(out) != 0 {
		t.Fatalf("unknown function answered %q", out)
	}
}

func TestHarakiri(t *testing.T) {
	n := startNode(t)
	addr := peers.FreeAddr(t)
	// An erlang app whose call blocks until its 3 s timeout: harakiri at
	// 300 ms must close the client connection long before.
	block := func(ctx context.Context, _ gen.Node, _ gen.Atom, _, _ etf.Atom, _ []any) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	spawnWorker(t, n, worker.Options{Sockets: []string{addr}, App: "erlang", Harakiri: 300 * time.Millisecond,
		AppEnv: worker.AppEnv{ErlangNode: "x@y", ErlangModule: "m", ErlangFunction: "f", RPC: block, Timeout: 3 * time.Second}})
	start := time.Now()
	out := uwsgiDo(t, addr, 0, 0, uwsgi.Vars{}.Add("REQUEST_URI", "/"), nil)
	if len(out) != 0 || time.Since(start) > 2*time.Second {
		t.Fatalf("harakiri: %q after %s", out, time.Since(start))
	}
}

func TestErlangApp(t *testing.T) {
	n := startNode(t)
	addr := peers.FreeAddr(t)
	var got []any
	call := func(ctx context.Context, _ gen.Node, peer gen.Atom, m, f etf.Atom, args []any) (any, error) {
		got = append([]any{peer, m, f}, args...)
		return etf.Tuple{int64(201), etf.List{etf.Tuple{[]byte("X-A"), etf.List{int64('b')}}},
			etf.List{[]byte("he"), etf.List{int64('l'), []byte("lo")}}}, nil
	}
	spawnWorker(t, n, worker.Options{Sockets: []string{addr}, App: "erlang",
		AppEnv: worker.AppEnv{ErlangNode: "e@h", ErlangModule: "web", ErlangFunction: "handle", RPC: call}})
	out := uwsgiDo(t, addr, 0, 0, uwsgi.Vars{}.Add("REQUEST_URI", "/x").Add("CONTENT_LENGTH", "2"), []byte("hi"))
	if !bytes.HasPrefix(out, []byte("HTTP/1.0 201 Created\r\n")) || !bytes.Contains(out, []byte("X-A: b\r\n")) ||
		!bytes.HasSuffix(out, []byte("\r\n\r\nhello")) {
		t.Fatalf("answer %q", out)
	}
	if len(got) != 5 || got[0] != gen.Atom("e@h") || got[1] != etf.Atom("web") || string(got[4].([]byte)) != "hi" {
		t.Fatalf("call %v", got)
	}
	env := got[3].(etf.List)
	if len(env) != 2 || string(env[0].(etf.Tuple)[0].([]byte)) != "REQUEST_URI" {
		t.Fatalf("environ %v", env)
	}
}

func TestEncodeRequest(t *testing.T) {
	for _, tc := range []struct {
		environ [][2][]byte
		body    []byte
	}{
		{nil, nil},
		{[][2][]byte{{[]byte("REQUEST_METHOD"), []byte("GET")}, {[]byte("EMPTY"), nil}}, []byte("body")},
		{[][2][]byte{{[]byte("K"), bytes.Repeat([]byte("v"), 70000)}}, nil},
	} {
		got, err := worker.EncodeRequest(tc.environ, tc.body)
		if err != nil {
			t.Fatal(err)
		}
		want, err := worker.EncodeRequestTerm(tc.environ, tc.body)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("EncodeRequest\n%q\nwant (etf.Encode)\n%q", got, want)
		}
	}
}
