package epmd

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"ergo.services/ergo/gen"
)

var (
	testHS    = gen.Version{Name: "ErlHS", Release: "6", License: gen.LicenseMIT}
	testProto = gen.Version{Name: "ErlDist", Release: "6", License: gen.LicenseMIT}
)

// testLog is the part of gen.Log the registrar uses; the rest panics.
type testLog struct {
	gen.Log
	t testing.TB
}

func (l testLog) Trace(f string, a ...any)   { l.t.Logf("trace: "+f, a...) }
func (l testLog) Debug(f string, a ...any)   { l.t.Logf("debug: "+f, a...) }
func (l testLog) Info(f string, a ...any)    { l.t.Logf("info: "+f, a...) }
func (l testLog) Warning(f string, a ...any) { l.t.Logf("warning: "+f, a...) }
func (l testLog) Error(f string, a ...any)   { l.t.Logf("error: "+f, a...) }

// fakeNode is the gen.NodeRegistrar ergo would pass to Register.
type fakeNode struct {
	gen.NodeRegistrar
	name gen.Atom
	t    testing.TB
}

func (n fakeNode) Name() gen.Atom { return n.name }
func (n fakeNode) Log() gen.Log   { return testLog{t: n.t} }

func routes(port uint16) gen.RegisterRoutes {
	return gen.RegisterRoutes{Routes: []gen.Route{{Port: port, HandshakeVersion: testHS, ProtoVersion: testProto}}}
}

// freePort returns a loopback port nothing listens on (as far as we know).
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func newRegistrar(t testing.TB, port int, mode EmbeddedMode) *Registrar {
	r := New(Options{Port: port, Embedded: mode, HandshakeVersion: testHS, ProtoVersion: testProto})
	t.Cleanup(r.Terminate)
	return r
}

func register(t testing.TB, r *Registrar, name gen.Atom, port uint16) error {
	t.Helper()
	_, err := r.Register(fakeNode{name: name, t: t}, routes(port))
	return err
}

func hasName(srv *Server, name string, port int) error {
	for _, e := range srv.Names() {
		if e.Name == name && e.Port == port {
			return nil
		}
	}
	return fmt.Errorf("%s/%d not in %v", name, port, srv.Names())
}

func lacksName(srv *Server, name string) error {
	for _, e := range srv.Names() {
		if e.Name == name {
			return fmt.Errorf("%s still registered", name)
		}
	}
	return nil
}

func TestRegistrarOptions(t *testing.T) {
	fn := fakeNode{name: "a@127.0.0.1", t: t}
	if _, err := New(Options{Port: 1}).Register(fn, routes(1)); !errors.Is(err, ErrOptions) {
		t.Errorf("no versions: %v", err)
	}
	if _, err := New(Options{Port: 1, HandshakeVersion: testHS}).Resolve("a@b"); !errors.Is(err, ErrOptions) {
		t.Errorf("no proto version: %v", err)
	}
	if _, err := New(Options{Port: 70000, HandshakeVersion: testHS, ProtoVersion: testProto}).Register(fn, routes(1)); !errors.Is(err, ErrOptions) {
		t.Errorf("bad port: %v", err)
	}
	if _, err := New(Options{Embedded: 7, HandshakeVersion: testHS, ProtoVersion: testProto}).Register(fn, routes(1)); !errors.Is(err, ErrOptions) {
		t.Errorf("bad mode: %v", err)
	}

	t.Setenv(EnvPort, "")
	if s := New(Options{}).Info().Server; s != "127.0.0.1:4369" {
		t.Errorf("default server = %q", s)
	}
	t.Setenv(EnvPort, "12345")
	if s := New(Options{Host: "::1"}).Info().Server; s != "[::1]:12345" {
		t.Errorf("env server = %q", s)
	}
	if s := New(Options{Port: 999}).Info().Server; s != "127.0.0.1:999" {
		t.Errorf("explicit port beats env: %q", s)
	}
	t.Setenv(EnvPort, "junk")
	if _, err := New(Options{HandshakeVersion: testHS, ProtoVersion: testProto}).Register(fn, routes(1)); !errors.Is(err, ErrOptions) {
		t.Errorf("bad env: %v", err)
	}
}

func TestRegistrarExternalEpmd(t *testing.T) {
	srv, port := startServer(t, ServerOptions{})
	r := newRegistrar(t, port, EmbeddedAuto)
	if err := register(t, r, "imp@127.0.0.1", 5555); err != nil {
		t.Fatal(err)
	}
	if err := hasName(srv, "imp", 5555); err != nil {
		t.Fatal(err)
	}
	if r.Creation() == 0 {
		t.Error("no creation")
	}
	info := r.Info()
	if info.EmbeddedServer || info.Server != net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) || info.Version != r.Version() {
		t.Errorf("info = %+v", info)
	}

	got, err := r.Resolve("imp@127.0.0.1")
	want := []gen.Route{{Host: "127.0.0.1", Port: 5555, HandshakeVersion: testHS, ProtoVersion: testProto}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Resolve = %+v, %v", got, err)
	}
	nodes, err := r.Nodes()
	if err != nil || !reflect.DeepEqual(nodes, []gen.Atom{"imp@127.0.0.1"}) {
		t.Fatalf("Nodes = %v, %v", nodes, err)
	}

	if _, err := r.Resolve("nosuch@127.0.0.1"); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("unknown: %v", err)
	}
	for _, bad := range []gen.Atom{"imp", "imp@", "@h", "a@b@c"} {
		if _, err := r.Resolve(bad); !errors.Is(err, ErrBadName) {
			t.Errorf("Resolve(%q): %v", bad, err)
		}
	}
	// A node whose range excludes 6 is refused.
	old := node("old", 4000)
	old.Highest, old.Lowest = 5, 5
	c, _, err := Alive2(testCtx(t), "127.0.0.1", port, old)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := r.Resolve("old@127.0.0.1"); !errors.Is(err, ErrVersion) {
		t.Errorf("v5 node: %v", err)
	}

	// A second node of the same name is refused with a clear error.
	r2 := newRegistrar(t, port, EmbeddedAuto)
	if err := register(t, r2, "imp@127.0.0.1", 5556); !errors.Is(err, ErrNameInUse) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := register(t, r, "imp@127.0.0.1", 5555); !errors.Is(err, ErrRegistered) {
		t.Errorf("second Register: %v", err)
	}

	// Terminate unregisters.
	r.Terminate()
	waitFor(t, 5*time.Second, func() error { return lacksName(srv, "imp") })
	r.Terminate() // idempotent
	if _, err := r.Resolve("imp@127.0.0.1"); err == nil {
		t.Error("Resolve after Terminate succeeded")
	}
	r3 := New(Options{Port: port, HandshakeVersion: testHS, ProtoVersion: testProto})
	r3.Terminate()
	if err := register(t, r3, "x@127.0.0.1", 1); !errors.Is(err, ErrTerminated) {
		t.Errorf("Register after Terminate: %v", err)
	}
}

func TestRegistrarEmbeddedAuto(t *testing.T) {
	port := freePort(t)
	r := newRegistrar(t, port, EmbeddedAuto)
	if err := register(t, r, "imp@127.0.0.1", 6001); err != nil {
		t.Fatal(err)
	}
	if info := r.Info(); !info.EmbeddedServer || info.Server != net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) {
		t.Fatalf("info = %+v", info)
	}
	if got := namesVia(t, port); !reflect.DeepEqual(got, []NameEntry{{"imp", 6001}}) {
		t.Fatalf("names = %v", got)
	}

	// A second node finds our embedded epmd and registers there.
	r2 := newRegistrar(t, port, EmbeddedAuto)
	if err := register(t, r2, "other@127.0.0.1", 6002); err != nil {
		t.Fatal(err)
	}
	if r2.Info().EmbeddedServer {
		t.Fatal("second registrar started its own server")
	}
	if rt, err := r2.Resolve("imp@127.0.0.1"); err != nil || rt[0].Port != 6001 {
		t.Fatalf("Resolve via embedded: %+v %v", rt, err)
	}

	// The owner goes away: the second node's registration drops, and it takes
	// over the port with its own embedded epmd.
	r.Terminate()
	waitFor(t, 10*time.Second, func() error {
		if !r2.Info().EmbeddedServer {
			return errors.New("r2 has no embedded server yet")
		}
		_, entries, err := Names(testCtx(t), "127.0.0.1", port)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(entries, []NameEntry{{"other", 6002}}) {
			return fmt.Errorf("names = %v", entries)
		}
		return nil
	})
	r2.Terminate()
	if _, _, err := Names(testCtx(t), "127.0.0.1", port); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("embedded server still up after Terminate: %v", err)
	}
}

func TestRegistrarEmbeddedModes(t *testing.T) {
	port := freePort(t)
	rn := newRegistrar(t, port, EmbeddedNever)
	if err := register(t, rn, "n@127.0.0.1", 1); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Never, nothing listening: %v", err)
	}
	if rn.Info().EmbeddedServer {
		t.Fatal("Never started a server")
	}

	ra := newRegistrar(t, port, EmbeddedAlways)
	if err := register(t, ra, "a@127.0.0.1", 2); err != nil {
		t.Fatal(err)
	}
	if !ra.Info().EmbeddedServer {
		t.Fatal("Always has no server")
	}
	// Always on a taken port fails.
	ra2 := newRegistrar(t, port, EmbeddedAlways)
	if err := register(t, ra2, "b@127.0.0.1", 3); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Always, port taken: %v", err)
	}

	// Auto never embeds for a non-loopback host.
	rr := New(Options{Host: "192.0.2.1", Port: port, HandshakeVersion: testHS, ProtoVersion: testProto, Timeout: 200 * time.Millisecond})
	t.Cleanup(rr.Terminate)
	if err := register(t, rr, "c@127.0.0.1", 4); err == nil {
		t.Fatal("registered at an unreachable host")
	}
	if rr.Info().EmbeddedServer {
		t.Fatal("embedded server for a remote host")
	}
}

func TestRegistrarReregistersAfterEpmdRestart(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	s1 := NewServer(ServerOptions{Logf: t.Logf})
	go s1.Serve(ln)
	t.Cleanup(func() { s1.Close() })

	r := newRegistrar(t, port, EmbeddedNever)
	if err := register(t, r, "imp@127.0.0.1", 7001); err != nil {
		t.Fatal(err)
	}
	if err := hasName(s1, "imp", 7001); err != nil {
		t.Fatal(err)
	}
	s1.Close() // epmd dies; the registrar retries against a closed port

	ln2, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	s2 := NewServer(ServerOptions{Logf: t.Logf})
	go s2.Serve(ln2)
	t.Cleanup(func() { s2.Close() })
	waitFor(t, 15*time.Second, func() error { return hasName(s2, "imp", 7001) })
	if r.Info().EmbeddedServer {
		t.Fatal("Never mode started a server")
	}
	r.Terminate()
	waitFor(t, 5*time.Second, func() error { return lacksName(s2, "imp") })
}

func TestRegistrarHidden(t *testing.T) {
	srv, port := startServer(t, ServerOptions{})
	r := newRegistrar(t, port, EmbeddedAuto)
	if _, err := r.Register(fakeNode{name: "h@127.0.0.1", t: t}, gen.RegisterRoutes{}); err != nil {
		t.Fatal(err)
	}
	if n := srv.Names(); len(n) != 0 {
		t.Fatalf("hidden node registered: %v", n)
	}
	c, _, err := Alive2(testCtx(t), "127.0.0.1", port, node("peer", 8000))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if rt, err := r.Resolve("peer@127.0.0.1"); err != nil || rt[0].Port != 8000 || rt[0].ProtoVersion != testProto {
		t.Fatalf("hidden Resolve: %+v %v", rt, err)
	}
}

func TestRegistrarUnsupported(t *testing.T) {
	r := New(Options{HandshakeVersion: testHS, ProtoVersion: testProto})
	defer r.Terminate()
	errs := []error{r.RegisterProxy("a@b"), r.UnregisterProxy("a@b"),
		r.RegisterApplicationRoute(gen.ApplicationRoute{}), r.UnregisterApplicationRoute("x")}
	_, err := r.Resolver().ResolveProxy("a@b")
	errs = append(errs, err)
	_, err = r.Resolver().ResolveApplication("x")
	errs = append(errs, err)
	_, err = r.Config()
	errs = append(errs, err)
	_, err = r.ConfigItem("x")
	errs = append(errs, err)
	_, err = r.Event()
	errs = append(errs, err)
	for i, err := range errs {
		if !errors.Is(err, gen.ErrUnsupported) {
			t.Errorf("method %d: %v", i, err)
		}
	}
}

// TestRegistrarConcurrentAuto: nodes starting together on a silent port end
// up with one embedded epmd among them and all registered.
func TestRegistrarConcurrentAuto(t *testing.T) {
	port := freePort(t)
	const n = 4
	regs := make([]*Registrar, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range regs {
		regs[i] = newRegistrar(t, port, EmbeddedAuto)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = register(t, regs[i], gen.Atom(fmt.Sprintf("n%d@127.0.0.1", i)), uint16(9000+i))
		}()
	}
	wg.Wait()
	servers := 0
	for i, r := range regs {
		if errs[i] != nil {
			t.Fatalf("n%d: %v", i, errs[i])
		}
		if r.Info().EmbeddedServer {
			servers++
		}
	}
	if servers != 1 {
		t.Fatalf("%d embedded servers", servers)
	}
	if got := namesVia(t, port); len(got) != n {
		t.Fatalf("names = %v", got)
	}
}
