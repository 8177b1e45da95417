package epmd

// The embedded epmd: ALIVE2 (the connection is the registration), PORT_PLEASE2
// and NAMES. Other requests (DUMP, KILL, STOP) are refused by closing the
// connection. Bad input closes that connection only.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"sync"
	"time"

	"ergo.services/ergo/lib"
)

// Server defaults.
const (
	DefaultMaxConns       = 1024
	DefaultRequestTimeout = 10 * time.Second
)

// ErrServerClosed is returned by Serve once Close has been called.
var ErrServerClosed = errors.New("epmd: server closed")

// ServerOptions tunes a Server. Zero values pick the defaults.
type ServerOptions struct {
	// MaxConns bounds open client connections, registrations included
	// (DefaultMaxConns). A connection over the bound is closed at once.
	MaxConns int
	// RequestTimeout bounds the time a client may take to send its request
	// and read the answer (DefaultRequestTimeout). A registration has no
	// timeout once accepted.
	RequestTimeout time.Duration
	// Logf, if set, receives one line per refused connection or request.
	Logf func(format string, args ...any)
}

// Server is an embedded epmd. Create it with NewServer, run Serve on one or
// more listeners, stop it with Close.
type Server struct {
	opts ServerOptions
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	names    map[string]registration
	conns    map[net.Conn]struct{}
	lns      map[net.Listener]struct{}
	creation uint32
}

type registration struct {
	node NodeInfo
	conn net.Conn
}

// NewServer returns a Server that serves nothing until Serve is called.
func NewServer(opts ServerOptions) *Server {
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	return &Server{
		opts:     opts,
		done:     make(chan struct{}),
		names:    make(map[string]registration),
		conns:    make(map[net.Conn]struct{}),
		lns:      make(map[net.Listener]struct{}),
		creation: uint32(time.Now().Unix()),
	}
}

// Serve accepts connections on ln until ln fails or Close is called; it
// always closes ln and returns ErrServerClosed after Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.lns, ln)
		s.mu.Unlock()
		ln.Close()
	}()

	var port uint32
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		port = uint32(a.Port)
	}
	backoff := 5 * time.Millisecond
	for {
		conn, err := ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return ErrServerClosed
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// EMFILE and friends: wait and retry.
			s.logf("epmd: accept: %v", err)
			t := time.NewTimer(backoff)
			select {
			case <-s.done:
				t.Stop()
				return ErrServerClosed
			case <-t.C:
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		if !s.track(conn) {
			conn.Close()
			continue
		}
		go s.handle(conn, port)
	}
}

// Close stops every Serve loop, closes every connection (which unregisters
// every name) and waits for the connection goroutines to finish.
func (s *Server) Close() error {
	s.once.Do(func() {
		close(s.done)
		s.mu.Lock()
		s.closed = true
		for ln := range s.lns {
			ln.Close()
		}
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
	s.wg.Wait()
	return nil
}

// Names returns the registered names, sorted by name.
func (s *Server) Names() []NameEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]NameEntry, 0, len(s.names))
	for name, r := range s.names {
		out = append(out, NameEntry{Name: name, Port: int(r.node.Port)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// track admits conn and counts its goroutine in wg.
func (s *Server) track(conn net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if len(s.conns) >= s.opts.MaxConns {
		s.logf("epmd: %s refused: %d connections open (max %d)", conn.RemoteAddr(), len(s.conns), s.opts.MaxConns)
		return false
	}
	s.conns[conn] = struct{}{}
	s.wg.Add(1) // under mu, so Close never waits before this Add
	return true
}

func (s *Server) handle(conn net.Conn, port uint32) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		conn.Close()
	}()
	if lib.Recover() {
		defer func() {
			if r := recover(); r != nil {
				s.logf("epmd: panic serving %s: %v", conn.RemoteAddr(), r)
			}
		}()
	}

	req, err := s.readRequest(conn)
	if err != nil {
		if !errors.Is(err, io.EOF) {
			s.logf("epmd: %s: %v", conn.RemoteAddr(), err)
		}
		return
	}
	switch req.Op {
	case OpNamesReq:
		b := AppendNamesHeader(nil, port)
		for _, e := range s.Names() {
			b = AppendNameLine(b, e)
		}
		conn.Write(b)
	case OpPortPlease2Req:
		s.mu.Lock()
		r, ok := s.names[req.Name]
		s.mu.Unlock()
		var b []byte
		if ok {
			b, err = AppendPort2Resp(nil, r.node)
		}
		if !ok || err != nil {
			b = AppendPort2Err(nil, 1)
		}
		conn.Write(b)
	case OpAlive2Req:
		s.alive2(conn, req.Node)
	}
}

func (s *Server) readRequest(conn net.Conn) (Request, error) {
	conn.SetDeadline(time.Now().Add(s.opts.RequestTimeout))
	var hdr [2]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return Request{}, err
	}
	size := int(binary.BigEndian.Uint16(hdr[:]))
	if size == 0 || size > MaxRequestLen {
		// ParseRequest reports the precise error from the prefix alone.
		_, _, err := ParseRequest(hdr[:])
		return Request{}, err
	}
	buf := make([]byte, 2+size)
	copy(buf, hdr[:])
	if _, err := io.ReadFull(conn, buf[2:]); err != nil {
		return Request{}, fmt.Errorf("%w: truncated request: %w", ErrMalformed, err)
	}
	req, _, err := ParseRequest(buf)
	return req, err
}

// alive2 registers node for as long as conn stays open.
func (s *Server) alive2(conn net.Conn, node NodeInfo) {
	extended := node.Highest >= DistVersion
	s.mu.Lock()
	_, taken := s.names[node.Name]
	var creation uint32
	if !taken {
		s.creation++
		if s.creation == 0 {
			s.creation = 1
		}
		creation = s.creation
		if !extended {
			creation = 1 + creation%3 // the old 16-bit form: 1..3
		}
		s.names[node.Name] = registration{node: node, conn: conn}
	}
	s.mu.Unlock()
	if taken {
		s.logf("epmd: %s: name %q already registered", conn.RemoteAddr(), node.Name)
		conn.Write(AppendAlive2Resp(nil, 1, 0, extended))
		return
	}
	defer func() {
		s.mu.Lock()
		if r, ok := s.names[node.Name]; ok && r.conn == conn {
			delete(s.names, node.Name)
		}
		s.mu.Unlock()
	}()
	if _, err := conn.Write(AppendAlive2Resp(nil, 0, creation, extended)); err != nil {
		return
	}
	// The registration lasts until the peer closes; it never sends anything
	// else, and whatever it does send is discarded.
	conn.SetDeadline(time.Time{})
	var sink [64]byte
	for {
		if _, err := conn.Read(sink[:]); err != nil {
			return
		}
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}
