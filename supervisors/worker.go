package supervisors

// WorkerSup supervises a uWSGI worker instance: rest_for_one over
//
//	imperial_extworker_pool   the external app's worker processes (--module,
//	                          --wsgi-file), when the app is external; first,
//	                          because requests are sent to it
//	imperial_uwsgi_rpc        the uWSGI RPC executors (modifier1 173 → the
//	                          node's RPC registry)
//	imperial_worker           the sockets, accept loops and app
//	imperial_subscriber_N     one announcer per --subscribe-to/--subscribe2,
//	                          last: a node is announced only once it listens,
//	                          and a restarted worker is announced again
//
// The pool replaces dead OS processes itself (uWSGI's master respawn); a pool
// crash restarts everything after it, so no request waits on a dead pool.
//
// Accepts  nothing beyond act.Supervisor's own messages.
// Replies  nothing.
// Sends    nothing.
// Spawns   the children above.
// Owns     no goroutine, socket or process.

import (
	"errors"
	"fmt"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/extworker"
	"imperial/actors/subscription"
	"imperial/actors/worker"
)

// WorkerSupName is the worker supervisor's registered name.
const WorkerSupName gen.Atom = "imperial_worker_sup"

// ExtWorkerPoolName is the external app's pool.
const ExtWorkerPoolName gen.Atom = "imperial_extworker_pool"

// ErrWorkerOptions: WorkerSup was started with bad options.
var ErrWorkerOptions = errors.New("supervisors: bad worker options")

// WorkerSupOptions say what WorkerSup starts. Worker.External must name
// ExtWorkerPoolName when Pool is set.
type WorkerSupOptions struct {
	Pool        *extworker.Options // nil: a native app
	RPC         *worker.RPCOptions // nil: modifier1 173 refused
	Worker      worker.Options
	Subscribers []subscription.AnnouncerOptions
}

// WorkerSup is the factory of the worker supervisor; spawn it with one
// WorkerSupOptions argument.
func WorkerSup() gen.ProcessBehavior { return &workerSup{} }

type workerSup struct {
	act.Supervisor
}

func (s *workerSup) Init(args ...any) (act.SupervisorSpec, error) {
	var spec act.SupervisorSpec
	if len(args) != 1 {
		return spec, fmt.Errorf("%w: want 1 argument, got %d", ErrWorkerOptions, len(args))
	}
	o, ok := args[0].(WorkerSupOptions)
	if !ok {
		return spec, fmt.Errorf("%w: want WorkerSupOptions, got %T", ErrWorkerOptions, args[0])
	}
	if o.Pool != nil {
		spec.Children = append(spec.Children, act.SupervisorChildSpec{
			Name: ExtWorkerPoolName, Factory: extworker.Factory, Args: []any{*o.Pool},
			Options: gen.ProcessOptions{MailboxSize: extworker.MailboxSize}})
	}
	if o.RPC != nil {
		spec.Children = append(spec.Children, act.SupervisorChildSpec{
			Name: worker.RPCName, Factory: worker.RPCFactory, Args: []any{*o.RPC}})
	}
	spec.Children = append(spec.Children, act.SupervisorChildSpec{
		Name: worker.Name, Factory: worker.Factory, Args: []any{o.Worker}})
	for i, a := range o.Subscribers {
		spec.Children = append(spec.Children, act.SupervisorChildSpec{
			Name:    gen.Atom(fmt.Sprintf("imperial_subscriber_%d", i+1)),
			Factory: subscription.AnnouncerFactory, Args: []any{a}})
	}
	spec.Type = act.SupervisorTypeRestForOne
	spec.Restart = act.SupervisorRestart{Strategy: act.SupervisorStrategyPermanent, Intensity: 5, Period: 10}
	return spec, nil
}
