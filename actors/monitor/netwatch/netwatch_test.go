package netwatch_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/emperor"
	"imperial/actors/monitor/netwatch"
	"imperial/actors/monitor/netwatch/nwtest"
)

// source is a test source: netwatch.Actor whose meta processes play a script.
type source struct{ netwatch.Actor }

func (s *source) Init(args ...any) error { return s.Begin(args[0].(netwatch.Options)) }

// scriptMeta sends what the test puts in script to its parent; an end
// item makes it send MessageDown and stop, like a lost connection.
type scriptMeta struct {
	proc   gen.MetaProcess
	script chan any
	stop   chan struct{}
}

type end struct{ err error }

func (m *scriptMeta) Init(p gen.MetaProcess) error { m.proc = p; return nil }
func (m *scriptMeta) Start() error {
	for {
		select {
		case <-m.stop:
			return nil
		case item := <-m.script:
			if e, ok := item.(end); ok {
				m.proc.Send(m.proc.Parent(), netwatch.MessageDown{Err: e.err})
				return nil
			}
			m.proc.Send(m.proc.Parent(), item)
		}
	}
}
func (m *scriptMeta) HandleMessage(gen.PID, any) error                   { return nil }
func (m *scriptMeta) HandleCall(gen.PID, gen.Ref, any) (any, error)      { return nil, nil }
func (m *scriptMeta) Terminate(error)                                    { close(m.stop) }
func (m *scriptMeta) HandleInspect(gen.PID, ...string) map[string]string { return nil }

type harness struct {
	*nwtest.Emperor
	script   chan any
	connects atomic.Int32
}

func start(t *testing.T) *harness {
	t.Helper()
	h := &harness{Emperor: nwtest.Start(t), script: make(chan any)}
	h.Spawn(t, func() gen.ProcessBehavior { return &source{} }, netwatch.Options{
		Source:     "test://x",
		Emperor:    h.Name,
		MinBackoff: time.Millisecond,
		MaxBackoff: 10 * time.Millisecond,
		Connect: func() (gen.MetaBehavior, error) {
			h.connects.Add(1)
			return &scriptMeta{script: h.script, stop: make(chan struct{})}, nil
		},
	})
	return h
}

// play hands items to the current meta process (blocking until one takes each).
func (h *harness) play(t *testing.T, items ...any) {
	t.Helper()
	for _, it := range items {
		select {
		case h.script <- it:
		case <-time.After(5 * time.Second):
			t.Fatalf("no meta process took %T", it)
		}
	}
}

// expect takes the next snapshot: it must list want and come from the test source.
func (h *harness) expect(t *testing.T, want string) emperor.MessageSnapshot {
	t.Helper()
	s := h.Expect(t, 5*time.Second, want)
	if s.Source != "test://x" {
		t.Fatalf("source %q", s.Source)
	}
	return s
}

func vc(name string, sec int64) emperor.VassalConfig {
	return emperor.VassalConfig{Name: name, Config: []byte("[uwsgi]\n"), MTime: time.Unix(sec, 0), UID: -1, GID: -1}
}

func set(vs ...emperor.VassalConfig) netwatch.MessageSet { return netwatch.MessageSet{Vassals: vs} }

func TestSetSnapshots(t *testing.T) {
	h := start(t)
	// an empty first set is a snapshot: the source has no vassals
	h.play(t, netwatch.MessageUp{}, set())
	h.expect(t, "")
	h.play(t, set(vc("a.ini", 1), vc("b.ini", 1)))
	h.expect(t, "a.ini,b.ini")
	// the same set again sends nothing: the next snapshot is the next change
	h.play(t, set(vc("b.ini", 1), vc("a.ini", 1)), set(vc("a.ini", 2), vc("b.ini", 1)))
	s := h.expect(t, "a.ini,b.ini")
	if !s.Vassals[0].MTime.Equal(time.Unix(2, 0)) {
		t.Errorf("a.ini mtime %v", s.Vassals[0].MTime)
	}
	h.play(t, set(vc("b.ini", 1)))
	h.expect(t, "b.ini")
}

func TestDownKeepsVassalsAndReconnects(t *testing.T) {
	h := start(t)
	h.play(t, netwatch.MessageUp{}, set(vc("a.ini", 1)))
	h.expect(t, "a.ini")
	before := h.connects.Load()
	h.play(t, end{errors.New("connection refused")})
	// reconnects (a new meta process takes the next item), sending nothing meanwhile
	h.play(t, end{errors.New("connection refused")}, end{errors.New("still refused")}, netwatch.MessageUp{})
	if got := h.connects.Load(); got < before+3 {
		t.Errorf("connects %d, want ≥ %d", got, before+3)
	}
	h.None(t)
	h.play(t, set(vc("a.ini", 1), vc("c.ini", 1)))
	h.expect(t, "a.ini,c.ini")
}

func TestProblemKeepsTheVassal(t *testing.T) {
	h := start(t)
	h.play(t, set(vc("a.ini", 1), vc("b.ini", 1)))
	h.expect(t, "a.ini,b.ini")
	// a.ini's row broke: it stays as it was; nothing changed, nothing sent
	bad := netwatch.MessageSet{Vassals: []emperor.VassalConfig{vc("b.ini", 1)}, Problems: []netwatch.Problem{{Name: "a.ini", Err: errors.New("bad ts")}, {Err: errors.New("NULL name")}}}
	h.play(t, bad, bad)
	// a problem for a name never seen adds nothing
	h.play(t, netwatch.MessageSet{Vassals: []emperor.VassalConfig{vc("b.ini", 2)}, Problems: []netwatch.Problem{{Name: "new.ini", Err: errors.New("bad")}, {Name: "a.ini", Err: errors.New("bad ts")}}})
	s := h.expect(t, "a.ini,b.ini")
	if !s.Vassals[0].MTime.Equal(time.Unix(1, 0)) {
		t.Errorf("kept a.ini has mtime %v", s.Vassals[0].MTime)
	}
	// fixed, then gone
	h.play(t, set(vc("b.ini", 2)))
	h.expect(t, "b.ini")
}

func TestTouchDestroy(t *testing.T) {
	h := start(t)
	touch := func(name string) netwatch.MessageTouch {
		return netwatch.MessageTouch{Vassal: emperor.VassalConfig{Name: name, Config: []byte("x"), UID: -1, GID: -1}}
	}
	h.play(t, netwatch.MessageUp{}, touch("a.ini"))
	first := h.expect(t, "a.ini").Vassals[0].MTime
	if first.IsZero() {
		t.Fatal("touch not stamped")
	}
	// touches in a burst: every one is strictly newer
	prev := first
	for i := 0; i < 5; i++ {
		h.play(t, touch("a.ini"))
		mt := h.expect(t, "a.ini").Vassals[0].MTime
		if !mt.After(prev) {
			t.Fatalf("touch %d: mtime %v not after %v", i, mt, prev)
		}
		prev = mt
	}
	// destroying an unknown name sends nothing; the next snapshot is b.ini's
	h.play(t, netwatch.MessageDestroy{Name: "nope.ini"}, touch("b.ini"))
	h.expect(t, "a.ini,b.ini")
	// vassals survive a lost connection
	h.play(t, end{errors.New("broker gone")}, netwatch.MessageUp{}, netwatch.MessageDestroy{Name: "a.ini"})
	h.expect(t, "b.ini")
	// a touch with its own stamp keeps it
	h.play(t, netwatch.MessageTouch{Vassal: vc("c.ini", 7)})
	s := h.expect(t, "b.ini,c.ini")
	if !s.Vassals[1].MTime.Equal(time.Unix(7, 0)) {
		t.Errorf("c.ini mtime %v", s.Vassals[1].MTime)
	}
}

func TestBeginChecksOptions(t *testing.T) {
	var a netwatch.Actor
	if err := a.Begin(netwatch.Options{}); !errors.Is(err, netwatch.ErrOptions) {
		t.Errorf("err %v", err)
	}
}
