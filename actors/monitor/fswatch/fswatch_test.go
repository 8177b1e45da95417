package fswatch_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"
	"ergo.services/ergo/node"

	"imperial/actors/emperor"
	"imperial/actors/monitor/dir"
	"imperial/actors/monitor/glob"
)

// fakeEmperor forwards snapshots to a channel.
type fakeEmperor struct {
	act.Actor
	out chan emperor.MessageSnapshot
}

func (f *fakeEmperor) Init(args ...any) error {
	f.out = args[0].(chan emperor.MessageSnapshot)
	return nil
}

func (f *fakeEmperor) HandleMessage(from gen.PID, message any) error {
	if s, ok := message.(emperor.MessageSnapshot); ok {
		f.out <- s
	}
	return nil
}

func startNode(t *testing.T) (gen.Node, gen.Atom, chan emperor.MessageSnapshot) {
	t.Helper()
	n, err := node.Start(gen.Atom(fmt.Sprintf("fw%d@localhost", time.Now().UnixNano()%1e9)), gen.NodeOptions{
		Network: gen.NetworkOptions{Mode: gen.NetworkModeDisabled},
		Log:     gen.LogOptions{Level: gen.LogLevelWarning},
	}, gen.Version{}) // ergo's node.Start: no system application, whose end after Stop dereferences a nil network
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	out := make(chan emperor.MessageSnapshot, 16)
	name := gen.Atom("fake_emperor")
	if _, err := n.SpawnRegister(name, func() gen.ProcessBehavior { return &fakeEmperor{} }, gen.ProcessOptions{}, out); err != nil {
		t.Fatal(err)
	}
	return n, name, out
}

func names(s emperor.MessageSnapshot) string {
	var n []string
	for _, v := range s.Vassals {
		n = append(n, v.Name)
	}
	sort.Strings(n)
	return strings.Join(n, ",")
}

// expect waits for the next snapshot and checks its names; it returns how long it took.
func expect(t *testing.T, out chan emperor.MessageSnapshot, want string) (emperor.MessageSnapshot, time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case s := <-out:
		if got := names(s); got != want {
			t.Fatalf("snapshot %q, want %q", got, want)
		}
		return s, time.Since(start)
	case <-time.After(5 * time.Second):
		t.Fatalf("no snapshot (want %q)", want)
	}
	return emperor.MessageSnapshot{}, 0
}

func quiet(t *testing.T, out chan emperor.MessageSnapshot, d time.Duration) {
	t.Helper()
	select {
	case s := <-out:
		t.Fatalf("unexpected snapshot %q", names(s))
	case <-time.After(d):
	}
}

func TestDirMonitor(t *testing.T) {
	n, name, out := startNode(t)
	d := t.TempDir()
	os.WriteFile(filepath.Join(d, "a.ini"), []byte("[uwsgi]\n"), 0o644)
	_, err := n.Spawn(dir.Factory, gen.ProcessOptions{}, dir.Options{Dir: d, Emperor: name, Rescan: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	first, _ := expect(t, out, "a.ini")
	if first.Source != "dir://"+d {
		t.Errorf("source %q", first.Source)
	}

	os.WriteFile(filepath.Join(d, "b.xml"), []byte("<uwsgi/>"), 0o644)
	_, took := expect(t, out, "a.ini,b.xml")
	t.Logf("new file noticed in %s", took)

	// a touch in the same second: full-resolution mtime, a new snapshot
	mt := first.Vassals[0].MTime.Add(time.Millisecond)
	os.Chtimes(filepath.Join(d, "a.ini"), mt, mt)
	s, took := expect(t, out, "a.ini,b.xml")
	t.Logf("touch noticed in %s", took)
	for _, v := range s.Vassals {
		if v.Name == "a.ini" && !v.MTime.Equal(mt) {
			t.Errorf("a.ini mtime %v, want %v", v.MTime, mt)
		}
	}

	// writes to other files: no snapshot (nothing changed)
	for i := 0; i < 5; i++ {
		os.WriteFile(filepath.Join(d, "vassal.log"), []byte(strings.Repeat("x", i)), 0o644)
	}
	quiet(t, out, 200*time.Millisecond)

	os.Remove(filepath.Join(d, "b.xml"))
	expect(t, out, "a.ini")

	// the directory goes away (atomically): no snapshot, the emperor keeps its vassals
	if err := os.Rename(d, d+".gone"); err != nil {
		t.Fatal(err)
	}
	quiet(t, out, 200*time.Millisecond)
}

func TestGlobMonitorFollowsDirectories(t *testing.T) {
	n, name, out := startNode(t)
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "apps", "one"), 0o755)
	os.WriteFile(filepath.Join(root, "apps", "one", "one.ini"), []byte("[uwsgi]\n"), 0o644)
	_, err := n.Spawn(glob.Factory, gen.ProcessOptions{}, glob.Options{Pattern: "apps/*/*.ini", Cwd: root, Emperor: name, Rescan: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, out, "apps/one/one.ini")
	// a new application directory with its file written right away
	os.MkdirAll(filepath.Join(root, "apps", "two"), 0o755)
	os.WriteFile(filepath.Join(root, "apps", "two", "two.ini"), []byte("[uwsgi]\n"), 0o644)
	deadline := time.After(5 * time.Second)
	for {
		select {
		case s := <-out:
			if names(s) == "apps/one/one.ini,apps/two/two.ini" {
				// and a later file in it is seen through the new watch
				os.WriteFile(filepath.Join(root, "apps", "two", "later.ini"), []byte("[uwsgi]\n"), 0o644)
				expect(t, out, "apps/one/one.ini,apps/two/later.ini,apps/two/two.ini")
				return
			}
		case <-deadline:
			t.Fatal("apps/two/two.ini never seen")
		}
	}
}
