package ernie

// ernie_beam: owns the BEAM peer that runs native Erlang modules.
//
// Accepts  MessageBeamSubscribe (from ernie_server); from the peer, the
//          tuple {ernie_beam_ready, Node, [{Module, Exports | {error, R}}],
//          RPC} and the replies of its call server (erlcalls.go);
//          from its meta: messageBeamExit; from itself: messageBeamStart.
// Sends    MessageBeamReady to the subscribers, each time the peer is ready.
// Spawns   one beam meta (the erl OS process), again after it exits, with a
//          growing delay while it keeps dying young.
// Owns     the peer's readiness state; completes the calls of the shared
//          erlCalls table from the replies, opens it when the peer reports
//          ready, and closes it (failing every call) when the peer exits.

import (
	"fmt"
	"strings"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/ernie"
	"imperial/node/etf"
)

// Defaults of BeamOptions.
const (
	DefaultBeamTimeout = time.Minute
	beamMinUptime      = 5 * time.Second
	beamMaxBackoff     = 10 * time.Second
	// beamMailbox bounds ernie_beam's mailbox: the peer's reports,
	// subscriptions and the replies of every call in flight.
	beamMailbox = maxErlCalls + 256
)

// BeamOptions describe the BEAM peer that runs the native Erlang modules.
type BeamOptions struct {
	// Erl is the erl program ("" → "erl").
	Erl string
	// NameFlag is "-name" or "-sname", matching the imperial node's mode;
	// Name is its argument.
	NameFlag, Name string
	// Cookie is the distribution cookie (the imperial node's).
	Cookie string
	// Imperial is the full name of the imperial node the peer reports to.
	Imperial gen.Atom
	// Extra are more erl arguments (Ernie's -E / --erlang), before -eval.
	Extra []string
	// Timeout bounds the first start (0 → DefaultBeamTimeout).
	Timeout time.Duration
}

// beamOptions is what ernie_beam is spawned with.
type beamOptions struct {
	BeamOptions
	modules, codepaths []string
	calls              *erlCalls
}

type messageBeamStart struct{}

type messageBeamExit struct{ reason error }

func factoryBeam() gen.ProcessBehavior { return &beam{} }

var _ act.ActorBehavior = (*beam)(nil)

type beam struct {
	act.Actor
	opts     beamOptions
	running  bool
	started  time.Time
	failures int
	ready    *MessageBeamReady
	subs     []gen.PID
}

func (b *beam) Init(args ...any) error {
	if len(args) != 1 {
		return fmt.Errorf("ernie_beam: want 1 argument (beamOptions), got %d", len(args))
	}
	o, ok := args[0].(beamOptions)
	if !ok {
		return fmt.Errorf("ernie_beam: want beamOptions, got %T", args[0])
	}
	if o.NameFlag != "-name" && o.NameFlag != "-sname" || o.Name == "" || o.Imperial == "" {
		return fmt.Errorf("ernie_beam: need -name/-sname, a peer name and the imperial node name")
	}
	if o.Erl == "" {
		o.Erl = "erl"
	}
	b.opts = o
	return b.Send(b.PID(), messageBeamStart{})
}

func (b *beam) HandleMessage(from gen.PID, message any) error {
	switch m := message.(type) {
	case messageBeamStart:
		b.start()
	case messageBeamExit:
		b.running, b.ready = false, nil
		if n := b.opts.calls.failAll(ErrPeerGone); n > 0 {
			b.Log().Warning("ernie: %d native Erlang calls failed: the BEAM peer exited", n)
		}
		if time.Since(b.started) < beamMinUptime {
			b.failures++
		} else {
			b.failures = 0
		}
		delay := min(beamMaxBackoff, 200*time.Millisecond<<min(b.failures, 10))
		b.Log().Warning("ernie: BEAM peer exited (%v); restarting in %s", m.reason, delay)
		b.SendAfter(b.PID(), messageBeamStart{}, delay)
	case MessageBeamSubscribe:
		b.subs = append(b.subs, from)
		if b.ready != nil {
			b.Send(from, *b.ready)
		}
	case etf.Tuple:
		if id, r, ok := parseReply(m); ok {
			b.opts.calls.complete(id, r) // false: the caller gave up
			return nil
		}
		r, ok := parseReady(m)
		if !ok {
			b.Log().Warning("ernie: unexpected message from the BEAM peer: %v", m)
			return nil
		}
		if !b.running {
			// a peer killed just after reporting: its report came in
			// after its exit; the restarted peer reports again
			return nil
		}
		b.ready = &r
		if r.RPC {
			b.opts.calls.setOpen() // before the subscribers hear of it
		}
		if r.Err != "" {
			b.Log().Error("ernie: BEAM peer %s: %s", r.Peer, r.Err)
		} else {
			b.Log().Info("ernie: BEAM peer %s ready", r.Peer)
		}
		for _, s := range b.subs {
			b.Send(s, r)
		}
	}
	return nil
}

func (b *beam) start() {
	if b.running {
		return
	}
	m := &beamMeta{args: b.erlArgs(), erl: b.opts.Erl}
	if _, err := b.SpawnMeta(m, gen.MetaOptions{MailboxSize: 4}); err != nil {
		b.Log().Error("ernie: start BEAM peer: %v", err)
		b.SendAfter(b.PID(), messageBeamStart{}, time.Second)
		return
	}
	b.running, b.started = true, time.Now()
}

// erlArgs builds the peer's command line: a hidden node with the imperial
// cookie that adds the codepaths as Ernie does (code:add_patha each, so
// the last is searched first), loads the modules, starts the call server
// (erlcalls.go), reports the exports and whether the call server runs to
// {ernie_beam, Imperial}, and halts when the imperial node goes away or
// the call server dies. The BEAM schedulers do not busy-wait for work
// (+sbwt none): the peer shares the machine with imperial, and spinning
// between calls took CPU imperial needed; Extra comes later and may say
// otherwise.
func (b *beam) erlArgs() []string {
	o := b.opts
	args := []string{"-noshell", "-noinput", "-hidden", o.NameFlag, o.Name,
		"+sbwt", "none", "+sbwtdcpu", "none", "+sbwtdio", "none"}
	if o.Cookie != "" {
		args = append(args, "-setcookie", o.Cookie)
	}
	args = append(args, o.Extra...)
	mods := make([]string, len(o.modules))
	for i, m := range o.modules {
		mods[i] = quoteAtom(m)
	}
	paths := make([]string, len(o.codepaths))
	for i, p := range o.codepaths {
		paths[i] = quoteString(p)
	}
	forms := make([]string, len(rpcServerForms))
	for i, f := range rpcServerForms {
		forms[i] = quoteString(f)
	}
	imp := quoteAtom(string(o.Imperial))
	eval := "Imp = " + imp + ", Mods = [" + strings.Join(mods, ",") + "], " +
		"[code:add_patha(P) || P <- [" + strings.Join(paths, ",") + "]], " +
		"R = [case code:ensure_loaded(M) of {module, M} -> {M, M:module_info(exports)}; E -> {M, E} end || M <- Mods], " +
		"Rpc = try " +
		"Fs = [begin {ok, Ts, _} = erl_scan:string(S), {ok, Fm} = erl_parse:parse_form(Ts), Fm end || S <- [" + strings.Join(forms, ",") + "]], " +
		"{ok, RM, RB} = compile:forms(Fs, [binary]), " +
		"{module, RM} = code:load_binary(RM, \"" + rpcServerName + ".erl\", RB), " +
		rpcServerName + ":start({" + string(BeamName) + ", Imp}) " +
		"catch _:_ -> none end, " +
		"case net_kernel:connect_node(Imp) of true -> ok; _ -> erlang:halt(3) end, " +
		"spawn(fun() -> erlang:monitor_node(Imp, true), " +
		"is_pid(Rpc) andalso is_reference(erlang:monitor(process, Rpc)), " +
		"{" + string(BeamName) + ", Imp} ! {ernie_beam_ready, node(), R, is_pid(Rpc)}, " +
		"receive {nodedown, Imp} -> erlang:halt(0); {'DOWN', _, process, _, _} -> erlang:halt(4) end end)"
	return append(args, "-eval", eval)
}

// parseReady reads {ernie_beam_ready, Node, [{Module, Exports | Error}],
// RPC} (RPC: the call server runs; a report without it means no).
func parseReady(t etf.Tuple) (MessageBeamReady, bool) {
	if len(t) != 3 && len(t) != 4 || t[0] != etf.Atom("ernie_beam_ready") {
		return MessageBeamReady{}, false
	}
	node, ok1 := t[1].(etf.Atom)
	list, ok2 := t[2].(etf.List)
	if !ok1 || !ok2 {
		return MessageBeamReady{}, false
	}
	r := MessageBeamReady{Peer: gen.Atom(node), Exports: map[string][]ernie.FunArity{}}
	r.RPC = len(t) == 4 && t[3] == etf.Atom("true")
	var errs []string
	for _, e := range list {
		me, ok := e.(etf.Tuple)
		if !ok || len(me) != 2 {
			return MessageBeamReady{}, false
		}
		mod, ok := me[0].(etf.Atom)
		if !ok {
			return MessageBeamReady{}, false
		}
		exports, ok := me[1].(etf.List)
		if !ok {
			errs = append(errs, fmt.Sprintf("native module %s could not be loaded: %v", mod, me[1]))
			continue
		}
		for _, x := range exports {
			fa, ok := x.(etf.Tuple)
			if !ok || len(fa) != 2 {
				continue
			}
			name, ok1 := fa[0].(etf.Atom)
			arity, ok2 := fa[1].(int64)
			if ok1 && ok2 {
				r.Exports[string(mod)] = append(r.Exports[string(mod)], ernie.FunArity{Name: string(name), Arity: int(arity)})
			}
		}
	}
	r.Err = strings.Join(errs, "; ")
	return r, true
}

// quoteAtom writes an Erlang quoted atom.
func quoteAtom(s string) string {
	return "'" + escape(s, '\'') + "'"
}

// quoteString writes an Erlang string literal.
func quoteString(s string) string {
	return "\"" + escape(s, '"') + "\""
}

func escape(s string, q byte) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' || c == q {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}
