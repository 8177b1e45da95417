package extworker

// One worker: a meta process owning one OS process and its two pipes.
//
// Accepts  messageJob (write the rest of a request to fd 3: the pool wrote
//          what the pipe took at once, see writeNow), messageStop (close
//          fd 3, SIGKILL after StopTimeout). The pool kills a timed-out
//          worker with kill, not a message: HandleMessage may be stuck
//          writing.
// Sends    MessageReply to the job's ReplyTo and messageIdle to the pool
//          after each reply, having first started the job the pool left
//          in next, if any; messageStarted once the process runs;
//          messageExit to the pool from Terminate.
// Owns     the OS process (its own process group, Pdeathsig SIGKILL), the
//          parent ends of the fd 3 and fd 4 pipes, the reader loop (Start)
//          and one goroutine waiting for the process to exit.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"ergo.services/ergo/gen"

	"imperial/bertrpc/berp"
)

// eofGrace is how long the reader may keep draining fd 4 after the process
// exited before the pipe is closed under it (a grandchild may hold it).
const eofGrace = time.Second

type workerMeta struct {
	gen.MetaProcess
	opts Options

	// Fixed after Init.
	cmd            *exec.Cmd
	reqW, repR     *os.File        // parent ends: requests out (child fd 3), replies in (child fd 4)
	reqRaw         syscall.RawConn // reqW's, for writeNow
	childR, childW *os.File        // child ends, closed once the child has them
	exited         chan struct{}

	current  atomic.Pointer[messageJob] // the job written and not yet answered
	next     atomic.Pointer[messageJob] // the job to start after current (the pool may take it back)
	pid      atomic.Int64               // OS pid once started
	waitErr  error                      // cmd.Wait's result; read after exited is closed
	closeReq sync.Once
	killOnce sync.Once
	stopT    atomic.Pointer[time.Timer]
}

func (w *workerMeta) Init(process gen.MetaProcess) error {
	w.MetaProcess = process
	r3, w3, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("%w: pipe: %w", ErrStart, err)
	}
	r4, w4, err := os.Pipe()
	if err != nil {
		r3.Close()
		w3.Close()
		return fmt.Errorf("%w: pipe: %w", ErrStart, err)
	}
	cmd := exec.Command("/bin/sh", "-c", w.opts.Command)
	cmd.Dir = w.opts.Dir
	if len(w.opts.Env) > 0 {
		cmd.Env = append(os.Environ(), w.opts.Env...)
	}
	cmd.Stdout, cmd.Stderr = w.opts.Stdout, w.opts.Stderr
	cmd.ExtraFiles = []*os.File{r3, w4} // fd 3 and fd 4 in the child
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	raw, err := w3.SyscallConn()
	if err != nil {
		r3.Close()
		w3.Close()
		r4.Close()
		w4.Close()
		return fmt.Errorf("%w: pipe: %w", ErrStart, err)
	}
	w.cmd, w.reqW, w.repR, w.childR, w.childW, w.reqRaw = cmd, w3, r4, r3, w4, raw
	w.exited = make(chan struct{})
	return nil
}

// Start runs the process and reads its replies until it exits.
func (w *workerMeta) Start() error {
	if err := w.cmd.Start(); err != nil {
		w.childR.Close()
		w.childW.Close()
		w.reqW.Close()
		w.repR.Close()
		close(w.exited)
		return fmt.Errorf("%w: %w", ErrStart, err)
	}
	w.childR.Close()
	w.childW.Close()
	w.pid.Store(int64(w.cmd.Process.Pid))
	w.Send(w.Parent(), messageStarted{alias: w.ID(), pid: w.cmd.Process.Pid})
	go func() {
		w.waitErr = w.cmd.Wait()
		close(w.exited)
		time.AfterFunc(eofGrace, func() { w.repR.Close() })
	}()

	reason := w.readLoop()
	w.kill()
	<-w.exited
	w.closeRequests()
	w.repR.Close()
	if t := w.stopT.Load(); t != nil {
		t.Stop()
	}
	if reason == nil {
		reason = fmt.Errorf("%w: %s", ErrWorkerExited, exitText(w.waitErr))
	}
	return reason
}

// readLoop reads one reply per outstanding job. It returns nil at EOF or
// when the pipe is closed, an error for a protocol violation.
func (w *workerMeta) readLoop() error {
	br := bufio.NewReaderSize(w.repR, 64<<10)
	for {
		body, err := berp.ReadPacket(br, w.opts.MaxPacket)
		if err != nil {
			if errors.Is(err, berp.ErrTooLarge) {
				return fmt.Errorf("%w: %w", ErrWorkerExited, err)
			}
			return nil
		}
		j := w.current.Swap(nil)
		if j == nil {
			return fmt.Errorf("%w (%d bytes)", ErrUnexpectedReply, len(body))
		}
		var started uint64
		if n := w.next.Swap(nil); n != nil {
			started = n.seq
			w.startNext(n)
		}
		if j.replyTo != nil {
			deliver(w, j.replyTo, MessageReply{ID: j.id, Payload: body, Worker: int(w.pid.Load()),
				Queued: j.queued, Ran: time.Since(j.dispatched), QueueHigh: j.qh, QueueLow: j.ql, Tag: j.tag})
		}
		w.Send(w.Parent(), messageIdle{alias: w.ID(), seq: j.seq, started: started})
	}
}

// startNext starts the job the pool gave this worker next, right after
// the reply to the current one: the worker does not wait for a round trip
// through the pool's mailbox to get more work.
func (w *workerMeta) startNext(j *messageJob) {
	j.dispatched = time.Now()
	j.queued = j.dispatched.Sub(j.arrived)
	rest, err := w.start(j)
	switch {
	case err != nil:
		w.kill() // the reader then reports the exit and the pool fails the job
	case len(rest) > 0:
		m := *j
		m.rest = rest
		if w.Send(w.ID(), m) != nil {
			w.kill()
		}
	}
}

// start makes j the worker's job and writes what the pipe takes of its
// frame at once, without blocking: it runs on the pool's goroutine, so the
// request reaches an idle worker without a hop through this meta's
// mailbox. It returns the part still to write (HandleMessage writes it,
// blocking if need be), or an error if the pipe is broken.
func (w *workerMeta) start(j *messageJob) ([]byte, error) {
	frame, err := berp.AppendPacket(make([]byte, 0, berp.HeaderSize+len(j.payload)), j.payload)
	if err != nil {
		return nil, err
	}
	w.current.Store(j)
	n, err := w.writeNow(frame)
	return frame[n:], err
}

// writeNow writes as much of b as fd 3 takes without waiting.
func (w *workerMeta) writeNow(b []byte) (int, error) {
	var n int
	var werr error
	err := w.reqRaw.Write(func(fd uintptr) bool {
		for n < len(b) {
			m, err := syscall.Write(int(fd), b[n:])
			if err == syscall.EINTR {
				continue
			}
			if err == syscall.EAGAIN {
				return true // full: the rest goes through HandleMessage
			}
			if err != nil {
				werr = err
				return true
			}
			n += m
		}
		return true
	})
	if err == nil {
		err = werr
	}
	return n, err
}

func (w *workerMeta) HandleMessage(from gen.PID, message any) error {
	switch m := message.(type) {
	case messageJob:
		if _, err := w.reqW.Write(m.rest); err != nil {
			// The process is gone or closed fd 3: make sure it is dead, the
			// reader then reports the exit and the pool fails the job.
			w.kill()
		}
	case messageStop:
		w.closeRequests()
		t := time.AfterFunc(w.opts.StopTimeout, w.kill)
		w.stopT.Store(t)
	}
	return nil
}

func (w *workerMeta) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}

func (w *workerMeta) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"command": w.opts.Command, "pid": fmt.Sprint(w.pid.Load())}
}

// Terminate runs once: after Start returned (reason is its result), or when
// the pool terminated (Start is still reading; killing the group ends it).
func (w *workerMeta) Terminate(reason error) {
	w.closeRequests()
	w.kill()
	w.Send(w.Parent(), messageExit{alias: w.ID(), reason: reason})
}

func (w *workerMeta) closeRequests() {
	w.closeReq.Do(func() { w.reqW.Close() })
}

// kill sends SIGKILL to the worker's process group, once, if it runs. It is
// safe from any goroutine (the pool calls it on a timeout).
func (w *workerMeta) kill() {
	pid := int(w.pid.Load())
	if pid == 0 {
		return
	}
	// Once only: the first kill happens at the latest in Start, right after
	// the process ended, before its pid can be handed out again.
	w.killOnce.Do(func() { syscall.Kill(-pid, syscall.SIGKILL) })
}

// exitText describes how the process ended.
func exitText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ProcessState.String()
	}
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
