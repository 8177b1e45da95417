// Package nwtest is a test helper for emperor sources: an ergo node (no
// distribution) with a fake emperor that collects the snapshots a source
// sends, and a logger that keeps the node's log lines so tests can assert
// what was logged. It is stopped in t.Cleanup.
//
// Import rules: test-only; imported by the _test.go files of actors/monitor/...
// It imports ergo and actors/emperor.
package nwtest

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"ergo.services/ergo"
	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/emperor"
)

// Emperor is a node with a fake emperor registered as Name.
type Emperor struct {
	Node gen.Node
	Name gen.Atom
	C    chan emperor.MessageSnapshot
	log  *logger
}

// Start starts the node; the source under test sends to Name.
func Start(t testing.TB) *Emperor {
	t.Helper()
	l := &logger{}
	n, err := ergo.StartNode(gen.Atom(fmt.Sprintf("nwtest%d@localhost", time.Now().UnixNano()%1e9)), gen.NodeOptions{
		Network: gen.NetworkOptions{Mode: gen.NetworkModeDisabled},
		Log: gen.LogOptions{
			Level:         gen.LogLevelInfo,
			DefaultLogger: gen.DefaultLoggerOptions{Disable: true},
			Loggers:       []gen.Logger{{Name: "nwtest", Logger: l}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &Emperor{Node: n, Name: "fake_emperor", C: make(chan emperor.MessageSnapshot, 64), log: l}
	t.Cleanup(func() {
		n.StopForce()
		if t.Failed() {
			t.Logf("node log:\n%s", strings.Join(l.lines(), "\n"))
		}
	})
	if _, err := n.SpawnRegister(e.Name, func() gen.ProcessBehavior { return &fake{} }, gen.ProcessOptions{}, e.C); err != nil {
		t.Fatal(err)
	}
	return e
}

// Spawn spawns the source under test.
func (e *Emperor) Spawn(t testing.TB, factory gen.ProcessFactory, options any) gen.PID {
	t.Helper()
	pid, err := e.Node.Spawn(factory, gen.ProcessOptions{}, options)
	if err != nil {
		t.Fatalf("spawn source: %v", err)
	}
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
