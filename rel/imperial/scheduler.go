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
// has a core to spare (node/dist AllowSpin).
func governScheduler(limit int) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := sched.Run(ctx, sched.Options{Limit: limit, Pinned: sched.Pinned(),
			Polling: dist.SpinTime, Spare: dist.AllowSpin})
		if err != nil {
			fmt.Fprintln(os.Stderr, "imperial: scheduler governor stopped:", err)
		}
	}()
	return func() { cancel(); <-done }
}
