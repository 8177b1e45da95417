package bertrpc_test

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"imperial/bertrpc/berp"
	"imperial/bertrpc/bert"
	"imperial/node/etf"
)

// testServer is a small BERT-RPC server on loopback for the client tests.
// Module "test" has:
//
//	echo(X) -> X            add(A, B) -> A+B        conn() -> connection number
//	infos() -> [{Cmd, Args}] received before this request
//	fail() -> user error     ernie_missing() -> Ernie's list-shaped server error
//	block() -> never answers; signals s.blocked and waits for the test to end
//	noreply() -> {noreply}   garbage() -> a packet that is not BERT
//	stream() -> {info, stream, []} first    cached() -> {info, cache, …} then {reply, ok}
//	half() -> a packet cut short, then close
//	request() -> a request, not a reply
//
// Casts are answered with {noreply} and reported on s.casts.
type testServer struct {
	t        *testing.T
	ln       net.Listener
	oneShot  bool // close after each reply, as Ernie does
	conns    atomic.Int64
	blocked  chan struct{}
	closed   chan int64 // connection numbers, after a one-shot close
	casts    chan bert.Request
	done     chan struct{}
	wg       sync.WaitGroup
	connsMu  sync.Mutex
	liveConn []net.Conn
}

func startServer(t *testing.T, oneShot bool) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{
		t: t, ln: ln, oneShot: oneShot,
		blocked: make(chan struct{}, 16),
		closed:  make(chan int64, 16),
		casts:   make(chan bert.Request, 16),
		done:    make(chan struct{}),
	}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(func() {
		close(s.done)
		ln.Close()
		s.connsMu.Lock()
		for _, c := range s.liveConn {
			c.Close()
		}
		s.connsMu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *testServer) addr() string { return s.ln.Addr().String() }

func (s *testServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		id := s.conns.Add(1)
		s.connsMu.Lock()
		s.liveConn = append(s.liveConn, c)
		s.connsMu.Unlock()
		s.wg.Add(1)
		go s.serve(c, id)
	}
}

func (s *testServer) send(c net.Conn, m any) bool {
	b, err := bert.Encode(m)
	if err != nil {
		s.t.Errorf("server encode %#v: %v", m, err)
		return false
	}
	return berp.WritePacket(c, b) == nil
}

func (s *testServer) serve(c net.Conn, id int64) {
	defer s.wg.Done()
	defer c.Close()
	var infos etf.List
	for {
		p, err := berp.ReadPacket(c, 0)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.t.Logf("server read: %v", err)
			}
			return
		}
		m, err := bert.DecodeMessage(p)
		if err != nil {
			s.send(c, &bert.Error{Type: bert.ErrorProtocol, Class: "ProtocolError", Detail: err.Error()})
			return
		}
		switch r := m.(type) {
		case bert.Info:
			infos = append(infos, etf.Tuple{etf.Atom(r.Command), r.Args})
			continue
		case bert.Request:
			if !s.handle(c, id, r, infos) {
				return
			}
			infos = nil
		default:
			s.send(c, &bert.Error{Type: bert.ErrorProtocol, Class: "ProtocolError", Detail: "not a request"})
			return
		}
		if s.oneShot {
			c.Close()
			s.closed <- id
			return
		}
	}
}

// handle answers one request; false ends the connection.
func (s *testServer) handle(c net.Conn, id int64, r bert.Request, infos etf.List) bool {
	if r.Kind == bert.Cast {
		s.casts <- r
		return s.send(c, bert.NoReply{})
	}
	if r.Module != "test" {
		return s.send(c, &bert.Error{Type: bert.ErrorServer, Class: "ServerError", Detail: "No such module '" + r.Module + "'"})
	}
	switch r.Function {
	case "echo":
		return s.send(c, bert.Reply{Result: r.Args[0]})
	case "add":
		return s.send(c, bert.Reply{Result: r.Args[0].(int64) + r.Args[1].(int64)})
	case "conn":
		return s.send(c, bert.Reply{Result: id})
	case "infos":
		if infos == nil {
			infos = etf.List{}
		}
		return s.send(c, bert.Reply{Result: infos})
	case "fail":
		return s.send(c, &bert.Error{Type: bert.ErrorUser, Class: "RuntimeError", Detail: "abandon hope!", Backtrace: []string{"srv.go:1", "srv.go:2"}})
	case "ernie_missing":
		return s.send(c, etf.Tuple{etf.Atom("error"), etf.List{etf.Atom("server"), 0, []byte("ServerError"), []byte("No such module 'nope'"), etf.List{}}})
	case "block":
		s.blocked <- struct{}{}
		// Wait for the client to go away, or for Cleanup to close c.
		io.Copy(io.Discard, c)
		return false
	case "noreply":
		return s.send(c, bert.NoReply{})
	case "garbage":
		return berp.WritePacket(c, []byte{131, 99, 1}) == nil
	case "stream":
		return s.send(c, bert.Info{Command: "stream"}) && s.send(c, bert.Reply{Result: etf.List{}})
	case "cached":
		return s.send(c, bert.Info{Command: "cache", Args: etf.List{etf.Tuple{etf.Atom("access"), etf.Atom("public")}}}) &&
			s.send(c, bert.Reply{Result: etf.Atom("ok")})
	case "half":
		c.Write([]byte{0, 0, 0, 10, 131, 104})
		return false
	case "request":
		return s.send(c, bert.Request{Kind: bert.Call, Module: "x", Function: "y"})
	}
	return s.send(c, &bert.Error{Type: bert.ErrorServer, Class: "ServerError", Detail: "No such function 'test:" + r.Function + "'"})
}
