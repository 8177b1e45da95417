package supervisors

// Mongrel2Sup supervises imperial's Mongrel2 handlers (--zeromq): rest_for_one
// over
//
//	imperial_mongrel2_pool   the external app's worker processes, only when
//	                         the app is external and no worker service runs
//	                         (with --socket/--http the handlers share the
//	                         worker's imperial_extworker_pool); first, because
//	                         requests are sent to it
//	imperial_mongrel2        the handlers (PULL/PUB meta processes) and the app
//
// A pool crash restarts the handlers after it, so no request waits on a dead
// pool; a handler restart reconnects to Mongrel2, which needs no restart.
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
	"imperial/actors/mongrel2"
)

// Mongrel2SupName is the Mongrel2 supervisor's registered name.
const Mongrel2SupName gen.Atom = "imperial_mongrel2_sup"

// Mongrel2PoolName is the handlers' own external-app pool.
const Mongrel2PoolName gen.Atom = "imperial_mongrel2_pool"

// ErrMongrel2Options: Mongrel2Sup was started with bad options.
var ErrMongrel2Options = errors.New("supervisors: bad mongrel2 options")

// Mongrel2SupOptions say what Mongrel2Sup starts. Handler.External must name
// Mongrel2PoolName when Pool is set.
type Mongrel2SupOptions struct {
	Pool    *extworker.Options // nil: a native app, or the worker's pool
	Handler mongrel2.Options
}

// Mongrel2Sup is the factory of the Mongrel2 supervisor; spawn it with one
// Mongrel2SupOptions argument.
func Mongrel2Sup() gen.ProcessBehavior { return &mongrel2Sup{} }

type mongrel2Sup struct {
	act.Supervisor
}

func (s *mongrel2Sup) Init(args ...any) (act.SupervisorSpec, error) {
	var spec act.SupervisorSpec
	if len(args) != 1 {
		return spec, fmt.Errorf("%w: want 1 argument, got %d", ErrMongrel2Options, len(args))
	}
	o, ok := args[0].(Mongrel2SupOptions)
	if !ok {
		return spec, fmt.Errorf("%w: want Mongrel2SupOptions, got %T", ErrMongrel2Options, args[0])
	}
	if o.Pool != nil {
		spec.Children = append(spec.Children, act.SupervisorChildSpec{
			Name: Mongrel2PoolName, Factory: extworker.Factory, Args: []any{*o.Pool},
			Options: gen.ProcessOptions{MailboxSize: extworker.MailboxSize}})
	}
	spec.Children = append(spec.Children, act.SupervisorChildSpec{
		Name: mongrel2.Name, Factory: mongrel2.Factory, Args: []any{o.Handler}})
	spec.Type = act.SupervisorTypeRestForOne
	spec.Restart = act.SupervisorRestart{Strategy: act.SupervisorStrategyPermanent, Intensity: 5, Period: 10}
	return spec, nil
}
