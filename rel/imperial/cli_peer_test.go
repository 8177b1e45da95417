//go:build peers

package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"imperial/rel/peers"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "imperial-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "imperial")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func listed(alive string) bool {
	out, _ := exec.Command("epmd", "-names").Output()
	return strings.Contains(string(out), "name "+alive+" ")
}

// TestCLIGracefulStop: imperial --erlang NAME without a cookie creates
// ~/.erlang.cookie (0400) and uses it; on SIGTERM and SIGINT the epmd entry goes
// and a connected erl sees nodedown.
func TestCLIGracefulStop(t *testing.T) {
	peers.EnsureEPMD(t)
	home := t.TempDir()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		alive := peers.UniqueName("cli")
		name := alive + "@127.0.0.1"
		imp := peers.Start(t, []string{"HOME=" + home}, binary, "--erlang", name)
		peers.WaitFor(t, 10*time.Second, func() error {
			if !listed(alive) {
				return fmt.Errorf("%s not registered; output:\n%s", alive, imp.Output())
			}
			return nil
		})
		fi, err := os.Stat(filepath.Join(home, ".erlang.cookie"))
		if err != nil || fi.Mode().Perm() != 0o400 {
			t.Fatalf("cookie file: %v %v", fi, err)
		}
		cookie, _ := os.ReadFile(filepath.Join(home, ".erlang.cookie"))
		erl := peers.StartErl(t, peers.ErlOptions{
			Name: peers.UniqueName("c") + "@127.0.0.1", Cookie: string(cookie),
			Eval: fmt.Sprintf(`begin N = '%s', pong = net_adm:ping(N), monitor_node(N, true),
			  io:format("UP~n"), receive {nodedown, N} -> io:format("DOWN~n") end end`, name),
		})
		peers.WaitFor(t, 20*time.Second, func() error {
			if !strings.Contains(erl.Output(), "UP") {
				return fmt.Errorf("erl not connected: %q", erl.Output())
			}
			return nil
		})
		imp.Process.Signal(sig)
		imp.WaitExit(t, 15*time.Second)
		peers.WaitFor(t, 10*time.Second, func() error {
			if !strings.Contains(erl.Output(), "DOWN") {
				return fmt.Errorf("erl saw no nodedown after %s: %q", sig, erl.Output())
			}
			if listed(alive) {
				return fmt.Errorf("%s still in epmd after %s", alive, sig)
			}
			return nil
		})
		erl.Kill()
	}
}

// TestCLIBadInput: unknown options and bad names are refused with a message and
// exit code 2, never a crash.
func TestCLIBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"--erlang", "x@127.0.0.1", "--no-such-option", "1"},
		{"--erlang", "bad name!"},
		{"/no/such/file.ini"},
	} {
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() == 0 || !strings.Contains(string(out), "imperial:") {
			t.Errorf("%v: exit %v, output %q", args, err, out)
		}
		if strings.Contains(string(out), "panic") {
			t.Errorf("%v: panicked:\n%s", args, out)
		}
	}
}

// TestCLILogZeroMQ: --logger zeromq:tcp://… sends imperial's log lines to a real
// pyzmq PULL socket, one message per line, as uWSGI's logzmq does.
func TestCLILogZeroMQ(t *testing.T) {
	py := peers.Require(t, "/usr/bin/python3")
	port := peers.FreePort(t)
	pull := peers.Start(t, nil, py, "-c", fmt.Sprintf(`
import zmq
s = zmq.Context().socket(zmq.PULL)
s.bind("tcp://127.0.0.1:%d")
print("BOUND", flush=True)
s.RCVTIMEO = 20000
while True:
    print("GOT", s.recv().decode().strip(), flush=True)
`, port))
	peers.WaitFor(t, 10*time.Second, func() error {
		if !strings.Contains(pull.Output(), "BOUND") {
			return fmt.Errorf("pyzmq not bound: %q", pull.Output())
		}
		return nil
	})
	alive := peers.UniqueName("zlog")
	imp := peers.Start(t, []string{"HOME=" + t.TempDir()}, binary, "--erlang", alive+"@127.0.0.1",
		"--logger", fmt.Sprintf("zeromq:tcp://127.0.0.1:%d", port))
	peers.WaitFor(t, 20*time.Second, func() error {
		if !strings.Contains(pull.Output(), "GOT") || !strings.Contains(pull.Output(), alive) {
			return fmt.Errorf("no log line at the collector: %q (imperial: %q)", pull.Output(), imp.Output())
		}
		return nil
	})
}

// TestCLIEmperorPushedConfig: a vassal whose config comes from a source, not a
// file (here ZeroMQ, with the seed's pyzmq code), runs as an imperial vassal that
// reads `--ini emperor://NAME` from the config socket; SIGINT stops the vassal
// gracefully before the emperor exits.
func TestCLIEmperorPushedConfig(t *testing.T) {
	py := peers.Require(t, "/usr/bin/python3")
	zport, hport := peers.FreePort(t), peers.FreePort(t)
	emp := peers.Start(t, []string{"HOME=" + t.TempDir()}, binary, "--emperor", fmt.Sprintf("zmq://tcp://127.0.0.1:%d", zport))
	peers.WaitFor(t, 10*time.Second, func() error { return peers.Accepts(fmt.Sprintf("127.0.0.1:%d", zport)) })
	push := exec.Command(py, "-c", fmt.Sprintf(`
import zmq
s = zmq.Context().socket(zmq.PUSH)
s.connect("tcp://127.0.0.1:%d")
s.send_multipart([b"touch", b"pushed.ini", b"[uwsgi]\nhttp = 127.0.0.1:%d\napp = testapp\n"])
s.close(linger=5000)
`, zport, hport))
	if out, err := push.CombinedOutput(); err != nil {
		t.Fatalf("pyzmq push: %v\n%s", err, out)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", hport)
	peers.WaitFor(t, 20*time.Second, func() error {
		if err := peers.Accepts(addr); err != nil {
			return fmt.Errorf("vassal not serving: %v\nemperor: %s", err, emp.Output())
		}
		return nil
	})
	emp.Signal(syscall.SIGINT)
	out := emp.WaitExit(t, 40*time.Second)
	if !strings.Contains(out, "RAGNAROK") || !strings.Contains(out, "removed uwsgi instance pushed.ini") {
		t.Fatalf("no graceful stop of the vassal:\n%s", out)
	}
	if peers.Accepts(addr) == nil {
		t.Fatal("vassal still serving after the emperor stopped")
	}
}
