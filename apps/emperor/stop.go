package emperor

// stopper is a one-shot actor: it asks the emperor to stop (uWSGI's
// Ragnarok) or reload every vassal and reports the answer on a channel, then ends.
//
// Accepts  messageGo (its own start tick).
// Replies  nothing.
// Sends    nothing; it Calls the emperor with RequestStopAll or RequestReloadAll.
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

// ReloadVassals reloads every running vassal gracefully (uWSGI's SIGHUP to
// the emperor); rel/imperial calls it on SIGHUP. It returns how many were told.
func ReloadVassals(n gen.Node) (int, error) {
	done := make(chan stopResult, 1)
	if _, err := n.Spawn(func() gen.ProcessBehavior { return &stopper{} }, gen.ProcessOptions{}, done, 5*time.Second, emperor.RequestReloadAll{}); err != nil {
		return 0, err
	}
	r := <-done
	return r.stopped, r.err
}

// StopVassals stops every vassal gracefully (stop byte, then a group kill
// after the stop timeout) and waits until they are gone or timeout passes.
// rel/imperial calls it on SIGINT/SIGTERM/SIGQUIT before stopping the node, so
// that vassals get uWSGI's Ragnarok rather than the SIGKILL they would get
// when imperial exits. Without an emperor it returns at once.
func StopVassals(n gen.Node, timeout time.Duration) (int, error) {
	done := make(chan stopResult, 1)
	if _, err := n.Spawn(func() gen.ProcessBehavior { return &stopper{} }, gen.ProcessOptions{}, done, timeout, emperor.RequestStopAll{}); err != nil {
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
	request any
}

func (s *stopper) Init(args ...any) error {
	s.done, s.timeout, s.request = args[0].(chan stopResult), args[1].(time.Duration), args[2]
	return s.Send(s.PID(), messageGo{})
}

func (s *stopper) HandleMessage(from gen.PID, message any) error {
	secs := int(s.timeout / time.Second)
	if secs < 1 {
		secs = 1
	}
	r, err := s.CallWithTimeout(emperor.Name, s.request, secs)
	if errors.Is(err, gen.ErrProcessUnknown) {
		err = nil // no emperor here: nothing to stop
	}
	res := stopResult{err: err}
	switch resp := r.(type) {
	case emperor.ResponseStopAll:
		res.stopped = resp.Stopped
	case emperor.ResponseReloadAll:
		res.stopped = resp.Reloaded
	default:
		if err == nil && r != nil {
			res.err = fmt.Errorf("emperor: unexpected answer %T", r)
		}
	}
	s.done <- res
	return gen.TerminateReasonNormal
}
