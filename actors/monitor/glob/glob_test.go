package glob_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"imperial/actors/monitor/dir"
	"imperial/actors/monitor/glob"
)

func TestScanAndWatchDirs(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"apps/one/one.ini", "apps/two/two.xml", "apps/two/notes.txt", "apps/three/x.ini",
		"apps/one/deeper/no.ini", "top.ini"} {
		p := filepath.Join(root, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("[uwsgi]\n"), 0o644)
	}
	vs, watch, err := glob.Scan("apps/*/*", root, dir.Files{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.Name)
		if v.Dir != root || v.Path != filepath.Join(root, v.Name) {
			t.Errorf("%+v", v)
		}
	}
	sort.Strings(got)
	want := []string{"apps/one/one.ini", "apps/three/x.ini", "apps/two/two.xml"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("names %v, want %v (relative to the emperor's cwd, as the pattern)", got, want)
	}
	sort.Strings(watch)
	wantDirs := []string{filepath.Join(root, "apps"), filepath.Join(root, "apps/one"), filepath.Join(root, "apps/three"), filepath.Join(root, "apps/two")}
	if len(watch) != len(wantDirs) {
		t.Fatalf("watch %v, want %v", watch, wantDirs)
	}
	for i := range watch {
		if watch[i] != wantDirs[i] {
			t.Errorf("watch %v, want %v", watch, wantDirs)
		}
	}
	// an absolute pattern keeps absolute names
	vs, _, _ = glob.Scan(filepath.Join(root, "*.ini"), "/", dir.Files{})
	if len(vs) != 1 || vs[0].Name != filepath.Join(root, "top.ini") {
		t.Errorf("absolute: %+v", vs)
	}
	if d := glob.WatchDirs("/etc/uwsgi/app.ini"); len(d) != 1 || d[0] != "/etc/uwsgi" {
		t.Errorf("WatchDirs of a plain path: %v", d)
	}
}
