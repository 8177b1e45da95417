package main

import (
	"context"
	"fmt"
	"os"

	"imperial/rel/sched"
)

// governScheduler sizes GOMAXPROCS to the load (rel/sched) until stop is
// called, with at most limit Ps. GOMAXPROCS in the environment always wins.
func governScheduler(limit int) (stop func()) {
	if sched.Pinned() {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := sched.Run(ctx, limit); err != nil {
			fmt.Fprintln(os.Stderr, "imperial: scheduler governor stopped:", err)
		}
	}()
	return func() { cancel(); <-done }
}
