package mongrel2

// imperial_logzmq: ships log lines to ZeroMQ collectors (uWSGI's
// --logger zeromq:ENDPOINT and --log-zeromq ENDPOINT, spec §5).
//
// Accepts  nothing by Send (logged and ignored).
// Spawns   one log pusher meta process per target (logpush_meta.go).
// Owns     nothing: each target's LogQueue is filled by whoever writes the
//          log (rel/imperial tees its log output into it) and drained by
//          the target's pusher.

import (
	"bytes"
	"fmt"
	"sync/atomic"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"
)

// LogName is the log actor's registered name.
const LogName gen.Atom = "imperial_logzmq"

// DefaultLogQueue is how many lines wait for a collector, as libzmq's
// default SNDHWM (1000) in uWSGI; beyond it lines are dropped, not blocked
// on (uWSGI's master would block, spec §9 pitfall 22).
const DefaultLogQueue = 1000

// MaxLogLine bounds one line; a longer one is cut (its end is lost).
const MaxLogLine = 64 << 10

// LogQueue is an io.Writer for a log: every line written (a Write may hold
// several, each ending in "\n"; a last one without is a line too) becomes
// one message for the collector. Write never blocks and never fails: when
// the queue is full the line is dropped and counted. Safe for concurrent
// use.
type LogQueue struct {
	ch      chan []byte
	dropped atomic.Uint64
}

// NewLogQueue makes a queue of size lines (0 means DefaultLogQueue).
func NewLogQueue(size int) *LogQueue {
	if size <= 0 {
		size = DefaultLogQueue
	}
	return &LogQueue{ch: make(chan []byte, size)}
}

func (q *LogQueue) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		line := p
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			line = p[:i+1]
		}
		p = p[len(line):]
		if len(line) > MaxLogLine {
			line = append(line[:MaxLogLine-1:MaxLogLine-1], '\n')
		}
		select {
		case q.ch <- append([]byte(nil), line...):
		default:
			q.dropped.Add(1)
		}
	}
	return n, nil
}

// Dropped is how many lines were dropped because the queue was full.
func (q *LogQueue) Dropped() uint64 { return q.dropped.Load() }

// Len is how many lines wait.
func (q *LogQueue) Len() int { return len(q.ch) }

// LogWriter writes every line to each queue (one per endpoint).
type LogWriter []*LogQueue

func (w LogWriter) Write(p []byte) (int, error) {
	for _, q := range w {
		q.Write(p)
	}
	return len(p), nil
}

// LogTarget is one collector: its endpoint (tcp://HOST:PORT, ipc://PATH)
// and the queue its lines wait in.
type LogTarget struct {
	Endpoint string
	Queue    *LogQueue
}

// LogOptions configure imperial_logzmq.
type LogOptions struct {
	Targets []LogTarget
}

var _ act.ActorBehavior = (*logzmq)(nil)

// LogFactory makes the log actor; spawn it registered as LogName with
// LogOptions.
func LogFactory() gen.ProcessBehavior { return &logzmq{} }

type logzmq struct {
	act.Actor
}

func (l *logzmq) Init(args ...any) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: want 1 argument (LogOptions), got %d", ErrOptions, len(args))
	}
	opts, ok := args[0].(LogOptions)
	if !ok {
		return fmt.Errorf("%w: want LogOptions, got %T", ErrOptions, args[0])
	}
	if len(opts.Targets) == 0 {
		return fmt.Errorf("%w: no log target", ErrOptions)
	}
	for _, t := range opts.Targets {
		if t.Queue == nil || t.Endpoint == "" {
			return fmt.Errorf("%w: log target %q without endpoint or queue", ErrOptions, t.Endpoint)
		}
		if _, err := l.SpawnMeta(newLogPusher(t), gen.MetaOptions{MailboxSize: 16}); err != nil {
			return fmt.Errorf("mongrel2: %w", err)
		}
	}
	return nil
}
