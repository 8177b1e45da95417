package monitor_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"imperial/actors/monitor"
	"imperial/actors/monitor/dir"
	"imperial/actors/monitor/glob"
)

func TestResolve(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "vassals"), 0o755)
	os.MkdirAll(filepath.Join(root, "only", "one"), 0o755)
	c := monitor.Common{Cwd: root}
	for _, tc := range []struct {
		spec   string
		scheme string
		arg    string
		err    error
	}{
		{"dir:///etc/uwsgi/vassals", "dir", "/etc/uwsgi/vassals", nil},
		{"glob:///opt/apps/*/*.ini", "glob", "/opt/apps/*/*.ini", nil},
		{filepath.Join(root, "vassals"), "dir", filepath.Join(root, "vassals"), nil},
		{"vassals", "dir", filepath.Join(root, "vassals"), nil},
		{"only/*", "dir", filepath.Join(root, "only", "one"), nil},
		{"vassals/*.ini", "glob", "vassals/*.ini", nil},
		{"missing", "glob", "missing", nil},
		{"nosuch://x", "", "", monitor.ErrUnknownScheme},
		{"dir://", "", "", monitor.ErrSpec},
		{"glob://[", "", "", monitor.ErrSpec},
		{"", "", "", monitor.ErrSpec},
	} {
		s, o, err := monitor.Resolve(tc.spec, c)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%q: err %v, want %v", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil || s.Name != tc.scheme || s.Factory == nil {
			t.Errorf("%q: scheme %q err %v", tc.spec, s.Name, err)
			continue
		}
		switch o := o.(type) {
		case dir.Options:
			if o.Dir != tc.arg || o.Source != tc.spec {
				t.Errorf("%q: %+v", tc.spec, o)
			}
		case glob.Options:
			if o.Pattern != tc.arg || o.Source != tc.spec || o.Cwd != root {
				t.Errorf("%q: %+v", tc.spec, o)
			}
		default:
			t.Errorf("%q: options %T", tc.spec, o)
		}
	}
}
