package bertrpc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"imperial/bertrpc"
	"imperial/bertrpc/berp"
	"imperial/bertrpc/bert"
	"imperial/node/etf"
)

func dial(t *testing.T, s *testServer, opts bertrpc.Options) *bertrpc.Client {
	t.Helper()
	c, err := bertrpc.Dial(context.Background(), s.addr(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCallEcho(t *testing.T) {
	s := startServer(t, false)
	c := dial(t, s, bertrpc.Options{})
	ctx := context.Background()
	when := time.Unix(1255295581, 446228000).UTC()
	values := []struct{ in, want any }{
		{nil, nil},
		{true, true},
		{false, false},
		{int64(42), int64(42)},
		{1.5, 1.5},
		{"text", []byte("text")},
		{etf.Atom("sym"), etf.Atom("sym")},
		{[]any{}, etf.List{}},
		{[]any{nil, []any{}}, etf.List{nil, etf.List{}}},
		{bert.Dict{{Key: "k", Value: when}}, bert.Dict{{Key: []byte("k"), Value: when}}},
		{bert.Regex{Source: "a.b", Options: []string{"caseless"}}, bert.Regex{Source: "a.b", Options: []string{"caseless"}}},
		{etf.Tuple{etf.Atom("a"), int64(1)}, etf.Tuple{etf.Atom("a"), int64(1)}},
	}
	for _, v := range values {
		got, err := c.Call(ctx, "test", "echo", v.in)
		if err != nil {
			t.Fatalf("echo %#v: %v", v.in, err)
		}
		if !reflect.DeepEqual(got, v.want) {
			t.Fatalf("echo %#v = %#v, want %#v", v.in, got, v.want)
		}
	}
	large := new(big.Int).Lsh(big.NewInt(1), 80)
	got, err := c.Call(ctx, "test", "echo", large)
	if err != nil || got.(*big.Int).Cmp(large) != 0 {
		t.Fatalf("echo big = %v, %v", got, err)
	}
}

func TestPersistentConnection(t *testing.T) {
	s := startServer(t, false)
	c := dial(t, s, bertrpc.Options{})
	ctx := context.Background()
	for range 3 {
		id, err := c.Call(ctx, "test", "conn")
		if err != nil || id != int64(1) {
			t.Fatalf("conn = %v, %v; want 1", id, err)
		}
	}
	if sum, err := c.Call(ctx, "test", "add", 2, 3); err != nil || sum != int64(5) {
		t.Fatalf("add = %v, %v", sum, err)
	}
}

func TestRemoteErrors(t *testing.T) {
	s := startServer(t, false)
	c := dial(t, s, bertrpc.Options{})
	ctx := context.Background()

	_, err := c.Call(ctx, "test", "fail")
	var re *bertrpc.RemoteError
	var be *bert.Error
	if !errors.As(err, &re) || !errors.As(err, &be) {
		t.Fatalf("err = %v (%T), want *RemoteError wrapping *bert.Error", err, err)
	}
	want := &bert.Error{Type: "user", Class: "RuntimeError", Detail: "abandon hope!", Backtrace: []string{"srv.go:1", "srv.go:2"}}
	if !reflect.DeepEqual(be, want) || re.Module != "test" || re.Function != "fail" || re.Addr != s.addr() {
		t.Fatalf("got %#v / %#v", re, be)
	}
	if !errors.Is(err, bert.ErrRemoteUser) || errors.Is(err, bert.ErrRemoteServer) {
		t.Fatalf("errors.Is by type fails for %v", err)
	}

	_, err = c.Call(ctx, "test", "ernie_missing")
	if !errors.As(err, &be) || be.Type != "server" || be.Detail != "No such module 'nope'" || !errors.Is(err, bert.ErrRemoteServer) {
		t.Fatalf("Ernie list-shaped error: %v", err)
	}
	_, err = c.Call(ctx, "nope", "x")
	if !errors.Is(err, bert.ErrRemoteServer) {
		t.Fatalf("unknown module: %v", err)
	}
	// A remote error leaves the connection usable.
	if id, err := c.Call(ctx, "test", "conn"); err != nil || id != int64(1) {
		t.Fatalf("after errors: conn = %v, %v", id, err)
	}
}

func TestCast(t *testing.T) {
	s := startServer(t, false)
	c := dial(t, s, bertrpc.Options{})
	if err := c.Cast(context.Background(), "stats", "incr", "hits", 2); err != nil {
		t.Fatal(err)
	}
	got := <-s.casts
	want := bert.Request{Kind: bert.Cast, Module: "stats", Function: "incr", Args: []any{[]byte("hits"), int64(2)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("server got %#v", got)
	}
	if r, err := c.Call(context.Background(), "test", "noreply"); r != nil || err != nil {
		t.Fatalf("call answered by noreply = %v, %v; want nil, nil", r, err)
	}
}

func TestInfoBeforeNextRequest(t *testing.T) {
	s := startServer(t, false)
	c := dial(t, s, bertrpc.Options{})
	ctx := context.Background()
	if err := c.Info(ctx, "priority", etf.Atom("low")); err != nil {
		t.Fatal(err)
	}
	if err := c.Info(ctx, "cache", etf.Tuple{etf.Atom("validation"), "tok"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Call(ctx, "test", "infos")
	if err != nil {
		t.Fatal(err)
	}
	want := etf.List{
		etf.Tuple{etf.Atom("priority"), etf.List{etf.Atom("low")}},
		etf.Tuple{etf.Atom("cache"), etf.List{etf.Tuple{etf.Atom("validation"), []byte("tok")}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("infos = %#v\nwant %#v", got, want)
	}
	// Infos apply to one request only.
	if got, err := c.Call(ctx, "test", "infos"); err != nil || !reflect.DeepEqual(got, etf.List{}) {
		t.Fatalf("second infos = %#v, %v", got, err)
	}
	if err := c.Info(ctx, "bad", etf.Pid{}); !errors.Is(err, bert.ErrNotBERT) {
		t.Fatalf("Info with a pid: %v", err)
	}
}

func TestServerInfoSkipped(t *testing.T) {
	s := startServer(t, false)
	c := dial(t, s, bertrpc.Options{})
	if got, err := c.Call(context.Background(), "test", "cached"); err != nil || got != etf.Atom("ok") {
		t.Fatalf("cached = %v, %v", got, err)
	}
}

func TestBadReplies(t *testing.T) {
	s := startServer(t, false)
	ctx := context.Background()
	tests := []struct {
		fun  string
		want error
	}{
		{"garbage", bertrpc.ErrProtocol},
		{"stream", bertrpc.ErrProtocol},
		{"request", bertrpc.ErrProtocol},
		{"half", io.ErrUnexpectedEOF},
	}
	c := dial(t, s, bertrpc.Options{})
	for _, tt := range tests {
		_, err := c.Call(ctx, "test", tt.fun)
		if !errors.Is(err, tt.want) {
			t.Fatalf("%s: err = %v, want %v", tt.fun, err, tt.want)
		}
		// The connection was dropped; the next call dials a new one.
		if _, err := c.Call(ctx, "test", "conn"); err != nil {
			t.Fatalf("after %s: %v", tt.fun, err)
		}
	}
	if n := s.conns.Load(); n != int64(len(tests)+1) {
		t.Fatalf("%d connections, want %d", n, len(tests)+1)
	}
}

func TestReplyTooLarge(t *testing.T) {
	s := startServer(t, false)
	c := dial(t, s, bertrpc.Options{MaxPacket: 100})
	_, err := c.Call(context.Background(), "test", "echo", make([]byte, 200))
	if !errors.Is(err, berp.ErrTooLarge) {
		t.Fatalf("err = %v, want berp.ErrTooLarge", err)
	}
	c2 := dial(t, s, bertrpc.Options{Limits: etf.Limits{MaxDepth: 3}})
	_, err = c2.Call(context.Background(), "test", "echo", []any{[]any{[]any{[]any{}}}})
	if !errors.Is(err, bertrpc.ErrProtocol) || !errors.Is(err, bert.ErrTooLarge) {
		t.Fatalf("deep reply: err = %v", err)
	}
}

func TestEncodeErrorSendsNothing(t *testing.T) {
	s := startServer(t, false)
	c := dial(t, s, bertrpc.Options{})
	if _, err := c.Call(context.Background(), "test", "echo", etf.Pid{Node: "a@b"}); !errors.Is(err, bert.ErrNotBERT) {
		t.Fatalf("err = %v", err)
	}
	if id, err := c.Call(context.Background(), "test", "conn"); err != nil || id != int64(1) {
		t.Fatalf("conn = %v, %v", id, err)
	}
}

func TestDeadline(t *testing.T) {
	s := startServer(t, false)
	c := dial(t, s, bertrpc.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Call(ctx, "test", "block")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	<-s.blocked
	// The timed-out connection is replaced.
	if id, err := c.Call(context.Background(), "test", "conn"); err != nil || id != int64(2) {
		t.Fatalf("after timeout: conn = %v, %v; want 2", id, err)
	}
}

func TestOptionsTimeout(t *testing.T) {
	s := startServer(t, false)
	c := dial(t, s, bertrpc.Options{Timeout: 50 * time.Millisecond})
	if _, err := c.Call(context.Background(), "test", "block"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
}

func TestCancel(t *testing.T) {
	s := startServer(t, false)
	c := dial(t, s, bertrpc.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-s.blocked // the server holds the request
		cancel()
	}()
	if _, err := c.Call(ctx, "test", "block"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Canceled", err)
	}
}

// TestWaitHonoursContext: a caller queued behind a blocked request gives up
// when its context ends.
func TestWaitHonoursContext(t *testing.T) {
	s := startServer(t, false)
	c := dial(t, s, bertrpc.Options{})
	first, cancelFirst := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(first, "test", "block")
		errc <- err
	}()
	<-s.blocked
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Call(ctx, "test", "conn"); !errors.Is(err, context.Canceled) {
		t.Fatalf("queued call: err = %v", err)
	}
	if err := c.Info(ctx, "priority", etf.Atom("low")); !errors.Is(err, context.Canceled) {
		t.Fatalf("queued info: err = %v", err)
	}
	cancelFirst()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("first call: err = %v", err)
	}
}

func TestClose(t *testing.T) {
	s := startServer(t, false)
	c := dial(t, s, bertrpc.Options{})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), "test", "block")
		errc <- err
	}()
	<-s.blocked
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err == nil {
		t.Fatal("blocked call survived Close")
	}
	if _, err := c.Call(context.Background(), "test", "conn"); !errors.Is(err, bertrpc.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestOneShotServer: a server that closes after each reply, as Ernie does.
// The client sees the close before its next request and dials again.
func TestOneShotServer(t *testing.T) {
	s := startServer(t, true)
	c := dial(t, s, bertrpc.Options{})
	ctx := context.Background()
	for i := int64(1); i <= 3; i++ {
		id, err := c.Call(ctx, "test", "conn")
		if err != nil || id != i {
			t.Fatalf("call %d: conn = %v, %v", i, id, err)
		}
		if got := <-s.closed; got != i {
			t.Fatalf("server closed %d, want %d", got, i)
		}
	}
	if err := c.Info(ctx, "priority", etf.Atom("high")); err != nil {
		t.Fatal(err)
	}
	got, err := c.Call(ctx, "test", "infos")
	if err != nil || !reflect.DeepEqual(got, etf.List{etf.Tuple{etf.Atom("priority"), etf.List{etf.Atom("high")}}}) {
		t.Fatalf("infos after redial = %#v, %v", got, err)
	}
}

func TestCallOnce(t *testing.T) {
	s := startServer(t, true)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if sum, err := bertrpc.CallOnce(ctx, s.addr(), bertrpc.Options{}, "test", "add", i, 1); err != nil || sum != int64(i+1) {
			t.Fatalf("CallOnce = %v, %v", sum, err)
		}
		<-s.closed
	}
	if err := bertrpc.CastOnce(ctx, s.addr(), bertrpc.Options{}, "m", "f"); err != nil {
		t.Fatal(err)
	}
	<-s.casts
	if _, err := bertrpc.CallOnce(ctx, s.addr(), bertrpc.Options{}, "test", "fail"); !errors.Is(err, bert.ErrRemoteUser) {
		t.Fatalf("CallOnce fail: %v", err)
	}
}

func TestDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := bertrpc.Dial(context.Background(), addr, bertrpc.Options{}); !errors.Is(err, bertrpc.ErrConnect) {
		t.Fatalf("err = %v, want ErrConnect", err)
	}
	if _, err := bertrpc.CallOnce(context.Background(), addr, bertrpc.Options{}, "m", "f"); !errors.Is(err, bertrpc.ErrConnect) {
		t.Fatalf("CallOnce err = %v, want ErrConnect", err)
	}
}

func TestConcurrentCalls(t *testing.T) {
	s := startServer(t, false)
	c := dial(t, s, bertrpc.Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				want := fmt.Sprintf("g%d-%d", g, i)
				got, err := c.Call(context.Background(), "test", "echo", want)
				if err != nil || string(got.([]byte)) != want {
					errs <- fmt.Errorf("echo %s = %v, %v", want, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := s.conns.Load(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
}

func TestDoWithInfos(t *testing.T) {
	s := startServer(t, false)
	c := dial(t, s, bertrpc.Options{})
	ctx := context.Background()
	if err := c.Info(ctx, "queued", 1); err != nil {
		t.Fatal(err)
	}
	got, err := c.Do(ctx, bert.Request{Kind: bert.Call, Module: "test", Function: "infos"},
		bert.Info{Command: "priority", Args: etf.List{etf.Atom("low")}}, bert.Info{Command: "bare", Args: etf.Atom("x")})
	if err != nil {
		t.Fatal(err)
	}
	want := etf.List{
		etf.Tuple{etf.Atom("queued"), etf.List{int64(1)}},
		etf.Tuple{etf.Atom("priority"), etf.List{etf.Atom("low")}},
		etf.Tuple{etf.Atom("bare"), etf.Atom("x")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("infos = %#v\nwant %#v", got, want)
	}
	if _, err := c.Do(ctx, bert.Request{Kind: bert.Call, Module: "test", Function: "infos"}, bert.Info{Command: "p", Args: etf.Ref{}}); !errors.Is(err, bert.ErrNotBERT) {
		t.Fatalf("bad info: %v", err)
	}
	if _, err := c.Do(ctx, bert.Request{Module: "test", Function: "conn"}); !errors.Is(err, bert.ErrMalformed) {
		t.Fatalf("request without kind: %v", err)
	}
	if r, err := c.Do(ctx, bert.Request{Kind: bert.Cast, Module: "test", Function: "echo", Args: []any{1}}); r != nil || err != nil {
		t.Fatalf("cast via Do = %v, %v", r, err)
	}
	<-s.casts
}
