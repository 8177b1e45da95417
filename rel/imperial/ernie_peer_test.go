//go:build peers

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"imperial/bertrpc"
	"imperial/rel/peers"
)

// The Ernie CLI driven as users drive it: the built binary, the seed's
// config (native Erlang nat compiled here with erlc, Ruby ext), Ernie's
// admin subcommands, a pidfile, an access log and rpc:call from erl.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// imperialBinary builds this command once per test binary.
func imperialBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "imperial-ernie-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "imperial")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func ernieTestdata(name string) string {
	p, _ := filepath.Abs(filepath.Join("..", "..", "actors", "ernie", "testdata", name))
	return p
}

// seedFile writes the seed's config: nat native (Erlang, compiled now)
// shadowing a Ruby nat, and ext in Ruby with two workers.
func seedFile(t *testing.T) string {
	t.Helper()
	ruby := peers.Require(t, "ruby")
	nat := peers.Erlc(t, ernieTestdata("nat.erl"))
	lib, _ := filepath.Abs(filepath.Join("..", "..", "ernie", "handlers", "ruby"))
	cmd := ruby + " -I" + lib + " " + ernieTestdata("ext.rb")
	cfg := fmt.Sprintf(`[{module, nat}, {type, native}, {codepaths, [%q]}].
[{module, nat}, {type, external}, {command, %q}, {count, 2}].
[{module, ext}, {type, external}, {command, %q}, {count, 2}].
[{module, demo}, {type, native}].
`, nat, cmd, cmd)
	path := filepath.Join(t.TempDir(), "ernie.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runCLI runs the binary to completion and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(imperialBinary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

func waitServing(t *testing.T, port int, srv *peers.Cmd) {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	peers.WaitFor(t, 60*time.Second, func() error {
		select {
		case <-srv.Done():
			t.Fatalf("imperial ernie exited: %v\n%s", srv.Err(), srv.Output())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := bertrpc.CallOnce(ctx, addr, bertrpc.Options{}, "__admin__", "stats")
		return err
	})
}

func TestErnieCLIErrors(t *testing.T) {
	code, _, errOut := runCLI(t, "ernie")
	if code != 1 || !strings.Contains(errOut, "A config file must be specified: ernie -c /path/to/config.yml") {
		t.Errorf("no -c: exit %d, %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "ernie", "frobnicate")
	if code != 1 || !strings.Contains(errOut, "reload-handlers") || !strings.Contains(errOut, "halt") {
		t.Errorf("bad command: exit %d, %q", code, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.cfg")
	os.WriteFile(bad, []byte("[{module, m}, {type, external}, {count, 0}].\n"), 0o644)
	code, _, errOut = runCLI(t, "ernie", "-c", bad)
	if code != 1 || !strings.Contains(errOut, bad+":1:") {
		t.Errorf("bad config: exit %d, %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "ernie", "stats", "-p", strconv.Itoa(peers.FreePort(t)))
	if code != 1 || errOut == "" {
		t.Errorf("stats of nothing: exit %d, %q", code, errOut)
	}
}

// TestErnieCLISeed runs the seed's config with --name, -P and -a; a Ruby
// client calls every kind of handler; erl calls the modules with rpc:call;
// the admin subcommands print Ernie's texts; halt stops the server.
func TestErnieCLISeed(t *testing.T) {
	peers.EnsureEPMD(t)
	cfg := seedFile(t)
	dir := t.TempDir()
	port := peers.FreePort(t)
	pidfile, access := filepath.Join(dir, "ernie.pid"), filepath.Join(dir, "access.log")
	name := peers.UniqueName("ernie") + "@127.0.0.1"
	const cookie = "erniecli"
	srv := peers.Start(t, nil, imperialBinary(t), "ernie", "-c", cfg, "-p", strconv.Itoa(port), "--bind", "127.0.0.1",
		"-P", pidfile, "-a", access, "--name", name, "--cookie", cookie, "-l", "2")
	waitServing(t, port, srv)

	pid, err := os.ReadFile(pidfile)
	if err != nil || string(pid) != strconv.Itoa(srv.Process.Pid) {
		t.Errorf("pidfile %q (%v), want %d without newline", pid, err, srv.Process.Pid)
	}

	ruby := exec.Command(peers.Require(t, "ruby"), "-I"+filepath.Dir(ernieTestdata("client.rb")), "-rclient", "-e", `
port = ENV['PORT'].to_i
c = BertClient
c.show('ext') { c.call(port, :ext, :add, 1, 2) }
c.show('nat') { c.call(port, :nat, :add, 1, 2) }
c.show('demo') { c.call(port, :demo, :add, 1, 2) }
c.show('both 5') { c.call(port, :nat, :both, 5) }
c.show('both 20') { c.call(port, :nat, :both, 20) }
c.show('cast') { c.cast(port, :ext, :add, 1, 2) }
c.show('raise') { c.call(port, :ext, :abandon) }
`)
	ruby.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
	out, err := ruby.CombinedOutput()
	if err != nil {
		t.Fatalf("ruby: %v\n%s", err, out)
	}
	want := "ext ok 3\nnat ok 3\ndemo ok 3\nboth 5 ok \"ruby\"\nboth 20 ok \"erlang\"\ncast ok nil\n" +
		"raise error UserError 0 RuntimeError: abandon hope!\n"
	if string(out) != want {
		t.Errorf("ruby client:\n%s\nwant\n%s", out, want)
	}

	erlOut := peers.RunErl(t, time.Minute, peers.ErlOptions{Name: peers.UniqueName("c") + "@127.0.0.1", Cookie: cookie,
		Eval: fmt.Sprintf(`N = '%s',
Show = fun(L, V) -> io:format("~s ~s~n", [L, io_lib:print(V, 1, 100000, -1)]) end,
Show("ext", rpc:call(N, ext, add, [1, 2])),
Show("nat", rpc:call(N, nat, add, [1, 2])),
Show("demo", rpc:call(N, demo, add, [1, 2])),
Show("both", rpc:call(N, nat, both, [5])),
Show("erpc", erpc:call(N, ext, add, [3, 4])),
Show("raise", element(1, rpc:call(N, ext, abandon, []))),
Show("raise detail", element(1, element(2, element(2, rpc:call(N, ext, abandon, []))))),
Show("undef", element(1, element(2, element(2, rpc:call(N, demo, nope, []))))),
Show("types", rpc:call(N, ext, echo, [[true, false, <<"x">>, 1.5]]))`, name)})
	wantErl := []string{
		`ext 3`,
		`nat 3`,
		`demo 3`,
		`both <<"ruby">>`,
		`erpc 7`,
		`raise badrpc`,
		`raise detail {ernie,user,<<"RuntimeError">>,<<"abandon hope!">>}`,
		`undef undef`,
		`types [true,false,<<"x">>,1.5]`,
	}
	got := strings.Split(strings.TrimSpace(erlOut), "\n")
	if strings.Join(got, "\n") != strings.Join(wantErl, "\n") {
		t.Errorf("erl rpc:call:\n%s\nwant\n%s", erlOut, strings.Join(wantErl, "\n"))
	}

	code, stdout, errOut := runCLI(t, "ernie", "reload-handlers", "-p", strconv.Itoa(port))
	if code != 0 || stdout != "Handlers reloaded.\n" {
		t.Errorf("reload-handlers: exit %d %q %q", code, stdout, errOut)
	}
	code, stdout, errOut = runCLI(t, "ernie", "-p", strconv.Itoa(port), "stats")
	statsRe := regexp.MustCompile(`^connections\.total=\d+\nconnections\.completed=\d+\nworkers\.idle\.nat=native\n` +
		`workers\.idle\.nat=\d\nworkers\.idle\.ext=\d\nworkers\.idle\.demo=native\nqueue\.high=0\nqueue\.low=0\n$`)
	if code != 0 || !statsRe.MatchString(stdout) {
		t.Errorf("stats: exit %d %q %q", code, stdout, errOut)
	}

	b, _ := os.ReadFile(access)
	lineRe := regexp.MustCompile(`(?m)^ACC \[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\] \d+\.\d{6} \d+\.\d{6} - 0 0 ext high - \{call,ext,add,\[1,2\]\}$`)
	if !lineRe.Match(b) {
		t.Errorf("access log:\n%s", b)
	}

	code, stdout, errOut = runCLI(t, "ernie", "halt", "-p", strconv.Itoa(port))
	if code != 0 || stdout != "Halting.\n" {
		t.Errorf("halt: exit %d %q %q", code, stdout, errOut)
	}
	srv.WaitExit(t, 20*time.Second)
	if err := srv.Err(); err != nil {
		t.Errorf("server exit: %v\n%s", err, srv.Output())
	}
	if _, err := os.Stat(pidfile); err == nil {
		t.Errorf("pidfile left behind")
	}
}

// TestErnieCLIDetached: -d returns at once; the server runs in the
// background until halted.
func TestErnieCLIDetached(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "demo.cfg")
	os.WriteFile(cfg, []byte("[{module, demo}, {type, native}].\n"), 0o644)
	port := peers.FreePort(t)
	pidfile := filepath.Join(dir, "ernie.pid")
	code, _, errOut := runCLI(t, "ernie", "-c", cfg, "-p", strconv.Itoa(port), "--bind", "127.0.0.1", "-d", "-P", pidfile)
	if code != 0 {
		t.Fatalf("-d: exit %d %s", code, errOut)
	}
	var pid int
	peers.WaitFor(t, 30*time.Second, func() error {
		b, err := os.ReadFile(pidfile)
		if err != nil {
			return err
		}
		pid, err = strconv.Atoi(string(b))
		return err
	})
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	peers.WaitFor(t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		v, err := bertrpc.CallOnce(ctx, addr, bertrpc.Options{}, "demo", "pid")
		if err == nil && v != int64(pid) {
			return fmt.Errorf("demo:pid = %v, pidfile says %d", v, pid)
		}
		return err
	})
	if code, stdout, _ := runCLI(t, "ernie", "halt", "-p", strconv.Itoa(port)); code != 0 || stdout != "Halting.\n" {
		t.Fatalf("halt: %d %q", code, stdout)
	}
	peers.WaitFor(t, 20*time.Second, func() error {
		if syscall.Kill(pid, 0) == nil {
			return fmt.Errorf("pid %d still running", pid)
		}
		return nil
	})
}
