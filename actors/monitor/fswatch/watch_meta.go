package fswatch

// watchMeta owns the fsnotify watcher of one file-system monitor.
//
// Accepts  nothing (Terminate ends it).
// Replies  nothing.
// Sends    messageScanned to its parent after each successful scan: at start,
//          after a burst of relevant changes (Quiet/MaxWait), every Rescan.
// Spawns   nothing.
// Owns     the fsnotify watcher (created before the spawn, closed when Start
//          ends) and the set of watched directories, kept equal to what the
//          last scan asked for.

import (
	"path/filepath"
	"sync"
	"time"

	"ergo.services/ergo/gen"
	"github.com/fsnotify/fsnotify"
)

type watchMeta struct {
	proc gen.MetaProcess
	o    Options
	w    *fsnotify.Watcher
	stop chan struct{}
	once sync.Once
}

func newWatchMeta(o Options) (*watchMeta, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	return &watchMeta{o: o, w: w, stop: make(chan struct{})}, nil
}

func (m *watchMeta) close() { m.w.Close() }

func (m *watchMeta) Init(p gen.MetaProcess) error {
	m.proc = p
	return nil
}

func (m *watchMeta) Start() error {
	defer m.w.Close()
	watched := make(map[string]bool)
	lastErr := ""

	// sync makes the watch set equal to dirs; it reports whether a directory was added.
	sync := func(dirs []string) bool {
		want := make(map[string]bool, len(dirs))
		added := false
		for _, d := range dirs {
			d = filepath.Clean(d)
			want[d] = true
			if watched[d] {
				continue
			}
			if err := m.w.Add(d); err == nil {
				watched[d] = true
				added = true
			}
		}
		for d := range watched {
			if !want[d] {
				m.w.Remove(d)
				delete(watched, d)
			}
		}
		return added
	}
	scan := func() {
		// a directory that appears may already hold files created before its
		// watch existed: one more pass finds them
		for pass := 0; pass < 3; pass++ {
			vassals, dirs, err := m.o.Scan()
			if err != nil {
				if err.Error() != lastErr {
					m.proc.Log().Warning("[emperor] %s: %v (its vassals are kept)", m.o.Source, err)
					lastErr = err.Error()
				}
				sync(dirs)
				return
			}
			if lastErr != "" {
				m.proc.Log().Info("[emperor] %s: readable again", m.o.Source)
				lastErr = ""
			}
			added := sync(dirs)
			m.proc.Send(m.proc.Parent(), messageScanned{vassals: vassals})
			if !added {
				return
			}
		}
	}

	scan()
	ticker := time.NewTicker(m.o.Rescan)
	defer ticker.Stop()
	var (
		pending *time.Timer
		fire    <-chan time.Time
		first   time.Time
	)
	for {
		select {
		case <-m.stop:
			return nil
		case ev, ok := <-m.w.Events:
			if !ok {
				return nil
			}
			if !m.relevant(ev) {
				continue
			}
			now := time.Now()
			if fire == nil {
				first = now
				pending = time.NewTimer(m.o.Quiet)
				fire = pending.C
			} else if now.Sub(first) < m.o.MaxWait-m.o.Quiet {
				pending.Reset(m.o.Quiet)
			}
		case err, ok := <-m.w.Errors:
			if !ok {
				return nil
			}
			m.proc.Log().Warning("[emperor] %s: watcher: %v (rescanning)", m.o.Source, err)
			scan()
		case <-fire:
			fire, pending = nil, nil
			scan()
		case <-ticker.C:
			scan()
		}
	}
}

func (m *watchMeta) relevant(ev fsnotify.Event) bool {
	if ev.Has(fsnotify.Create) || ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		return true
	}
	return m.o.Relevant == nil || m.o.Relevant(filepath.Base(ev.Name))
}

func (m *watchMeta) HandleMessage(from gen.PID, message any) error { return nil }

func (m *watchMeta) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return nil, nil
}

func (m *watchMeta) Terminate(reason error) { m.once.Do(func() { close(m.stop) }) }

func (m *watchMeta) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"source": m.o.Source}
}
