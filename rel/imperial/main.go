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
)

// subcommands maps the first argument to its entry point; each returns the exit code.
var subcommands = map[string]func(args []string) int{
	"ernie": runErnie,
}

func main() {
	args := os.Args[1:]
	if len(args) > 0 {
		if cmd, ok := subcommands[args[0]]; ok {
			os.Exit(cmd(args[1:]))
		}
	}
	os.Exit(runServices(args))
}
