package peers

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Mongrel2Handler is one Handler(...) of a test Mongrel2 server and the
// route that reaches it.
type Mongrel2Handler struct {
	Route     string // route prefix, e.g. "/" or "/tnet/"
	SendSpec  string // Mongrel2's PUSH bind; "" picks tcp://127.0.0.1:FREE
	RecvSpec  string // Mongrel2's SUB bind; "" picks tcp://127.0.0.1:FREE
	SendIdent string // "" picks a fresh UUID
	Protocol  string // "json" (Mongrel2's default) or "tnetstring"
}

// Mongrel2Options describe a test Mongrel2 server (spec uwsgi.md §4.6).
type Mongrel2Options struct {
	Handlers []Mongrel2Handler
	// ContentLength is limits.content_length: larger bodies are spooled to
	// upload.temp_store (0 leaves Mongrel2's default, 20480).
	ContentLength int
	// UploadStore is upload.temp_store, a path inside the chroot ending in
	// XXXXXX; "" means "/tmp/upload.XXXXXX".
	UploadStore string
}

// Mongrel2 is a real Mongrel2 1.12 server started by a test, on a free
// loopback port, from a configuration built with m2sh in a temporary
// directory. As root Mongrel2 chroots into Dir and daemonizes; it runs in
// its own PID namespace (unshare) so that killing the namespace's init,
// which dies with the test binary, stops it.
type Mongrel2 struct {
	Dir      string // chroot: config.sqlite, logs/, run/, tmp/
	Addr     string // "127.0.0.1:PORT" of its HTTP listener
	Handlers []Mongrel2Handler
	// Chrooted reports whether Mongrel2 runs chrooted in Dir (as root); its
	// upload paths are then relative to Dir.
	Chrooted bool
	uuid     string
	cmd      *Cmd
}

// StartMongrel2 writes the configuration, loads it with m2sh and starts
// Mongrel2; it returns once the HTTP port and every handler port accept.
func StartMongrel2(t testing.TB, o Mongrel2Options) *Mongrel2 {
	t.Helper()
	m2sh := Require(t, "m2sh")
	Require(t, "mongrel2")
	Require(t, "unshare")
	dir := t.TempDir()
	for _, d := range []string{"logs", "run", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	m := &Mongrel2{Dir: dir, Addr: FreeAddr(t), uuid: m2UUID(t), Chrooted: os.Getuid() == 0}
	var hs, routes []string
	for i, h := range o.Handlers {
		if h.SendSpec == "" {
			h.SendSpec = "tcp://" + FreeAddr(t)
		}
		if h.RecvSpec == "" {
			h.RecvSpec = "tcp://" + FreeAddr(t)
		}
		if h.SendIdent == "" {
			h.SendIdent = m2UUID(t)
		}
		if h.Protocol == "" {
			h.Protocol = "json"
		}
		m.Handlers = append(m.Handlers, h)
		hs = append(hs, fmt.Sprintf("h%d = Handler(send_spec='%s', send_ident='%s', recv_spec='%s', recv_ident='', protocol='%s')",
			i, h.SendSpec, h.SendIdent, h.RecvSpec, h.Protocol))
		routes = append(routes, fmt.Sprintf("'%s': h%d", h.Route, i))
	}
	_, port, _ := strings.Cut(m.Addr, ":")
	store := o.UploadStore
	if store == "" {
		store = "/tmp/upload.XXXXXX"
	}
	settings := fmt.Sprintf(`"upload.temp_store": "%s"`, store)
	if o.ContentLength > 0 {
		settings += fmt.Sprintf(`, "limits.content_length": %d`, o.ContentLength)
	}
	conf := strings.Join(hs, "\n") + fmt.Sprintf(`
main = Server(uuid="%s", access_log="/logs/access.log", error_log="/logs/error.log", chroot="./",
    default_host="localhost", name="test", pid_file="/run/mongrel2.pid", port=%s, bind_addr="127.0.0.1",
    hosts=[Host(name="localhost", routes={%s})])
settings = {%s}
servers = [main]
`, m.uuid, port, strings.Join(routes, ", "), settings)
	if err := os.WriteFile(filepath.Join(dir, "mongrel2.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	load := exec.Command(m2sh, "load", "-config", "mongrel2.conf", "-db", "config.sqlite")
	load.Dir = dir
	load.Env = append(os.Environ(), "LOGNAME=root") // m2sh aborts without a login name
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("m2sh load: %v\n%s\n%s", err, out, conf)
	}
	m.Start(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mongrel2 error log:\n%s", m.ErrorLog())
		}
	})
	return m
}

// Start starts Mongrel2 (again) with its configuration.
func (m *Mongrel2) Start(t testing.TB) {
	t.Helper()
	script := "mongrel2 config.sqlite " + m.uuid + " && exec sleep 2147483647"
	m.cmd = m2StartIn(t, m.Dir, "unshare", "--pid", "--fork", "--kill-child", "sh", "-c", script)
	ports := []string{m.Addr}
	for _, h := range m.Handlers {
		for _, ep := range []string{h.SendSpec, h.RecvSpec} {
			if a, ok := strings.CutPrefix(ep, "tcp://"); ok {
				ports = append(ports, a)
			}
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, a := range ports {
		for Accepts(a) != nil {
			select {
			case <-m.cmd.Done():
				t.Fatalf("mongrel2 exited: %v\n%s\n%s", m.cmd.Err(), m.cmd.Output(), m.ErrorLog())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("mongrel2 does not listen on %s\n%s\n%s", a, m.cmd.Output(), m.ErrorLog())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Stop kills Mongrel2 (its whole PID namespace) and waits for it.
func (m *Mongrel2) Stop() {
	if m.cmd != nil {
		m.cmd.Kill()
	}
}

// Restart stops Mongrel2 and starts it again on the same ports.
func (m *Mongrel2) Restart(t testing.TB) {
	t.Helper()
	m.Stop()
	m.Start(t)
}

// URL is the http URL of path on this server.
func (m *Mongrel2) URL(path string) string { return "http://" + m.Addr + path }

// ErrorLog returns Mongrel2's error log so far.
func (m *Mongrel2) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(m.Dir, "logs", "error.log"))
	return string(b)
}

// UploadRoot is the directory Mongrel2's upload paths are relative to: Dir
// when chrooted, "" (paths as they are) otherwise.
func (m *Mongrel2) UploadRoot() string {
	if m.Chrooted {
		return m.Dir
	}
	return ""
}

// m2StartIn is Start with a working directory.
func m2StartIn(t testing.TB, dir, name string, args ...string) *Cmd {
	t.Helper()
	c := &Cmd{Cmd: exec.Command(name, args...), out: &syncBuffer{}, done: make(chan struct{})}
	c.Dir = dir
	c.Env = os.Environ()
	c.Stdout, c.Stderr = c.out, c.out
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := c.Cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { c.err = c.Wait(); close(c.done) }()
	t.Cleanup(func() { c.Kill() })
	return c
}

func m2UUID(t testing.TB) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// PyZMQ returns Debian's python3 after checking that it imports zmq (pyzmq),
// failing the test otherwise.
func PyZMQ(t testing.TB) string {
	t.Helper()
	py := "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import zmq").CombinedOutput(); err != nil {
		t.Fatalf("python3-zmq not found (%v: %s): run rel/scripts/install-peers.sh", err, out)
	}
	return py
}
