// Package nwtest is a test helper for emperor sources: a fake emperor on an
// ergo node (no distribution, one per test binary) that collects the
// snapshots a source sends, and a logger that keeps the node's log lines so
// tests can assert what was logged. Each test's processes go at cleanup.
//
// Import rules: test-only; imported by the _test.go files of actors/monitor/...
// It imports ergo and actors/emperor.
package nwtest

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ergo.services/ergo"
	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/emperor"
)

// Emperor is a fake emperor, registered as Name on the shared test node.
type Emperor struct {
	Node gen.Node
	Name gen.Atom
	C    chan emperor.MessageSnapshot
	log  *logger
	mu   sync.Mutex
	pids []gen.PID
}

// One node per test binary, never stopped. ergo v1.999.310 stops a node
// without waiting for its system application's processes: one of them then
// calls Network() on the stopped node and dereferences nil (a panic that
// aborts the test binary under -tags norecover). Tests therefore share one
// node and clean up their own processes.
var (
	sharedOnce sync.Once
	shared     gen.Node
	sharedErr  error
	serial     atomic.Int64
)

func sharedNode() (gen.Node, error) {
	sharedOnce.Do(func() {
		shared, sharedErr = ergo.StartNode(gen.Atom(fmt.Sprintf("nwtest%d@localhost", os.Getpid())), gen.NodeOptions{
			Network: gen.NetworkOptions{Mode: gen.NetworkModeDisabled},
			Log: gen.LogOptions{
				Level:         gen.LogLevelInfo,
				DefaultLogger: gen.DefaultLoggerOptions{Disable: true},
			},
		})
	})
	return shared, sharedErr
}

// Start registers a fake emperor (and a logger that keeps the node's log
// lines) for one test; both, and every process the test spawned with Spawn,
// are removed at cleanup.
func Start(t testing.TB) *Emperor {
	t.Helper()
	n, err := sharedNode()
	if err != nil {
		t.Fatal(err)
	}
	id := serial.Add(1)
	e := &Emperor{Node: n, Name: gen.Atom(fmt.Sprintf("fake_emperor_%d", id)), C: make(chan emperor.MessageSnapshot, 64), log: &logger{}}
	logName := fmt.Sprintf("nwtest_%d", id)
	if err := n.LoggerAdd(logName, e.log); err != nil {
		t.Fatal(err)
	}
	pid, err := n.SpawnRegister(e.Name, func() gen.ProcessBehavior { return &fake{} }, gen.ProcessOptions{}, e.C)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.mu.Lock()
		pids := append([]gen.PID{pid}, e.pids...)
		e.mu.Unlock()
		for _, p := range pids {
			n.Kill(p)
		}
		n.LoggerDelete(logName)
		if t.Failed() {
			t.Logf("node log:\n%s", strings.Join(e.log.lines(), "\n"))
		}
	})
	return e
}

// Spawn spawns the source under test; it is killed at cleanup.
func (e *Emperor) Spawn(t testing.TB, factory gen.ProcessFactory, options any) gen.PID {
	t.Helper()
	pid, err := e.Node.Spawn(factory, gen.ProcessOptions{}, options)
	if err != nil {
		t.Fatalf("spawn source: %v", err)
	}
	e.mu.Lock()
	e.pids = append(e.pids, pid)
	e.mu.Unlock()
	return pid
}

// Next waits for the next snapshot.
func (e *Emperor) Next(t testing.TB, timeout time.Duration) emperor.MessageSnapshot {
	t.Helper()
	select {
	case s := <-e.C:
		return s
	case <-time.After(timeout):
		t.Fatalf("no snapshot within %s", timeout)
	}
	return emperor.MessageSnapshot{}
}

// Expect waits for the next snapshot and checks its names (sorted, joined by ",").
func (e *Emperor) Expect(t testing.TB, timeout time.Duration, want string) emperor.MessageSnapshot {
	t.Helper()
	s := e.Next(t, timeout)
	if got := Names(s); got != want {
		t.Fatalf("snapshot [%s], want [%s]", got, want)
	}
	return s
}

// None fails if a snapshot is waiting now.
func (e *Emperor) None(t testing.TB) {
	t.Helper()
	select {
	case s := <-e.C:
		t.Fatalf("unexpected snapshot [%s]", Names(s))
	default:
	}
}

// WaitLog waits until a log line containing every part appears; it returns the line.
func (e *Emperor) WaitLog(t testing.TB, timeout time.Duration, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, l := range e.log.lines() {
			ok := true
			for _, p := range parts {
				if !strings.Contains(l, p) {
					ok = false
					break
				}
			}
			if ok {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q within %s", parts, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Logged counts the log lines containing s.
func (e *Emperor) Logged(s string) int {
	n := 0
	for _, l := range e.log.lines() {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// Names lists a snapshot's vassal names, sorted, joined by ",".
func Names(s emperor.MessageSnapshot) string {
	var n []string
	for _, v := range s.Vassals {
		n = append(n, v.Name)
	}
	sort.Strings(n)
	return strings.Join(n, ",")
}

// Find returns the vassal of that name in a snapshot.
func Find(t testing.TB, s emperor.MessageSnapshot, name string) emperor.VassalConfig {
	t.Helper()
	for _, v := range s.Vassals {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no vassal %s in [%s]", name, Names(s))
	return emperor.VassalConfig{}
}

// fake is the fake emperor.
//
// Accepts  emperor.MessageSnapshot (put on the test's channel); ignores the rest.
// Replies  nothing.
// Sends    nothing.
// Spawns   nothing.
// Owns     nothing.
type fake struct {
	act.Actor
	out chan emperor.MessageSnapshot
}

func (f *fake) Init(args ...any) error {
	out, ok := args[0].(chan emperor.MessageSnapshot)
	if !ok {
		return fmt.Errorf("nwtest: want a channel, got %T", args[0])
	}
	f.out = out
	return nil
}

func (f *fake) HandleMessage(from gen.PID, message any) error {
	if s, ok := message.(emperor.MessageSnapshot); ok {
		f.out <- s
	}
	return nil
}

type logger struct {
	mu sync.Mutex
	l  []string
}

func (l *logger) Log(m gen.MessageLog) {
	line := fmt.Sprintf("%s %s", m.Level, fmt.Sprintf(m.Format, m.Args...))
	l.mu.Lock()
	l.l = append(l.l, line)
	l.mu.Unlock()
}

func (l *logger) Terminate() {}

func (l *logger) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.l...)
}
