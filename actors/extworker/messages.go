package extworker

import (
	"errors"
	"time"

	"ergo.services/ergo/gen"
)

// Sentinel errors carried in MessageReply.Err and ResponseRun.Err (test
// with errors.Is).
var (
	// ErrQueueFull means MaxQueue requests were already waiting.
	ErrQueueFull = errors.New("extworker: queue full")
	// ErrWorkerExited means the worker serving the request exited (or
	// closed its pipes) before replying. The wrapped text holds the exit
	// status.
	ErrWorkerExited = errors.New("extworker: worker exited")
	// ErrTimeout means the worker did not reply within Options.Timeout; it
	// was killed.
	ErrTimeout = errors.New("extworker: worker timed out")
	// ErrUnavailable means no worker could be kept running (the command
	// keeps failing).
	ErrUnavailable = errors.New("extworker: no worker available")
	// ErrStart means a worker process could not be started.
	ErrStart = errors.New("extworker: cannot start worker")
	// ErrUnexpectedReply means a worker wrote a reply with no request
	// outstanding; the worker is killed.
	ErrUnexpectedReply = errors.New("extworker: unexpected reply from worker")
	// ErrBadOptions means Options that cannot run (no command, count out
	// of range).
	ErrBadOptions = errors.New("extworker: bad options")
)

// Priority selects the queue a request waits in when no worker is idle.
type Priority uint8

// The priorities; the zero value is High.
const (
	High Priority = iota
	Low
)

// MessageRequest asks the pool to run Payload on a worker. The pool sends
// exactly one MessageReply with the same ID to ReplyTo (unless ReplyTo is
// nil). Payload belongs to the pool once sent.
//
// ReplyTo may also be a channel (chan<- MessageReply or chan
// MessageReply): the reply is then put on it directly by the goroutine
// that has it, skipping a mailbox and the goroutine ergo starts to drain
// one. The channel must have room: the pool never blocks on it, and drops
// (and logs) a reply that does not fit.
type MessageRequest struct {
	ID       uint64
	ReplyTo  any // gen.PID, gen.Alias, gen.Atom, gen.ProcessID, a channel (above) or nil
	Payload  []byte
	Priority Priority
	// Tag is returned unchanged in the reply (the requester's context).
	Tag any
}

// MessageReply answers a MessageRequest.
type MessageReply struct {
	ID uint64
	// Payload is the worker's reply (without the length header); nil when
	// Err is set. It belongs to the receiver.
	Payload []byte
	// Err is nil or wraps ErrQueueFull, ErrWorkerExited, ErrTimeout or
	// ErrUnavailable.
	Err error
	// Worker is the OS pid of the worker that ran the request (0 if none).
	Worker int
	// Queued is arrival → dispatch to a worker; Ran is dispatch → reply
	// read (or failure).
	Queued, Ran time.Duration
	// QueueHigh and QueueLow are the queue lengths when the request
	// arrived.
	QueueHigh, QueueLow int
	Tag                 any
}

// RequestRun is the Call form of MessageRequest; the response is
// ResponseRun.
type RequestRun struct {
	Payload  []byte
	Priority Priority
}

// ResponseRun answers RequestRun: the MessageReply the pool would have sent.
type ResponseRun struct {
	Reply MessageReply
}

// MessageReload replaces every worker (new processes, same Options).
type MessageReload struct{}

// RequestStats asks for a snapshot; the response is ResponseStats.
type RequestStats struct{}

// ResponseStats is a snapshot of the pool.
type ResponseStats struct {
	Count      int   // configured workers
	Idle, Busy int   // current-generation workers idle and serving
	Retiring   int   // old workers finishing their last request after a reload
	QueueHigh  int   // requests waiting, by priority
	QueueLow   int   //
	Pids       []int // OS pids of the live workers (current generation first)
	Generation int   // number of reloads so far
	Served     uint64
	Failures   int // failed starts in a row
}

// Internal messages between the pool and its worker metas.

// messageJob is a request on a worker (worker_meta.go start); the pool
// sends it to the worker meta only when rest, the part of the frame the
// pipe did not take at once, is left to write.
type messageJob struct {
	rest       []byte
	seq        uint64
	id         uint64
	replyTo    any
	payload    []byte
	tag        any
	queued     time.Duration
	qh, ql     int
	arrived    time.Time
	dispatched time.Time
}

// messageStarted: the worker's OS process is running.
type messageStarted struct {
	alias gen.Alias
	pid   int
}

// messageIdle: the worker replied to job seq and is free, or (started
// non-zero) has already started the job the pool gave it next.
type messageIdle struct {
	alias   gen.Alias
	seq     uint64
	started uint64
}

// messageExit: the worker's meta process ended (process exited, killed, or
// never started).
type messageExit struct {
	alias  gen.Alias
	reason error
}

// messageStop asks a worker to finish: EOF on its fd 3, SIGKILL after
// StopTimeout.
type messageStop struct{}

// messageTimeout: job seq may have run longer than Options.Timeout.
type messageTimeout struct {
	alias gen.Alias
	seq   uint64
}

// messageRespawn: time to start the workers missing after failures.
type messageRespawn struct{}
