// Package apps turns imperial's options (one ordered uWSGI-style option list from
// the command line and config files, apps/config) into ergo applications: one
// gen.ApplicationBehavior per service. Services are listed in one explicit table,
// Services; each service's package under apps/ reads the options it owns and
// builds its actors' typed Options.
//
// rel/imperial imports apps; apps imports supervisors, actors and apps/config.
package apps

import (
	"fmt"

	"ergo.services/ergo/gen"

	"imperial/apps/config"
	emperorapp "imperial/apps/emperor"
	mongrel2app "imperial/apps/mongrel2"
	"imperial/apps/router"
	"imperial/apps/worker"
	"imperial/node/rpc"
)

// Env is what every service may use besides its options.
type Env struct {
	NodeName gen.Atom      // this node's Erlang name; empty without --erlang
	Registry *rpc.Registry // the RPC stack erl, uWSGI RPC and Ernie share
	Binary   string        // the imperial binary, for vassals and workers
}

// Service is one kind of service: Wants says whether the options ask for it,
// Create builds its application, Keys are the options it owns (any other key is
// refused by the command line).
type Service struct {
	Name   string
	Keys   []string
	Wants  func(opts []config.Option) bool
	Create func(env Env, opts []config.Option) (gen.ApplicationBehavior, error)
}

// Keys lists every option some service owns.
func Keys() []string {
	var keys []string
	for _, s := range Services() {
		keys = append(keys, s.Keys...)
	}
	return keys
}

// Wanted names the services the options ask for, in start order.
func Wanted(opts []config.Option) []string {
	var names []string
	for _, s := range Services() {
		if s.Wants(opts) {
			names = append(names, s.Name)
		}
	}
	return names
}

// Services is the table of every service imperial runs, in start order.
func Services() []Service {
	return []Service{
		{
			Name: "router", Keys: router.Keys(), Wants: router.Wants,
			Create: func(env Env, opts []config.Option) (gen.ApplicationBehavior, error) {
				return router.Create(router.Env{Registry: env.Registry}, opts)
			},
		},
		{
			Name: "worker", Keys: worker.Keys(), Wants: worker.Wants,
			Create: func(env Env, opts []config.Option) (gen.ApplicationBehavior, error) {
				return worker.Create(worker.Env{Registry: env.Registry, Erlang: env.NodeName != ""}, opts)
			},
		},
		{
			// after the worker: with --socket/--http too, the handlers use its pool
			Name: "mongrel2", Keys: mongrel2app.Keys(), Wants: mongrel2app.Wants,
			Create: func(env Env, opts []config.Option) (gen.ApplicationBehavior, error) {
				return mongrel2app.Create(mongrel2app.Env{Erlang: env.NodeName != ""}, opts)
			},
		},
		{
			// last: an imperial vassal tells its emperor it is ready when this starts
			Name: "emperor", Keys: emperorapp.Keys(), Wants: emperorapp.Wants,
			Create: func(env Env, opts []config.Option) (gen.ApplicationBehavior, error) {
				return emperorapp.Create(emperorapp.Env{NodeName: env.NodeName, Registry: env.Registry, Binary: env.Binary}, opts)
			},
		},
	}
}

// Build creates the applications the options ask for.
func Build(env Env, opts []config.Option) ([]gen.ApplicationBehavior, error) {
	var out []gen.ApplicationBehavior
	for _, s := range Services() {
		if !s.Wants(opts) {
			continue
		}
		a, err := s.Create(env, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
		out = append(out, a)
	}
	return out, nil
}
