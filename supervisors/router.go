package supervisors

// RouterSup supervises the routers of this node: rest_for_one over
//
//	imperial_subscription   the subscription server: the key → nodes table every
//	                        router asks; first, because the routers need it
//	imperial_fastrouter     the FastRouter (--fastrouter), when asked for
//	imperial_http_router    the HTTP front (--http in router mode), when asked for
//
// If the subscription server restarts (its table is lost), the routers after it
// restart too, so no session waits on a pick the dead table made; nodes come back
// with their next announce (every 10 s). A router restart touches nothing else.
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

	"imperial/actors/fastrouter"
	httpfront "imperial/actors/http"
	"imperial/actors/subscription"
)

// RouterSupName is the router supervisor's registered name.
const RouterSupName gen.Atom = "imperial_router_sup"

// FastRouterName and HTTPRouterName are the routers' registered names.
const (
	FastRouterName gen.Atom = "imperial_fastrouter"
	HTTPRouterName gen.Atom = "imperial_http_router"
)

// ErrRouterOptions: RouterSup was started with bad options.
var ErrRouterOptions = errors.New("supervisors: bad router options")

// RouterSupOptions say which routers RouterSup starts.
type RouterSupOptions struct {
	Subscription subscription.Options
	FastRouter   *fastrouter.Options // nil: no FastRouter
	HTTP         *httpfront.Options  // nil: no HTTP front
}

// RouterSup is the factory of the router supervisor; spawn it with one
// RouterSupOptions argument.
func RouterSup() gen.ProcessBehavior { return &routerSup{} }

type routerSup struct {
	act.Supervisor
}

func (s *routerSup) Init(args ...any) (act.SupervisorSpec, error) {
	var spec act.SupervisorSpec
	if len(args) != 1 {
		return spec, fmt.Errorf("%w: want 1 argument, got %d", ErrRouterOptions, len(args))
	}
	o, ok := args[0].(RouterSupOptions)
	if !ok {
		return spec, fmt.Errorf("%w: want RouterSupOptions, got %T", ErrRouterOptions, args[0])
	}
	spec.Children = append(spec.Children, act.SupervisorChildSpec{
		Name: subscription.Name, Factory: subscription.Factory, Args: []any{o.Subscription},
		Options: gen.ProcessOptions{MailboxSize: subscription.MailboxSize}})
	if o.FastRouter != nil {
		spec.Children = append(spec.Children, act.SupervisorChildSpec{
			Name: FastRouterName, Factory: fastrouter.Factory, Args: []any{*o.FastRouter}})
	}
	if o.HTTP != nil {
		spec.Children = append(spec.Children, act.SupervisorChildSpec{
			Name: HTTPRouterName, Factory: httpfront.Factory, Args: []any{*o.HTTP}})
	}
	spec.Type = act.SupervisorTypeRestForOne
	spec.Restart = act.SupervisorRestart{Strategy: act.SupervisorStrategyPermanent, Intensity: 5, Period: 10}
	return spec, nil
}
