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

func TestWakeupsSetsEveryThreadAndBack(t *testing.T) {
	var w Wakeups
	t.Cleanup(func() { w.Set(false) })
	if err := w.Set(true); err != nil {
		t.Fatal(err)
	}
	for tid, p := range policies(t) {
		if p != policyBatch {
			t.Errorf("thread %d: policy %d after Set(true), want SCHED_BATCH", tid, p)
		}
	}
	// A thread started now inherits the policy from its creator; one the
	// runtime started from a thread not yet set is caught by the next Set.
	started := make(chan struct{})
	release := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		close(started)
		<-release
	}()
	<-started
	if err := w.Set(true); err != nil {
		t.Fatal(err)
	}
	for tid, p := range policies(t) {
		if p != policyBatch {
			t.Errorf("thread %d: policy %d after a second Set(true)", tid, p)
		}
	}
	close(release)
	if err := w.Set(false); err != nil {
		t.Fatal(err)
	}
	for tid, p := range policies(t) {
		if p != policyNormal {
			t.Errorf("thread %d: policy %d after Set(false), want SCHED_OTHER", tid, p)
		}
	}
}
