// Package dir is the dir:// monitor (uWSGI's default): every file of one
// directory whose name has a config extension is a vassal named by its bare
// file name, running with the directory as its working directory (spec §3.2).
// Changes are seen through fsnotify (actors/monitor/fswatch) within
// milliseconds; mtimes are compared at full resolution, so two edits in the
// same second are both seen (uWSGI compares whole seconds).
//
// Import rules: dir imports actors/emperor (the contract) and
// actors/monitor/fswatch; actors/monitor's scheme table imports it.
package dir

// The dir monitor actor (fswatch.Actor with a directory scanner).
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
	"syscall"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/emperor"
	"imperial/actors/monitor/fswatch"
)

// ErrOptions: the monitor was spawned with bad options.
var ErrOptions = errors.New("dir: bad options")

// Options configure a dir:// monitor.
type Options struct {
	Dir     string   // the directory (made absolute)
	Source  string   // the spec as given; default "dir://" + Dir
	Emperor gen.Atom // default emperor.Name
	Rescan  time.Duration
	Files   Files
}

// Files are the per-file rules the dir:// and glob:// monitors share.
type Files struct {
	Nofollow        bool     // --emperor-nofollow: lstat; symlinks are vassals with their own mtime
	TyrantNofollow  bool     // --emperor-tyrant-nofollow: uid/gid of the link itself
	ExtraExtensions []string // --emperor-extra-extension
	OnDemandDir     string   // --emperor-on-demand-directory: socket DIR/<name without ext>.socket
	OnDemandExt     string   // --emperor-on-demand-extension: first line of NAME+EXT
}

// Vassal stats one candidate file and builds its VassalConfig; ok is false
// for a file that is not a vassal (bad name, not regular, gone).
func (f Files) Vassal(name, path, dir string) (v emperor.VassalConfig, ok bool) {
	if emperor.ValidName(name, f.ExtraExtensions) != nil {
		return v, false
	}
	stat := os.Stat
	if f.Nofollow {
		stat = os.Lstat
	}
	st, err := stat(path)
	if err != nil {
		return v, false
	}
	mode := st.Mode()
	if !mode.IsRegular() && !(f.Nofollow && mode&os.ModeSymlink != 0) {
		return v, false
	}
	v = emperor.VassalConfig{Name: name, Path: path, MTime: st.ModTime(), UID: -1, GID: -1, Dir: dir}
	if sys, isSys := st.Sys().(*syscall.Stat_t); isSys {
		v.UID, v.GID = int(sys.Uid), int(sys.Gid)
	}
	if f.TyrantNofollow && !f.Nofollow {
		if lst, err := os.Lstat(path); err == nil {
			if sys, isSys := lst.Sys().(*syscall.Stat_t); isSys {
				v.UID, v.GID = int(sys.Uid), int(sys.Gid)
			}
		}
	}
	v.Socket = f.onDemand(name, path)
	return v, true
}

// onDemand finds the on-demand socket of a vassal, as uWSGI's
// emperor_check_on_demand_socket does.
func (f Files) onDemand(name, path string) string {
	if f.OnDemandExt != "" {
		data, err := os.ReadFile(path + f.OnDemandExt)
		if err != nil {
			return ""
		}
		line, _, _ := strings.Cut(string(data), "\n")
		for i := 0; i < len(line); i++ {
			if line[i] < 32 {
				return line[:i]
			}
		}
		return line
	}
	if f.OnDemandDir != "" {
		base := filepath.Base(name)
		ext := filepath.Ext(base)
		if ext == "" {
			return ""
		}
		return filepath.Join(f.OnDemandDir, strings.TrimSuffix(base, ext)+".socket")
	}
	return ""
}

// Relevant tells whether a change to a file with this base name can matter.
func (f Files) Relevant(base string) bool {
	if emperor.ValidName(base, f.ExtraExtensions) == nil {
		return true
	}
	return f.OnDemandExt != "" && strings.HasSuffix(base, f.OnDemandExt)
}

// Scan lists the vassals of dir.
func Scan(dir string, f Files) ([]emperor.VassalConfig, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []emperor.VassalConfig
	for _, e := range entries {
		if v, ok := f.Vassal(e.Name(), filepath.Join(dir, e.Name()), dir); ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// Factory makes a dir:// monitor; spawn it with one Options argument.
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
	if o.Dir == "" {
		return fmt.Errorf("%w: empty Dir", ErrOptions)
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrOptions, err)
	}
	if o.Source == "" {
		o.Source = "dir://" + o.Dir
	}
	files := o.Files
	return m.Begin(fswatch.Options{
		Source:   o.Source,
		Emperor:  o.Emperor,
		Rescan:   o.Rescan,
		Relevant: files.Relevant,
		Scan: func() ([]emperor.VassalConfig, []string, error) {
			vs, err := Scan(dir, files)
			return vs, []string{dir}, err
		},
	})
}
