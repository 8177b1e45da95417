//go:build peers

package epmd_test

// Against the real Debian epmd and erl (erlang-nox). Every process runs on a
// free loopback port in its own process group and is killed in t.Cleanup;
// the default epmd on 4369 is never touched (erl runs with -start_epmd false).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ergo.services/ergo/gen"

	"imperial/node/epmd"
	"imperial/rel/peers"
)

var (
	hsV    = gen.Version{Name: "ErlHS", Release: "6", License: gen.LicenseMIT}
	protoV = gen.Version{Name: "ErlDist", Release: "6", License: gen.LicenseMIT}
)

func lookPeer(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: run rel/scripts/install-peers.sh", name)
	}
	return p
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

// startProc starts a long-running peer in its own process group, killed (the
// whole group) at cleanup. It returns a function that kills it earlier.
func startProc(t *testing.T, env []string, name string, args ...string) func() {
	t.Helper()
	cmd := exec.Command(lookPeer(t, name), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := false
	kill := func() {
		if done {
			return
		}
		done = true
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		if s := out.String(); s != "" {
			t.Logf("%s %v output:\n%s", name, args, s)
		}
	}
	t.Cleanup(kill)
	return kill
}

// runPeer runs a short-lived peer to completion (60 s at most) and returns
// its combined output.
func runPeer(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(c, lookPeer(t, name), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// startEpmd runs the real epmd on port, loopback only, and waits for it.
func startEpmd(t *testing.T, port int) func() {
	t.Helper()
	kill := startProc(t, []string{epmd.EnvPort + "=" + strconv.Itoa(port)},
		"epmd", "-port", strconv.Itoa(port), "-address", "127.0.0.1")
	peers.WaitFor(t, 10*time.Second, func() error {
		_, _, err := epmd.Names(ctx(t), "127.0.0.1", port)
		return err
	})
	return kill
}

// epmdNames runs `epmd -names` against port.
func epmdNames(t *testing.T, port int) string {
	t.Helper()
	out, err := runPeer(t, []string{epmd.EnvPort + "=" + strconv.Itoa(port)}, "epmd", "-port", strconv.Itoa(port), "-names")
	if err != nil {
		t.Fatalf("epmd -names: %v\n%s", err, out)
	}
	return out
}

func newReg(t *testing.T, port int, mode epmd.EmbeddedMode) *epmd.Registrar {
	r := epmd.New(epmd.Options{Port: port, Embedded: mode, HandshakeVersion: hsV, ProtoVersion: protoV})
	t.Cleanup(r.Terminate)
	return r
}

type peerLog struct {
	gen.Log
	t testing.TB
}

func (l peerLog) Trace(f string, a ...any)   { l.t.Logf("trace: "+f, a...) }
func (l peerLog) Debug(f string, a ...any)   { l.t.Logf("debug: "+f, a...) }
func (l peerLog) Info(f string, a ...any)    { l.t.Logf("info: "+f, a...) }
func (l peerLog) Warning(f string, a ...any) { l.t.Logf("warning: "+f, a...) }
func (l peerLog) Error(f string, a ...any)   { l.t.Logf("error: "+f, a...) }

type peerNode struct {
	gen.NodeRegistrar
	name gen.Atom
	t    testing.TB
}

func (n peerNode) Name() gen.Atom { return n.name }
func (n peerNode) Log() gen.Log   { return peerLog{t: n.t} }

func register(t *testing.T, r *epmd.Registrar, name gen.Atom, port int) error {
	_, err := r.Register(peerNode{name: name, t: t}, gen.RegisterRoutes{Routes: []gen.Route{{Port: uint16(port)}}})
	return err
}

// TestPeerRealEpmd: our client and Registrar against the Debian epmd.
func TestPeerRealEpmd(t *testing.T) {
	port := peers.FreePort(t)
	kill := startEpmd(t, port)

	r := newReg(t, port, epmd.EmbeddedNever)
	if err := register(t, r, "imp@127.0.0.1", 40001); err != nil {
		t.Fatal(err)
	}
	if r.Creation() == 0 {
		t.Error("epmd gave creation 0")
	}
	if out := epmdNames(t, port); !strings.Contains(out, "name imp at port 40001\n") {
		t.Fatalf("epmd -names lacks us:\n%s", out)
	}
	p, entries, err := epmd.Names(ctx(t), "127.0.0.1", port)
	if err != nil || p != port || len(entries) != 1 || entries[0] != (epmd.NameEntry{Name: "imp", Port: 40001}) {
		t.Fatalf("Names = %d %v %v", p, entries, err)
	}
	info, err := epmd.PortPlease2(ctx(t), "127.0.0.1", port, "imp")
	want := epmd.NodeInfo{Port: 40001, NodeType: 77, Protocol: 0, Highest: 6, Lowest: 6, Name: "imp"}
	if err != nil || info.Port != want.Port || info.NodeType != want.NodeType || info.Highest != 6 || info.Lowest != 6 || info.Name != "imp" || len(info.Extra) != 0 {
		t.Fatalf("PortPlease2 = %+v %v", info, err)
	}
	if _, err := epmd.PortPlease2(ctx(t), "127.0.0.1", port, "nosuch"); !errors.Is(err, epmd.ErrNotRegistered) {
		t.Fatalf("unknown name: %v", err)
	}

	// epmd refuses a duplicate with result 1.
	dup := newReg(t, port, epmd.EmbeddedNever)
	if err := register(t, dup, "imp@127.0.0.1", 40002); !errors.Is(err, epmd.ErrNameInUse) {
		t.Fatalf("duplicate: %v", err)
	}
	// HighestVersion 5 gets the old ALIVE2_RESP.
	c, resp, err := epmd.Alive2(ctx(t), "127.0.0.1", port, epmd.NodeInfo{Port: 40003, NodeType: 77, Highest: 5, Lowest: 5, Name: "old"})
	if err != nil || resp.Extended {
		t.Fatalf("v5 alive2: %+v %v", resp, err)
	}
	if _, err := r.Resolve("old@127.0.0.1"); !errors.Is(err, epmd.ErrVersion) {
		t.Fatalf("v5 node resolved: %v", err)
	}
	c.Close()

	// epmd restarts: the registrar registers again on its own.
	kill()
	startEpmd(t, port)
	peers.WaitFor(t, 20*time.Second, func() error {
		if out := epmdNames(t, port); !strings.Contains(out, "name imp at port 40001\n") {
			return fmt.Errorf("not re-registered:\n%s", out)
		}
		return nil
	})

	// Terminate unregisters.
	r.Terminate()
	peers.WaitFor(t, 10*time.Second, func() error {
		if out := epmdNames(t, port); strings.Contains(out, "name imp ") {
			return fmt.Errorf("still registered:\n%s", out)
		}
		return nil
	})
}

// TestPeerResolveRealErl: Resolve finds a real erl registered with the real
// epmd.
func TestPeerResolveRealErl(t *testing.T) {
	port := peers.FreePort(t)
	startEpmd(t, port)
	dist := peers.FreePort(t)
	startProc(t, []string{epmd.EnvPort + "=" + strconv.Itoa(port)}, "erl",
		"-noshell", "-name", "e@127.0.0.1", "-setcookie", "x", "-start_epmd", "false",
		"-kernel", "inet_dist_listen_min", strconv.Itoa(dist), "inet_dist_listen_max", strconv.Itoa(dist))

	r := newReg(t, port, epmd.EmbeddedNever)
	var routes []gen.Route
	peers.WaitFor(t, 30*time.Second, func() error {
		var err error
		routes, err = r.Resolve("e@127.0.0.1")
		return err
	})
	want := gen.Route{Host: "127.0.0.1", Port: uint16(dist), HandshakeVersion: hsV, ProtoVersion: protoV}
	if len(routes) != 1 || routes[0] != want {
		t.Fatalf("Resolve = %+v, want %+v", routes, want)
	}
	info, err := epmd.PortPlease2(ctx(t), "127.0.0.1", port, "e")
	if err != nil || info.Highest != 6 || info.NodeType != epmd.NodeTypeNormal {
		t.Fatalf("erl's registration: %+v %v", info, err)
	}
	t.Logf("erl registered as %+v", info)
}

// TestPeerErlWithEmbeddedEpmd: with only our embedded epmd on the port, real
// erl nodes register, list, resolve, and see duplicates refused.
func TestPeerErlWithEmbeddedEpmd(t *testing.T) {
	port := peers.FreePort(t)
	env := []string{epmd.EnvPort + "=" + strconv.Itoa(port)}
	r := newReg(t, port, epmd.EmbeddedAuto)
	if err := register(t, r, "imp@127.0.0.1", 40100); err != nil {
		t.Fatal(err)
	}
	if !r.Info().EmbeddedServer {
		t.Fatal("no embedded server")
	}

	// erl registers itself with us, then lists and looks us up.
	out, err := runPeer(t, env, "erl", "-noshell", "-name", "c@127.0.0.1", "-setcookie", "x", "-start_epmd", "false",
		"-eval", `io:format("names=~p~n", [erl_epmd:names()]),
		          io:format("port=~p~n", [erl_epmd:port_please("imp", "127.0.0.1")]),
		          io:format("self=~p~n", [erl_epmd:port_please("c", "127.0.0.1")]),
		          halt().`)
	if err != nil {
		t.Fatalf("erl: %v\n%s", err, out)
	}
	t.Logf("erl:\n%s", out)
	if !regexp.MustCompile(`names=\{ok,\[.*\{"imp",40100\}`).MatchString(strings.ReplaceAll(out, "\n", "")) ||
		!regexp.MustCompile(`\{"c",\d+\}`).MatchString(out) {
		t.Fatalf("erl_epmd:names() lacks imp or c:\n%s", out)
	}
	if !strings.Contains(out, "port={port,40100,6}") {
		t.Fatalf("erl_epmd:port_please(imp) wrong:\n%s", out)
	}
	if !regexp.MustCompile(`self=\{port,\d+,6\}`).MatchString(out) {
		t.Fatalf("erl could not look itself up:\n%s", out)
	}
	// erl unregistered at halt.
	peers.WaitFor(t, 10*time.Second, func() error {
		if _, err := epmd.PortPlease2(ctx(t), "127.0.0.1", port, "c"); !errors.Is(err, epmd.ErrNotRegistered) {
			return fmt.Errorf("c still registered: %v", err)
		}
		return nil
	})

	// `epmd -names` (the real client) against our server.
	if out := epmdNames(t, port); !strings.Contains(out, "up and running on port "+strconv.Itoa(port)) ||
		!strings.Contains(out, "name imp at port 40100") {
		t.Fatalf("epmd -names against our server:\n%s", out)
	}

	// erl under a name we hold refuses to start.
	out, err = runPeer(t, env, "erl", "-noshell", "-name", "imp@127.0.0.1", "-setcookie", "x", "-start_epmd", "false",
		"-eval", `halt().`)
	if err == nil || !strings.Contains(out, "seems to be in use") {
		t.Fatalf("duplicate erl: err=%v\n%s", err, out)
	}

	// A long-running erl registered with us is resolvable by our Registrar.
	dist := peers.FreePort(t)
	startProc(t, env, "erl", "-noshell", "-name", "e@127.0.0.1", "-setcookie", "x", "-start_epmd", "false",
		"-kernel", "inet_dist_listen_min", strconv.Itoa(dist), "inet_dist_listen_max", strconv.Itoa(dist))
	peers.WaitFor(t, 30*time.Second, func() error {
		routes, err := r.Resolve("e@127.0.0.1")
		if err != nil {
			return err
		}
		if len(routes) != 1 || routes[0].Port != uint16(dist) || routes[0].ProtoVersion != protoV {
			return fmt.Errorf("routes = %+v", routes)
		}
		return nil
	})
	nodes, err := r.Nodes()
	if err != nil || len(nodes) != 2 {
		t.Fatalf("Nodes = %v %v", nodes, err)
	}
}
