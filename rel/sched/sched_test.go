package sched

import (
	"testing"
	"time"
)

func TestGovernorExpandsOnlyWhenSaturatedAndACoreIsFree(t *testing.T) {
	g := New(4)
	if got := g.Next(Sample{Used: 0.99, Idle: 0.2}); got != 1 {
		t.Fatalf("machine busy: procs %d, want 1", got)
	}
	if got := g.Next(Sample{Used: 0.8, Idle: 1.5}); got != 1 {
		t.Fatalf("not saturated: procs %d, want 1", got)
	}
	if got := g.Next(Sample{Used: 0.98, Idle: 1.5}); got != 2 {
		t.Fatalf("saturated with a free core: procs %d, want 2", got)
	}
	if got := g.Next(Sample{Used: 1.97, Idle: 1.0}); got != 3 {
		t.Fatalf("saturated again: procs %d, want 3", got)
	}
}

func TestGovernorNeverPassesItsLimit(t *testing.T) {
	g := New(2)
	for range 5 {
		g.Next(Sample{Used: 3, Idle: 8})
	}
	if g.Procs() != 2 {
		t.Fatalf("procs %d, want the limit 2", g.Procs())
	}
	if New(0).Procs() != 1 {
		t.Fatal("a limit below 1 must still leave one P")
	}
}

func TestGovernorCompactsAfterASustainedLowLoad(t *testing.T) {
	g := New(2)
	g.Next(Sample{Used: 1, Idle: 1})
	for i := range compactAfter - 1 {
		if got := g.Next(Sample{Used: 0.5, Idle: 1.5}); got != 2 {
			t.Fatalf("sample %d: compacted early to %d", i, got)
		}
	}
	// one busy sample restarts the count
	g.Next(Sample{Used: 0.9, Idle: 1})
	for range compactAfter - 1 {
		g.Next(Sample{Used: 0.5, Idle: 1.5})
	}
	if g.Procs() != 2 {
		t.Fatal("the low samples before a busy one must not count")
	}
	if got := g.Next(Sample{Used: 0.5, Idle: 1.5}); got != 1 {
		t.Fatalf("after %d low samples procs %d, want 1", compactAfter, got)
	}
}

func TestParseIdle(t *testing.T) {
	got, err := parseIdle("cpu  4705 356 584 3699176 23060 0 277 0 0 0\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Duration(3699176+23060) * 10 * time.Millisecond; got != want {
		t.Fatalf("idle %v, want %v", got, want)
	}
	for _, bad := range []string{"", "cpu0 1 2 3 4 5", "cpu 1 2 3 x 5", "cpu 1 2"} {
		if _, err := parseIdle(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestReadLoadMeasuresThisProcess(t *testing.T) {
	none := func() time.Duration { return 0 }
	a, err := readLoad(none)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(50 * time.Millisecond); time.Now().Before(deadline); {
	}
	b, err := readLoad(none)
	if err != nil {
		t.Fatal(err)
	}
	if s := b.since(a); s.Used <= 0 || s.Idle < 0 {
		t.Fatalf("a busy loop measured as %+v", s)
	}
}

func TestPollingIsNotLoad(t *testing.T) {
	at := time.Now()
	a := load{at: at}
	b := load{at: at.Add(time.Second), used: 800 * time.Millisecond, idle: 500 * time.Millisecond,
		polling: 300 * time.Millisecond}
	s := b.since(a)
	if !near(s.Used, 0.5) || !near(s.Idle, 0.5) {
		t.Fatalf("%+v, want used 0.5 and idle 0.5", s)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestParseStall(t *testing.T) {
	got := parseStall("some avg10=21.50 avg60=15.92 avg300=26.79 total=8630526249\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
	if want := 8630526249 * time.Microsecond; got != want {
		t.Fatalf("stall %v, want %v", got, want)
	}
	for _, bad := range []string{"", "full total=1", "some avg10=1", "some total=x"} {
		if got := parseStall(bad); got != -1 {
			t.Errorf("%q: %v, want -1", bad, got)
		}
	}
}

func TestSpareFollowsStallWithHysteresis(t *testing.T) {
	for _, tc := range []struct {
		s        Sample
		was, now bool
	}{
		{Sample{Stall: 0.13}, false, true},
		{Sample{Stall: 0.25}, false, false}, // not yet spare
		{Sample{Stall: 0.25}, true, true},   // still spare
		{Sample{Stall: 0.40}, true, false},
		// without PSI, idle decides
		{Sample{Stall: -1, Idle: 0.7}, false, true},
		{Sample{Stall: -1, Idle: 0.3}, false, false},
		{Sample{Stall: -1, Idle: 0.3}, true, true},
		{Sample{Stall: -1, Idle: 0.1}, true, false},
	} {
		if got := tc.s.spare(tc.was); got != tc.now {
			t.Errorf("%+v after %v: spare %v, want %v", tc.s, tc.was, got, tc.now)
		}
	}
}
