package epmd

import (
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// waitFor polls cond until it returns nil or timeout passes. It is the only
// code in these tests allowed to sleep.
func waitFor(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %v: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startServer runs a Server on a free loopback port until the test ends.
func startServer(t testing.TB, opts ServerOptions) (*Server, int) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	srv := NewServer(opts)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return srv, ln.Addr().(*net.TCPAddr).Port
}

func node(name string, port uint16) NodeInfo {
	return NodeInfo{Port: port, NodeType: NodeTypeNormal, Protocol: ProtocolTCP, Highest: 6, Lowest: 6, Name: name}
}

// names returns the server's names through the NAMES request.
func namesVia(t testing.TB, port int) []NameEntry {
	t.Helper()
	p, entries, err := Names(testCtx(t), "127.0.0.1", port)
	if err != nil {
		t.Fatalf("Names: %v", err)
	}
	if p != port {
		t.Fatalf("NAMES reported port %d, want %d", p, port)
	}
	return entries
}

func TestServerAlive2PortPleaseNames(t *testing.T) {
	srv, port := startServer(t, ServerOptions{})
	ctx := testCtx(t)

	if got := namesVia(t, port); len(got) != 0 {
		t.Fatalf("names before = %v", got)
	}
	a := node("alpha", 40001)
	a.Extra = []byte{1, 2}
	ca, ra, err := Alive2(ctx, "127.0.0.1", port, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	if !ra.Extended || ra.Creation == 0 {
		t.Fatalf("alive2 resp = %+v", ra)
	}
	cb, rb, err := Alive2(ctx, "127.0.0.1", port, node("beta", 40002))
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	if rb.Creation == 0 || rb.Creation == ra.Creation {
		t.Fatalf("creations %d then %d", ra.Creation, rb.Creation)
	}

	info, err := PortPlease2(ctx, "127.0.0.1", port, "alpha")
	if err != nil || !reflect.DeepEqual(info, a) {
		t.Fatalf("PortPlease2 = %+v, %v; want %+v", info, err, a)
	}
	if _, err := PortPlease2(ctx, "127.0.0.1", port, "gamma"); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("unknown name: %v", err)
	}
	want := []NameEntry{{"alpha", 40001}, {"beta", 40002}}
	if got := namesVia(t, port); !reflect.DeepEqual(got, want) {
		t.Fatalf("names = %v, want %v", got, want)
	}

	// A duplicate is refused with result 1, and the first stays.
	if c, _, err := Alive2(ctx, "127.0.0.1", port, node("alpha", 1)); !errors.Is(err, ErrNameInUse) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("duplicate: %v", err)
	}
	if info, err := PortPlease2(ctx, "127.0.0.1", port, "alpha"); err != nil || info.Port != 40001 {
		t.Fatalf("after duplicate: %+v %v", info, err)
	}

	// Closing the registration unregisters the name.
	ca.Close()
	waitFor(t, 5*time.Second, func() error {
		_, err := PortPlease2(ctx, "127.0.0.1", port, "alpha")
		if !errors.Is(err, ErrNotRegistered) {
			return errors.New("alpha still registered")
		}
		return nil
	})
	if got := srv.Names(); !reflect.DeepEqual(got, []NameEntry{{"beta", 40002}}) {
		t.Fatalf("names = %v", got)
	}
	// The name is free again.
	c, _, err := Alive2(ctx, "127.0.0.1", port, node("alpha", 40003))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestServerV5Response(t *testing.T) {
	_, port := startServer(t, ServerOptions{})
	n := node("old", 9)
	n.Highest, n.Lowest = 5, 5
	c, r, err := Alive2(testCtx(t), "127.0.0.1", port, n)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if r.Extended || r.Creation < 1 || r.Creation > 3 {
		t.Fatalf("v5 response = %+v", r)
	}
	// Raw check of the layout: 'y', result, u16 creation.
	raw := rawExchange(t, port, mustAppend(AppendAlive2Req(nil, func() NodeInfo { m := n; m.Name = "old2"; return m }())))
	if len(raw) != 4 || raw[0] != OpAlive2Resp || raw[1] != 0 {
		t.Fatalf("raw v5 response % x", raw)
	}
}

func mustAppend(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// rawExchange writes req and reads until the server closes or 2 s pass.
func rawExchange(t testing.TB, port int, req []byte) []byte {
	t.Helper()
	c, err := net.Dial("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	var out []byte
	buf := make([]byte, 256)
	for {
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return out
		}
		if out[0] == OpAlive2XResp && len(out) >= 6 || out[0] == OpAlive2Resp && len(out) >= 4 {
			return out // a registration stays open
		}
	}
}

// expectClosed asserts the server closes the connection after req, without
// answering.
func expectClosed(t testing.TB, port int, req []byte) {
	t.Helper()
	c, err := net.Dial("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write(req)
	c.(*net.TCPConn).CloseWrite() // a truncated request ends here
	b, err := io.ReadAll(c)
	if err != nil || len(b) != 0 {
		t.Fatalf("after % x: read %q, %v; want a silent close", req, b, err)
	}
}

func TestServerBadInputClosesOnlyThatConnection(t *testing.T) {
	_, port := startServer(t, ServerOptions{})
	ctx := testCtx(t)
	keep, _, err := Alive2(ctx, "127.0.0.1", port, node("keep", 1234))
	if err != nil {
		t.Fatal(err)
	}
	defer keep.Close()

	for _, bad := range []string{
		"0000",                                   // empty request
		"ffff",                                   // over MaxRequestLen
		"0001 64",                                // DUMP: not served
		"0001 6b",                                // KILL: not served
		"0002 73 61",                             // STOP: not served
		"0002 6e 00",                             // NAMES with a body
		"0001 7a",                                // PORT_PLEASE2 without name
		"0004 7a 61 40 62",                       // name with '@'
		"000d 78 0001 4d 00 0006 0006 0fff 0000", // name over limit
		"0010 78 0001 4d 00 0006 0006 0002 6b65 0000 00", // bad extra
		"0005 78 00", // truncated, then EOF
	} {
		expectClosed(t, port, unhex(t, bad))
	}
	// Registration sockets may not re-register or send anything meaningful:
	// extra bytes are discarded and the registration holds.
	if _, err := keep.Write(unhex(t, "0001 6e ffff")); err != nil {
		t.Fatal(err)
	}
	info, err := PortPlease2(ctx, "127.0.0.1", port, "keep")
	if err != nil || info.Port != 1234 {
		t.Fatalf("after bad input: %+v %v", info, err)
	}
}

func TestServerRequestTimeout(t *testing.T) {
	_, port := startServer(t, ServerOptions{RequestTimeout: 100 * time.Millisecond})
	// Half a request, then silence: the server must hang up on its own.
	expectClosed(t, port, unhex(t, "0006 7a 65"))
	if _, err := PortPlease2(testCtx(t), "127.0.0.1", port, "x"); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("server no longer answers: %v", err)
	}
}

func TestServerMaxConns(t *testing.T) {
	_, port := startServer(t, ServerOptions{MaxConns: 2})
	ctx := testCtx(t)
	c1, _, err := Alive2(ctx, "127.0.0.1", port, node("one", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, _, err := Alive2(ctx, "127.0.0.1", port, node("two", 2))
	if err != nil {
		t.Fatal(err)
	}
	// Full: the next connection is closed without an answer.
	// (EOF or a reset, depending on whether the request was still unread.)
	if _, err := PortPlease2(ctx, "127.0.0.1", port, "one"); !errors.Is(err, ErrMalformed) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("over the limit: %v", err)
	}
	c2.Close()
	waitFor(t, 5*time.Second, func() error {
		_, err := PortPlease2(ctx, "127.0.0.1", port, "one")
		return err
	})
}

func TestServerCloseUnregistersAll(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	srv := NewServer(ServerOptions{Logf: t.Logf})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	c, _, err := Alive2(testCtx(t), "127.0.0.1", port, node("a", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv.Close()
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve = %v", err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("registration after Close: %v, want EOF", err)
	}
	if n := srv.Names(); len(n) != 0 {
		t.Fatalf("names after close: %v", n)
	}
	// Serve after Close refuses at once and closes the listener.
	ln2, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(ln2); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Close = %v", err)
	}
	if _, err := ln2.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("listener still open: %v", err)
	}
	srv.Close() // idempotent
}

// fakeEpmd accepts one connection, reads the request and answers reply, then
// closes (or stays silent if reply is nil).
func fakeEpmd(t testing.TB, reply []byte) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Read(make([]byte, 64))
		if reply == nil {
			io.Copy(io.Discard, c) // until the client gives up
			return
		}
		c.Write(reply)
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().(*net.TCPAddr).Port
}

func TestClientBadResponses(t *testing.T) {
	ctx := testCtx(t)
	port := fakeEpmd(t, unhex(t, "77 00 9c41 4d"))
	if _, err := PortPlease2(ctx, "127.0.0.1", port, "a"); !errors.Is(err, ErrMalformed) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated port2: %v", err)
	}
	port = fakeEpmd(t, unhex(t, "78 00"))
	if _, err := PortPlease2(ctx, "127.0.0.1", port, "a"); !errors.Is(err, ErrUnknownOp) {
		t.Fatalf("wrong op: %v", err)
	}
	port = fakeEpmd(t, unhex(t, "76 01 00000063"))
	if _, _, err := Alive2(ctx, "127.0.0.1", port, node("a", 1)); !errors.Is(err, ErrNameInUse) {
		t.Fatalf("refused alive2: %v", err)
	}
	port = fakeEpmd(t, append(unhex(t, "00001111"), "name a at port 1\nname b at po"...))
	if _, _, err := Names(ctx, "127.0.0.1", port); !errors.Is(err, ErrMalformed) {
		t.Fatalf("truncated names: %v", err)
	}
	port = fakeEpmd(t, append(unhex(t, "00001111"), "garbage\n"...))
	if _, _, err := Names(ctx, "127.0.0.1", port); !errors.Is(err, ErrMalformed) {
		t.Fatalf("garbage names: %v", err)
	}
	if _, err := PortPlease2(ctx, "127.0.0.1", 1, "a@b"); !errors.Is(err, ErrBadName) {
		t.Fatalf("bad name: %v", err)
	}
}

func TestClientContext(t *testing.T) {
	port := fakeEpmd(t, nil) // never answers
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := PortPlease2(ctx, "127.0.0.1", port, "a")
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("PortPlease2 ignored cancellation")
	}

	port = fakeEpmd(t, nil)
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := Alive2(ctx, "127.0.0.1", port, node("a", 1)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
}
