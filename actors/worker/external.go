package worker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"imperial/actors/cgi"
	"imperial/actors/extworker"
	"imperial/node/etf"
)

// maxExternalBody bounds a request body passed to an external worker or an
// Erlang function (the whole body travels in one message).
const maxExternalBody = 16 << 20

// External protocol tags (BERT over {packet,4}, fds 3/4):
//
//	imperial → worker  {request, Environ, Body}
//	worker → imperial  {response, Status, Headers, Body} | {error, Reason}
//
// Environ is a list of {Name, Value} binaries in wire order, Body a binary;
// Status is an integer or a binary like <<"200 OK">>, Headers a list of
// {Name, Value} binaries, Body a binary (the adapter joins a streamed WSGI
// body: the pool carries one reply per request).
var (
	tagRequest  = etf.Atom("request")
	tagResponse = etf.Atom("response")
	tagError    = etf.Atom("error")
)

// EncodeRequest builds the {request, Environ, Body} payload: the bytes
// etf.Encode gives for that term (TestEncodeRequest checks it), written
// directly, since building the term first costs three allocations per
// environ variable on every request.
func EncodeRequest(environ [][2][]byte, body []byte) ([]byte, error) {
	size := len(requestHead) + 5 + 1 + 5 + len(body)
	for _, kv := range environ {
		if len(kv[0]) > math.MaxUint32 || len(kv[1]) > math.MaxUint32 {
			return nil, fmt.Errorf("%w: environ value too long", ErrProtocol)
		}
		size += 2 + 5 + len(kv[0]) + 5 + len(kv[1])
	}
	if len(body) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: body too long", ErrProtocol)
	}
	b := make([]byte, 0, size)
	b = append(b, requestHead...)
	if len(environ) > 0 {
		b = append(b, 'l')
		b = binary.BigEndian.AppendUint32(b, uint32(len(environ)))
		for _, kv := range environ {
			b = append(b, 'h', 2, 'm')
			b = binary.BigEndian.AppendUint32(b, uint32(len(kv[0])))
			b = append(b, kv[0]...)
			b = append(b, 'm')
			b = binary.BigEndian.AppendUint32(b, uint32(len(kv[1])))
			b = append(b, kv[1]...)
		}
	}
	b = append(b, 'j', 'm')
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
	return append(b, body...), nil
}

// requestHead is version, 3-tuple and the atom request, as etf encodes them.
var requestHead = []byte{131, 'h', 3, 'd', 0, 7, 'r', 'e', 'q', 'u', 'e', 's', 't'}

// DecodeReply reads a worker's reply payload.
func DecodeReply(payload []byte) (int, [][2]string, []byte, error) {
	t, _, err := etf.Decode(payload, etf.DecodeOptions{})
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	tup, ok := t.(etf.Tuple)
	if !ok || len(tup) == 0 {
		return 0, nil, nil, fmt.Errorf("%w: want a tuple, got %T", ErrProtocol, t)
	}
	switch tup[0] {
	case tagResponse:
		return decodeResponse(tup[1:])
	case tagError:
		if len(tup) == 2 {
			reason, _ := text(tup[1])
			return 0, nil, nil, fmt.Errorf("%w: worker error: %s", ErrProtocol, reason)
		}
	}
	return 0, nil, nil, fmt.Errorf("%w: unexpected reply %v", ErrProtocol, tup[0])
}

// externalApp is an http.Handler served by the extworker pool.
type externalApp struct {
	pool    any // the pool's name or PID
	caller  *caller
	timeout time.Duration // waiting for the pool's reply; 0 means forever (the pool times out itself)
	log     func(format string, args ...any)
}

func (a *externalApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	vars := cgi.Environ(r, "", "http")
	environ := make([][2][]byte, len(vars))
	for i, v := range vars {
		environ[i] = [2][]byte{v.Key, v.Value}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxExternalBody+1))
	if err != nil || len(body) > maxExternalBody {
		http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	payload, err := EncodeRequest(environ, body)
	if err != nil {
		http.Error(w, "bad request environ", http.StatusBadRequest)
		return
	}
	reply, err := a.caller.callExternal(a.pool, a.timeout, payload)
	if err != nil {
		a.log("external worker: %s", err)
		http.Error(w, "no worker answered", http.StatusBadGateway)
		return
	}
	if reply.Err != nil {
		a.log("external worker %d: %s", reply.Worker, reply.Err)
		if errors.Is(reply.Err, extworker.ErrTimeout) {
			http.Error(w, "HARAKIRI: the worker was killed", http.StatusBadGateway)
			return
		}
		http.Error(w, "worker failed", http.StatusBadGateway)
		return
	}
	status, headers, out, err := DecodeReply(reply.Payload)
	if err != nil {
		a.log("external worker %d: %s", reply.Worker, err)
		http.Error(w, "bad answer from worker", http.StatusBadGateway)
		return
	}
	writeResponse(w, status, headers, out)
}
