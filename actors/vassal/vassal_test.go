package vassal

import (
	"testing"
	"time"

	"ergo.services/ergo/gen"
	"ergo.services/ergo/testing/unit"
)

var parent = gen.PID{Node: "test@localhost", ID: 1000, Creation: 1}

func spawnVassal(t *testing.T, o Options) (*unit.TestActor, gen.Alias) {
	t.Helper()
	ta, err := unit.Spawn(t, Factory, unit.WithArgs(o), unit.WithParent(parent), unit.WithLogLevel(gen.LogLevelDebug))
	if err != nil {
		t.Fatal(err)
	}
	// Init sent MessageStart to itself; deliver it
	ta.SendMessage(ta.PID(), MessageStart{})
	return ta, lastMeta(t, ta)
}

func lastMeta(t *testing.T, ta *unit.TestActor) gen.Alias {
	t.Helper()
	var alias gen.Alias
	for _, ev := range ta.Events() {
		if sm, ok := ev.(unit.SpawnMetaEvent); ok {
			alias = sm.Result
		}
	}
	if alias == (gen.Alias{}) {
		t.Fatal("no meta process spawned")
	}
	return alias
}

func events(ta *unit.TestActor) []MessageEvent {
	var out []MessageEvent
	for _, ev := range ta.Events() {
		if se, ok := ev.(unit.SendEvent); ok && se.To == parent {
			if m, ok := se.Message.(MessageEvent); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

func expectEvents(t *testing.T, ta *unit.TestActor, want ...Event) []MessageEvent {
	t.Helper()
	got := events(ta)
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i].Event != want[i] {
			t.Fatalf("event %d is %s, want %s (all: %v)", i, got[i].Event, want[i], got)
		}
	}
	return got
}

func timer(t *testing.T, ta *unit.TestActor) (time.Duration, any) {
	t.Helper()
	for _, ev := range ta.Events() {
		if se, ok := ev.(unit.SendEvent); ok && se.After > 0 {
			return se.After, se.Message
		}
	}
	t.Fatal("no timer set")
	return 0, nil
}

func TestLifecycle(t *testing.T) {
	ta, proc := spawnVassal(t, Options{Name: "a.ini", File: "a.ini", Flag: "ini", Programs: []string{"uwsgi"},
		StopTimeout: 7 * time.Second, Heartbeat: 4 * time.Second})
	ta.ClearEvents()
	ta.SendMessage(ta.PID(), procSpawned{pid: 321, program: "/usr/bin/uwsgi"})
	ta.SendMessage(ta.PID(), procByte{b: byteReady})
	ta.SendMessage(ta.PID(), procByte{b: byteAccepting})
	ta.SendMessage(ta.PID(), procByte{b: byteLoyal})
	got := expectEvents(t, ta, EventSpawned, EventReady, EventAccepting, EventLoyal)
	if got[0].OSPid != 321 || got[0].Name != "a.ini" || got[3].OSPid != 321 {
		t.Errorf("events: %+v", got)
	}

	// reload: byte 1; a file vassal ignores byte 2
	ta.ClearEvents()
	ta.SendMessage(parent, MessageReload{})
	ta.SendMessage(ta.PID(), procByte{b: byteConfigWanted})
	ta.ShouldSend().To(proc).Message(procWrite{b: byteReload}).Once().Assert()
	ta.ShouldSend().To(proc).MessageMatching(func(m any) bool { _, ok := m.(procConfig); return ok }).Times(0).Assert()
	expectEvents(t, ta, EventReloading)

	// heartbeat: once one came, missing the next kills the group
	ta.ClearEvents()
	ta.SendMessage(ta.PID(), procByte{b: byteHeartbeat})
	after, tick := timer(t, ta)
	if after != 4*time.Second {
		t.Errorf("heartbeat timer %s", after)
	}
	ta.SendMessage(ta.PID(), procByte{b: byteHeartbeat}) // a newer heartbeat makes tick stale
	ta.ClearEvents()
	ta.SendMessage(ta.PID(), tick)
	ta.ShouldSend().To(proc).Message(procKill{}).Times(0).Assert()
	_, tick = func() (time.Duration, any) {
		ta.ClearEvents()
		ta.SendMessage(ta.PID(), procByte{b: byteHeartbeat})
		return timer(t, ta)
	}()
	ta.ClearEvents()
	ta.SendMessage(ta.PID(), tick)
	ta.ShouldSend().To(proc).Message(procKill{}).Once().Assert()
	expectEvents(t, ta, EventHeartbeatLost)
	ta.ClearEvents()
	ta.SendMessage(ta.PID(), procExited{code: -1, signal: "killed"})
	got = expectEvents(t, ta, EventExited)
	if got[0].Requested || got[0].Signal != "killed" {
		t.Errorf("heartbeat death: %+v", got[0])
	}

	// the emperor respawns it
	ta.ClearEvents()
	ta.SendMessage(parent, MessageStart{})
	proc = lastMeta(t, ta)
	ta.SendMessage(ta.PID(), procSpawned{pid: 322})

	// stop with removal: byte 0, kill timer, terminate after the exit
	ta.ClearEvents()
	ta.SendMessage(parent, MessageStop{Remove: true})
	ta.ShouldSend().To(proc).Message(procWrite{b: byteStop}).Once().Assert()
	after, kill := timer(t, ta)
	if after != 7*time.Second {
		t.Errorf("kill timer %s", after)
	}
	ta.SendMessage(ta.PID(), procClosed{reason: "EOF"}) // expected after a stop: no curse
	ta.SendMessage(ta.PID(), kill)
	ta.ShouldSend().To(proc).Message(procKill{}).Once().Assert()
	ta.SendMessage(ta.PID(), procExited{code: 0})
	got = expectEvents(t, ta, EventStopping, EventExited)
	if !got[1].Requested {
		t.Errorf("stop exit not requested: %+v", got[1])
	}
	ta.ShouldTerminate().WithReason(gen.TerminateReasonNormal).Assert()
}

func TestCurseAndConfig(t *testing.T) {
	ta, proc := spawnVassal(t, Options{Name: "c.ini", Config: []byte("[uwsgi]\n"), Flag: "ini", Programs: []string{"uwsgi"}})
	ta.SendMessage(ta.PID(), procSpawned{pid: 10})
	ta.ClearEvents()
	// byte 2 asks for the config: exactly one push, with the newest config
	ta.SendMessage(parent, MessageReload{Config: []byte("[uwsgi]\nx = 2\n")})
	ta.SendMessage(ta.PID(), procByte{b: byteConfigWanted})
	ta.ShouldSend().To(proc).Message(procConfig{config: []byte("[uwsgi]\nx = 2\n")}).Once().Assert()

	ta.ClearEvents()
	ta.SendMessage(ta.PID(), procClosed{reason: "EOF"})
	expectEvents(t, ta, EventCursed)
	after, _ := timer(t, ta)
	if after != defaultStopTimeout {
		t.Errorf("curse timer %s", after)
	}
	// a reload to a cursed vassal is not sent
	ta.ClearEvents()
	ta.SendMessage(parent, MessageReload{})
	ta.ShouldSend().To(proc).Message(procWrite{b: byteReload}).Times(0).Assert()
}

func TestOnDemand(t *testing.T) {
	ta, od := spawnVassal(t, Options{Name: "od.ini", File: "od.ini", Flag: "ini", Programs: []string{"uwsgi"},
		Socket: "/tmp/od.socket"})
	expectEvents(t, ta, EventIdle)
	ta.ClearEvents()
	ta.SendMessage(ta.PID(), odReady{})
	proc := lastMeta(t, ta)
	if proc == od {
		t.Fatal("no process spawned on the first connection")
	}
	ta.SendMessage(ta.PID(), procSpawned{pid: 55})
	// idle: the vassal sends 22 → back to on-demand
	ta.ClearEvents()
	ta.SendMessage(ta.PID(), procByte{b: byteVoluntaryStop})
	ta.ShouldSend().To(proc).Message(procWrite{b: byteStop}).Once().Assert()
	ta.SendMessage(ta.PID(), procExited{code: 0})
	ta.ShouldSend().To(od).Message(odArm{}).Once().Assert()
	got := expectEvents(t, ta, EventStopping, EventExited, EventIdle)
	if got[1].Requested || !got[1].Voluntary || got[2].OSPid != -1 {
		t.Errorf("back to on-demand: %+v", got)
	}
}

func TestArgvEnviron(t *testing.T) {
	o := Options{Name: "app.ini", File: "app.ini", Flag: "ini", ImperialArgs: []string{"--erlang", "app@h"},
		ImperialEnv: []string{"IMPERIAL_EMPEROR_NODE=e@h"}, Env: []string{"X=1"}}
	if got := o.argv(false); len(got) != 2 || got[0] != "--ini" || got[1] != "app.ini" {
		t.Errorf("argv: %v", got)
	}
	if got := o.argv(true); len(got) != 4 || got[0] != "--erlang" || got[3] != "app.ini" {
		t.Errorf("imperial argv: %v", got)
	}
	c := Options{Name: "db.ini", Config: []byte("x"), Flag: "ini"}
	if got := c.argv(false); got[1] != "emperor://db.ini" {
		t.Errorf("config vassal argv: %v", got)
	}
	env := o.environ([]string{"PATH=/bin", "UWSGI_RELOADS=3", "NOTIFY_SOCKET=/x", "UWSGI_VASSAL_PLUGINS=python3", "UWSGI_EMPEROR_FD=9"}, true)
	want := map[string]bool{"PATH=/bin": true, "UWSGI_PLUGINS=python3": true, "X=1": true, "UWSGI_EMPEROR_FD=3": true,
		"IMPERIAL_EMPEROR_NODE=e@h": true}
	if len(env) != len(want) {
		t.Fatalf("environ: %v", env)
	}
	for _, kv := range env {
		if !want[kv] {
			t.Errorf("environ has %q", kv)
		}
	}
	if env := c.environ(nil, false); env[len(env)-1] != "UWSGI_EMPEROR_FD_CONFIG=4" {
		t.Errorf("config vassal environ: %v", env)
	}
}
