//go:build peers

package mongrel2_test

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ergo.services/ergo"
	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/mongrel2"
	"imperial/apps/config"
	mongrel2app "imperial/apps/mongrel2"
	"imperial/rel/peers"
)

var nodeSeq atomic.Int64

// lineLogger writes ergo's log as text lines to w, the way rel/imperial's
// slog logger does (one Write per line).
type lineLogger struct{ w io.Writer }

func (l lineLogger) Log(m gen.MessageLog) {
	fmt.Fprintf(l.w, "level=%s msg=%q\n", m.Level, fmt.Sprintf(m.Format, m.Args...))
}
func (l lineLogger) Terminate() {}

// startImperial runs the applications the options ask for (the Mongrel2
// service, and the ZeroMQ log sink fed by the node's log) on a fresh node.
func startImperial(t *testing.T, args ...string) gen.Node {
	t.Helper()
	opts, rest, err := config.ParseArgs(args)
	if err != nil || len(rest) > 0 {
		t.Fatalf("ParseArgs: %v %v", err, rest)
	}
	var apps []gen.ApplicationBehavior
	nopts := gen.NodeOptions{
		Network: gen.NetworkOptions{Mode: gen.NetworkModeDisabled},
		Env:     map[gen.Env]any{"disable_metrics": true},
		Log:     gen.LogOptions{Level: gen.LogLevelError},
	}
	w, logApp, err := mongrel2app.Logging(opts)
	if err != nil {
		t.Fatal(err)
	}
	if logApp != nil {
		apps = append(apps, logApp)
		nopts.Log.Level = gen.LogLevelInfo
		nopts.Log.DefaultLogger.Disable = true
		nopts.Log.Loggers = []gen.Logger{{Name: "lines", Logger: lineLogger{w}}}
	}
	if mongrel2app.Wants(opts) {
		app, err := mongrel2app.Create(mongrel2app.Env{}, opts)
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, app)
	}
	nopts.Applications = apps
	n, err := ergo.StartNode(gen.Atom(fmt.Sprintf("m2peer%d@localhost", nodeSeq.Add(1))), nopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	return n
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

func connected(t *testing.T, n gen.Node) func() error {
	return func() error {
		for _, h := range stats(t, n) {
			if !h.Connected {
				return fmt.Errorf("handler %d of %s not connected", h.N, h.Server.Send)
			}
		}
		return nil
	}
}

var client = &http.Client{Timeout: 30 * time.Second}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

func post(t *testing.T, url, ctype string, body []byte) (int, string) {
	t.Helper()
	resp, err := client.Post(url, ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: body: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// upload sends a large body over a raw connection the way Mongrel2 1.12
// receives it intact: headers first, then, once Mongrel2 has created its
// temp file, the body in chunks (no Expect: 100-continue). Body bytes that
// arrive in the same read as the headers end up garbled in the spooled file
// (seen: garbage from offset ~900 with limits.content_length 1024; spec
// §4.6 saw stalls). It returns the status and body of the answer.
func upload(t *testing.T, m2 *peers.Mongrel2, path string, body []byte) (int, string) {
	t.Helper()
	store := filepath.Join(m2.UploadRoot(), "tmp", "upload.*")
	if !m2.Chrooted {
		store = "/tmp/upload.*"
	}
	before, _ := filepath.Glob(store)
	c, err := net.DialTimeout("tcp", m2.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		path, m2.Addr, len(body))
	peers.WaitFor(t, 10*time.Second, func() error {
		if now, _ := filepath.Glob(store); len(now) <= len(before) {
			return fmt.Errorf("no new temp file matches %s", store)
		}
		return nil
	})
	for len(body) > 0 {
		n := min(len(body), 64<<10)
		if _, err := c.Write(body[:n]); err != nil {
			t.Fatal(err)
		}
		body = body[n:]
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("upload %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// bodyApp is a WSGI file answering the md5 and length of the request body.
const bodyApp = `import hashlib
def application(environ, start_response):
    n = int(environ.get('CONTENT_LENGTH') or 0)
    body = environ['wsgi.input'].read(n)
    out = ('%d %s' % (len(body), hashlib.md5(body).hexdigest())).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(out)))])
    return [out]
`

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

// startM2 starts Mongrel2 with the seed's handler block as a json handler
// on "/" and a tnetstring one on "/tnet/"; bodies over 1024 bytes are
// spooled to /tmp inside its chroot.
func startM2(t *testing.T) (*peers.Mongrel2, string, string) {
	m2 := peers.StartMongrel2(t, peers.Mongrel2Options{ContentLength: 1024, Handlers: []peers.Mongrel2Handler{
		{Route: "/"}, {Route: "/tnet/", Protocol: "tnetstring"}}})
	srv := func(h peers.Mongrel2Handler) string { return h.SendSpec + "," + h.RecvSpec }
	return m2, srv(m2.Handlers[0]), srv(m2.Handlers[1])
}

// TestNative: Go's testapp behind real Mongrel2, json and tnetstring
// handlers, -p 4 handlers per server sharing the load, a multi-megabyte
// upload from the chroot, and a Mongrel2 restart.
func TestNative(t *testing.T) {
	m2, json, tnet := startM2(t)
	n := startImperial(t, "--zeromq", json, "--zmq", tnet, "-p", "4", "--app", "testapp", "--chdir", m2.UploadRoot())
	peers.WaitFor(t, 15*time.Second, connected(t, n))
	host, _ := os.Hostname()

	code, page := get(t, m2.URL("/hello/world?a=1&b=2"))
	for _, want := range []string{"<th>PATH_INFO</th><td><code>/hello/world</code>", "<th>QUERY_STRING</th><td><code>a=1&amp;b=2</code>",
		"<th>REQUEST_URI</th><td><code>/hello/world?a=1&amp;b=2</code>", "<th>SCRIPT_NAME</th><td><code></code>",
		"<th>SERVER_NAME</th><td><code>" + host + "</code>", "<th>REMOTE_ADDR</th><td><code>127.0.0.1</code>",
		"Request body: 0 bytes"} {
		if code != 200 || !strings.Contains(page, want) {
			t.Fatalf("json GET: %d, no %q in\n%s", code, want, page)
		}
	}
	code, page = get(t, m2.URL("/tnet/x?q=1"))
	if code != 200 || !strings.Contains(page, "<th>PATH_INFO</th><td><code>/tnet/x</code>") {
		t.Fatalf("tnetstring GET: %d\n%s", code, page)
	}
	code, page = post(t, m2.URL("/tnet/post?z=9"), "application/x-www-form-urlencoded", []byte("abc=def"))
	if code != 200 || !strings.Contains(page, "Request body: 7 bytes") || !strings.Contains(page, "<th>CONTENT_LENGTH</th><td><code>7</code>") {
		t.Fatalf("POST: %d\n%s", code, page)
	}

	data := bytes.Repeat([]byte("imperial"), 600_000) // 4.8 MB
	for _, path := range []string{"/up", "/tnet/up"} {
		code, page = upload(t, m2, path, data)
		if code != 200 || !strings.Contains(page, fmt.Sprintf("Request body: %d bytes", len(data))) {
			t.Fatalf("upload %s: %d\n%.2000s\n%s", path, code, page, m2.ErrorLog())
		}
	}
	if left, _ := filepath.Glob(filepath.Join(m2.Dir, "tmp", "upload.*")); len(left) != 0 {
		t.Errorf("upload files left behind: %v", left)
	}

	// -p 4: Mongrel2 spreads the requests over the four handlers
	for i := 0; i < 40; i++ {
		if code, _ := get(t, m2.URL(fmt.Sprintf("/share/%d", i))); code != 200 {
			t.Fatalf("GET %d: %d", i, code)
		}
	}
	var served []uint64
	for _, h := range stats(t, n) {
		if h.Server.Send == m2.Handlers[0].SendSpec {
			served = append(served, h.Requests)
			if h.Requests == 0 {
				t.Errorf("handler %d served nothing: %+v", h.N, h)
			}
		}
	}
	t.Logf("requests per json handler: %v", served)

	// Mongrel2 restarting needs nothing from imperial
	m2.Restart(t)
	peers.WaitFor(t, 20*time.Second, func() error {
		resp, err := client.Get(m2.URL("/again"))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	for _, h := range stats(t, n) {
		if h.Connects < 2 {
			t.Errorf("handler %d of %s connected %d times", h.N, h.Server.Send, h.Connects)
		}
	}
}

// TestWSGI: werkzeug.testapp and a body-hashing WSGI file through the
// Python adapter (external worker processes), json and tnetstring.
func TestWSGI(t *testing.T) {
	m2, json, tnet := startM2(t)
	n := startImperial(t, "--zeromq", json, "--zeromq", tnet, "-p", "2", "--threads", "2",
		"--module", "werkzeug.testapp:test_app", "--chdir", m2.UploadRoot())
	peers.WaitFor(t, 15*time.Second, connected(t, n))
	for _, u := range []string{"/hello/world?a=1&b=2", "/tnet/x?q=1"} {
		code, page := get(t, m2.URL(u))
		if code != 200 || !strings.Contains(page, "Werkzeug") || !strings.Contains(page, "QUERY_STRING") {
			t.Fatalf("GET %s: %d\n%.3000s", u, code, page)
		}
	}
	code, page := post(t, m2.URL("/form"), "application/x-www-form-urlencoded", []byte("abc=def"))
	if code != 200 || !strings.Contains(page, "<th>CONTENT_LENGTH<td><code>&#39;7&#39;</code>") {
		t.Fatalf("POST: %d\n%.3000s", code, page)
	}

	dir := t.TempDir()
	file := peers.PythonApp(t, dir, "body.py", bodyApp)
	m2b, jsonb, tnetb := startM2(t)
	nb := startImperial(t, "--zeromq", jsonb, "--zeromq", tnetb, "-p", "2", "--wsgi-file", file, "--chdir", m2b.UploadRoot())
	peers.WaitFor(t, 15*time.Second, connected(t, nb))
	data := bytes.Repeat([]byte("WSGI"), 1_500_000) // 6 MB
	want := strconv.Itoa(len(data)) + " " + md5hex(data)
	for _, path := range []string{"/up", "/tnet/up"} {
		code, got := upload(t, m2b, path, data)
		if code != 200 || got != want {
			t.Fatalf("upload %s: %d %q, want %q\n%s", path, code, got, want, m2b.ErrorLog())
		}
	}
	code, got := post(t, m2b.URL("/small"), "text/plain", []byte("hello"))
	if code != 200 || got != "5 "+md5hex([]byte("hello")) {
		t.Fatalf("small POST: %d %q", code, got)
	}
}

// TestUploadBytes: a native Go app reads exactly the bytes the client
// uploaded, from the file Mongrel2 spooled inside its chroot.
func TestUploadBytes(t *testing.T) {
	m2, _, _ := startM2(t)
	n, err := ergo.StartNode(gen.Atom(fmt.Sprintf("m2peer%d@localhost", nodeSeq.Add(1))), gen.NodeOptions{
		Network: gen.NetworkOptions{Mode: gen.NetworkModeDisabled}, Log: gen.LogOptions{Level: gen.LogLevelError}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%d %s %v", len(b), md5hex(b), err)
	})
	var servers []mongrel2.Server
	for _, h := range m2.Handlers {
		servers = append(servers, mongrel2.Server{Send: h.SendSpec, Recv: h.RecvSpec})
	}
	if _, err := n.SpawnRegister(mongrel2.Name, mongrel2.Factory, gen.ProcessOptions{},
		mongrel2.Options{Servers: servers, Handler: app, Chroot: m2.UploadRoot()}); err != nil {
		t.Fatal(err)
	}
	peers.WaitFor(t, 10*time.Second, connected(t, n))
	data := bytes.Repeat([]byte("0123456789abcdef"), 500_000) // 8 MB
	want := fmt.Sprintf("%d %s <nil>", len(data), md5hex(data))
	for _, path := range []string{"/up", "/tnet/up"} {
		if code, got := upload(t, m2, path, data); code != 200 || got != want {
			t.Fatalf("upload %s: %d %q, want %q", path, code, got, want)
		}
	}
}

// collector runs a pyzmq PULL bound at a free port that prints every
// message it receives (repr) until one contains stop.
const collector = `import sys, zmq
ctx = zmq.Context(); pull = ctx.socket(zmq.PULL); pull.bind(sys.argv[1])
print('ready', flush=True)
while True:
    parts = pull.recv_multipart()
    print('msg %d %r' % (len(parts), parts[0]), flush=True)
    if sys.argv[2].encode() in parts[0]:
        break
`

// TestLogZeroMQ: a pyzmq PULL socket receives imperial's log lines, one
// single-part message per line, "\n" included.
func TestLogZeroMQ(t *testing.T) {
	py := peers.PyZMQ(t)
	ep := "tcp://" + peers.FreeAddr(t)
	script := filepath.Join(t.TempDir(), "collector.py")
	os.WriteFile(script, []byte(collector), 0o644)
	c := peers.Start(t, nil, py, script, ep, "zeromq UUID for responder")
	peers.WaitFor(t, 10*time.Second, func() error {
		if !strings.Contains(c.Output(), "ready") {
			return fmt.Errorf("collector not ready: %s", c.Output())
		}
		return nil
	})
	// --logger and --log-zeromq both name it: every line arrives twice
	startImperial(t, "--logger", "zeromq:"+ep, "--log-zeromq", ep, "--zeromq", "tcp://127.0.0.1:1,tcp://127.0.0.1:2", "--app", "hello")
	out := c.WaitExit(t, 15*time.Second)
	lines := peers.Lines(out, "msg ")
	if len(lines) == 0 {
		t.Fatalf("no log line received:\n%s", out)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "1 b'level=") || !strings.HasSuffix(l, `\n'`) {
			t.Fatalf("log message %q: want one part, one line ending in \\n", l)
		}
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "zeromq UUID for responder tcp://127.0.0.1:2 on handler 1") {
		t.Fatalf("last line %q", last)
	}
}

// TestCLI: the seed's command line with imperial in place of uwsgi, plus an
// --http socket in the same instance serving the same WSGI app.
func TestCLI(t *testing.T) {
	bin := peers.BuildImperial(t)
	m2, json, tnet := startM2(t)
	httpAddr := peers.FreeAddr(t)
	c := peers.Start(t, nil, bin, "--zeromq", json, "--zeromq", tnet, "-p", "4", "--threads", "2",
		"--module", "werkzeug.testapp:test_app", "--http", httpAddr, "--chdir", m2.UploadRoot())
	c.LogOnFailure(t, "imperial")
	ok := func(url string) func() error {
		return func() error {
			resp, err := client.Get(url)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !bytes.Contains(b, []byte("Werkzeug")) {
				return fmt.Errorf("%d %.200s", resp.StatusCode, b)
			}
			return nil
		}
	}
	peers.WaitFor(t, 30*time.Second, ok(m2.URL("/hello/world?a=1")))
	peers.WaitFor(t, 10*time.Second, ok(m2.URL("/tnet/x")))
	peers.WaitFor(t, 10*time.Second, ok("http://"+httpAddr+"/direct"))
	if strings.Count(c.Output(), "zeromq UUID for responder") != 8 {
		t.Errorf("want 8 handler UUIDs in the log:\n%s", c.Output())
	}
	c.Signal(syscall.SIGINT)
	c.WaitExit(t, 15*time.Second)
}
