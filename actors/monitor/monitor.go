// Package monitor is the table of emperor sources by scheme (dir, glob, and
// the pg, mongodb, amqp, zmq monitors as they land): one explicit table built
// in code, no registration at init. supervisors builds one monitor actor per
// --emperor spec from it; the emperor never imports a monitor.
//
// Import rules: monitor imports its scheme packages (actors/monitor/...) and
// ergo; supervisors and apps/emperor import it.
package monitor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/monitor/amqp"
	"imperial/actors/monitor/dir"
	"imperial/actors/monitor/glob"
	"imperial/actors/monitor/mongodb"
	"imperial/actors/monitor/pg"
	"imperial/actors/monitor/zmq"
)

// Errors of Resolve; test with errors.Is.
var (
	ErrUnknownScheme = errors.New("monitor: unknown emperor scheme")
	ErrSpec          = errors.New("monitor: bad emperor spec")
)

// Common is what every monitor may need besides its own spec.
type Common struct {
	Emperor gen.Atom      // where snapshots go; default emperor.Name
	Rescan  time.Duration // --emperor-freq: poll period, or the safety-net rescan of watched sources
	Cwd     string        // the emperor's working directory (glob:// patterns, relative paths)
	Tyrant  bool          // --emperor-tyrant: sources must give uid/gid
	Files   dir.Files     // per-file rules of dir:// and glob://
}

// Scheme is one kind of source.
type Scheme struct {
	Name    string // "dir", as in "dir://..."
	Factory gen.ProcessFactory
	// Options builds the monitor's Options from the spec and the part after "NAME://".
	Options func(spec, arg string, c Common) (any, error)
}

// Schemes is the table of every source imperial knows.
func Schemes() []Scheme {
	return []Scheme{
		{Name: "dir", Factory: dir.Factory, Options: dirOptions},
		{Name: "glob", Factory: glob.Factory, Options: globOptions},
		{Name: "pg", Factory: pg.Factory, Options: func(s, a string, c Common) (any, error) { return pg.FromSpec(s, a, c.Emperor, c.Rescan, c.Cwd) }},
		{Name: "mongodb", Factory: mongodb.Factory, Options: func(s, a string, c Common) (any, error) { return mongodb.FromSpec(s, a, c.Emperor, c.Rescan, c.Cwd) }},
		{Name: "amqp", Factory: amqp.Factory, Options: func(s, a string, c Common) (any, error) { return amqp.FromSpec(s, a, c.Emperor, c.Rescan, c.Cwd) }},
		{Name: "zmq", Factory: zmq.Factory, Options: func(s, a string, c Common) (any, error) { return zmq.FromSpec(s, a, c.Emperor, c.Rescan, c.Cwd) }},
	}
}

func dirOptions(spec, arg string, c Common) (any, error) {
	if arg == "" {
		return nil, fmt.Errorf("%w: %q: empty directory", ErrSpec, spec)
	}
	if !filepath.IsAbs(arg) && c.Cwd != "" {
		arg = filepath.Join(c.Cwd, arg)
	}
	return dir.Options{Dir: arg, Source: spec, Emperor: c.Emperor, Rescan: c.Rescan, Files: c.Files}, nil
}

func globOptions(spec, arg string, c Common) (any, error) {
	if arg == "" {
		return nil, fmt.Errorf("%w: %q: empty pattern", ErrSpec, spec)
	}
	if _, err := filepath.Match(arg, ""); err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrSpec, spec, err)
	}
	return glob.Options{Pattern: arg, Cwd: c.Cwd, Source: spec, Emperor: c.Emperor, Rescan: c.Rescan, Files: c.Files}, nil
}

// Resolve finds the scheme of an --emperor spec and builds its monitor's
// Options. "NAME://ARG" picks NAME from the table. A spec without a scheme is
// resolved as uWSGI does: a directory (or a pattern with exactly one match,
// a directory) is dir://, anything else glob://.
func Resolve(spec string, c Common) (Scheme, any, error) {
	if name, arg, ok := strings.Cut(spec, "://"); ok && !strings.ContainsAny(name, "/*?[") {
		for _, s := range Schemes() {
			if s.Name == name {
				o, err := s.Options(spec, arg, c)
				return s, o, err
			}
		}
		return Scheme{}, nil, fmt.Errorf("%w: %q (known: %s)", ErrUnknownScheme, name, names())
	}
	if spec == "" {
		return Scheme{}, nil, fmt.Errorf("%w: empty", ErrSpec)
	}
	abs := spec
	if !filepath.IsAbs(abs) && c.Cwd != "" {
		abs = filepath.Join(c.Cwd, abs)
	}
	target := ""
	if strings.ContainsAny(spec, "*?[") {
		if ms, err := filepath.Glob(abs); err == nil && len(ms) == 1 {
			target = ms[0]
		}
	} else {
		target = abs
	}
	if target != "" {
		if st, err := os.Stat(target); err == nil && st.IsDir() {
			o, err := dirOptions(spec, target, c)
			return byName("dir"), o, err
		}
	}
	o, err := globOptions(spec, spec, c)
	return byName("glob"), o, err
}

func byName(name string) Scheme {
	for _, s := range Schemes() {
		if s.Name == name {
			return s
		}
	}
	return Scheme{}
}

func names() string {
	var n []string
	for _, s := range Schemes() {
		n = append(n, s.Name)
	}
	return strings.Join(n, ", ")
}
