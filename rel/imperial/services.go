package main

import (
	"flag"
	"fmt"
	"os"

	"imperial/node"
)

// runServices starts imperial as a node with the services its options ask for.
func runServices(args []string) int {
	fs := flag.NewFlagSet("imperial", flag.ContinueOnError)
	name := fs.String("erlang", "", "Erlang node name: node@ip, node@host or bare node (as erl -sname)")
	cookie := fs.String("erlang-cookie", "", "distribution cookie (default: ~/.erlang.cookie)")
	long := fs.Bool("erlang-long", false, "expand a bare --erlang name as erl -name does")
	hidden := fs.Bool("erlang-hidden", false, "run as a hidden node")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *name == "" {
		*name = "imperial"
	}
	n, err := node.Start(node.Options{Name: *name, Long: *long, Cookie: *cookie, Hidden: *hidden})
	if err != nil {
		fmt.Fprintln(os.Stderr, "imperial:", err)
		return 1
	}
	n.Wait()
	return 0
}
