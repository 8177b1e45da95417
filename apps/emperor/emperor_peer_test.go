//go:build peers

package emperor_test

// The emperor against real peers: uWSGI 2.0 python3 vassals through
// --emperor-wrapper, imperial vassals (the binary built here), erl calling the
// emperor RPC module, tyrant mode with a real unprivileged user, on-demand
// activation with the listening socket handed over as fd 0.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/emperor"
	"imperial/apps/config"
	emperorapp "imperial/apps/emperor"
	"imperial/node"
	"imperial/node/nodetest"
	"imperial/node/rpc"
	"imperial/rel/peers"
)

const appPy = `import os
def application(env, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [("%s uid=%d" % (os.environ.get('APP_VERSION', 'v1'), os.getuid())).encode()]
`

// emp is an emperor running in the test's node.
type emp struct {
	t    *testing.T
	node gen.Node
	dir  string // the vassal directory
	logs string // vassal logs
}

type empOptions struct {
	binary  string          // imperial (vassals without a wrapper)
	named   bool            // run distribution (imperial vassals become nodes)
	options []config.Option // more emperor-* options
}

func opt(key, value string) config.Option {
	return config.Option{Key: key, Value: value, File: config.CommandLine}
}

func startEmperor(t *testing.T, o empOptions) *emp {
	t.Helper()
	e := &emp{t: t, dir: t.TempDir(), logs: t.TempDir()}
	os.Chmod(e.logs, 0o777)
	opts := append([]config.Option{opt("emperor", e.dir)}, o.options...)
	reg := rpc.NewRegistry()
	name := peers.UniqueName("emp") + "@127.0.0.1"
	env := emperorapp.Env{Registry: reg, Binary: o.binary}
	if o.named {
		env.NodeName = gen.Atom(name)
	}
	s, err := emperorapp.Parse(env, opts, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(e.logs, "vassals.out"))
	if err != nil {
		t.Fatal(err)
	}
	s.Sup.Emperor.Stdout, s.Sup.Emperor.Stderr = out, out
	s.Sup.Emperor.StopTimeout = 5 * time.Second
	no := node.Options{Name: name, Registry: reg, Applications: []gen.ApplicationBehavior{emperorapp.New(s)},
		Cookie: nodetest.Cookie, NoNetwork: !o.named}
	no.Base.Log.Level = gen.LogLevelWarning
	if o.named {
		peers.EnsureEPMD(t)
	}
	// The node is not stopped at the end of the test (it goes with the test
	// binary): ergo's node Stop races with the ends of applications (and its
	// system application may then dereference a nil network). The vassals,
	// the OS processes, are stopped below.
	if e.node, err = node.Start(no); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if n, err := emperorapp.StopVassals(e.node, 20*time.Second); err != nil {
			t.Errorf("StopVassals: %d, %v", n, err)
		}
		if t.Failed() {
			data, _ := os.ReadFile(out.Name())
			t.Logf("vassal output:\n%s", data)
		}
	})
	return e
}

// caller runs one Call from inside the node and reports on a channel.
type caller struct{ act.Actor }

type callResult struct {
	v   any
	err error
}

func (c *caller) Init(args ...any) error { return c.Send(c.PID(), args) }

func (c *caller) HandleMessage(from gen.PID, message any) error {
	args := message.([]any)
	v, err := c.CallWithTimeout(emperor.Name, args[0], 10)
	args[1].(chan callResult) <- callResult{v, err}
	return gen.TerminateReasonNormal
}

func (e *emp) call(req any) any {
	e.t.Helper()
	ch := make(chan callResult, 1)
	if _, err := e.node.Spawn(func() gen.ProcessBehavior { return &caller{} }, gen.ProcessOptions{}, req, ch); err != nil {
		e.t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		e.t.Fatalf("call %T: %v", req, r.err)
	}
	return r.v
}

func (e *emp) vassal(name string) (emperor.VassalInfo, bool) {
	for _, v := range e.call(emperor.RequestVassals{}).(emperor.ResponseVassals).Vassals {
		if v.Name == name {
			return v, true
		}
	}
	return emperor.VassalInfo{}, false
}

// waitVassal waits until the vassal's row satisfies cond.
func (e *emp) waitVassal(name string, timeout time.Duration, cond func(v emperor.VassalInfo, ok bool) error) emperor.VassalInfo {
	e.t.Helper()
	var last emperor.VassalInfo
	peers.WaitFor(e.t, timeout, func() error {
		v, ok := e.vassal(name)
		last = v
		return cond(v, ok)
	})
	return last
}

func state(want string) func(emperor.VassalInfo, bool) error {
	return func(v emperor.VassalInfo, ok bool) error {
		if !ok || v.State != want {
			return fmt.Errorf("vassal %+v (present %v), want state %s", v, ok, want)
		}
		return nil
	}
}

func (e *emp) write(name, body string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	tmp := filepath.Join(e.logs, name+".tmp")
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil { // atomic, as operators drop vassals
		e.t.Fatal(err)
	}
	return p
}

func (e *emp) logOf(name string) string {
	data, _ := os.ReadFile(filepath.Join(e.logs, strings.TrimSuffix(name, filepath.Ext(name))+".log"))
	return string(data)
}

func pythonVassal(e *emp, app, addr string, extra ...string) string {
	lines := []string{"[uwsgi]", "plugins = python3", "master = true", "processes = 1",
		"wsgi-file = " + app, "logto = " + e.logs + "/%n.log"}
	if addr != "" {
		lines = append(lines, "http-socket = "+addr)
	}
	return strings.Join(append(lines, extra...), "\n") + "\n"
}

func get(addr string) (string, error) {
	c := http.Client{Timeout: 3 * time.Second}
	r, err := c.Get("http://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	return string(b), err
}

func serves(addr, want string) func() error {
	return func() error {
		got, err := get(addr)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(got, want) {
			return fmt.Errorf("got %q, want %q", got, want)
		}
		return nil
	}
}

func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

func stats(t *testing.T, addr string) map[string]any {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	data, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("stats %q: %v", data, err)
	}
	return doc
}

// TestUWSGIVassals: real uWSGI python3 vassals run through the wrapper; touch
// reloads in place, SIGKILL respawns, removal destroys, a vassal failing at
// startup is throttled, the stats server reports all of it.
func TestUWSGIVassals(t *testing.T) {
	uwsgi := peers.Require(t, "uwsgi")
	statsAddr := peers.FreeAddr(t)
	e := startEmperor(t, empOptions{options: []config.Option{opt("emperor-wrapper", uwsgi), opt("emperor-stats", statsAddr)}})
	app := peers.PythonApp(t, e.logs, "app.py", appPy)
	addr := peers.FreeAddr(t)
	ini := e.write("web.ini", pythonVassal(e, app, addr))

	peers.WaitFor(t, 60*time.Second, serves(addr, "v1"))
	v := e.waitVassal("web.ini", 30*time.Second, state("running"))
	out, _ := os.ReadFile(filepath.Join(e.logs, "vassals.out")) // before logto takes over
	if !strings.Contains(string(out), "*** has_emperor mode detected (fd: 3) ***\n[uWSGI] getting INI configuration from web.ini") {
		t.Errorf("vassal output lacks has_emperor:\n%s", out)
	}
	// the vassal's "accepting" message may reach the emperor after its
	// first request was served
	peers.WaitFor(t, 30*time.Second, func() error {
		doc := stats(t, statsAddr)
		vs, _ := doc["vassals"].([]any)
		if len(vs) != 1 || vs[0].(map[string]any)["id"] != "web.ini" || vs[0].(map[string]any)["accepting"] != float64(1) ||
			vs[0].(map[string]any)["pid"] != float64(v.OSPid) {
			return fmt.Errorf("stats vassals: %v", doc["vassals"])
		}
		return nil
	})

	// touch → byte 1 → graceful reload in place (same master pid)
	later := time.Now().Add(2 * time.Second)
	os.Chtimes(ini, later, later)
	peers.WaitFor(t, 30*time.Second, func() error {
		if !strings.Contains(e.logOf("web.ini"), "received message 1 from emperor") {
			return fmt.Errorf("no reload message in the vassal log")
		}
		return nil
	})
	r := e.waitVassal("web.ini", 30*time.Second, state("running"))
	if r.OSPid != v.OSPid || r.Restarts != 1 {
		t.Errorf("after touch: %+v, before %+v (a reload keeps the pid)", r, v)
	}
	peers.WaitFor(t, 30*time.Second, serves(addr, "v1"))

	// crash → respawn (a loyal vassal: at once)
	syscall.Kill(v.OSPid, syscall.SIGKILL)
	c := e.waitVassal("web.ini", 30*time.Second, func(x emperor.VassalInfo, ok bool) error {
		if !ok || x.OSPid == v.OSPid || x.OSPid == 0 || x.State != "running" {
			return fmt.Errorf("not respawned: %+v", x)
		}
		return nil
	})
	peers.WaitFor(t, 30*time.Second, serves(addr, "v1"))
	if c.Restarts != 2 {
		t.Errorf("restarts after crash: %+v", c)
	}

	// a vassal that cannot start is throttled as uWSGI does (1 ms, +1 s per death)
	e.write("broken.ini", pythonVassal(e, filepath.Join(e.logs, "missing.py"), "", "need-app = true"))
	peers.WaitFor(t, 60*time.Second, func() error {
		for _, b := range stats(t, statsAddr)["blacklist"].([]any) {
			item := b.(map[string]any)
			if item["id"] == "broken.ini" && item["attempt"].(float64) >= 2 {
				if want := 1 + 1000*item["attempt"].(float64); item["throttle_level"] != want {
					return fmt.Errorf("throttle_level %v, want %v", item["throttle_level"], want)
				}
				return nil
			}
		}
		return fmt.Errorf("broken.ini not throttled yet")
	})
	if b, _ := e.vassal("broken.ini"); b.Restarts < 2 || b.Restarts > 6 {
		t.Errorf("broken.ini restarted %d times (throttle)", b.Restarts)
	}

	// removal → stop → destroyed
	os.Remove(ini)
	os.Remove(filepath.Join(e.dir, "broken.ini"))
	e.waitVassal("web.ini", 30*time.Second, func(x emperor.VassalInfo, ok bool) error {
		if ok {
			return fmt.Errorf("still there: %+v", x)
		}
		return nil
	})
	peers.WaitFor(t, 10*time.Second, func() error {
		if alive(c.OSPid) {
			return fmt.Errorf("vassal %d still alive", c.OSPid)
		}
		return nil
	})
	if _, err := get(addr); err == nil {
		t.Error("removed vassal still serves")
	}
	if !strings.Contains(e.logOf("web.ini"), "received message 0 from emperor") {
		t.Error("removed vassal did not get the stop byte")
	}
}

// TestImperialVassals: vassals run imperial itself as nodes named after them,
// connected to the emperor's node; erl lists, reloads and stops them through
// the emperor RPC module; a vassal needing python3 without a wrapper is refused.
func TestImperialVassals(t *testing.T) {
	bin := peers.BuildImperial(t)
	e := startEmperor(t, empOptions{binary: bin, named: true})
	app := peers.PythonApp(t, e.logs, "app.py", appPy)
	e.write("py.ini", pythonVassal(e, app, peers.FreeAddr(t)))
	// the vassal's node is named after it: unique, other nodes may run here
	aliveName := peers.UniqueName("imp")
	imp := aliveName + ".ini"
	e.write(imp, "[uwsgi]\nlog-level = info\n")

	refused := e.waitVassal("py.ini", 30*time.Second, state("refused"))
	if !strings.Contains(refused.Reason, "python3") || !strings.Contains(refused.Reason, "emperor-wrapper") {
		t.Errorf("refusal does not name the plugin and the option: %q", refused.Reason)
	}
	v := e.waitVassal(imp, 30*time.Second, state("running"))
	vassalNode := gen.Atom(aliveName + "@127.0.0.1")
	peers.WaitFor(t, 30*time.Second, func() error {
		for _, n := range e.node.Network().Nodes() {
			if n == vassalNode {
				return nil
			}
		}
		return fmt.Errorf("%s not connected to the emperor's node (%v)", vassalNode, e.node.Network().Nodes())
	})

	script := fmt.Sprintf(`E = '%s',
		V1 = rpc:call(E, emperor, vassals, []),
		io:format("VASSALS ~s~n", [io_lib:print(V1, 1, 100000, -1)]),
		io:format("PING ~p~n", [net_adm:ping('%s')]),
		io:format("RELOAD ~p~n", [rpc:call(E, emperor, reload, [<<"%s">>])]),
		io:format("MISSING ~p~n", [rpc:call(E, emperor, stop, ["nope.ini"])]),
		io:format("BADARG ~p~n", [catch rpc:call(E, emperor, stop, [42])])`, string(e.node.Name()), string(vassalNode), imp)
	out := peers.RunErl(t, 30*time.Second, peers.ErlOptions{Name: peers.UniqueName("erl") + "@127.0.0.1",
		Cookie: nodetest.Cookie, Eval: script})
	want := fmt.Sprintf(`{<<"%s">>,running,%d,0,`, imp, v.OSPid)
	if l := peers.Lines(out, "VASSALS "); len(l) != 1 || !strings.Contains(l[0], want) ||
		!strings.Contains(l[0], `{<<"py.ini">>,refused,0,0,`) {
		t.Errorf("emperor:vassals() = %v, want %s...; output:\n%s", l, want, out)
	}
	for prefix, want := range map[string]string{"PING ": "pong", "RELOAD ": "ok", "MISSING ": "{error,not_found}"} {
		if l := peers.Lines(out, prefix); len(l) != 1 || l[0] != want {
			t.Errorf("%s%v, want %s; output:\n%s", prefix, l, want, out)
		}
	}
	if l := peers.Lines(out, "BADARG "); len(l) != 1 || !strings.Contains(l[0], "badarg") {
		t.Errorf("stop(42): %v", l)
	}
	// the reload re-executed imperial in place: same pid, running again
	r := e.waitVassal(imp, 30*time.Second, func(x emperor.VassalInfo, ok bool) error {
		if !ok || x.Restarts != 1 || x.State != "running" {
			return fmt.Errorf("%+v", x)
		}
		return nil
	})
	if r.OSPid != v.OSPid {
		t.Errorf("reload changed the pid: %d → %d", v.OSPid, r.OSPid)
	}

	// emperor:stop/1 keeps it stopped; emperor:reload/1 starts it again
	if resp := e.call(emperor.RequestStop{Name: imp}).(emperor.ResponseAction); resp.Err != nil {
		t.Fatal(resp.Err)
	}
	e.waitVassal(imp, 30*time.Second, state("stopped"))
	peers.WaitFor(t, 10*time.Second, func() error {
		if alive(v.OSPid) {
			return fmt.Errorf("stopped vassal %d alive", v.OSPid)
		}
		return nil
	})
	e.call(emperor.RequestReload{Name: imp})
	again := e.waitVassal(imp, 30*time.Second, state("running"))
	if again.OSPid == v.OSPid || !alive(again.OSPid) {
		t.Errorf("restart after stop: %+v", again)
	}

	// Ragnarok: every vassal stopped, the call returns once they are gone
	n, err := emperorapp.StopVassals(e.node, 20*time.Second)
	if err != nil || n != 2 {
		t.Errorf("StopVassals = %d, %v", n, err)
	}
	if alive(again.OSPid) {
		t.Errorf("vassal %d alive after StopVassals", again.OSPid)
	}
}

const tyrantUser = "imperialvassal"

func testUser(t *testing.T) (uid, gid int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("tyrant mode needs root to drop privileges (running as uid %d): run the peer tests as root", os.Geteuid())
	}
	u, err := user.Lookup(tyrantUser)
	if err != nil {
		add := peers.Require(t, "useradd")
		if out, err := exec.Command(add, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", tyrantUser).CombinedOutput(); err != nil {
			t.Fatalf("useradd %s: %v\n%s", tyrantUser, err, out)
		}
		if u, err = user.Lookup(tyrantUser); err != nil {
			t.Fatal(err)
		}
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

// procUID is the real uid of a process (/proc/PID/status).
func procUID(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "Uid:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return -1
}

// TestTyrant: vassals run as their file's owner; a root-owned one is refused.
func TestTyrant(t *testing.T) {
	uwsgi := peers.Require(t, "uwsgi")
	uid, gid := testUser(t)
	e := startEmperor(t, empOptions{options: []config.Option{opt("emperor-wrapper", uwsgi), opt("emperor-tyrant", "true")}})
	app := peers.PythonApp(t, e.logs, "app.py", appPy)
	os.Chmod(e.dir, 0o755)
	os.Chmod(filepath.Dir(e.dir), 0o755) // t.TempDir's parent is 0700: the vassal user must enter it
	addr := peers.FreeAddr(t)
	p := e.write("user.ini", pythonVassal(e, app, addr))
	if err := os.Chown(p, uid, gid); err != nil {
		t.Fatal(err)
	}
	e.write("root.ini", pythonVassal(e, app, peers.FreeAddr(t)))

	peers.WaitFor(t, 60*time.Second, serves(addr, fmt.Sprintf("v1 uid=%d", uid)))
	v := e.waitVassal("user.ini", 30*time.Second, state("running"))
	if got := procUID(v.OSPid); got != uid {
		t.Errorf("vassal master runs as uid %d, want %d", got, uid)
	}
	r := e.waitVassal("root.ini", 30*time.Second, state("refused"))
	if !strings.Contains(r.Reason, "invalid permissions") {
		t.Errorf("root.ini: %+v", r)
	}
}

// TestOnDemand: the emperor binds the socket and spawns the vassal at the
// first connection, handing it the listening socket as fd 0; the idle vassal
// goes back to on-demand and the next connection respawns it.
func TestOnDemand(t *testing.T) {
	uwsgi := peers.Require(t, "uwsgi")
	od := t.TempDir()
	e := startEmperor(t, empOptions{options: []config.Option{opt("emperor-wrapper", uwsgi), opt("emperor-on-demand-directory", od)}})
	app := peers.PythonApp(t, e.logs, "app.py", appPy)
	e.write("lazy.ini", pythonVassal(e, app, "", "protocol = http", "idle = 2", "die-on-idle = true"))
	sock := filepath.Join(od, "lazy.socket")

	e.waitVassal("lazy.ini", 30*time.Second, state("on_demand"))
	if st, err := os.Stat(sock); err != nil || st.Mode().Perm() != 0o666 {
		t.Fatalf("on-demand socket: %v %v", st, err)
	}
	client := http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		DisableKeepAlives: true,
	}}
	fetch := func() string {
		t.Helper()
		r, err := client.Get("http://lazy/")
		if err != nil {
			t.Fatalf("on-demand request: %v", err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return string(b)
	}
	if got := fetch(); !strings.HasPrefix(got, "v1") {
		t.Fatalf("first answer %q", got)
	}
	first := e.waitVassal("lazy.ini", 30*time.Second, state("running"))
	if !strings.Contains(e.logOf("lazy.ini"), "inherited UNIX address "+sock+" fd 0") {
		t.Errorf("the vassal did not inherit the socket as fd 0:\n%s", e.logOf("lazy.ini"))
	}
	// idle → 22 → back to on-demand, no process
	e.waitVassal("lazy.ini", 30*time.Second, state("on_demand"))
	peers.WaitFor(t, 10*time.Second, func() error {
		if alive(first.OSPid) {
			return fmt.Errorf("idle vassal %d still alive", first.OSPid)
		}
		return nil
	})
	if got := fetch(); !strings.HasPrefix(got, "v1") {
		t.Fatalf("second answer %q", got)
	}
	second := e.waitVassal("lazy.ini", 30*time.Second, state("running"))
	if second.OSPid == first.OSPid {
		t.Errorf("not respawned: %+v", second)
	}
}
