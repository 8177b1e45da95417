package peers

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// UWSGI is a real uWSGI instance started by a test.
type UWSGI struct {
	*Cmd
}

// StartUWSGI runs uwsgi with args in its own process group. It is stopped
// with SIGINT (a uWSGI master reloads on SIGTERM) in t.Cleanup, SIGKILLed if
// it lingers; its output is logged when the test fails.
func StartUWSGI(t testing.TB, args ...string) *UWSGI {
	t.Helper()
	bin := Require(t, "uwsgi")
	c := Start(t, nil, bin, args...)
	u := &UWSGI{Cmd: c}
	t.Cleanup(func() {
		u.Stop()
		if t.Failed() {
			t.Logf("uwsgi %s output:\n%s", strings.Join(args, " "), c.Output())
		}
	})
	return u
}

// Stop sends SIGINT to the master and waits up to 10 s before SIGKILL.
func (u *UWSGI) Stop() {
	select {
	case <-u.Done():
		return
	default:
	}
	_ = u.Process.Signal(syscall.SIGINT)
	select {
	case <-u.Done():
	case <-time.After(10 * time.Second):
		u.Kill()
	}
}

// Interrupt sends SIGINT to the master (the clean stop that unsubscribes)
// and fails the test unless uWSGI exits within timeout.
func (u *UWSGI) Interrupt(t testing.TB, timeout time.Duration) {
	t.Helper()
	_ = u.Process.Signal(syscall.SIGINT)
	select {
	case <-u.Done():
	case <-time.After(timeout):
		t.Fatalf("uwsgi did not exit %s after SIGINT", timeout)
	}
}

// KillHard SIGKILLs the whole process group at once (no unsubscribe).
func (u *UWSGI) KillHard() { u.Kill() }

// PythonApp writes a WSGI file into dir and returns its path.
func PythonApp(t testing.TB, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// FreeUDP returns a loopback UDP address that was free a moment ago.
func FreeUDP(t testing.TB) string {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// Capture saves b as testdata/name when IMPERIAL_CAPTURE is set: bytes
// taken off a real peer become fuzz seeds.
func Capture(t testing.TB, name string, b []byte) {
	t.Helper()
	if os.Getenv("IMPERIAL_CAPTURE") == "" {
		return
	}
	if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// FreeAddr returns "127.0.0.1:PORT" for a TCP port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	return fmt.Sprintf("127.0.0.1:%d", FreePort(t))
}
