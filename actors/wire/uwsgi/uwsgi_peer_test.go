//go:build peers

package uwsgi_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"imperial/actors/wire/uwsgi"
	"imperial/rel/peers"
)

const rpcApp = `
import os, uwsgi

def hello(*args):
    return b'Hello ' + b','.join(args)

def big():
    return b'x' * 70000

def empty():
    return b''

uwsgi.register_rpc('hello', hello)
uwsgi.register_rpc('big', big)
uwsgi.register_rpc('empty', empty)

go = os.environ.get('GO_RPC')
if go:
    r1 = uwsgi.rpc(go, b'hello', b'a', b'b')
    print('RPC1', repr(r1), flush=True)
    r2 = uwsgi.rpc(go, b'big')
    print('RPC2', len(r2), r2 == b'y' * 70000, flush=True)

def application(env, start_response):
    body = ('%s %s %s' % (env['REQUEST_METHOD'], env['PATH_INFO'], env['wsgi.input'].read().decode())).encode()
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [body]
`

func startApp(t *testing.T, env ...string) (string, *peers.UWSGI) {
	t.Helper()
	dir := t.TempDir()
	app := filepath.Join(dir, "app.py")
	if err := os.WriteFile(app, []byte(rpcApp), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "app.sock")
	// --lazy-apps: the app (and its uwsgi.rpc calls) runs in the worker; a
	// master that made RPC calls while loading did not stop on SIGINT.
	p := peers.StartUWSGI(t, "--plugins", "python3,rpc", "--master", "--processes", "1", "--lazy-apps",
		"--socket", sock, "--wsgi-file", app, "--env", strings.Join(env, ""))
	peers.WaitFor(t, 15*time.Second, func() error {
		if strings.Contains(p.Output(), "spawned uWSGI worker 1") {
			return nil
		}
		return errors.New("uwsgi worker not spawned yet")
	})
	return sock, p
}

// roundTrip sends req on a fresh connection and reads until the peer closes.
func roundTrip(t *testing.T, sock string, req []byte) []byte {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	return out
}

// TestPeerRPCClient: requests built by AppendRPCRequest are served by a real
// uWSGI rpc node, and ParseRPCResponse decodes its answers (framed, 64-bit
// modifier2 5 framing).
func TestPeerRPCClient(t *testing.T) {
	sock, _ := startApp(t, "GO_RPC=")
	call := func(m2 uint8, fn string, args ...string) []byte {
		req := uwsgi.RPCRequest{Modifier2: m2, Func: []byte(fn)}
		for _, a := range args {
			req.Args = append(req.Args, []byte(a))
		}
		b, err := uwsgi.AppendRPCRequest(nil, req)
		if err != nil {
			t.Fatal(err)
		}
		return roundTrip(t, sock, b)
	}
	ans := call(uwsgi.RPCFramed, "hello", "a", "b")
	res, n, err := uwsgi.ParseRPCResponse(ans, uwsgi.Limits{})
	if err != nil || n != len(ans) || string(res) != "Hello a,b" {
		t.Fatalf("hello: %q (%x), n %d, %v", res, ans, n, err)
	}
	peers.Capture(t, "uwsgi-rpc-response.bin", ans)
	if raw := call(uwsgi.RPCRaw, "hello", "a"); string(raw) != "Hello a" {
		t.Fatalf("raw mode answer = %q, want bare result", raw)
	}
	ans = call(uwsgi.RPCFramed, "big")
	res, n, err = uwsgi.ParseRPCResponse(ans, uwsgi.Limits{})
	if err != nil || n != len(ans) || !bytes.Equal(res, bytes.Repeat([]byte("x"), 70000)) || ans[3] != uwsgi.RPCLarge {
		t.Fatalf("big: %d bytes, m2 %d, n %d of %d, %v", len(res), ans[3], n, len(ans), err)
	}
	for _, fn := range []string{"empty", "nope"} {
		if ans := call(uwsgi.RPCFramed, fn); len(ans) != 0 {
			t.Fatalf("%s: answer %x, want none (connection closed)", fn, ans)
		}
	}
}

// TestPeerRPCServer: a real uwsgi.rpc client (python3 plugin) sends requests
// that ParseRPCRequest decodes, and accepts answers built by
// AppendRPCResponse, including a 70000-byte result (modifier2 5 framing).
func TestPeerRPCServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	reqs := make(chan []byte, 4)
	errs := make(chan error, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				var buf []byte
				chunk := make([]byte, 4096)
				for {
					req, n, err := uwsgi.ParseRPCRequest(buf, uwsgi.Limits{})
					if err == nil {
						reqs <- bytes.Clone(buf[:n])
						result := []byte("Hello " + string(bytes.Join(req.Args, []byte(","))))
						if string(req.Func) == "big" {
							result = bytes.Repeat([]byte("y"), 70000)
						}
						_, err = c.Write(uwsgi.AppendRPCResponse(nil, result))
						if err != nil {
							errs <- err
						}
						return
					}
					if !errors.Is(err, uwsgi.ErrNeedMore) {
						errs <- err
						return
					}
					k, err := c.Read(chunk)
					if err != nil {
						errs <- fmt.Errorf("read after %d bytes: %w", len(buf), err)
						return
					}
					buf = append(buf, chunk[:k]...)
				}
			}()
		}
	}()
	_, p := startApp(t, "GO_RPC="+ln.Addr().String())
	for i, want := range []string{"ad0d0000 0500 68656c6c6f 0100 61 0100 62", "ad050000 0300 626967"} {
		select {
		case b := <-reqs:
			if w := mustHex(t, want); !bytes.Equal(b, w) {
				t.Fatalf("request %d = %x, want %x", i, b, w)
			}
			if i == 0 {
				peers.Capture(t, "uwsgi-rpc-request.bin", b)
			}
		case err := <-errs:
			t.Fatalf("Go RPC server: %v", err)
		case <-time.After(15 * time.Second):
			t.Fatalf("no RPC request %d from uwsgi", i)
		}
	}
	// What the real client made of the answers.
	peers.WaitFor(t, 10*time.Second, func() error {
		out := p.Output()
		if !strings.Contains(out, "RPC2 ") {
			return errors.New("uwsgi has not reported the results yet")
		}
		if !strings.Contains(out, "RPC1 b'Hello a,b'") || !strings.Contains(out, "RPC2 70000 True") {
			return fmt.Errorf("real client results wrong:\n%s", out)
		}
		return nil
	})
}

// TestPeerWebRequest: a request built by AppendPacket (the vars nginx sends,
// then the body) is accepted by a real uWSGI python3 worker.
func TestPeerWebRequest(t *testing.T) {
	sock, _ := startApp(t, "GO_RPC=")
	ans := roundTrip(t, sock, nginxPacket(t))
	if !bytes.HasPrefix(ans, []byte("HTTP/1.1 200 OK\r\n")) || !bytes.HasSuffix(ans, []byte("\r\n\r\nPOST /path/x a=1&b=2")) {
		t.Fatalf("answer = %q", ans)
	}
}
