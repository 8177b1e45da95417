package mongrel2

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"imperial/actors/cgi"
	"imperial/actors/extworker"
	"imperial/actors/worker"
)

// DefaultMaxExternalBody bounds a request body sent to an external app (the
// whole body travels in one message to the worker process); the worker's own
// bound is the same 16 MiB.
const DefaultMaxExternalBody = 16 << 20

// externalApp serves requests with the extworker pool running the worker's
// external app (the Python WSGI adapter): the same {request, Environ, Body}
// → {response, Status, Headers, Body} payloads as actors/worker, encoded by
// worker.EncodeRequest and read by worker.DecodeReply. It is this package's
// small twin of the worker's unexported externalApp: the answer comes back
// to the handler meta process (its alias is the ReplyTo) instead of the
// worker's caller.
type externalApp struct {
	h       *handler
	pool    any
	timeout time.Duration
	maxBody int
}

func (a *externalApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	vars := cgi.Environ(r, "", "http")
	environ := make([][2][]byte, len(vars))
	for i, v := range vars {
		environ[i] = [2][]byte{v.Key, v.Value}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(a.maxBody)+1))
	if err != nil || len(body) > a.maxBody {
		http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	payload, err := worker.EncodeRequest(environ, body)
	if err != nil {
		http.Error(w, "bad request environ", http.StatusBadRequest)
		return
	}
	reply, err := a.h.call(r.Context(), a.pool, a.timeout, payload)
	if err != nil {
		if !errors.Is(err, errGone) {
			a.h.Log().Warning("mongrel2 handler %d: external app: %s", a.h.n, err)
		}
		http.Error(w, "no worker answered", http.StatusBadGateway)
		return
	}
	if reply.Err != nil {
		a.h.Log().Warning("mongrel2 handler %d: external worker %d: %s", a.h.n, reply.Worker, reply.Err)
		if errors.Is(reply.Err, extworker.ErrTimeout) {
			http.Error(w, "HARAKIRI: the worker was killed", http.StatusBadGateway)
			return
		}
		http.Error(w, "worker failed", http.StatusBadGateway)
		return
	}
	status, headers, out, err := worker.DecodeReply(reply.Payload)
	if err != nil {
		a.h.Log().Warning("mongrel2 handler %d: external worker %d: %s", a.h.n, reply.Worker, err)
		http.Error(w, "bad answer from worker", http.StatusBadGateway)
		return
	}
	hd := w.Header()
	for _, kv := range headers {
		hd.Add(kv[0], kv[1])
	}
	if hd.Get("Content-Length") == "" && hd.Get("Transfer-Encoding") == "" {
		hd.Set("Content-Length", strconv.Itoa(len(out)))
	}
	w.WriteHeader(status)
	w.Write(out)
}
