package worker

// httpServer: one --http-socket (HTTP/1.1 with keep-alive).
//
// Accepts  nothing (messages are logged and ignored).
// Owns     the net/http server on its listener and the goroutines net/http
//          runs per connection: Start serves until Terminate closes the
//          server. At most processes × threads requests run at once (the
//          others wait for a slot, like requests queued on uWSGI's listen
//          backlog).

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/cgi"
)

var _ gen.MetaBehavior = (*httpServer)(nil)

type connKey struct{}

type httpServer struct {
	gen.MetaProcess
	l   net.Listener
	sh  *shared
	srv *http.Server
}

func (h *httpServer) Init(process gen.MetaProcess) error {
	h.MetaProcess = process
	local := h.l.Addr().String()
	h.srv = &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, local) }),
		ReadHeaderTimeout: h.sh.socketTimeout,
		IdleTimeout:       h.sh.keepAlive,
		ConnContext:       func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) },
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	if h.sh.keepAlive < 0 {
		h.srv.SetKeepAlivesEnabled(false)
	}
	return nil
}

func (h *httpServer) serve(w http.ResponseWriter, r *http.Request, local string) {
	select {
	case h.sh.slots <- struct{}{}:
		defer func() { <-h.sh.slots }()
	case <-r.Context().Done():
		return
	}
	r = r.WithContext(cgi.WithEnviron(r.Context(), cgi.FromRequest(r, local, "http")))
	c, _ := r.Context().Value(connKey{}).(net.Conn)
	if h.sh.harakiri > 0 && c != nil {
		t := time.AfterFunc(h.sh.harakiri, func() {
			h.Log().Error("*** HARAKIRI ON WORKER (%s %s took more than %s) ***", r.Method, r.RequestURI, h.sh.harakiri)
			c.Close()
		})
		defer t.Stop()
	}
	h.sh.handler.ServeHTTP(w, r)
}

func (h *httpServer) Start() error {
	err := h.srv.Serve(h.l)
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

func (h *httpServer) HandleMessage(from gen.PID, message any) error {
	h.Log().Warning("unexpected message from %s: %T", from, message)
	return nil
}

func (h *httpServer) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}

func (h *httpServer) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"listener": h.l.Addr().String()}
}

func (h *httpServer) Terminate(reason error) { h.srv.Close() }
