package emperor_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"ergo.services/ergo/gen"
	"ergo.services/ergo/testing/unit"

	"imperial/actors/emperor"
	"imperial/actors/vassal"
)

const src = "dir:///srv/vassals"

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func spawnEmperor(t *testing.T, o emperor.Options) (*unit.TestActor, *clock) {
	t.Helper()
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	if o.Binary == "" {
		o.Binary = "/usr/bin/imperial"
	}
	o.Clock = c.now
	ta, err := unit.Spawn(t, emperor.Factory, unit.WithArgs(o), unit.WithLogLevel(gen.LogLevelDebug))
	if err != nil {
		t.Fatal(err)
	}
	return ta, c
}

func fileVassal(name string, mtime int64) emperor.VassalConfig {
	return emperor.VassalConfig{Name: name, Path: "/srv/vassals/" + name, Dir: "/srv/vassals",
		MTime: time.Unix(mtime, 0), UID: 1000, GID: 1000}
}

// spawned returns the vassal PIDs and options spawned since the last ClearEvents, by name.
func spawned(t *testing.T, ta *unit.TestActor) map[string]gen.PID {
	t.Helper()
	out := map[string]gen.PID{}
	for _, ev := range ta.Events() {
		se, ok := ev.(unit.SpawnEvent)
		if !ok {
			continue
		}
		if !se.Options.LinkChild {
			t.Errorf("vassal spawned without LinkChild")
		}
		o, ok := se.Args[0].(vassal.Options)
		if !ok {
			t.Fatalf("spawn args %T", se.Args[0])
		}
		out[o.Name] = se.Result
	}
	return out
}

// sent returns the messages sent to pid since the last ClearEvents.
func sent(ta *unit.TestActor, to any) []unit.SendEvent {
	var out []unit.SendEvent
	for _, ev := range ta.Events() {
		if se, ok := ev.(unit.SendEvent); ok && se.To == to {
			out = append(out, se)
		}
	}
	return out
}

func table(t *testing.T, ta *unit.TestActor) map[string]emperor.VassalInfo {
	t.Helper()
	r := ta.Call(gen.PID{}, emperor.RequestVassals{})
	resp, ok := r.Response.(emperor.ResponseVassals)
	if !ok {
		t.Fatalf("RequestVassals: %#v %v", r.Response, r.Error)
	}
	out := map[string]emperor.VassalInfo{}
	for _, v := range resp.Vassals {
		out[v.Name] = v
	}
	return out
}

func TestSnapshotDiff(t *testing.T) {
	ta, _ := spawnEmperor(t, emperor.Options{Wrapper: "/usr/bin/uwsgi"})

	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: src, Vassals: []emperor.VassalConfig{
		fileVassal("a.ini", 100), fileVassal("b.xml", 100), {Name: "notes.txt", Path: "/srv/vassals/notes.txt"},
	}})
	pids := spawned(t, ta)
	if len(pids) != 2 || pids["a.ini"] == (gen.PID{}) || pids["b.xml"] == (gen.PID{}) {
		t.Fatalf("spawned %v, want a.ini and b.xml", pids)
	}
	for _, ev := range ta.Events() {
		if se, ok := ev.(unit.SpawnEvent); ok {
			o := se.Args[0].(vassal.Options)
			if o.Name == "b.xml" && (o.File != "b.xml" || o.Dir != "/srv/vassals" || o.Flag != "xml" ||
				len(o.Programs) != 1 || o.Programs[0] != "/usr/bin/uwsgi" || o.UID != -1) {
				t.Errorf("b.xml options: %+v", o)
			}
		}
	}

	// the same snapshot again: nothing happens
	ta.ClearEvents()
	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: src, Vassals: []emperor.VassalConfig{
		fileVassal("a.ini", 100), fileVassal("b.xml", 100)}})
	if n := ta.EventCount(); n != 0 {
		t.Fatalf("unchanged snapshot produced %d events: %v", n, ta.Events())
	}

	// a newer mtime reloads, an older one does not, a missing name is destroyed
	ta.SendMessage(pids["a.ini"], vassal.MessageEvent{Name: "a.ini", Event: vassal.EventSpawned, OSPid: 4242})
	ta.SendMessage(pids["a.ini"], vassal.MessageEvent{Name: "a.ini", Event: vassal.EventReady})
	ta.ClearEvents()
	next := fileVassal("a.ini", 100)
	next.MTime = next.MTime.Add(time.Millisecond) // same second: uWSGI misses it, we do not
	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: src, Vassals: []emperor.VassalConfig{next, fileVassal("b.xml", 99)}})
	ta.ShouldSend().To(pids["a.ini"]).Message(vassal.MessageReload{}).Once().Assert()
	if n := len(sent(ta, pids["b.xml"])); n != 0 {
		t.Errorf("b.xml with an older mtime got %d messages", n)
	}
	if v := table(t, ta)["a.ini"]; v.State != "reloading" || v.Restarts != 1 || v.OSPid != 4242 {
		t.Errorf("a.ini after reload: %+v", v)
	}

	ta.ClearEvents()
	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: src, Vassals: []emperor.VassalConfig{next}})
	ta.ShouldSend().To(pids["b.xml"]).Message(vassal.MessageStop{Remove: true}).Once().Assert()
	if v := table(t, ta)["b.xml"]; v.State != "stopping" {
		t.Errorf("b.xml after removal: %+v", v)
	}
	ta.SendMessage(pids["b.xml"], gen.MessageExitPID{PID: pids["b.xml"], Reason: gen.TerminateReasonNormal})
	if _, ok := table(t, ta)["b.xml"]; ok {
		t.Errorf("b.xml still in the table after its actor ended")
	}
}

func TestSourcesOwnTheirNames(t *testing.T) {
	ta, _ := spawnEmperor(t, emperor.Options{})
	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: src, Vassals: []emperor.VassalConfig{fileVassal("a.ini", 1)}})
	ta.ClearEvents()
	other := "glob:///srv/*/*.ini"
	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: other, Vassals: []emperor.VassalConfig{fileVassal("a.ini", 5)}})
	if n := len(spawned(t, ta)); n != 0 {
		t.Errorf("spawned %d vassals", n)
	}
	// a source's empty snapshot does not touch another source's vassals
	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: other})
	if v := table(t, ta)["a.ini"]; v.State != "starting" || v.Source != src {
		t.Errorf("a.ini: %+v", v)
	}
}

// respawnAfter finds the throttle timer the emperor set and returns its delay and message.
func respawnAfter(t *testing.T, ta *unit.TestActor) (time.Duration, any) {
	t.Helper()
	for _, ev := range ta.Events() {
		if se, ok := ev.(unit.SendEvent); ok && se.After > 0 && se.To == ta.PID() {
			return se.After, se.Message
		}
	}
	return 0, nil
}

func TestThrottle(t *testing.T) {
	ta, c := spawnEmperor(t, emperor.Options{Throttle: time.Second, MaxThrottle: 3 * time.Second})
	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: src, Vassals: []emperor.VassalConfig{fileVassal("bad.ini", 1)}})
	pid := spawned(t, ta)["bad.ini"]

	die := func() {
		ta.SendMessage(pid, vassal.MessageEvent{Name: "bad.ini", Event: vassal.EventSpawned, OSPid: 77})
		ta.SendMessage(pid, vassal.MessageEvent{Name: "bad.ini", Event: vassal.EventExited, ExitCode: 1})
	}
	// uWSGI's blacklist with consistent units: 1 ms, then +1 s per death,
	// halved once the maximum is reached
	want := []time.Duration{time.Millisecond, 1001 * time.Millisecond, 2001 * time.Millisecond,
		3001 * time.Millisecond, 1500500 * time.Microsecond, 2500500 * time.Microsecond}
	for i, w := range want {
		ta.ClearEvents()
		die()
		after, msg := respawnAfter(t, ta)
		if after != w {
			t.Fatalf("death %d: respawn after %s, want %s", i+1, after, w)
		}
		if v := table(t, ta)["bad.ini"]; v.State != "throttled" || v.Restarts != i+1 {
			t.Fatalf("death %d: %+v", i+1, v)
		}
		if i == 2 {
			ta.ShouldLog().Level(gen.LogLevelWarning).Containing("unloyal bad behaving vassal found: bad.ini").Once().Assert()
		}
		c.t = c.t.Add(after)
		ta.ClearEvents()
		ta.SendMessage(ta.PID(), msg)
		ta.ShouldSend().To(pid).MessageMatching(func(m any) bool {
			s, ok := m.(vassal.MessageStart)
			return ok && s.Options != nil && s.Options.Name == "bad.ini"
		}).Once().Assert()
	}

	// a stale timer (from before a reload request restarted it) does nothing
	ta.ClearEvents()
	die()
	_, stale := respawnAfter(t, ta)
	ta.Call(gen.PID{}, emperor.RequestReload{Name: "bad.ini"})
	ta.ClearEvents()
	ta.SendMessage(ta.PID(), stale)
	if n := len(sent(ta, pid)); n != 0 {
		t.Errorf("stale respawn timer sent %d messages", n)
	}

	// loyalty clears the blacklist: the next death respawns at once
	ta.SendMessage(pid, vassal.MessageEvent{Name: "bad.ini", Event: vassal.EventLoyal})
	ta.ClearEvents()
	die()
	if after, _ := respawnAfter(t, ta); after != 0 {
		t.Errorf("loyal vassal throttled %s", after)
	}
	ta.ShouldSend().To(pid).MessageMatching(func(m any) bool { _, ok := m.(vassal.MessageStart); return ok }).Once().Assert()
}

func TestTyrant(t *testing.T) {
	ta, _ := spawnEmperor(t, emperor.Options{Tyrant: true})
	root := fileVassal("root.ini", 1)
	root.UID, root.GID = 0, 0
	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: src, Vassals: []emperor.VassalConfig{root, fileVassal("user.ini", 1)}})
	pids := spawned(t, ta)
	if _, ok := pids["root.ini"]; ok || len(pids) != 1 {
		t.Fatalf("tyrant spawned %v", pids)
	}
	for _, ev := range ta.Events() {
		if se, ok := ev.(unit.SpawnEvent); ok {
			if o := se.Args[0].(vassal.Options); o.UID != 1000 || o.GID != 1000 {
				t.Errorf("user.ini runs as %d:%d", o.UID, o.GID)
			}
		}
	}
	if v := table(t, ta)["root.ini"]; v.State != "refused" || !strings.Contains(v.Reason, "invalid permissions") {
		t.Errorf("root.ini: %+v", v)
	}
	// chown to a user: spawned now
	ta.ClearEvents()
	fixed := fileVassal("root.ini", 1)
	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: src, Vassals: []emperor.VassalConfig{fixed, fileVassal("user.ini", 1)}})
	if _, ok := spawned(t, ta)["root.ini"]; !ok {
		t.Errorf("root.ini not spawned after chown")
	}
	// chown of a running vassal: stop, then start as the new owner
	ta.ClearEvents()
	moved := fileVassal("user.ini", 1)
	moved.UID = 2000
	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: src, Vassals: []emperor.VassalConfig{fixed, moved}})
	msgs := sent(ta, pids["user.ini"])
	if len(msgs) != 2 || msgs[0].Message != (vassal.MessageStop{}) {
		t.Fatalf("user.ini after chown: %v", msgs)
	}
	if s, ok := msgs[1].Message.(vassal.MessageStart); !ok || s.Options.UID != 2000 {
		t.Errorf("user.ini restart: %#v", msgs[1].Message)
	}
}

func TestStopAndReloadRequests(t *testing.T) {
	ta, _ := spawnEmperor(t, emperor.Options{})
	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: src, Vassals: []emperor.VassalConfig{fileVassal("a.ini", 1)}})
	pid := spawned(t, ta)["a.ini"]
	ta.SendMessage(pid, vassal.MessageEvent{Name: "a.ini", Event: vassal.EventSpawned, OSPid: 5})

	r := ta.Call(gen.PID{}, emperor.RequestStop{Name: "nope.ini"})
	if resp := r.Response.(emperor.ResponseAction); !errors.Is(resp.Err, emperor.ErrUnknownVassal) {
		t.Errorf("stop of an unknown vassal: %v", resp.Err)
	}
	ta.ClearEvents()
	ta.Call(gen.PID{}, emperor.RequestStop{Name: "a.ini"})
	ta.ShouldSend().To(pid).Message(vassal.MessageStop{}).Once().Assert()
	ta.SendMessage(pid, vassal.MessageEvent{Name: "a.ini", Event: vassal.EventExited, Requested: true})
	if v := table(t, ta)["a.ini"]; v.State != "stopped" || v.OSPid != 0 {
		t.Errorf("a.ini after stop: %+v", v)
	}
	// the same snapshot keeps it stopped; a reload request starts it
	ta.ClearEvents()
	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: src, Vassals: []emperor.VassalConfig{fileVassal("a.ini", 1)}})
	if n := len(sent(ta, pid)); n != 0 {
		t.Errorf("stopped vassal got %d messages on an unchanged snapshot", n)
	}
	ta.Call(gen.PID{}, emperor.RequestReload{Name: "a.ini"})
	ta.ShouldSend().To(pid).MessageMatching(func(m any) bool { _, ok := m.(vassal.MessageStart); return ok }).Once().Assert()
}

func TestStopAll(t *testing.T) {
	ta, _ := spawnEmperor(t, emperor.Options{})
	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: src, Vassals: []emperor.VassalConfig{fileVassal("a.ini", 1), fileVassal("b.ini", 1)}})
	pids := spawned(t, ta)
	ta.ClearEvents()
	r := ta.Call(gen.PID{}, emperor.RequestStopAll{})
	if r.Response != nil {
		t.Fatalf("StopAll answered before the vassals were gone: %#v", r.Response)
	}
	for _, pid := range pids {
		ta.ShouldSend().To(pid).Message(vassal.MessageStop{Remove: true}).Once().Assert()
	}
	// snapshots are ignored from now on
	ta.ClearEvents()
	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: src, Vassals: []emperor.VassalConfig{fileVassal("c.ini", 1)}})
	if n := len(spawned(t, ta)); n != 0 {
		t.Errorf("spawned %d vassals", n)
	}
	for _, pid := range pids {
		ta.SendMessage(pid, gen.MessageExitPID{PID: pid, Reason: gen.TerminateReasonNormal})
	}
	ta.ShouldSendResponse().Response(emperor.ResponseStopAll{Stopped: 2}).Once().Assert()
}

func TestNodeNames(t *testing.T) {
	ta, _ := spawnEmperor(t, emperor.Options{NodeName: "boss@127.0.0.1"})
	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: src, Vassals: []emperor.VassalConfig{fileVassal("my.app.ini", 1)}})
	for _, ev := range ta.Events() {
		if se, ok := ev.(unit.SpawnEvent); ok {
			o := se.Args[0].(vassal.Options)
			if strings.Join(o.ImperialArgs, " ") != "--erlang my_app@127.0.0.1 --erlang-cookie $(IMPERIAL_EMPEROR_COOKIE)" ||
				strings.Join(o.ImperialEnv, " ") != "IMPERIAL_EMPEROR_NODE=boss@127.0.0.1 IMPERIAL_EMPEROR_COOKIE=test-cookie" {
				t.Errorf("imperial vassal args %v env %v", o.ImperialArgs, o.ImperialEnv)
			}
		}
	}
}

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra []string
		ok    bool
	}{
		{"a.ini", nil, true}, {"a.xml", nil, true}, {"a.yml", nil, true}, {"a.yaml", nil, true},
		{"a.json", nil, true}, {"a.js", nil, true}, {"a.txt", nil, false}, {"a.tmp", nil, false},
		{"a.conf", []string{"conf"}, true}, {"a.conf", []string{".conf"}, true}, {"", nil, false},
		{strings.Repeat("x", 251) + ".ini", nil, false}, {"app.ini:zerg", nil, false}, {"dir/app.ini", nil, true},
	} {
		err := emperor.ValidName(tc.name, tc.extra)
		if (err == nil) != tc.ok {
			t.Errorf("ValidName(%q, %v) = %v, want ok=%v", tc.name, tc.extra, err, tc.ok)
		}
		if err != nil && !errors.Is(err, emperor.ErrBadName) {
			t.Errorf("ValidName(%q): %v does not wrap ErrBadName", tc.name, err)
		}
	}
}

func TestStatsJSON(t *testing.T) {
	ta, _ := spawnEmperor(t, emperor.Options{Sources: []string{src}})
	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: src, Vassals: []emperor.VassalConfig{fileVassal("a.ini", 1)}})
	pid := spawned(t, ta)["a.ini"]
	ta.SendMessage(pid, vassal.MessageEvent{Name: "a.ini", Event: vassal.EventSpawned, OSPid: 99})
	ta.SendMessage(pid, vassal.MessageEvent{Name: "a.ini", Event: vassal.EventAccepting})
	ta.SendMessage(pid, vassal.MessageEvent{Name: "a.ini", Event: vassal.EventExited, ExitCode: 3})
	doc := statsOf(t, ta)
	keys := []string{`"version"`, `"pid"`, `"uid"`, `"gid"`, `"cwd"`, `"emperor"`, `"emperor_tyrant"`, `"throttle_level"`, `"vassals"`, `"blacklist"`}
	last := -1
	for _, k := range keys {
		i := strings.Index(doc, k)
		if i <= last {
			t.Fatalf("stats key %s out of order in %s", k, doc)
		}
		last = i
	}
	var parsed struct {
		Vassals []map[string]any `json:"vassals"`
		Black   []map[string]any `json:"blacklist"`
	}
	if err := json.Unmarshal([]byte(doc), &parsed); err != nil {
		t.Fatal(err)
	}
	if len(parsed.Vassals) != 1 || parsed.Vassals[0]["id"] != "a.ini" || parsed.Vassals[0]["pid"] != float64(-1) ||
		parsed.Vassals[0]["respawns"] != float64(1) || parsed.Vassals[0]["monitor"] != src {
		t.Errorf("vassals: %v", parsed.Vassals)
	}
	if len(parsed.Black) != 1 || parsed.Black[0]["throttle_level"] != float64(1) || parsed.Black[0]["attempt"] != float64(0) {
		t.Errorf("blacklist: %v", parsed.Black)
	}
}

func statsOf(t *testing.T, ta *unit.TestActor) string {
	t.Helper()
	to := gen.Alias{Node: "test@localhost", ID: [3]uint64{7, 7, 7}}
	ta.ClearEvents()
	ta.SendMessage(ta.PID(), emperor.StatsRequest(to))
	for _, ev := range ta.Events() {
		if se, ok := ev.(unit.SendEvent); ok && se.To == to {
			if data, ok := emperor.StatsData(se.Message); ok {
				return string(data)
			}
		}
	}
	t.Fatal("no stats sent")
	return ""
}

func TestReloadAll(t *testing.T) {
	ta, _ := spawnEmperor(t, emperor.Options{})
	ta.SendMessage(gen.PID{}, emperor.MessageSnapshot{Source: src, Vassals: []emperor.VassalConfig{fileVassal("a.ini", 1), fileVassal("b.ini", 1)}})
	pids := spawned(t, ta)
	ta.SendMessage(pids["a.ini"], vassal.MessageEvent{Name: "a.ini", Event: vassal.EventReady})
	ta.Call(gen.PID{}, emperor.RequestStop{Name: "b.ini"})
	ta.SendMessage(pids["b.ini"], vassal.MessageEvent{Name: "b.ini", Event: vassal.EventExited, Requested: true})
	ta.ClearEvents()
	r := ta.Call(gen.PID{}, emperor.RequestReloadAll{})
	if resp, ok := r.Response.(emperor.ResponseReloadAll); !ok || resp.Reloaded != 1 {
		t.Fatalf("ReloadAll: %#v", r.Response)
	}
	ta.ShouldSend().To(pids["a.ini"]).Message(vassal.MessageReload{}).Once().Assert()
	if n := len(sent(ta, pids["b.ini"])); n != 0 {
		t.Errorf("a stopped vassal got %d messages", n)
	}
}
