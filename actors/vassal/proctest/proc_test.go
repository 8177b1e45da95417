package proctest_test

// Real OS processes, no external peer: the test binary re-executes itself as
// a fake vassal speaking the emperor protocol (spec §3.5) on fd 3/4.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"
	"ergo.services/ergo/node"

	"imperial/actors/vassal"
)

const fakeEnv = "IMPERIAL_FAKE_VASSAL"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(fakeVassal(mode))
	}
	os.Exit(m.Run())
}

// fakeVassal: reports ready and accepting, records what it gets in
// $FAKE_LOG, starts a grandchild in its group ("sleep"), obeys 0/1/2.
func fakeVassal(mode string) int {
	logf := func(format string, a ...any) {
		f, err := os.OpenFile(os.Getenv("FAKE_LOG"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintf(f, format+"\n", a...)
			f.Close()
		}
	}
	if mode == "crash" {
		logf("crash")
		return 3
	}
	if fd := os.Getenv("UWSGI_EMPEROR_FD_CONFIG"); fd != "" {
		n, _ := strconv.Atoi(fd)
		cfg := os.NewFile(uintptr(n), "config")
		var h [4]byte
		if _, err := io.ReadFull(cfg, h[:]); err != nil || h[0] != 115 {
			logf("bad config header %v %v", h, err)
			return 1
		}
		body := make([]byte, binary.LittleEndian.Uint16(h[1:3]))
		io.ReadFull(cfg, body)
		logf("config %q", body)
	}
	logf("args %s stdin-socket %v", strings.Join(os.Args[1:], " "), isSocket(0))
	if mode == "listener" {
		// on-demand: fd 0 is the listening socket; accept one client and answer
		l, err := net.FileListener(os.NewFile(0, "stdin"))
		if err == nil {
			if c, err := l.Accept(); err == nil {
				c.Write([]byte("hello from vassal\n"))
				c.Close()
			}
		}
	}
	sleeper := exec.Command("sleep", "300")
	sleeper.Start()
	logf("grandchild %d", sleeper.Process.Pid)
	ctl := os.NewFile(3, "emperor")
	ctl.Write([]byte{1, 5})
	var b [1]byte
	for {
		if _, err := ctl.Read(b[:]); err != nil {
			logf("lost emperor")
			return 1
		}
		logf("byte %d", b[0])
		switch b[0] {
		case 0, 2:
			return 0
		case 1:
			ctl.Write([]byte{5})
		}
	}
}

func isSocket(fd int) bool {
	var st syscall.Stat_t
	return syscall.Fstat(fd, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFSOCK
}

// owner spawns one vassal and forwards its events to a channel.
type owner struct {
	act.Actor
	events chan vassal.MessageEvent
}

func (o *owner) Init(args ...any) error {
	o.events = args[0].(chan vassal.MessageEvent)
	o.SetTrapExit(true) // the vassal's normal exit must not take the owner with it
	pid, err := o.Spawn(vassal.Factory, gen.ProcessOptions{LinkChild: true}, args[1].(vassal.Options))
	args[2].(chan gen.PID) <- pid
	return err
}

func (o *owner) HandleMessage(from gen.PID, message any) error {
	if ev, ok := message.(vassal.MessageEvent); ok {
		o.events <- ev
	}
	return nil
}

type harness struct {
	t      *testing.T
	node   gen.Node
	owner  gen.PID
	events chan vassal.MessageEvent
	log    string
	vassal gen.PID
}

func start(t *testing.T, mode string, o vassal.Options) *harness {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, events: make(chan vassal.MessageEvent, 64), log: filepath.Join(t.TempDir(), "fake.log")}
	n, err := node.Start(gen.Atom(fmt.Sprintf("vt%d@localhost", time.Now().UnixNano()%1e9)), gen.NodeOptions{
		Network: gen.NetworkOptions{Mode: gen.NetworkModeDisabled},
		Log:     gen.LogOptions{Level: gen.LogLevelWarning},
	}, gen.Version{}) // ergo's node.Start: no system application, whose end after Stop dereferences a nil network
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	h.node = n
	o.Programs = []string{exe}
	o.Env = append(o.Env, fakeEnv+"="+mode, "FAKE_LOG="+h.log)
	if o.Name == "" {
		o.Name = "fake.ini"
	}
	if o.File == "" && o.Config == nil {
		o.File = "fake.ini"
	}
	o.Flag = "ini"
	pids := make(chan gen.PID, 1)
	h.owner, err = n.Spawn(func() gen.ProcessBehavior { return &owner{} }, gen.ProcessOptions{}, h.events, o, pids)
	if err != nil {
		t.Fatal(err)
	}
	h.vassal = <-pids
	return h
}

// next waits for the next event of kind want, failing on timeout.
func (h *harness) next(want vassal.Event) vassal.MessageEvent {
	h.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-h.events:
			if ev.Event == want {
				return ev
			}
		case <-timeout:
			log, _ := os.ReadFile(h.log)
			h.t.Fatalf("no %s event; fake vassal log:\n%s", want, log)
		}
	}
}

func (h *harness) logged(text string) bool {
	data, _ := os.ReadFile(h.log)
	return bytes.Contains(data, []byte(text))
}

func (h *harness) waitLogged(text string) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !h.logged(text) {
		if time.Now().After(deadline) {
			data, _ := os.ReadFile(h.log)
			h.t.Fatalf("fake vassal never logged %q:\n%s", text, data)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) vassalPID() gen.PID { return h.vassal }

func grandchild(t *testing.T, log string) int {
	t.Helper()
	data, _ := os.ReadFile(log)
	for _, l := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(l, "grandchild "); ok {
			n, _ := strconv.Atoi(p)
			return n
		}
	}
	t.Fatalf("no grandchild in log:\n%s", data)
	return 0
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestProcessProtocol(t *testing.T) {
	h := start(t, "serve", vassal.Options{StopTimeout: 5 * time.Second})
	sp := h.next(vassal.EventSpawned)
	h.next(vassal.EventReady)
	h.next(vassal.EventAccepting)
	if !h.logged("args --ini fake.ini stdin-socket false") {
		data, _ := os.ReadFile(h.log)
		t.Fatalf("argv/stdin: %s", data)
	}
	gc := grandchild(t, h.log)

	// reload: the same process gets byte 1 and answers 5
	v := h.vassalPID()
	h.node.Send(v, vassal.MessageReload{})
	h.next(vassal.EventReloading)
	h.next(vassal.EventAccepting)
	h.waitLogged("byte 1")

	// stop and remove: byte 0, exit 0, the group (grandchild) killed, actor ends
	h.node.Send(v, vassal.MessageStop{Remove: true})
	ex := h.next(vassal.EventExited)
	if !ex.Requested || ex.ExitCode != 0 || ex.OSPid != sp.OSPid {
		t.Errorf("exit: %+v (spawned %+v)", ex, sp)
	}
	if !h.logged("byte 0") {
		t.Errorf("stop byte not received")
	}
	deadline := time.Now().Add(5 * time.Second)
	for alive(gc) {
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d survived the group kill", gc)
		}
		time.Sleep(10 * time.Millisecond)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		if _, err := h.node.ProcessInfo(v); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("vassal actor still alive after a removal stop")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConfigVassalAndCrash(t *testing.T) {
	h := start(t, "crash", vassal.Options{Name: "db.ini", Config: []byte("[uwsgi]\nsocket = :0\n")})
	h.next(vassal.EventSpawned)
	ex := h.next(vassal.EventExited)
	if ex.Requested || ex.ExitCode != 3 {
		t.Errorf("crash exit: %+v", ex)
	}

	h2 := start(t, "serve", vassal.Options{Name: "db.ini", Config: []byte("[uwsgi]\nsocket = :0\n")})
	h2.next(vassal.EventReady)
	h2.waitLogged(`config "[uwsgi]\nsocket = :0\n"`)
	if !h2.logged("args --ini emperor://db.ini") {
		data, _ := os.ReadFile(h2.log)
		t.Errorf("config vassal argv: %s", data)
	}
}

func TestKillAfterStopTimeout(t *testing.T) {
	// a vassal that ignores the stop byte is killed with its group
	h := start(t, "serve", vassal.Options{StopTimeout: 300 * time.Millisecond, GracefulStop: true})
	h.next(vassal.EventReady)
	v := h.vassalPID()
	// make it deaf: stop the whole group, so the byte is never read
	gc := grandchild(t, h.log)
	pgid, err := syscall.Getpgid(gc)
	if err != nil {
		t.Fatal(err)
	}
	syscall.Kill(pgid, syscall.SIGSTOP)
	h.node.Send(v, vassal.MessageStop{})
	ex := h.next(vassal.EventExited)
	if ex.Signal != "killed" || !ex.Requested {
		t.Errorf("exit after timeout: %+v", ex)
	}
}

func TestOnDemandSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "od.socket")
	h := start(t, "listener", vassal.Options{Socket: sock})
	h.next(vassal.EventIdle)
	st, err := os.Stat(sock)
	if err != nil || st.Mode().Perm() != 0o666 {
		t.Fatalf("socket %v %v", st, err)
	}
	if h.logged("args") {
		t.Fatal("spawned before the first connection")
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h.next(vassal.EventSpawned)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "hello from vassal\n" {
		t.Fatalf("answer %q %v", got, err)
	}
	if !h.logged("stdin-socket true") {
		t.Error("the vassal did not get the socket as fd 0")
	}
}
