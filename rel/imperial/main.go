// Command imperial is one binary that is a real Erlang distribution node and runs
// uWSGI-style services as supervised ergo actors.
//
//	imperial [uWSGI-style options]     services from options or a config file
//	imperial ernie -c CFG [...]        an Ernie-compatible BERT-RPC server
//	imperial ernie reload-handlers|stats|halt -p PORT
//
// Each subcommand lives in its own file; main only dispatches.
package main

import (
	"os"
	"runtime/debug"
)

// subcommands maps the first argument to its entry point; each returns the exit code.
var subcommands = map[string]func(args []string) int{
	"ernie": runErnie,
}

func main() {
	os.Exit(dispatch(os.Args[1:]))
}

func dispatch(args []string) int {
	defer startProfile()()
	if os.Getenv("GOGC") == "" {
		// terms are short-lived garbage: trade some memory for fewer collections
		debug.SetGCPercent(400)
	}
	if len(args) > 0 {
		if cmd, ok := subcommands[args[0]]; ok {
			return cmd(args[1:])
		}
	}
	return runServices(args)
}
