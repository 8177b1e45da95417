// Command bench measures imperial against the real system it replaces, side by
// side in one run, and prints both figures and their ratio (make bench). It is
// never part of make test: speed is measured here, not asserted in tests.
//
// Each benchmark lives in its own file and has one line in the table below.
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

type benchmark struct {
	name string
	run  func(cfg config) error
}

// config is what every benchmark gets from the command line.
type config struct {
	duration time.Duration // how long each measured cell runs
	binary   string        // the imperial binary under test
}

var benchmarks = []benchmark{
	{"node", benchNode},
	{"ernie", benchErnie},
	{"router", benchRouter},
	{"emperor", benchEmperor},
	{"mongrel2", benchMongrel2},
}

func main() {
	all := flag.Bool("all", false, "run every benchmark")
	only := flag.String("only", "", "comma-separated benchmark names")
	d := flag.Duration("d", 5*time.Second, "duration of each measured cell")
	bin := flag.String("bin", "bin/imperial", "imperial binary")
	flag.Parse()
	want := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n != "" {
			want[n] = true
		}
	}
	if !*all && len(want) == 0 {
		names := []string{}
		for _, b := range benchmarks {
			names = append(names, b.name)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "bench: -all or -only one of %s\n", strings.Join(names, ","))
		os.Exit(2)
	}
	failed := false
	for _, b := range benchmarks {
		if !*all && !want[b.name] {
			continue
		}
		fmt.Printf("== %s\n", b.name)
		if err := b.run(config{duration: *d, binary: *bin}); err != nil {
			fmt.Printf("   %s: FAILED: %v\n", b.name, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}
