package mongrel2_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"
	"github.com/go-zeromq/zmq4"

	"imperial/actors/cgi"
	"imperial/actors/mongrel2"
	"imperial/actors/wire/tnetstring"
	"imperial/rel/peers"
	"imperial/rel/peers/ergotest"
)

func startNode(t *testing.T) gen.Node {
	return ergotest.Start(t, "m2test", gen.LogLevelError)
}

// fakeM2 plays Mongrel2's two sockets with zmq4: a PUSH bound at send_spec
// and a SUB (subscribed to everything) bound at recv_spec. zmq4's PUSH
// copies every message to every peer, so tests use one handler per fake.
type fakeM2 struct {
	t          *testing.T
	push, sub  zmq4.Socket
	send, recv string
	msgs       chan zmq4.Msg // what the SUB received, in order
}

func newFakeM2(t *testing.T, send, recv string) *fakeM2 {
	t.Helper()
	f := &fakeM2{t: t, push: zmq4.NewPush(context.Background()), sub: zmq4.NewSub(context.Background())}
	if err := f.sub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.push.Listen(send); err != nil {
		t.Fatal(err)
	}
	if err := f.sub.Listen(recv); err != nil {
		t.Fatal(err)
	}
	f.send = "tcp://" + f.push.Addr().String()
	f.recv = "tcp://" + f.sub.Addr().String()
	f.msgs = make(chan zmq4.Msg, 64)
	go func() {
		for {
			m, err := f.sub.Recv()
			if err != nil {
				close(f.msgs)
				return
			}
			f.msgs <- m
		}
	}()
	t.Cleanup(f.close)
	return f
}

func (f *fakeM2) close() {
	f.push.Close()
	f.sub.Close()
}

func (f *fakeM2) server() mongrel2.Server { return mongrel2.Server{Send: f.send, Recv: f.recv} }

func (f *fakeM2) request(frame []byte) {
	f.t.Helper()
	if err := f.push.Send(zmq4.NewMsg(frame)); err != nil {
		f.t.Fatal(err)
	}
}

// answer reads response messages until one closes the connection or a
// whole HTTP response for conn id arrived; it returns the response.
func (f *fakeM2) answer(id string) (*http.Response, []byte, bool) {
	f.t.Helper()
	var raw []byte
	for {
		var m zmq4.Msg
		select {
		case m = <-f.msgs:
		case <-time.After(10 * time.Second):
			f.t.Fatalf("no answer for connection %s; got %q", id, raw)
		}
		if len(m.Frames) != 1 {
			f.t.Fatalf("response of %d frames", len(m.Frames))
		}
		resp, err := tnetstring.ParseResponse(m.Frames[0], tnetstring.Limits{})
		if err != nil {
			f.t.Fatalf("bad response message %q: %v", m.Frames[0], err)
		}
		if len(resp.ConnIDs) != 1 || resp.ConnIDs[0] != id {
			f.t.Fatalf("response for %v, want %s", resp.ConnIDs, id)
		}
		closed := len(resp.Body) == 0
		raw = append(raw, resp.Body...)
		hr, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
		if err == nil {
			body, err := io.ReadAll(hr.Body)
			if err == nil && (hr.ContentLength >= 0 || closed) {
				if hr.Close && !closed {
					continue // the close message follows
				}
				return hr, body, closed
			}
		}
		if closed {
			f.t.Fatalf("connection %s closed after %q", id, raw)
		}
	}
}

// noAnswer checks that nothing is published for a while (a negative
// check: the only fixed wait in these tests).
func (f *fakeM2) noAnswer(d time.Duration) {
	f.t.Helper()
	select {
	case m := <-f.msgs:
		f.t.Fatalf("unexpected message %q", m.Frames)
	case <-time.After(d):
	}
}

func jsonReq(t *testing.T, id, method, path string, body []byte, hs ...string) []byte {
	t.Helper()
	h := tnetstring.Headers{{Key: "PATH", Value: path}, {Key: "host", Value: "127.0.0.1:6767"},
		{Key: "x-forwarded-for", Value: "127.0.0.1"}, {Key: "METHOD", Value: method}, {Key: "VERSION", Value: "HTTP/1.1"},
		{Key: "URI", Value: path}, {Key: "PATTERN", Value: "/"}, {Key: "URL_SCHEME", Value: "http"}}
	if len(body) > 0 {
		h = append(h, tnetstring.Header{Key: "content-length", Value: strconv.Itoa(len(body))})
	}
	for i := 0; i+1 < len(hs); i += 2 {
		h = append(h, tnetstring.Header{Key: hs[i], Value: hs[i+1]})
	}
	frame, err := tnetstring.AppendRequest(nil, tnetstring.Request{UUID: "54c6755b-9628-40a4-9a2d-cc82a816345e",
		ConnID: id, Path: path, Headers: h, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return frame
}

// testApp: /hello, /echo (body and environ), /slow (until released or the
// client goes away), /panic.
type testApp struct {
	release  chan struct{}
	canceled chan struct{}
	started  chan struct{}
}

func newTestApp() *testApp {
	return &testApp{release: make(chan struct{}), canceled: make(chan struct{}, 4), started: make(chan struct{}, 4)}
}

func (a *testApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/hello":
		io.WriteString(w, "hello")
	case "/echo":
		b, _ := io.ReadAll(r.Body)
		env := map[string]string{}
		for _, v := range cgi.Environ(r, "", "http") {
			env[string(v.Key)] = string(v.Value)
		}
		w.Header().Set("X-Remote-Addr", env["REMOTE_ADDR"])
		w.Header().Set("X-Content-Length", env["CONTENT_LENGTH"])
		w.Write(b)
	case "/slow":
		a.started <- struct{}{}
		select {
		case <-a.release:
			io.WriteString(w, "slow done")
		case <-r.Context().Done():
			a.canceled <- struct{}{}
		}
	case "/panic":
		panic("boom")
	default:
		http.NotFound(w, r)
	}
}

// caller runs one Call from inside the node.
type caller struct{ act.Actor }

type callResult struct {
	v   any
	err error
}

func (c *caller) Init(args ...any) error { return c.Send(c.PID(), args) }

func (c *caller) HandleMessage(from gen.PID, message any) error {
	args := message.([]any)
	v, err := c.CallWithTimeout(mongrel2.Name, args[0], 10)
	args[1].(chan callResult) <- callResult{v, err}
	return gen.TerminateReasonNormal
}

func stats(t *testing.T, n gen.Node) []mongrel2.HandlerStats {
	t.Helper()
	ch := make(chan callResult, 1)
	if _, err := n.Spawn(func() gen.ProcessBehavior { return &caller{} }, gen.ProcessOptions{}, mongrel2.RequestStats{}, ch); err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v.(mongrel2.ResponseStats).Handlers
}

func spawn(t *testing.T, n gen.Node, o mongrel2.Options) {
	t.Helper()
	if _, err := n.SpawnRegister(mongrel2.Name, mongrel2.Factory, gen.ProcessOptions{}, o); err != nil {
		t.Fatal(err)
	}
}

func TestHandler(t *testing.T) {
	n := startNode(t)
	m2 := newFakeM2(t, "tcp://127.0.0.1:0", "tcp://127.0.0.1:0")
	app := newTestApp()
	chroot := t.TempDir()
	os.Mkdir(filepath.Join(chroot, "tmp"), 0o700)
	spawn(t, n, mongrel2.Options{Servers: []mongrel2.Server{m2.server()}, Handler: app, Chroot: chroot})
	peers.WaitFor(t, 10*time.Second, func() error {
		if s := stats(t, n); !s[0].Connected {
			return fmt.Errorf("not connected")
		}
		return nil
	})

	m2.request(jsonReq(t, "1", "GET", "/hello", nil))
	if hr, body, closed := m2.answer("1"); hr.StatusCode != 200 || string(body) != "hello" || closed {
		t.Fatalf("GET /hello: %d %q closed %v", hr.StatusCode, body, closed)
	}

	// a malformed message is dropped, the next request is served
	m2.request([]byte("not a mongrel2 message"))
	m2.request(jsonReq(t, "2", "POST", "/echo", []byte("abc=def")))
	if hr, body, _ := m2.answer("2"); string(body) != "abc=def" || hr.Header.Get("X-Remote-Addr") != "127.0.0.1" ||
		hr.Header.Get("X-Content-Length") != "7" {
		t.Fatalf("POST /echo: %q %v", body, hr.Header)
	}

	// a slow request does not hold up the next one; its client leaving
	// cancels it and nothing is sent for it
	m2.request(jsonReq(t, "3", "GET", "/slow", nil))
	<-app.started
	m2.request(jsonReq(t, "4", "GET", "/hello", nil))
	if _, body, _ := m2.answer("4"); string(body) != "hello" {
		t.Fatalf("GET /hello behind /slow: %q", body)
	}
	m2.request([]byte(`54c6755b-9628-40a4-9a2d-cc82a816345e 3 @* 17:{"METHOD":"JSON"},21:{"type":"disconnect"},`))
	select {
	case <-app.canceled:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow request was not cancelled by the disconnect")
	}

	// a panic is a 500 and a closed connection
	m2.request(jsonReq(t, "5", "GET", "/panic", nil))
	if hr, _, closed := m2.answer("5"); hr.StatusCode != 500 || !closed {
		t.Fatalf("panic: %d closed %v", hr.StatusCode, closed)
	}

	// a spooled upload: the start message gets no answer, the done message
	// is served from the file (relative to the chroot), which is removed
	data := bytes.Repeat([]byte("0123456789"), 300_000)
	tmp := filepath.Join(chroot, "tmp", "upload.AbCdEf")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cl := strconv.Itoa(len(data))
	m2.request(jsonReq(t, "6", "POST", "/echo", nil, "content-length", cl, tnetstring.HeaderUploadStart, "/tmp/upload.AbCdEf"))
	m2.request(jsonReq(t, "6", "POST", "/echo", nil, "content-length", cl,
		tnetstring.HeaderUploadStart, "/tmp/upload.AbCdEf", tnetstring.HeaderUploadDone, "/tmp/upload.AbCdEf"))
	hr, body, _ := m2.answer("6")
	if hr.StatusCode != 200 || !bytes.Equal(body, data) || hr.Header.Get("X-Content-Length") != cl {
		t.Fatalf("upload: %d, %d bytes, %v", hr.StatusCode, len(body), hr.Header)
	}
	peers.WaitFor(t, 5*time.Second, func() error {
		if _, err := os.Stat(tmp); err == nil {
			return fmt.Errorf("%s still there", tmp)
		}
		return nil
	})

	// client-made upload headers (a body in the message) are refused
	m2.request(jsonReq(t, "7", "POST", "/echo", []byte("x"), tnetstring.HeaderUploadStart, "/etc/passwd",
		tnetstring.HeaderUploadDone, "/etc/passwd"))
	if hr, _, closed := m2.answer("7"); hr.StatusCode != 400 || !closed {
		t.Fatalf("spoofed upload: %d closed %v", hr.StatusCode, closed)
	}

	s := stats(t, n)[0]
	if s.Malformed != 1 || s.Disconnects != 1 || s.Uploads != 1 || s.BadUploads != 1 || s.Requests < 6 {
		t.Fatalf("stats %+v", s)
	}
}

// TestReconnect: Mongrel2 going away and coming back on the same endpoints
// needs nothing from imperial.
func TestReconnect(t *testing.T) {
	n := startNode(t)
	m2 := newFakeM2(t, "tcp://127.0.0.1:0", "tcp://127.0.0.1:0")
	spawn(t, n, mongrel2.Options{Servers: []mongrel2.Server{m2.server()}, Handler: newTestApp()})
	peers.WaitFor(t, 10*time.Second, func() error {
		if !stats(t, n)[0].Connected {
			return fmt.Errorf("not connected")
		}
		return nil
	})
	m2.request(jsonReq(t, "1", "GET", "/hello", nil))
	m2.answer("1")

	m2.close()
	peers.WaitFor(t, 10*time.Second, func() error {
		if stats(t, n)[0].Connected {
			return fmt.Errorf("still connected")
		}
		return nil
	})
	m2b := newFakeM2(t, m2.send, m2.recv)
	peers.WaitFor(t, 10*time.Second, func() error {
		if s := stats(t, n)[0]; !s.Connected || s.Connects != 2 {
			return fmt.Errorf("connected %v, %d connects", s.Connected, s.Connects)
		}
		return nil
	})
	m2b.request(jsonReq(t, "2", "GET", "/hello", nil))
	if _, body, _ := m2b.answer("2"); string(body) != "hello" {
		t.Fatalf("after reconnect: %q", body)
	}
}

// TestInFlight: with InFlight 1 the second request waits for the first.
func TestInFlight(t *testing.T) {
	n := startNode(t)
	m2 := newFakeM2(t, "tcp://127.0.0.1:0", "tcp://127.0.0.1:0")
	app := newTestApp()
	spawn(t, n, mongrel2.Options{Servers: []mongrel2.Server{m2.server()}, Handler: app, InFlight: 1})
	peers.WaitFor(t, 10*time.Second, func() error {
		if !stats(t, n)[0].Connected {
			return fmt.Errorf("not connected")
		}
		return nil
	})
	m2.request(jsonReq(t, "1", "GET", "/slow", nil))
	<-app.started
	m2.request(jsonReq(t, "2", "GET", "/hello", nil))
	m2.noAnswer(200 * time.Millisecond)
	close(app.release)
	if _, body, _ := m2.answer("1"); string(body) != "slow done" {
		t.Fatalf("slow: %q", body)
	}
	if _, body, _ := m2.answer("2"); string(body) != "hello" {
		t.Fatalf("hello: %q", body)
	}
}

func TestOptions(t *testing.T) {
	n := startNode(t)
	srv := []mongrel2.Server{{Send: "tcp://127.0.0.1:1", Recv: "tcp://127.0.0.1:2"}}
	for _, o := range []mongrel2.Options{
		{Handler: newTestApp()},
		{Servers: srv},
		{Servers: srv, App: "hello", Handler: newTestApp()},
		{Servers: srv, App: "nope"},
		{Servers: srv, App: "hello", Processes: mongrel2.MaxHandlers + 1},
		{Servers: srv, App: "hello", InFlight: -1},
	} {
		if _, err := n.Spawn(mongrel2.Factory, gen.ProcessOptions{}, o); err == nil {
			t.Errorf("%+v: spawned", o)
		}
	}
	for _, tc := range []struct {
		in  string
		ok  bool
		out mongrel2.Server
	}{
		{"tcp://127.0.0.1:9997,tcp://127.0.0.1:9996", true, mongrel2.Server{Send: "tcp://127.0.0.1:9997", Recv: "tcp://127.0.0.1:9996"}},
		{" ipc:///tmp/a , ipc:///tmp/b ", true, mongrel2.Server{Send: "ipc:///tmp/a", Recv: "ipc:///tmp/b"}},
		{"tcp://127.0.0.1:9997", false, mongrel2.Server{}},
		{"tcp://a:1,tcp://b:2,tcp://c:3", false, mongrel2.Server{}},
		{"udp://a:1,tcp://b:2", false, mongrel2.Server{}},
		{"tcp://,tcp://b:2", false, mongrel2.Server{}},
	} {
		s, err := mongrel2.ParseServer(tc.in)
		if (err == nil) != tc.ok || s != tc.out {
			t.Errorf("ParseServer(%q) = %v, %v", tc.in, s, err)
		}
		if err != nil && !strings.Contains(err.Error(), "mongrel2: bad options") {
			t.Errorf("ParseServer(%q): %v is not ErrOptions", tc.in, err)
		}
	}
}
