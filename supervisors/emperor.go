package supervisors

// EmperorSup supervises the uWSGI Emperor: rest_for_one over
//
//	imperial_emperor             the vassal table; it owns the vassals itself
//	                             (LinkChild + trapped exits), so a vassal crash
//	                             never reaches this supervisor
//	imperial_emperor_monitor_N   one per --emperor spec, after the emperor: if
//	                             the emperor restarts (its vassals die with it),
//	                             the monitors restart too and their first scan
//	                             refills the new table at once
//	imperial_vassal_agent        when this imperial is itself a vassal; last, so
//	                             that its restart touches nothing else
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

	"imperial/actors/emperor"
	"imperial/actors/vassal/agent"
)

// EmperorSupName is the emperor supervisor's registered name.
const EmperorSupName gen.Atom = "imperial_emperor_sup"

// ErrEmperorOptions: EmperorSup was started with bad options.
var ErrEmperorOptions = errors.New("supervisors: bad emperor options")

// EmperorSupOptions say which children EmperorSup starts.
type EmperorSupOptions struct {
	Emperor  *emperor.Options // nil: no emperor (a plain vassal)
	Monitors []Monitor        // one per --emperor spec, built from actors/monitor's table
	Agent    *agent.Options   // the vassal side, when this imperial is a vassal
}

// Monitor is one monitor child: its scheme's factory and options.
type Monitor struct {
	Spec    string // the --emperor spec, for messages
	Factory gen.ProcessFactory
	Options any
}

// EmperorSup is the factory of the emperor supervisor; spawn it with one
// EmperorSupOptions argument.
func EmperorSup() gen.ProcessBehavior { return &emperorSup{} }

type emperorSup struct {
	act.Supervisor
}

func (s *emperorSup) Init(args ...any) (act.SupervisorSpec, error) {
	var spec act.SupervisorSpec
	if len(args) != 1 {
		return spec, fmt.Errorf("%w: want 1 argument, got %d", ErrEmperorOptions, len(args))
	}
	o, ok := args[0].(EmperorSupOptions)
	if !ok {
		return spec, fmt.Errorf("%w: want EmperorSupOptions, got %T", ErrEmperorOptions, args[0])
	}
	if o.Emperor == nil && len(o.Monitors) > 0 {
		return spec, fmt.Errorf("%w: monitors without an emperor", ErrEmperorOptions)
	}
	if o.Emperor != nil {
		spec.Children = append(spec.Children, act.SupervisorChildSpec{
			Name: emperor.Name, Factory: emperor.Factory, Args: []any{*o.Emperor}})
	}
	for i, m := range o.Monitors {
		spec.Children = append(spec.Children, act.SupervisorChildSpec{
			Name:    gen.Atom(fmt.Sprintf("%s_monitor_%d", emperor.Name, i+1)),
			Factory: m.Factory, Args: []any{m.Options}})
	}
	if o.Agent != nil {
		spec.Children = append(spec.Children, act.SupervisorChildSpec{
			Name: agent.Name, Factory: agent.Factory, Args: []any{*o.Agent}})
	}
	if len(spec.Children) == 0 {
		return spec, fmt.Errorf("%w: nothing to supervise", ErrEmperorOptions)
	}
	spec.Type = act.SupervisorTypeRestForOne
	spec.Restart = act.SupervisorRestart{Strategy: act.SupervisorStrategyPermanent, Intensity: 5, Period: 10}
	return spec, nil
}
