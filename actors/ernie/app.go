package ernie

// The Ernie application and its supervisor.
//
// ernie_sup (one_for_one, 5 restarts in 10 s, children started in order):
//   ernie_beam           first, so the peer boots while the rest starts
//   ernie_pool_<module>  one per external entry, mailbox extworker.MailboxSize
//   ernie_server         last: it subscribes to ernie_beam and sends to pools
//
// Accepts  nothing (a supervisor).
// Spawns   the children above.
// Owns     nothing.

import (
	"fmt"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/extworker"
	"imperial/ernie"
	"imperial/ernie/config"
)

// CreateApp returns the Ernie application. It checks the options that can
// be checked without starting anything: every native entry without
// codepaths names a module of Natives.
func CreateApp(o Options) (gen.ApplicationBehavior, error) {
	if _, err := ernie.NewRouter(o.Specs, o.Natives, nil); err != nil {
		return nil, err
	}
	if o.Listen == "" && o.Listener == nil {
		return nil, fmt.Errorf("ernie: Options need Listen or Listener")
	}
	return &app{opts: o}, nil
}

type app struct{ opts Options }

func (a *app) Load(node gen.Node, args ...any) (gen.ApplicationSpec, error) {
	return gen.ApplicationSpec{
		Name:        AppName,
		Description: "Ernie BERT-RPC server",
		// permanent: imperial ernie exists to run this application; if
		// its supervisor gives up, the node stops and the CLI exits.
		Mode:  gen.ApplicationModePermanent,
		Group: []gen.ApplicationMemberSpec{{Name: SupName, Factory: Factory, Args: []any{a.opts}}},
	}, nil
}

func (a *app) Start(mode gen.ApplicationMode) {}
func (a *app) Terminate(reason error)         {}

// Factory returns the ernie_sup supervisor; spawn it with one Options to
// run Ernie without the application (CreateApp's application runs it as
// its only member).
func Factory() gen.ProcessBehavior { return &sup{} }

var _ act.SupervisorBehavior = (*sup)(nil)

type sup struct{ act.Supervisor }

func (s *sup) Init(args ...any) (act.SupervisorSpec, error) {
	o, err := optionsArg(args)
	if err != nil {
		return act.SupervisorSpec{}, err
	}
	var children []act.SupervisorChildSpec
	router, err := ernie.NewRouter(o.Specs, o.Natives, nil)
	if err != nil {
		return act.SupervisorSpec{}, err
	}
	// The table of native Erlang calls outlives a restart of ernie_beam,
	// which completes them, and of ernie_server, whose connections add them.
	o.calls = newErlCalls()
	if mods, paths := router.ErlangModules(); len(mods) > 0 {
		children = append(children, act.SupervisorChildSpec{Name: BeamName, Factory: factoryBeam,
			Options: gen.ProcessOptions{MailboxSize: beamMailbox},
			Args:    []any{beamOptions{BeamOptions: o.Beam, modules: mods, codepaths: paths, calls: o.calls}}})
	}
	for _, sp := range o.Specs {
		if sp.Type != config.External {
			continue
		}
		wo := extworker.Options{Command: sp.Command, Count: sp.Count, MaxQueue: o.MaxQueue, MaxPacket: o.MaxPacket,
			Timeout: o.CallTimeout, Stdout: o.WorkerStdout, Stderr: o.WorkerStderr}
		children = append(children, act.SupervisorChildSpec{Name: PoolName(sp.Module), Factory: extworker.Factory,
			Options: gen.ProcessOptions{MailboxSize: extworker.MailboxSize}, Args: []any{wo}})
	}
	children = append(children, act.SupervisorChildSpec{Name: ServerName, Factory: factoryServer,
		Options: gen.ProcessOptions{MailboxSize: ServerMailbox}, Args: []any{o}})
	return act.SupervisorSpec{
		Type:     act.SupervisorTypeOneForOne,
		Children: children,
		Restart:  act.SupervisorRestart{Strategy: act.SupervisorStrategyPermanent, Intensity: 5, Period: 10},
	}, nil
}
