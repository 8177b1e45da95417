package main

import (
	"context"
	"fmt"
	"os"

	"imperial/node/dist"
	"imperial/rel/sched"
)

// governScheduler sizes GOMAXPROCS to the load (rel/sched) until stop is
// called, with at most limit Ps; GOMAXPROCS in the environment always wins.
// It also lets the Erlang connections poll their sockets while the machine
// has a core to spare (node/dist AllowSpin), and makes imperial's wake-ups
// yield to the running peers while it has none (sched.Wakeups).
func governScheduler(limit int) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wakeups sched.Wakeups
		warned := false
		spare := func(spare bool) {
			dist.AllowSpin(spare)
			if err := wakeups.Set(!spare); err != nil && !warned {
				warned = true
				fmt.Fprintln(os.Stderr, "imperial: cannot set the threads' scheduling policy:", err)
			}
		}
		err := sched.Run(ctx, sched.Options{Limit: limit, Pinned: sched.Pinned(),
			Polling: dist.SpinTime, Spare: spare})
		if err != nil {
			fmt.Fprintln(os.Stderr, "imperial: scheduler governor stopped:", err)
		}
	}()
	return func() { cancel(); <-done }
}
