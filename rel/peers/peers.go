// Package peers starts, awaits and stops the real programs imperial's tests talk
// to (erl, epmd, uwsgi, nginx, ...), on loopback, each in its own process group
// stopped in t.Cleanup. Test-only: imported by _test.go files alone.
package peers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Require returns the path of a peer program, failing the test when it is missing.
func Require(t testing.TB, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		t.Fatalf("%s not found: run rel/scripts/install-peers.sh", bin)
	}
	return p
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitFor polls cond until it returns nil or timeout passes; the only place tests sleep.
func WaitFor(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = cond(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %s: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Accepts reports whether something accepts TCP connections on addr.
func Accepts(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

var epmdOnce sync.Once

// EnsureEPMD makes sure a real epmd serves 127.0.0.1:4369 (erl would start one
// too); tests then never depend on an embedded epmd that leaves with its node.
func EnsureEPMD(t testing.TB) {
	t.Helper()
	bin := Require(t, "epmd")
	epmdOnce.Do(func() {
		if Accepts("127.0.0.1:4369") == nil {
			return
		}
		exec.Command(bin, "-daemon").Run()
	})
	WaitFor(t, 5*time.Second, func() error { return Accepts("127.0.0.1:4369") })
}

// Erlc compiles Erlang sources into a fresh directory and returns it.
func Erlc(t testing.TB, srcs ...string) string {
	t.Helper()
	erlc := Require(t, "erlc")
	dir := t.TempDir()
	args := append([]string{"-o", dir}, srcs...)
	if out, err := exec.Command(erlc, args...).CombinedOutput(); err != nil {
		t.Fatalf("erlc %v: %v\n%s", srcs, err, out)
	}
	return dir
}

// Cmd is a peer process in its own process group.
type Cmd struct {
	*exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start runs a peer; it is killed (whole group) when the test ends.
func Start(t testing.TB, env []string, name string, args ...string) *Cmd {
	t.Helper()
	c := &Cmd{Cmd: exec.Command(name, args...), out: &syncBuffer{}, done: make(chan struct{})}
	c.Env = append(os.Environ(), env...)
	c.Stdout, c.Stderr = c.out, c.out
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := c.Cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { c.err = c.Wait(); close(c.done) }()
	t.Cleanup(func() { c.Kill() })
	return c
}

// Output is what the peer printed so far.
func (c *Cmd) Output() string { return c.out.String() }

// Done is closed when the process exits.
func (c *Cmd) Done() <-chan struct{} { return c.done }

// Err is the exit error, valid after Done.
func (c *Cmd) Err() error { return c.err }

// Signal sends sig to the whole process group.
func (c *Cmd) Signal(sig syscall.Signal) { syscall.Kill(-c.Process.Pid, sig) }

// Kill kills the process group and waits for the process.
func (c *Cmd) Kill() {
	select {
	case <-c.done:
		return
	default:
	}
	c.Signal(syscall.SIGKILL)
	<-c.done
}

// LogOnFailure logs the peer's output, headed by name, at cleanup when the
// test has failed.
func (c *Cmd) LogOnFailure(t testing.TB, name string) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s output:\n%s", name, c.Output())
		}
	})
}

// Await polls ready (see WaitFor) until it returns nil, failing the test at
// once, with the peer's output, if the peer exits first.
func (c *Cmd) Await(t testing.TB, name string, timeout time.Duration, ready func() error) {
	t.Helper()
	WaitFor(t, timeout, func() error {
		select {
		case <-c.done:
			t.Fatalf("%s exited: %v\n%s", name, c.err, c.Output())
		default:
		}
		return ready()
	})
}

// StopWith sends sig to the process group and waits up to timeout for the
// process to exit, then kills the group.
func (c *Cmd) StopWith(sig syscall.Signal, timeout time.Duration) {
	c.Signal(sig)
	select {
	case <-c.done:
	case <-time.After(timeout):
		c.Kill()
	}
}

// WaitExit waits for the process to exit by itself.
func (c *Cmd) WaitExit(t testing.TB, timeout time.Duration) string {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(timeout):
		c.Kill()
		t.Fatalf("%s did not exit within %s; output:\n%s", c.Path, timeout, c.Output())
	}
	return c.Output()
}

// ErlOptions describe an erl node.
type ErlOptions struct {
	Name     string   // -name (long) node name, e.g. "c1@127.0.0.1"; empty → no distribution
	SName    string   // -sname instead
	Cookie   string   // -setcookie
	CodePath []string // -pa
	Eval     string   // -eval expression; the node halts when it returns if Halt
	Halt     bool
	Extra    []string // more erl arguments, e.g. "-kernel", "net_ticktime", "4"
	Env      []string
}

func (o ErlOptions) args() []string {
	args := []string{"-noshell", "-noinput"}
	if o.Name != "" {
		args = append(args, "-name", o.Name)
	}
	if o.SName != "" {
		args = append(args, "-sname", o.SName)
	}
	if o.Cookie != "" {
		args = append(args, "-setcookie", o.Cookie)
	}
	for _, p := range o.CodePath {
		args = append(args, "-pa", p)
	}
	args = append(args, o.Extra...)
	if o.Eval != "" {
		e := o.Eval
		if o.Halt {
			e = "try " + e + " after erlang:halt() end"
		}
		args = append(args, "-eval", e)
	}
	return args
}

// StartErl starts an erl node in the background.
func StartErl(t testing.TB, o ErlOptions) *Cmd {
	t.Helper()
	return Start(t, o.Env, Require(t, "erl"), o.args()...)
}

// RunErl runs an erl node that evaluates o.Eval and halts; it returns the output.
func RunErl(t testing.TB, timeout time.Duration, o ErlOptions) string {
	t.Helper()
	o.Halt = true
	c := StartErl(t, o)
	return c.WaitExit(t, timeout)
}

// UniqueName returns a node-name-safe unique alive part with the given prefix.
func UniqueName(prefix string) string {
	return fmt.Sprintf("%s%d_%d", prefix, os.Getpid(), time.Now().UnixNano()%1_000_000_000)
}

// Lines returns the output lines that start with prefix, prefix removed.
func Lines(out, prefix string) []string {
	var r []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			r = append(r, strings.TrimPrefix(l, prefix))
		}
	}
	return r
}

// Dir returns the directory of the calling test package's testdata file.
func Testdata(name string) string {
	p, _ := filepath.Abs(filepath.Join("testdata", name))
	return p
}

// ErrNotFound is returned by lookups of peers that are not installed.
var ErrNotFound = errors.New("peers: not found")

// Context returns a context bounded by the test's deadline (or d).
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
