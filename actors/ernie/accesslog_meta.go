package ernie

// The access log (-a FILE): a meta process of ernie_server.
//
// Accepts  messageAccess (append one line).
// Owns     the accesslog.Writer (its file) and a timer loop (Start) that
//          reopens the path within CheckInterval when the file was moved or
//          deleted, even without traffic, as Ernie does every 10 s.

import (
	"sync"
	"time"

	"ergo.services/ergo/gen"

	"imperial/ernie/accesslog"
)

// CheckInterval is how often the access-log path is checked.
const CheckInterval = 10 * time.Second

type accessLogMeta struct {
	gen.MetaProcess
	mu       sync.Mutex // the Writer is used by Start's timer and HandleMessage
	w        *accesslog.Writer
	interval time.Duration
	done     chan struct{}
	once     sync.Once
	failing  bool // a write error was logged; log again only after a success
}

func (a *accessLogMeta) Init(process gen.MetaProcess) error {
	a.MetaProcess = process
	a.done = make(chan struct{})
	return nil
}

func (a *accessLogMeta) Start() error {
	t := time.NewTicker(a.interval)
	defer t.Stop()
	for {
		select {
		case <-a.done:
			return nil
		case <-t.C:
			a.mu.Lock()
			_, err := a.w.Check()
			a.mu.Unlock()
			if err != nil {
				a.Log().Warning("ernie: access log: %v", err)
			}
		}
	}
}

func (a *accessLogMeta) HandleMessage(from gen.PID, message any) error {
	m, ok := message.(messageAccess)
	if !ok {
		return nil
	}
	a.mu.Lock()
	err := a.w.Write(m.entry)
	a.mu.Unlock()
	switch {
	case err != nil && !a.failing:
		a.failing = true
		a.Log().Error("ernie: access log: %v", err)
	case err == nil:
		a.failing = false
	}
	return nil
}

func (a *accessLogMeta) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}

func (a *accessLogMeta) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"path": a.w.Path()}
}

func (a *accessLogMeta) Terminate(reason error) {
	a.once.Do(func() { close(a.done) })
	a.mu.Lock()
	a.w.Close()
	a.mu.Unlock()
}
