package sched

import (
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// Linux scheduling policies (sched(7)).
const (
	policyNormal = 0 // SCHED_OTHER
	policyBatch  = 3 // SCHED_BATCH
)

// Wakeups sets how imperial's threads are scheduled when they wake up.
//
// Why: on a machine with no core to spare, a thread woken by input (a
// socket's reader) preempts whichever thread runs on its core: CFS wakeup
// preemption. When that is a peer imperial serves (erl calling it on the
// same machine), every one of our wake-ups costs the peer an involuntary
// context switch in the middle of its work, and the peer's next request
// comes later. Measured with 16 erl callers on 2 cores: 0.26-0.56
// involuntary switches per call in the caller, 0.07 when the callee was
// erl, whose schedulers spin instead of sleeping. SCHED_BATCH threads do
// not preempt on wakeup (the tick decides), and switching between it and
// the normal policy needs no privilege. While a core is spare, wake-ups
// land on idle cores and the normal policy keeps their latency.
//
// Linux applies a policy per thread, and a new thread inherits its
// creator's, so Set applies it to every thread the process has now and
// is called again at every load sample for those the runtime adds.
type Wakeups struct {
	batch bool
	done  map[int]bool // threads set to the current policy
}

// Set makes every thread of the process batch (true) or normal. Threads
// that cannot be set (gone since the listing) are skipped; the error is
// the first other failure, or reading the thread list.
func (w *Wakeups) Set(batch bool) error {
	if batch != w.batch || w.done == nil {
		w.batch = batch
		w.done = map[int]bool{}
	}
	d, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	policy := policyNormal
	if batch {
		policy = policyBatch
	}
	var first error
	seen := make(map[int]bool, len(d))
	for _, e := range d {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		seen[tid] = true
		if w.done[tid] {
			continue
		}
		switch err := setPolicy(tid, policy); err {
		case nil:
			w.done[tid] = true
		case syscall.ESRCH:
		default:
			if first == nil {
				first = err
			}
		}
	}
	for tid := range w.done {
		if !seen[tid] {
			delete(w.done, tid) // exited; its number may come back
		}
	}
	return first
}

// setPolicy is sched_setscheduler(2) with priority 0, which both
// policies require.
func setPolicy(tid, policy int) error {
	var prio int32
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, uintptr(tid), uintptr(policy),
		uintptr(unsafe.Pointer(&prio)))
	if e != 0 {
		return e
	}
	return nil
}
