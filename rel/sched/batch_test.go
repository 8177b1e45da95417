package sched

import (
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
)

// threadPolicy reads a thread's policy (sched_getscheduler(2)).
func threadPolicy(tid int) (int, error) {
	r, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETSCHEDULER, uintptr(tid), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// policies lists the policy of every thread of the process.
func policies(t *testing.T) map[int]int {
	t.Helper()
	d, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Skip("no /proc:", err)
	}
	out := map[int]int{}
	for _, e := range d {
		tid, _ := strconv.Atoi(e.Name())
		if p, err := threadPolicy(tid); err == nil {
			out[tid] = p
		}
	}
	return out
}

// setAndCheck calls Set and checks every thread that existed before it: the
// runtime may start more meanwhile, from a thread not yet switched, and those
// are the next Set's.
func setAndCheck(t *testing.T, w *Wakeups, batch bool, want int) {
	t.Helper()
	before := policies(t)
	if err := w.Set(batch); err != nil {
		t.Fatal(err)
	}
	after := policies(t)
	for tid := range before {
		if p, ok := after[tid]; ok && p != want {
			t.Errorf("thread %d: policy %d after Set(%v), want %d", tid, p, batch, want)
		}
	}
}

func TestWakeupsSetsEveryThreadAndBack(t *testing.T) {
	var w Wakeups
	t.Cleanup(func() { w.Set(false) })
	setAndCheck(t, &w, true, policyBatch)
	// a thread started now is set by the next Set, whichever policy it
	// inherited
	started := make(chan struct{})
	release := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		close(started)
		<-release
	}()
	<-started
	setAndCheck(t, &w, true, policyBatch)
	close(release)
	setAndCheck(t, &w, false, policyNormal)
}
