// Package glob is the glob:// monitor: every file matching a shell pattern
// (path components may be patterns too, "/opt/apps/*/*.ini") whose name has a
// config extension is a vassal named by the match as the pattern produced it,
// running in the emperor's working directory (spec §3.2). fsnotify watches the
// pattern's fixed directory and every directory matching a pattern component,
// and the watch set follows directories as they come and go.
//
// Import rules: glob imports actors/emperor, actors/monitor/fswatch and
// actors/monitor/dir (the shared per-file rules); actors/monitor imports it.
package glob

// The glob monitor actor (fswatch.Actor with a pattern scanner).
//
// Accepts  what fswatch.Actor accepts.
// Replies  nothing.
// Sends    emperor.MessageSnapshot to the emperor.
// Spawns   fswatch's watch meta process.
// Owns     nothing beyond fswatch.Actor.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/emperor"
	"imperial/actors/monitor/dir"
	"imperial/actors/monitor/fswatch"
)

// ErrOptions: the monitor was spawned with bad options.
var ErrOptions = errors.New("glob: bad options")

// Options configure a glob:// monitor.
type Options struct {
	Pattern string   // the shell pattern, relative to Cwd unless absolute
	Cwd     string   // the emperor's working directory; default the process's
	Source  string   // the spec as given; default "glob://" + Pattern
	Emperor gen.Atom // default emperor.Name
	Rescan  time.Duration
	Files   dir.Files
}

// Scan lists the vassals matching pattern (relative to cwd) and the
// directories to watch.
func Scan(pattern, cwd string, f dir.Files) ([]emperor.VassalConfig, []string, error) {
	abs := pattern
	if !filepath.IsAbs(pattern) {
		abs = filepath.Join(cwd, pattern)
	}
	matches, err := filepath.Glob(abs)
	if err != nil {
		return nil, nil, err
	}
	var out []emperor.VassalConfig
	for _, m := range matches {
		name := m
		if !filepath.IsAbs(pattern) {
			if rel, err := filepath.Rel(cwd, m); err == nil {
				name = rel
			}
		}
		if v, ok := f.Vassal(name, m, cwd); ok {
			out = append(out, v)
		}
	}
	return out, WatchDirs(abs), nil
}

// WatchDirs returns the directories whose entries decide what an absolute
// pattern matches: its longest fixed prefix and every directory matching one
// of its intermediate components.
func WatchDirs(abs string) []string {
	comps := strings.Split(filepath.Clean(abs), string(filepath.Separator))
	first := len(comps) - 1
	for i, c := range comps {
		if strings.ContainsAny(c, `*?[\`) {
			first = i
			break
		}
	}
	base := string(filepath.Separator) + filepath.Join(comps[:first]...)
	dirs := []string{base}
	level := []string{base}
	for j := first; j < len(comps)-1; j++ {
		var next []string
		for _, d := range level {
			ms, _ := filepath.Glob(filepath.Join(d, comps[j]))
			for _, m := range ms {
				if st, err := os.Stat(m); err == nil && st.IsDir() {
					next = append(next, m)
				}
			}
		}
		dirs = append(dirs, next...)
		level = next
	}
	return dirs
}

// Factory makes a glob:// monitor; spawn it with one Options argument.
func Factory() gen.ProcessBehavior { return &monitor{} }

type monitor struct {
	fswatch.Actor
}

var _ act.ActorBehavior = (*monitor)(nil)

func (m *monitor) Init(args ...any) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: want 1 argument (Options), got %d", ErrOptions, len(args))
	}
	o, ok := args[0].(Options)
	if !ok {
		return fmt.Errorf("%w: want Options, got %T", ErrOptions, args[0])
	}
	if o.Pattern == "" {
		return fmt.Errorf("%w: empty Pattern", ErrOptions)
	}
	if _, err := filepath.Match(o.Pattern, ""); err != nil {
		return fmt.Errorf("%w: %q: %v", ErrOptions, o.Pattern, err)
	}
	if o.Cwd == "" {
		cwd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrOptions, err)
		}
		o.Cwd = cwd
	}
	if o.Source == "" {
		o.Source = "glob://" + o.Pattern
	}
	files, pattern, cwd := o.Files, o.Pattern, o.Cwd
	return m.Begin(fswatch.Options{
		Source:   o.Source,
		Emperor:  o.Emperor,
		Rescan:   o.Rescan,
		Relevant: files.Relevant,
		Scan: func() ([]emperor.VassalConfig, []string, error) {
			return Scan(pattern, cwd, files)
		},
	})
}
