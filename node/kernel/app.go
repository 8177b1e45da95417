package kernel

import (
	"fmt"
	"runtime"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/node/etf"
	"imperial/node/rpc"
)

// Name is the kernel application.
const Name gen.Atom = "imperial_kernel"

var badarg = etf.Atom("badarg")

// Options configure the kernel processes.
type Options struct {
	Registry *rpc.Registry // the RPC stack; required
	Workers  int           // number of RPC workers (imperial_rpc_N); 0 means DefaultWorkers()
}

func optionsArg(args []any) (Options, error) {
	if len(args) != 1 {
		return Options{}, fmt.Errorf("kernel: want 1 argument (Options), got %d", len(args))
	}
	o, ok := args[0].(Options)
	if !ok {
		return Options{}, fmt.Errorf("kernel: want Options, got %T", args[0])
	}
	if o.Registry == nil {
		return Options{}, fmt.Errorf("kernel: Options.Registry is nil")
	}
	return o, nil
}

// CreateApp returns the kernel application.
func CreateApp(o Options) gen.ApplicationBehavior {
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers()
	}
	return &app{opts: o}
}

// DefaultWorkers is the default number of RPC workers.
func DefaultWorkers() int { return 4 * runtime.GOMAXPROCS(0) }

type app struct{ opts Options }

func (a *app) Load(node gen.Node, args ...any) (gen.ApplicationSpec, error) {
	return gen.ApplicationSpec{
		Name:        Name,
		Description: "what every BEAM node answers",
		// permanent: without these processes the node is no Erlang node at all
		Mode: gen.ApplicationModePermanent,
		Group: []gen.ApplicationMemberSpec{
			{Name: "imperial_kernel_sup", Factory: factorySup, Args: []any{a.opts}},
		},
	}, nil
}

func (a *app) Start(mode gen.ApplicationMode) {}
func (a *app) Terminate(reason error)         {}

// kernel_sup: one_for_all with intensity 0, as OTP's net_sup.
//
// Spawns   net_kernel, rex, global_name_server, imperial_echo, imperial_rpc_0..N-1.
type sup struct{ act.Supervisor }

var _ act.SupervisorBehavior = (*sup)(nil)

func factorySup() gen.ProcessBehavior { return &sup{} }

func (s *sup) Init(args ...any) (act.SupervisorSpec, error) {
	o, err := optionsArg(args)
	if err != nil {
		return act.SupervisorSpec{}, err
	}
	children := []act.SupervisorChildSpec{
		{Name: NetKernelName, Factory: factoryNetKernel},
		{Name: RexName, Factory: factoryRex, Args: []any{o}},
		{Name: GlobalName, Factory: factoryGlobal},
		{Name: EchoName, Factory: factoryEcho},
	}
	for _, name := range RPCWorkerNames(o.Workers) {
		children = append(children, act.SupervisorChildSpec{Name: name, Factory: factoryRPCWorker, Args: []any{o}})
	}
	return act.SupervisorSpec{
		Type: act.SupervisorTypeAllForOne,
		Restart: act.SupervisorRestart{
			Strategy:  act.SupervisorStrategyPermanent,
			Intensity: 0,
		},
		Children: children,
	}, nil
}
