package ernie

// ernie_server: the listener's owner, the counters, the admin calls.
//
// Accepts  messageServe (from itself), MessageBeamReady (from ernie_beam),
//          messageBeamTimeout, messageAdmin (from connections) →
//          messageAdminReply, extworker.MessageReply of external casts (counts
//          and logs their completion), messageHaltCheck;
//          Call RequestDispatcher → ResponseDispatcher.
// Sends    MessageBeamSubscribe to ernie_beam, extworker.MessageReload to
//          the pools; Calls extworker.RequestStats on the pools for stats.
// Spawns   the listener meta (whose goroutines serve the connections)
//          and the access-log meta, once the handlers are ready.
// Owns     the listening socket until the listener meta takes it, the
//          access-log Writer until its meta takes it, and the counters
//          (atomics shared with the connection goroutines).

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/extworker"
	"imperial/bertrpc/berp"
	"imperial/ernie"
	"imperial/ernie/accesslog"
	"imperial/ernie/config"
	"imperial/node/etf"
)

// Defaults of Options.
const (
	DefaultMaxConnections = 10000
	DefaultWriteTimeout   = time.Minute
	// ServerMailbox bounds ernie_server's mailbox (admin calls and cast
	// completions).
	ServerMailbox = 1 << 14
	haltPoll      = 20 * time.Millisecond
)

// Options configure the Ernie application. Specs and one of Listen or
// Listener are required.
type Options struct {
	// Specs are the config entries in file order.
	Specs []config.ModuleSpec
	// Natives is the table of native Go modules.
	Natives ernie.Natives
	// Listen is the host:port to bind ("" with Listener set).
	Listen string
	// Listener, when set, is an already bound socket to serve (tests).
	Listener net.Listener
	// AccessLog is the -a path ("" disables the access log).
	AccessLog string
	// MaxPacket bounds a request packet (0 → berp.MaxPacket); Limits bound
	// its decoding (zero fields → etf defaults).
	MaxPacket int
	Limits    etf.Limits
	// MaxConnections bounds open connections (0 → DefaultMaxConnections).
	MaxConnections int
	// IdleTimeout closes a connection that sends nothing for this long
	// (0: never, as Ernie). WriteTimeout bounds writing one reply (0 →
	// DefaultWriteTimeout).
	IdleTimeout, WriteTimeout time.Duration
	// CallTimeout bounds a native call, and an external request on its
	// worker (the worker is killed); 0 means none, as in Ernie.
	CallTimeout time.Duration
	// MaxQueue bounds each external pool's queue (0 → extworker default).
	MaxQueue int
	// WorkerStdout and WorkerStderr receive the external workers' output
	// (nil: imperial's).
	WorkerStdout, WorkerStderr *os.File
	// Beam describes the BEAM peer (used when an entry has codepaths).
	// Native Erlang calls go to the call server ernie_beam starts on the
	// peer; ErlangRPC reaches the peer when that server could not be
	// started (nil: such calls fail).
	Beam      BeamOptions
	ErlangRPC ErlangRPC
	// Halt is called once an '__admin__' halt has drained the in-flight
	// requests; the caller stops the node.
	Halt func()
	// Fatal is called when the server cannot start serving (a native
	// Erlang module failed to load, the BEAM peer never came up).
	Fatal func(error)

	calls *erlCalls // set by ernie_sup: the native Erlang calls in flight
}

func factoryServer() gen.ProcessBehavior { return &server{} }

var _ act.ActorBehavior = (*server)(nil)

type server struct {
	act.Actor
	opts     Options
	counters *counters
	d        *Dispatcher

	ln       net.Listener      // until the listener meta owns it
	logw     *accesslog.Writer // until the access-log meta owns it
	logAlias gen.Alias         // the access-log meta
	listener gen.Alias         // the listener meta
	serving  bool
	halting  bool
	halted   bool
	beamWait gen.CancelFunc
}

func (s *server) Init(args ...any) error {
	o, err := optionsArg(args)
	if err != nil {
		return err
	}
	s.opts, s.counters = o, &counters{}
	if o.Listener != nil {
		s.ln = o.Listener
	} else {
		// No keepalive set on accept: connections that stay get it from
		// their goroutine (conn_meta.go serve). listenControl: see
		// listen_linux.go.
		lc := net.ListenConfig{KeepAlive: -1, Control: listenControl}
		if s.ln, err = lc.Listen(context.Background(), "tcp", o.Listen); err != nil {
			return fmt.Errorf("ernie: listen: %w", err)
		}
	}
	if o.AccessLog != "" {
		if s.logw, err = accesslog.Open(o.AccessLog, accesslog.WriterOptions{}); err != nil {
			s.ln.Close()
			return fmt.Errorf("ernie: %w", err)
		}
	}
	if needsBeam(o.Specs) {
		if err := s.Send(BeamName, MessageBeamSubscribe{}); err != nil {
			s.closeOwned()
			return fmt.Errorf("ernie: subscribe to %s: %w", BeamName, err)
		}
		timeout := o.Beam.Timeout
		if timeout <= 0 {
			timeout = DefaultBeamTimeout
		}
		s.beamWait, _ = s.SendAfter(s.PID(), messageBeamTimeout{}, timeout)
		return nil
	}
	return s.Send(s.PID(), messageServe{})
}

func needsBeam(specs []config.ModuleSpec) bool {
	for _, sp := range specs {
		if sp.Type == config.Native && len(sp.CodePaths) > 0 {
			return true
		}
	}
	return false
}

func (s *server) HandleMessage(from gen.PID, message any) error {
	switch m := message.(type) {
	case messageServe:
		return s.serve(nil, "", false)
	case MessageBeamReady:
		if s.serving {
			return nil
		}
		if s.beamWait != nil {
			s.beamWait()
		}
		if m.Err != "" {
			s.fatal(fmt.Errorf("ernie: %s", m.Err))
			return nil
		}
		return s.serve(m.Exports, m.Peer, m.RPC)
	case messageBeamTimeout:
		if !s.serving {
			s.fatal(fmt.Errorf("ernie: the BEAM peer for native Erlang modules was not ready in time (see its output above)"))
		}
	case messageAdmin:
		s.admin(m)
	case extworker.MessageReply:
		s.castDone(m)
	case messageHaltCheck:
		s.haltCheck()
	default:
		s.Log().Warning("ernie: unexpected message %T from %s", message, from)
	}
	return nil
}

func (s *server) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	if _, ok := request.(RequestDispatcher); ok {
		return ResponseDispatcher{Ready: s.d != nil, D: s.d}, nil
	}
	return nil, fmt.Errorf("ernie: unexpected call %T", request)
}

// serve builds the dispatcher and starts the listener and access log.
func (s *server) serve(exports map[string][]ernie.FunArity, peer gen.Atom, rpc bool) error {
	router, err := ernie.NewRouter(s.opts.Specs, s.opts.Natives, exports)
	if err != nil {
		return err
	}
	s.d = newDispatcher(router, peer, s.opts.ErlangRPC, s.opts.CallTimeout)
	if rpc && s.opts.calls != nil {
		s.d.calls, s.d.rpcServer = s.opts.calls, gen.ProcessID{Name: rpcServerName, Node: peer}
	}
	tmpl := connOptions{d: s.d, counters: s.counters, server: s.PID(), maxPacket: s.opts.MaxPacket,
		limits: s.opts.Limits, idleTimeout: s.opts.IdleTimeout, writeTimeout: s.opts.WriteTimeout}
	if tmpl.maxPacket == 0 {
		tmpl.maxPacket = berp.MaxPacket
	}
	if tmpl.writeTimeout == 0 {
		tmpl.writeTimeout = DefaultWriteTimeout
	}
	if s.logw != nil {
		a, err := s.SpawnMeta(&accessLogMeta{w: s.logw, interval: CheckInterval}, gen.MetaOptions{MailboxSize: 1 << 16})
		if err != nil {
			return fmt.Errorf("ernie: access log: %w", err)
		}
		s.logw, s.logAlias = nil, a
		tmpl.logOn, tmpl.logTo = true, a
	}
	maxConns := s.opts.MaxConnections
	if maxConns <= 0 {
		maxConns = DefaultMaxConnections
	}
	a, err := s.SpawnMeta(&listenerMeta{ln: s.ln, conn: tmpl, maxConns: int64(maxConns)}, gen.MetaOptions{MailboxSize: 16})
	if err != nil {
		return fmt.Errorf("ernie: listener: %w", err)
	}
	s.Log().Info("ernie: serving on %s", s.ln.Addr())
	s.ln, s.listener, s.serving = nil, a, true
	return nil
}

func (s *server) fatal(err error) {
	s.Log().Error("%v", err)
	if s.opts.Fatal != nil {
		s.opts.Fatal(err)
	}
}

// admin runs an '__admin__' call and answers the connection.
func (s *server) admin(m messageAdmin) {
	var text string
	switch m.admin {
	case ernie.AdminReloadHandlers:
		for _, h := range s.d.router.Handlers() {
			if h.Kind == ernie.External {
				s.Send(PoolName(h.Module()), extworker.MessageReload{})
			}
		}
		text = ernie.ReplyReloaded
	case ernie.AdminStats:
		text = s.stats().Text()
	case ernie.AdminHalt:
		// The halt call is in flight until its connection has written
		// the reply (the connection counts it completed), so the drain
		// below cannot stop the node before the client has its answer.
		s.counters.total.Add(1)
		text = ernie.ReplyHalting
	default:
		text = ernie.ReplyUnsupported
	}
	select {
	case m.reply <- messageAdminReply{id: m.id, text: text}:
	default: // the connection went away and a later one filled its channel
	}
	if m.admin == ernie.AdminHalt && !s.halting {
		s.halting = true
		s.Log().Info("ernie: halting: no new connections; waiting for %d requests",
			s.counters.total.Load()-s.counters.completed.Load())
		s.SendAlias(s.listener, messageStopMeta{})
		s.haltCheck()
	}
}

func (s *server) stats() ernie.Stats {
	st := ernie.Stats{Total: s.counters.total.Load(), Completed: s.counters.completed.Load()}
	for _, h := range s.d.router.Handlers() {
		i := ernie.IdleStat{Module: h.Module(), Native: h.Kind.Native()}
		if !i.Native {
			v, err := s.CallWithTimeout(PoolName(h.Module()), extworker.RequestStats{}, 5)
			if r, ok := v.(extworker.ResponseStats); ok && err == nil {
				i.Idle = r.Idle
				st.QueueHigh += r.QueueHigh
				st.QueueLow += r.QueueLow
			} else {
				s.Log().Warning("ernie: stats of %s: %v", PoolName(h.Module()), err)
			}
		}
		st.Idle = append(st.Idle, i)
	}
	return st
}

// castDone counts an external cast complete and logs it.
func (s *server) castDone(r extworker.MessageReply) {
	s.counters.completed.Add(1)
	tag, ok := r.Tag.(castTag)
	if !ok || !tag.log {
		return
	}
	e := tag.entry
	e.Wait += r.Queued
	e.Run = r.Ran
	e.QueueHigh, e.QueueLow = r.QueueHigh, r.QueueLow
	if r.Err != nil {
		e.Error = accesslog.ExternalError("error", r.Err.Error())
	}
	s.SendAlias(s.logAlias, messageAccess{entry: e})
}

func (s *server) haltCheck() {
	if s.halted {
		return
	}
	if s.counters.total.Load() != s.counters.completed.Load() {
		s.SendAfter(s.PID(), messageHaltCheck{}, haltPoll)
		return
	}
	s.halted = true
	s.Log().Info("ernie: halted")
	if s.opts.Halt != nil {
		s.opts.Halt()
	}
}

func (s *server) Terminate(reason error) { s.closeOwned() }

// closeOwned releases what no meta process has taken over yet.
func (s *server) closeOwned() {
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	if s.logw != nil {
		s.logw.Close()
		s.logw = nil
	}
}

func optionsArg(args []any) (Options, error) {
	if len(args) != 1 {
		return Options{}, fmt.Errorf("ernie: want 1 argument (Options), got %d", len(args))
	}
	o, ok := args[0].(Options)
	if !ok {
		return Options{}, fmt.Errorf("ernie: want Options, got %T", args[0])
	}
	if o.Listen == "" && o.Listener == nil {
		return Options{}, fmt.Errorf("ernie: Options need Listen or Listener")
	}
	return o, nil
}
