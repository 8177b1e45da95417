package subscription

import (
	"fmt"
	"strings"
	"testing"
	"time"

	wire "imperial/actors/wire/subscription"
)

var t0 = time.Unix(1_700_000_000, 0)

func sub(key, addr string, weight int) wire.Subscription {
	return wire.Subscription{Key: key, Address: addr, Weight: weight, Cores: 1}
}

// picks returns the addresses of n picks of key, each released at once.
func picks(t *testing.T, tb *Table, key string, n int, now time.Time) string {
	t.Helper()
	var out []string
	for i := 0; i < n; i++ {
		p, ok := tb.Pick(key, now)
		if !ok {
			out = append(out, "-")
			continue
		}
		out = append(out, p.Address)
		tb.Release(p.Key, p.Address, 0, 0, false)
	}
	return strings.Join(out, " ")
}

func TestHash(t *testing.T) {
	// The value real uWSGI 2.0.21 showed in its stats (spec §2.9).
	if h := Hash("example.com"); h != 30778 {
		t.Fatalf("Hash(example.com) = %d, want 30778", h)
	}
}

func TestWRR(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nodes []wire.Subscription
		want  string
	}{
		// Spec §2.6, verified against real uWSGI: equal weights in list order
		// [B, A] serve A first; [A w=1, B w=3] serve B A B B repeatedly.
		{"equal", []wire.Subscription{sub("k", "B", 1), sub("k", "A", 1)}, "A B A B A B"},
		{"1:3", []wire.Subscription{sub("k", "A", 1), sub("k", "B", 3)}, "B A B B B A B B"},
		{"weight 0 is 1", []wire.Subscription{sub("k", "B", 0), sub("k", "A", 0)}, "A B A B"},
		{"2:3 acts as 1:1", []wire.Subscription{sub("k", "A", 2), sub("k", "B", 3)}, "B A B A"},
		{"one", []wire.Subscription{sub("k", "A", 5)}, "A A A"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := NewTable()
			for _, s := range tc.nodes {
				tb.Apply(s, t0, false)
			}
			if got := picks(t, tb, "k", len(strings.Fields(tc.want)), t0); got != tc.want {
				t.Fatalf("picks = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestApplyOutcomes(t *testing.T) {
	var logs []string
	tb := NewTable()
	tb.Log = func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }
	steps := []struct {
		s    wire.Subscription
		want Outcome
	}{
		{sub("example.com", "127.0.0.1:3031", 0), NewPool},
		{sub("example.com", "127.0.0.1:3032", 0), NewNode},
		{sub("example.com", "127.0.0.1:3031", 3), Refreshed},
		{wire.Subscription{Key: "example.com", Address: "127.0.0.1:9", Unsubscribe: true}, Unknown},
		{wire.Subscription{Key: "example.com", Address: "127.0.0.1:3031", Unsubscribe: true}, Unsubscribed},
		{wire.Subscription{Key: "example.com", Address: "127.0.0.1:3032", Unsubscribe: true}, Unsubscribed},
	}
	for i, st := range steps {
		if got := tb.Apply(st.s, t0, false); got != st.want {
			t.Fatalf("step %d: %v, want %v", i, got, st.want)
		}
	}
	if tb.Len() != 0 {
		t.Fatalf("slot left after the last node unsubscribed: %d", tb.Len())
	}
	want := []string{
		"new pool: example.com (hash key: 30778)",
		"example.com => new node: 127.0.0.1:3031",
		"example.com => new node: 127.0.0.1:3032",
		"example.com => marking 127.0.0.1:3031 as failed",
		"example.com => marking 127.0.0.1:3032 as failed",
	}
	if strings.Join(logs, "\n") != strings.Join(want, "\n") {
		t.Fatalf("logs:\n%s\nwant:\n%s", strings.Join(logs, "\n"), strings.Join(want, "\n"))
	}
}

func TestModifiersNotUpdatedOnRefresh(t *testing.T) {
	tb := NewTable()
	s := sub("k", "A", 1)
	s.Modifier1, s.Modifier2 = 5, 3
	tb.Apply(s, t0, false)
	s.Modifier1, s.Modifier2 = 7, 1
	tb.Apply(s, t0, false)
	p, ok := tb.Pick("k", t0)
	if !ok || p.Modifier1 != 5 || p.Modifier2 != 3 {
		t.Fatalf("pick = %+v %v, want modifiers 5/3 from the first announce", p, ok)
	}
}

func TestExpiry(t *testing.T) {
	var logs []string
	tb := NewTable()
	tb.Log = func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }
	tb.Apply(sub("k", "A", 1), t0, false)
	tb.Apply(sub("k", "B", 1), t0, false)
	tb.Apply(sub("k", "B", 1), t0.Add(10*time.Second), false)
	// 17 s is still fine, 19 s is not (spec §2.5).
	if got := picks(t, tb, "k", 2, t0.Add(17*time.Second)); got != "B A" {
		t.Fatalf("at +17s: %q", got)
	}
	if got := picks(t, tb, "k", 3, t0.Add(19*time.Second)); got != "B B B" {
		t.Fatalf("at +19s: %q", got)
	}
	if !strings.Contains(strings.Join(logs, "\n"), "k => marking A as failed (no announce received in 17 seconds)") {
		t.Fatalf("no expiry log: %q", logs)
	}
	if got := picks(t, tb, "k", 1, t0.Add(40*time.Second)); got != "-" {
		t.Fatalf("at +40s: %q, want no node", got)
	}
	if tb.Len() != 0 {
		t.Fatalf("expired slot kept")
	}
}

func TestFailover(t *testing.T) {
	tb := NewTable()
	tb.Apply(sub("k", "A", 1), t0, false)
	tb.Apply(sub("k", "B", 1), t0, false)
	p, _ := tb.Pick("k", t0)
	if p.Address != "B" {
		t.Fatalf("first pick %q", p.Address)
	}
	tb.Release(p.Key, p.Address, 0, 0, true) // B refused
	if got := picks(t, tb, "k", 3, t0); got != "A A A" {
		t.Fatalf("after failure: %q", got)
	}
	// A re-announce brings B back as a new node.
	if out := tb.Apply(sub("k", "B", 1), t0, false); out != NewNode {
		t.Fatalf("re-announce: %v", out)
	}
}

func TestDeadNodeKeptWhileInUse(t *testing.T) {
	tb := NewTable()
	tb.Apply(sub("k", "A", 1), t0, false)
	p, _ := tb.Pick("k", t0)
	tb.Apply(wire.Subscription{Key: "k", Address: "A", Unsubscribe: true}, t0, false)
	if _, ok := tb.Pick("k", t0); ok {
		t.Fatalf("death-marked node picked")
	}
	st := tb.Snapshot()
	if len(st) != 1 || len(st[0].Nodes) != 1 || !st[0].Nodes[0].DeathMark || st[0].Nodes[0].Ref != 1 {
		t.Fatalf("snapshot while in use: %+v", st)
	}
	tb.Release(p.Key, p.Address, 10, 20, false)
	if tb.Len() != 0 {
		t.Fatalf("node not removed after its last session")
	}
}

func TestStatsCounters(t *testing.T) {
	tb := NewTable()
	tb.Apply(sub("k", "A", 1), t0, false)
	p, _ := tb.Pick("k", t0)
	tb.Release(p.Key, p.Address, 100, 50, false)
	st := tb.Snapshot()[0]
	n := st.Nodes[0]
	if st.Hits != 1 || n.Requests != 1 || n.LastRequests != 1 || n.TX != 100 || n.RX != 50 || n.Ref != 0 || n.Weight != 1 {
		t.Fatalf("stats %+v %+v", st, n)
	}
	tb.Apply(sub("k", "A", 1), t0, false)
	if n := tb.Snapshot()[0].Nodes[0]; n.LastRequests != 0 || n.Requests != 1 {
		t.Fatalf("refresh did not reset last_requests: %+v", n)
	}
}

func TestLookupFallbacks(t *testing.T) {
	tb := NewTable()
	tb.Apply(sub(".example.com", "D", 1), t0, false)
	tb.Apply(sub("default", "F", 1), t0, false)
	if _, ok := tb.Pick("a.b.example.com", t0); ok {
		t.Fatalf("dot-split used while off")
	}
	tb.DotSplit = true
	if p, ok := tb.Pick("a.b.example.com", t0); !ok || p.Address != "D" || p.Key != ".example.com" {
		t.Fatalf("dot-split pick %+v %v", p, ok)
	}
	if _, ok := tb.Pick("other.org", t0); ok {
		t.Fatalf("fallback used while unset")
	}
	tb.FallbackKey = "default"
	if p, ok := tb.Pick("other.org", t0); !ok || p.Address != "F" {
		t.Fatalf("fallback pick %+v %v", p, ok)
	}
}

func TestLRC(t *testing.T) {
	tb := NewTable()
	tb.Algo = AlgoLRC
	tb.Apply(sub("k", "A", 1), t0, false)
	tb.Apply(sub("k", "B", 1), t0, false)
	a, _ := tb.Pick("k", t0)
	b, _ := tb.Pick("k", t0)
	if a.Address != "A" || b.Address != "B" {
		t.Fatalf("lrc picks %s %s", a.Address, b.Address)
	}
	tb.Release(b.Key, b.Address, 0, 0, false)
	if c, _ := tb.Pick("k", t0); c.Address != "B" {
		t.Fatalf("lrc took %s with A busy", c.Address)
	}
}

func TestReplay(t *testing.T) {
	tb := NewTable()
	s := sub("k", "A", 1)
	s.Unix = 1000
	if out := tb.Apply(s, t0, true); out != NewPool {
		t.Fatal(out)
	}
	if out := tb.Apply(s, t0, true); out != Replayed {
		t.Fatalf("same packet again: %v", out)
	}
	s.Unix = 1010
	if out := tb.Apply(s, t0, true); out != Refreshed {
		t.Fatalf("newer packet: %v", out)
	}
}

func TestParseAlgo(t *testing.T) {
	for in, want := range map[string]Algo{"": AlgoWRR, "wrr": AlgoWRR, "lrc": AlgoLRC, "wlrc": AlgoWLRC} {
		if got, err := ParseAlgo(in); err != nil || got != want {
			t.Errorf("ParseAlgo(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseAlgo("iphash"); err == nil {
		t.Errorf("unknown algo accepted")
	}
}

func TestKeyFile(t *testing.T) {
	if got := KeyFile("test.uwsgi.it:8000"); got != "test.uwsgi.it_8000.pem" {
		t.Fatal(got)
	}
}
