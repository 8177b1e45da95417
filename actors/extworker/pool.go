package extworker

// The pool actor.
//
// Accepts  MessageRequest (→ one MessageReply to ReplyTo), MessageReload,
//          Call RequestRun → ResponseRun (answered when the worker replies),
//          Call RequestStats → ResponseStats;
//          from its worker metas: messageStarted, messageIdle, messageExit,
//          MessageReply for RequestRun jobs; from itself: messageTimeout,
//          messageRespawn (SendAfter).
// Replies  MessageReply with an error when a request cannot run (queue full,
//          worker exited, timeout, unavailable).
// Sends    messageStop (and messageJob, for what a pipe did not take at
//          once) to its worker metas; writes requests into idle workers'
//          pipes without blocking (workerMeta.start); on a timeout it
//          kills the worker's process group directly (workerMeta.kill).
// Spawns   Count worker meta processes (worker_meta.go), more during a
//          reload, a replacement for each one that exits.
// Owns     the worker table, the idle FIFO and the two request queues; no
//          goroutines, sockets or OS processes of its own.

import (
	"fmt"
	"os"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/bertrpc/berp"
)

// Limits and defaults.
const (
	// MaxCount is the largest number of workers in one pool.
	MaxCount = 1024
	// DefaultMaxQueue is the queue bound when Options.MaxQueue is 0.
	DefaultMaxQueue = 10000
	// DefaultStopTimeout is the grace period of a stopping worker when
	// Options.StopTimeout is 0.
	DefaultStopTimeout = 5 * time.Second
	// DefaultMinUptime: a worker exiting sooner after its start counts as
	// a failed start (Options.MinUptime 0).
	DefaultMinUptime = time.Second
	// MaxBackoff bounds the delay before restarting failing workers.
	MaxBackoff = 5 * time.Second
	// MaxFailures failed starts in a row, with no worker alive, make the
	// pool answer ErrUnavailable.
	MaxFailures = 5
	// MailboxSize is the mailbox bound the spawner should give the pool.
	MailboxSize = 1 << 16
	// workerMailbox bounds a worker meta's mailbox (it holds one job and a
	// stop or kill at most).
	workerMailbox = 16
)

// Options configure a pool. Command and Count are required.
type Options struct {
	// Command is run with /bin/sh -c.
	Command string
	// Dir is the working directory ("" inherits imperial's).
	Dir string
	// Env is added to imperial's environment.
	Env []string
	// Count is the number of workers, 1..MaxCount.
	Count int
	// MaxQueue bounds the waiting requests (0: DefaultMaxQueue).
	MaxQueue int
	// MaxPacket bounds a reply (0: berp.MaxPacket); a longer one kills the
	// worker.
	MaxPacket int
	// Timeout bounds one request on a worker (0: none).
	Timeout time.Duration
	// StopTimeout is how long a stopping worker may take to exit after EOF
	// on fd 3 before SIGKILL (0: DefaultStopTimeout).
	StopTimeout time.Duration
	// MinUptime: a worker exiting sooner after its start counts as a
	// failed start (0: DefaultMinUptime).
	MinUptime time.Duration
	// Stdout and Stderr receive the workers' fds 1 and 2 (nil: imperial's).
	Stdout, Stderr *os.File
}

func (o Options) withDefaults() (Options, error) {
	switch {
	case o.Command == "":
		return o, fmt.Errorf("%w: no command", ErrBadOptions)
	case o.Count < 1 || o.Count > MaxCount:
		return o, fmt.Errorf("%w: count %d out of range 1..%d", ErrBadOptions, o.Count, MaxCount)
	case o.MaxQueue < 0 || o.MaxPacket < 0 || o.Timeout < 0 || o.StopTimeout < 0 || o.MinUptime < 0:
		return o, fmt.Errorf("%w: negative limit", ErrBadOptions)
	}
	if o.MaxQueue == 0 {
		o.MaxQueue = DefaultMaxQueue
	}
	if o.MaxPacket == 0 {
		o.MaxPacket = berp.MaxPacket
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	if o.MinUptime == 0 {
		o.MinUptime = DefaultMinUptime
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	return o, nil
}

// Factory returns a pool actor; spawn it with one Options argument.
func Factory() gen.ProcessBehavior { return &pool{} }

var _ act.ActorBehavior = (*pool)(nil)

type pool struct {
	act.Actor
	opts Options

	generation int
	workers    map[gen.Alias]*worker
	idle       fifo[gen.Alias]
	queue      queues[*job]
	seq        uint64
	served     uint64
	nexts      int // workers holding a next job (waiting requests too)

	failures     int  // failed starts in a row
	respawnArmed bool // a messageRespawn is pending
}

// worker is the pool's view of one worker meta process.
type worker struct {
	alias      gen.Alias
	meta       *workerMeta // only for kill, which is safe from any goroutine
	pid        int
	generation int
	started    time.Time
	busy       *job
	next       *job        // queued job given to this busy worker to start next
	nextMsg    *messageJob // next as its meta holds it (meta.next)
	nextGone   bool        // its reader has started next (messageIdle will say)
	retiring   bool        // stops after its current job (or now, if idle)
}

// job is a request inside the pool.
type job struct {
	seq      uint64
	req      MessageRequest
	call     bool // RequestRun: answer with SendResponse
	from     gen.PID
	ref      gen.Ref
	arrived  time.Time
	qh, ql   int
	timedOut bool
	cancel   gen.CancelFunc
	worker   int // OS pid, once dispatched
	start    time.Time
}

func (p *pool) Init(args ...any) error {
	if len(args) != 1 {
		return fmt.Errorf("extworker: want 1 argument (Options), got %d", len(args))
	}
	o, ok := args[0].(Options)
	if !ok {
		return fmt.Errorf("extworker: want Options, got %T", args[0])
	}
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	p.opts = o
	p.workers = make(map[gen.Alias]*worker, o.Count)
	// Workers start from the mailbox, not here: a meta process spawned
	// during Init may message its parent before ergo marks it running.
	p.respawnArmed = true
	return p.Send(p.PID(), messageRespawn{})
}

// spawnWorker starts one current-generation worker meta; it is idle at
// once (requests wait in its fd 3 pipe until the process reads them).
func (p *pool) spawnWorker() error {
	w := &workerMeta{opts: p.opts}
	alias, err := p.SpawnMeta(w, gen.MetaOptions{MailboxSize: workerMailbox})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStart, err)
	}
	p.workers[alias] = &worker{alias: alias, meta: w, generation: p.generation, started: time.Now()}
	p.idle.push(alias)
	return nil
}

// current counts the live current-generation workers.
func (p *pool) current() int {
	n := 0
	for _, w := range p.workers {
		if !w.retiring {
			n++
		}
	}
	return n
}

func (p *pool) HandleMessage(from gen.PID, message any) error {
	switch m := message.(type) {
	case MessageRequest:
		p.seq++
		p.submit(&job{seq: p.seq, req: m})
	case MessageReply: // the reply of a RequestRun job, sent by the worker
		p.answerCall(m)
	case messageStarted:
		if w := p.workers[m.alias]; w != nil {
			w.pid = m.pid
		}
	case messageIdle:
		p.idleWorker(m)
	case messageExit:
		p.workerExit(m.alias, m.reason)
	case messageTimeout:
		if w := p.workers[m.alias]; w != nil && w.busy != nil && w.busy.seq == m.seq {
			w.busy.timedOut = true
			// Not through the meta's mailbox: its HandleMessage may be
			// blocked writing the request to a worker that does not read.
			w.meta.kill()
		}
	case messageRespawn:
		p.respawnArmed = false
		p.spawnMissing()
	case MessageReload:
		p.reload()
	default:
		p.Log().Warning("extworker: unexpected message %T from %s", message, from)
	}
	return nil
}

func (p *pool) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	switch r := request.(type) {
	case RequestRun:
		p.seq++
		p.submit(&job{seq: p.seq, call: true, from: from, ref: ref,
			req: MessageRequest{ID: p.seq, Payload: r.Payload, Priority: r.Priority}})
		return nil, nil // answered later by answerCall or fail
	case RequestStats:
		return p.stats(), nil
	}
	return nil, fmt.Errorf("extworker: unexpected call %T", request)
}

// submit dispatches j to an idle worker or queues it.
func (p *pool) submit(j *job) {
	j.arrived = time.Now()
	j.qh, j.ql = p.queue.high.len(), p.queue.low.len()
	if alias, ok := p.popIdle(); ok {
		p.dispatch(p.workers[alias], j)
		return
	}
	switch {
	case p.queue.len()+p.nexts >= p.opts.MaxQueue:
		p.fail(j, fmt.Errorf("%w: %d requests waiting", ErrQueueFull, p.queue.len()+p.nexts))
	case p.unavailable():
		p.fail(j, fmt.Errorf("%w: %d failed starts in a row", ErrUnavailable, p.failures))
	default:
		p.queue.push(j.req.Priority, j)
		if j.req.Priority == High && p.nexts > 0 {
			// a low next job must not start before this one
			for _, w := range p.workers {
				if w.next != nil && !w.nextGone && w.next.req.Priority == Low {
					p.requeueNext(w)
					break
				}
			}
		}
		p.giveNext()
	}
}

// popIdle returns the longest-idle live worker.
func (p *pool) popIdle() (gen.Alias, bool) {
	for {
		a, ok := p.idle.pop()
		if !ok {
			return a, false
		}
		if w := p.workers[a]; w != nil && w.busy == nil && !w.retiring {
			return a, true
		}
	}
}

func (p *pool) unavailable() bool {
	return p.failures >= MaxFailures && p.current() == 0
}

// jobMessage is j as a worker meta gets it.
func (p *pool) jobMessage(j *job) *messageJob {
	replyTo := j.req.ReplyTo
	if j.call {
		replyTo = p.PID()
	}
	return &messageJob{seq: j.seq, id: j.req.ID, replyTo: replyTo, payload: j.req.Payload, tag: j.req.Tag,
		qh: j.qh, ql: j.ql, arrived: j.arrived}
}

// dispatch hands j to w.
func (p *pool) dispatch(w *worker, j *job) {
	now := time.Now()
	j.start, j.worker = now, w.pid
	w.busy = j
	msg := p.jobMessage(j)
	msg.dispatched, msg.queued = now, now.Sub(j.arrived)
	// The request goes into the worker's pipe from here, without a hop
	// through the worker meta's mailbox; only what the pipe cannot take at
	// once goes to the meta, which may block writing it.
	rest, err := w.meta.start(msg)
	switch {
	case err != nil:
		w.meta.kill() // it closed fd 3 or is gone: make sure it is dead
	case len(rest) > 0:
		msg.rest = rest
		err = p.SendAlias(w.alias, *msg)
	}
	if err != nil {
		// The worker is gone: its messageExit may already be queued. The
		// request did not reach it whole, so it goes back to the head of
		// its queue.
		w.busy = nil
		p.queue.pushFront(j.req.Priority, j)
		p.workerExit(w.alias, fmt.Errorf("%w: %w", ErrWorkerExited, err))
		return
	}
	p.armTimeout(w, j)
}

func (p *pool) armTimeout(w *worker, j *job) {
	if p.opts.Timeout > 0 {
		j.cancel, _ = p.SendAfter(p.PID(), messageTimeout{alias: w.alias, seq: j.seq}, p.opts.Timeout)
	}
}

// Jobs given next. While no worker is idle, each busy worker of the
// current generation may hold the head of the queue as its next job: its
// reader writes it to the worker right after the current reply, instead
// of the worker waiting for that reply to reach this actor and the next
// request to come back (with few workers, that round trip was as long as
// the work). The queue's rules still hold, because a next job is taken
// back (takeNext) whenever it would break them: when a worker goes idle
// with nothing queued (so no request waits behind a busy worker while
// another is free), when a high request is queued behind a low next job,
// on reload, and when its worker exits.

// giveNext gives queued jobs to busy workers that have none.
func (p *pool) giveNext() {
	for _, w := range p.workers {
		if p.queue.len() == 0 {
			return
		}
		if w.busy == nil || w.next != nil || w.retiring || w.generation != p.generation {
			continue
		}
		j, _ := p.queue.pop()
		j.worker = w.pid
		w.next, w.nextMsg = j, p.jobMessage(j)
		w.meta.next.Store(w.nextMsg)
		p.nexts++
	}
}

// takeNext takes w's next job back; nil if its reader has started it (a
// messageIdle saying so is on its way).
func (p *pool) takeNext(w *worker) *job {
	if w.next == nil || w.nextGone {
		return nil
	}
	if !w.meta.next.CompareAndSwap(w.nextMsg, nil) {
		w.nextGone = true
		return nil
	}
	j := w.next
	w.next, w.nextMsg = nil, nil
	p.nexts--
	j.worker = 0
	return j
}

// requeueNext puts w's next job, if not started, back at the head of its
// queue.
func (p *pool) requeueNext(w *worker) {
	if j := p.takeNext(w); j != nil {
		p.queue.pushFront(j.req.Priority, j)
	}
}

// drain dispatches waiting requests, oldest first (high before low),
// while workers are idle: from the queues, or taking back a next job older
// than the queue's head; with no idle worker left, busy workers get next
// jobs.
func (p *pool) drain() {
	for {
		alias, ok := p.popIdle()
		if !ok {
			p.giveNext()
			return
		}
		j := p.oldestWaiting()
		if j == nil {
			p.idle.pushFront(alias)
			return
		}
		p.dispatch(p.workers[alias], j)
	}
}

// oldestWaiting removes and returns the request that has waited longest in
// the highest priority: a queue's head or a next job not yet started.
func (p *pool) oldestWaiting() *job {
	for _, q := range []*fifo[*job]{&p.queue.high, &p.queue.low} {
		prio := High
		if q == &p.queue.low {
			prio = Low
		}
		for p.nexts > 0 {
			head, ok := q.peek()
			var older *worker
			for _, w := range p.workers {
				if w.next != nil && !w.nextGone && w.next.req.Priority == prio && (!ok || w.next.seq < head.seq) &&
					(older == nil || w.next.seq < older.next.seq) {
					older = w
				}
			}
			if older == nil {
				break
			}
			if j := p.takeNext(older); j != nil {
				return j
			}
			// started meanwhile (now nextGone): look again
		}
		if j, ok := q.pop(); ok {
			return j
		}
	}
	return nil
}

func (p *pool) idleWorker(m messageIdle) {
	w := p.workers[m.alias]
	if w == nil || w.busy == nil || w.busy.seq != m.seq {
		return
	}
	if w.busy.cancel != nil {
		w.busy.cancel()
	}
	w.busy = nil
	p.served++
	if m.started != 0 && w.next != nil && w.next.seq == m.started {
		// its reader started the next job right after this reply
		j := w.next
		w.next, w.nextMsg, w.nextGone = nil, nil, false
		p.nexts--
		w.busy, j.start = j, time.Now()
		p.armTimeout(w, j)
		p.drain()
		return
	}
	if w.retiring || w.generation != p.generation {
		w.retiring = true
		p.SendAlias(w.alias, messageStop{})
		return
	}
	p.idle.push(w.alias)
	p.drain()
}

// workerExit forgets a worker, fails its job and replaces it.
func (p *pool) workerExit(alias gen.Alias, reason error) {
	w := p.workers[alias]
	if w == nil {
		return
	}
	delete(p.workers, alias)
	if w.next != nil {
		p.nexts--
	}
	if j := w.next; j != nil && !w.nextGone { // never started: another worker takes it
		w.next, w.nextMsg = nil, nil
		j.worker = 0
		p.queue.pushFront(j.req.Priority, j)
	}
	if j := w.busy; j != nil {
		if j.cancel != nil {
			j.cancel()
		}
		err := fmt.Errorf("%w (pid %d): %v", ErrWorkerExited, w.pid, reason)
		if j.timedOut {
			err = fmt.Errorf("%w after %s (pid %d killed)", ErrTimeout, p.opts.Timeout, w.pid)
		}
		p.fail(j, err)
	}
	if w.retiring || w.generation != p.generation {
		return
	}
	if time.Since(w.started) < p.opts.MinUptime {
		p.failures++
		p.Log().Warning("extworker: worker %d exited %s after start: %v", w.pid, time.Since(w.started).Round(time.Millisecond), reason)
	} else {
		p.failures = 0
		p.Log().Info("extworker: worker %d exited: %v; replacing it", w.pid, reason)
	}
	p.refill()
}

// refill starts missing workers, after a backoff while starts keep
// failing.
func (p *pool) refill() {
	if p.opts.Count-p.current() <= 0 {
		p.drain()
		return
	}
	if p.failures == 0 {
		p.spawnMissing()
		return
	}
	if p.unavailable() {
		err := fmt.Errorf("%w: %d failed starts in a row", ErrUnavailable, p.failures)
		for _, j := range p.queue.high.drain() {
			p.fail(j, err)
		}
		for _, j := range p.queue.low.drain() {
			p.fail(j, err)
		}
	}
	if p.respawnArmed {
		return
	}
	delay := min(MaxBackoff, 100*time.Millisecond<<min(p.failures-1, 10))
	if _, err := p.SendAfter(p.PID(), messageRespawn{}, delay); err != nil {
		p.spawnMissing()
		return
	}
	p.respawnArmed = true
}

// spawnMissing starts workers up to Count and dispatches queued requests.
func (p *pool) spawnMissing() {
	for range p.opts.Count - p.current() {
		if err := p.spawnWorker(); err != nil {
			p.Log().Error("extworker: %v", err)
			break
		}
	}
	p.drain()
}

// reload starts a new generation: idle old workers stop now, busy ones
// after their reply; Count new workers start at once.
func (p *pool) reload() {
	p.generation++
	p.failures = 0
	for _, w := range p.workers {
		if w.generation == p.generation || w.retiring {
			continue
		}
		p.requeueNext(w)
		w.retiring = true
		if w.busy == nil {
			p.SendAlias(w.alias, messageStop{})
		}
	}
	p.refill()
}

// fail answers j with err.
func (p *pool) fail(j *job, err error) {
	r := MessageReply{ID: j.req.ID, Err: err, Worker: j.worker, QueueHigh: j.qh, QueueLow: j.ql, Tag: j.req.Tag}
	now := time.Now()
	if j.start.IsZero() {
		r.Queued = now.Sub(j.arrived)
	} else {
		r.Queued, r.Ran = j.start.Sub(j.arrived), now.Sub(j.start)
	}
	if j.call {
		p.SendResponse(j.from, j.ref, ResponseRun{Reply: r})
		return
	}
	if j.req.ReplyTo != nil {
		deliver(p, j.req.ReplyTo, r)
	}
}

// deliver sends r to a MessageRequest's ReplyTo: on a channel directly,
// otherwise through sender.
func deliver(sender interface{ Send(to, message any) error }, to any, r MessageReply) {
	var ch chan<- MessageReply
	switch c := to.(type) {
	case chan<- MessageReply:
		ch = c
	case chan MessageReply:
		ch = c
	default:
		sender.Send(to, r)
		return
	}
	select {
	case ch <- r:
	default:
		if l, ok := sender.(interface{ Log() gen.Log }); ok {
			l.Log().Warning("extworker: reply channel full, reply %d dropped", r.ID)
		}
	}
}

// answerCall forwards a worker's reply to a RequestRun caller. The worker
// sends it before its messageIdle, so the job is still the worker's.
func (p *pool) answerCall(r MessageReply) {
	for _, w := range p.workers {
		if j := w.busy; j != nil && j.call && j.seq == r.ID {
			r.ID = j.req.ID
			p.SendResponse(j.from, j.ref, ResponseRun{Reply: r})
			return
		}
	}
}

func (p *pool) stats() ResponseStats {
	s := ResponseStats{Count: p.opts.Count, QueueHigh: p.queue.high.len(), QueueLow: p.queue.low.len(),
		Generation: p.generation, Served: p.served, Failures: p.failures}
	var old []int
	for _, w := range p.workers {
		switch {
		case w.retiring:
			s.Retiring++
			old = append(old, w.pid)
			continue
		case w.busy != nil:
			s.Busy++
			if w.next != nil && w.next.req.Priority == Low {
				s.QueueLow++
			} else if w.next != nil {
				s.QueueHigh++
			}
		default:
			s.Idle++
		}
		s.Pids = append(s.Pids, w.pid)
	}
	s.Pids = append(s.Pids, old...)
	return s
}
