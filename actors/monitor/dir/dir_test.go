package dir_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"imperial/actors/emperor"
	"imperial/actors/monitor/dir"
)

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func names(vs []emperor.VassalConfig) []string {
	var n []string
	for _, v := range vs {
		n = append(n, v.Name)
	}
	sort.Strings(n)
	return n
}

func TestScan(t *testing.T) {
	d := t.TempDir()
	for _, f := range []string{"a.ini", "b.xml", "c.yml", "d.yaml", "e.json", "f.js", "g.txt", "h.ini.tmp", "i.conf"} {
		write(t, filepath.Join(d, f), "[uwsgi]\n")
	}
	os.Mkdir(filepath.Join(d, "sub.ini"), 0o755)
	os.Symlink(filepath.Join(d, "a.ini"), filepath.Join(d, "link.ini"))
	os.Symlink(filepath.Join(d, "missing.ini"), filepath.Join(d, "dangling.ini"))
	past := time.Unix(1_700_000_000, 123_000_000)
	os.Chtimes(filepath.Join(d, "a.ini"), past, past)

	for _, tc := range []struct {
		name  string
		files dir.Files
		want  []string
	}{
		{"default", dir.Files{}, []string{"a.ini", "b.xml", "c.yml", "d.yaml", "e.json", "f.js", "link.ini"}},
		{"extra extension", dir.Files{ExtraExtensions: []string{"conf"}},
			[]string{"a.ini", "b.xml", "c.yml", "d.yaml", "e.json", "f.js", "i.conf", "link.ini"}},
		{"nofollow", dir.Files{Nofollow: true},
			[]string{"a.ini", "b.xml", "c.yml", "d.yaml", "dangling.ini", "e.json", "f.js", "link.ini"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs, err := dir.Scan(d, tc.files)
			if err != nil {
				t.Fatal(err)
			}
			got := names(vs)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
			for _, v := range vs {
				if v.Dir != d || v.Path != filepath.Join(d, v.Name) || v.UID != os.Getuid() || v.Config != nil {
					t.Errorf("%+v", v)
				}
				if v.Name == "a.ini" && !v.MTime.Equal(past) {
					t.Errorf("a.ini mtime %v, want %v (full resolution)", v.MTime, past)
				}
			}
		})
	}
	if _, err := dir.Scan(filepath.Join(d, "nope"), dir.Files{}); err == nil {
		t.Error("scan of a missing directory succeeded")
	}
}

func TestOnDemandSockets(t *testing.T) {
	d := t.TempDir()
	write(t, filepath.Join(d, "app.ini"), "[uwsgi]\n")
	write(t, filepath.Join(d, "app.ini.socket"), "127.0.0.1:3131\njunk\n")
	write(t, filepath.Join(d, "other.ini"), "[uwsgi]\n")
	vs, _ := dir.Scan(d, dir.Files{OnDemandExt: ".socket"})
	for _, v := range vs {
		want := map[string]string{"app.ini": "127.0.0.1:3131", "other.ini": ""}[v.Name]
		if v.Socket != want {
			t.Errorf("%s socket %q, want %q", v.Name, v.Socket, want)
		}
	}
	vs, _ = dir.Scan(d, dir.Files{OnDemandDir: "/run/od"})
	for _, v := range vs {
		if want := "/run/od/" + v.Name[:len(v.Name)-4] + ".socket"; v.Socket != want {
			t.Errorf("%s socket %q, want %q", v.Name, v.Socket, want)
		}
	}
	f := dir.Files{OnDemandExt: ".socket"}
	for base, want := range map[string]bool{"a.ini": true, "a.ini.socket": true, "a.log": false, "x.yaml": true} {
		if f.Relevant(base) != want {
			t.Errorf("Relevant(%q) = %v", base, !want)
		}
	}
}
