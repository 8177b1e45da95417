package main

import (
	"fmt"
	"os"
)

// runErnie is `imperial ernie ...` (the Ernie issue).
func runErnie(args []string) int {
	fmt.Fprintln(os.Stderr, "imperial ernie: not implemented yet")
	return 2
}
