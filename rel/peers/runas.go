package peers

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// ServiceUser is the unprivileged account a peer that refuses to run as root
// (PostgreSQL, RabbitMQ) runs as when the tests run as root; nil means "as
// the test itself".
type ServiceUser struct {
	Name     string
	UID, GID uint32
}

// ServiceUserFor returns the account name (created by the peer's Debian
// package) when the test runs as root, nil otherwise.
func ServiceUserFor(t testing.TB, name string) *ServiceUser {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("user %s not found (%v): run rel/scripts/install-peers.sh", name, err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &ServiceUser{Name: name, UID: uint32(uid), GID: uint32(gid)}
}

// TempDirFor makes a temporary directory the service user owns (t.TempDir's
// parents are private to root), removed at cleanup.
func TempDirFor(t testing.TB, u *ServiceUser, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if u != nil {
		if err := os.Chown(dir, int(u.UID), int(u.GID)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// ChownFor gives the files under dir to the service user.
func ChownFor(t testing.TB, u *ServiceUser, dir string) {
	t.Helper()
	if u == nil {
		return
	}
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(u.UID), int(u.GID))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// StartAs is Start as the service user (in its own process group, killed at cleanup).
func StartAs(t testing.TB, u *ServiceUser, dir string, env []string, name string, args ...string) *Cmd {
	t.Helper()
	c := &Cmd{Cmd: exec.Command(name, args...), out: &syncBuffer{}, done: make(chan struct{})}
	c.Dir = dir
	c.Env = append(os.Environ(), env...)
	c.Stdout, c.Stderr = c.out, c.out
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if u != nil {
		c.SysProcAttr.Credential = &syscall.Credential{Uid: u.UID, Gid: u.GID}
		c.Env = append(c.Env, "USER="+u.Name, "LOGNAME="+u.Name)
	}
	if err := c.Cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { c.err = c.Wait(); close(c.done) }()
	t.Cleanup(func() { c.Kill() })
	return c
}

// RunAs runs a command as the service user to completion and returns its output.
func RunAs(t testing.TB, u *ServiceUser, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if u != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: u.UID, Gid: u.GID}
		cmd.Env = append(cmd.Env, "USER="+u.Name, "LOGNAME="+u.Name)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}
