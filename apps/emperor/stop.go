package emperor

// stopper is a one-shot actor: it asks the emperor to stop every vassal
// (uWSGI's Ragnarok) and reports the answer on a channel, then ends.
//
// Accepts  messageGo (its own start tick).
// Replies  nothing.
// Sends    nothing; it Calls the emperor with RequestStopAll.
// Spawns   nothing.
// Owns     nothing.

import (
	"errors"
	"fmt"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/emperor"
)

// StopVassals stops every vassal gracefully (stop byte, then a group kill
// after the stop timeout) and waits until they are gone or timeout passes.
// rel/imperial calls it on SIGINT/SIGTERM/SIGQUIT before stopping the node, so
// that vassals get uWSGI's Ragnarok rather than the SIGKILL they would get
// when imperial exits. Without an emperor it returns at once.
func StopVassals(n gen.Node, timeout time.Duration) (int, error) {
	done := make(chan stopResult, 1)
	if _, err := n.Spawn(func() gen.ProcessBehavior { return &stopper{} }, gen.ProcessOptions{}, done, timeout); err != nil {
		return 0, err
	}
	select {
	case r := <-done:
		return r.stopped, r.err
	case <-time.After(timeout + time.Second):
		return 0, errors.New("emperor: vassals still stopping")
	}
}

type stopResult struct {
	stopped int
	err     error
}

type messageGo struct{}

type stopper struct {
	act.Actor
	done    chan stopResult
	timeout time.Duration
}

func (s *stopper) Init(args ...any) error {
	s.done, s.timeout = args[0].(chan stopResult), args[1].(time.Duration)
	return s.Send(s.PID(), messageGo{})
}

func (s *stopper) HandleMessage(from gen.PID, message any) error {
	secs := int(s.timeout / time.Second)
	if secs < 1 {
		secs = 1
	}
	r, err := s.CallWithTimeout(emperor.Name, emperor.RequestStopAll{}, secs)
	if errors.Is(err, gen.ErrProcessUnknown) {
		err = nil // no emperor here: nothing to stop
	}
	res := stopResult{err: err}
	if resp, ok := r.(emperor.ResponseStopAll); ok {
		res.stopped = resp.Stopped
	} else if err == nil && r != nil {
		res.err = fmt.Errorf("emperor: unexpected answer %T", r)
	}
	s.done <- res
	return gen.TerminateReasonNormal
}
