package http

// session: one HTTP client connection of the front.
//
// Accepts  nothing (answers from the subscription server arrive on its
//          Picker's channel; other messages are logged and ignored).
// Sends    subscription.MessagePick and subscription.MessageDone to the
//          subscription server, one pick per request.
// Owns     the client socket (kept alive between requests) and, during each
//          request, one node socket. Start reads requests and relays answers;
//          Terminate closes both sockets.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"sync"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/cgi"
	"imperial/actors/subscription"
	"imperial/actors/wire/uwsgi"
)

const sessionMailbox = 4

var _ gen.MetaBehavior = (*session)(nil)

type session struct {
	gen.MetaProcess
	sh     *shared
	client net.Conn
	picker *subscription.Picker

	mu     sync.Mutex
	node   subscription.NodeConn
	closed bool
}

func newSession(c net.Conn, sh *shared) *session {
	return &session{sh: sh, client: c, picker: subscription.NewPicker(sh.client)}
}

func (s *session) Init(process gen.MetaProcess) error {
	s.MetaProcess = process
	return nil
}

func (s *session) Start() error {
	defer s.client.Close()
	br := bufio.NewReaderSize(s.client, 4096)
	bw := bufio.NewWriterSize(s.client, 4096)
	local := s.client.LocalAddr().String()
	first := true
	for {
		idle := s.sh.keepAlive
		if first {
			idle = s.sh.timeout
		}
		first = false
		_ = s.client.SetReadDeadline(time.Now().Add(idle))
		req, err := nethttp.ReadRequest(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && !isTimeout(err) {
				s.Log().Debug("http: bad request from %s: %s", s.client.RemoteAddr(), err)
				writeError(bw, s.client, nethttp.StatusBadRequest)
			}
			return nil
		}
		_ = s.client.SetReadDeadline(time.Now().Add(s.sh.timeout))
		keep := s.serve(req, bw, local)
		if !keep || s.sh.keepAlive < 0 {
			return nil
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// writeError answers with a bare status page.
func writeError(bw *bufio.Writer, c net.Conn, code int) {
	text := nethttp.StatusText(code)
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s\n", code, text, len(text)+1, text)
	_ = bw.Flush()
}

// serve relays one request; it reports whether the client connection may
// carry another.
func (s *session) serve(req *nethttp.Request, bw *bufio.Writer, local string) bool {
	defer req.Body.Close()
	if req.Host == "" {
		writeError(bw, s.client, nethttp.StatusBadRequest)
		return false
	}
	body := io.Reader(req.Body)
	if req.ContentLength < 0 {
		// chunked: the node needs CONTENT_LENGTH, so buffer it (bounded)
		buf, err := io.ReadAll(io.LimitReader(req.Body, s.sh.maxBody+1))
		if err != nil {
			return false
		}
		if int64(len(buf)) > s.sh.maxBody {
			writeError(bw, s.client, nethttp.StatusRequestEntityTooLarge)
			return false
		}
		req.ContentLength = int64(len(buf))
		body = bytes.NewReader(buf)
	}
	vars := cgi.FromRequest(req, local, "http")
	pkt, err := uwsgi.AppendPacket(make([]byte, 0, 1024), 0, 0, vars)
	if err != nil {
		writeError(bw, s.client, nethttp.StatusRequestHeaderFieldsTooLarge)
		return false
	}
	node, picked, err := s.picker.Connect(s, req.Host, func(nd subscription.MessageNode) []byte {
		pkt[0], pkt[3] = nd.Modifier1, nd.Modifier2
		return pkt
	})
	if err != nil {
		if errors.Is(err, subscription.ErrNoNode) {
			s.Log().Warning("[uwsgi-http] unable to find a node for key \"%s\"", req.Host)
		} else {
			s.Log().Warning("http: %s", err)
		}
		writeError(bw, s.client, nethttp.StatusBadGateway)
		return !req.Close
	}
	var tx, rx uint64
	defer func() { s.picker.Done(s, picked, tx, rx) }()
	if !s.setNode(node) {
		return false
	}
	defer s.clearNode(node)
	_ = node.SetDeadline(time.Now().Add(s.sh.timeout))
	rx = uint64(len(pkt))
	if req.ContentLength > 0 {
		n, err := io.Copy(deadlineWriter{node, s.sh.timeout}, body)
		rx += uint64(n)
		if err != nil {
			writeError(bw, s.client, nethttp.StatusBadGateway)
			return false
		}
	}
	cr := &countReader{r: deadlineReader{node, s.sh.timeout}}
	resp, err := nethttp.ReadResponse(bufio.NewReaderSize(cr, 4096), req)
	if err != nil {
		tx = cr.n
		s.Log().Warning("http: bad answer from %s: %s", picked.Address, err)
		writeError(bw, s.client, nethttp.StatusBadGateway)
		return false
	}
	if req.Close {
		resp.Close = true
	}
	_ = s.client.SetWriteDeadline(time.Now().Add(s.sh.timeout))
	werr := resp.Write(bw)
	if werr == nil {
		werr = bw.Flush()
	}
	resp.Body.Close()
	tx = cr.n
	return werr == nil && !resp.Close
}

// countReader counts what it reads.
type countReader struct {
	r io.Reader
	n uint64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += uint64(n)
	return n, err
}

// deadlineReader and deadlineWriter renew an idle timeout per operation.
type deadlineReader struct {
	c subscription.NodeConn
	t time.Duration
}

func (d deadlineReader) Read(p []byte) (int, error) {
	_ = d.c.SetReadDeadline(time.Now().Add(d.t))
	return d.c.Read(p)
}

type deadlineWriter struct {
	c subscription.NodeConn
	t time.Duration
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	_ = d.c.SetWriteDeadline(time.Now().Add(d.t))
	return d.c.Write(p)
}

func (s *session) setNode(c subscription.NodeConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	s.node = c
	return true
}

func (s *session) clearNode(c subscription.NodeConn) {
	s.mu.Lock()
	s.node = nil
	s.mu.Unlock()
	c.Close()
}

func (s *session) HandleMessage(from gen.PID, message any) error {
	s.Log().Warning("unexpected message from %s: %T", from, message)
	return nil
}

func (s *session) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}

func (s *session) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"client": s.client.RemoteAddr().String()}
}

func (s *session) Terminate(reason error) {
	s.mu.Lock()
	s.closed = true
	node := s.node
	s.mu.Unlock()
	s.client.Close()
	if node != nil {
		node.Close()
	}
}
