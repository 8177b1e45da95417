//go:build peers

package config_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"imperial/apps/config"
)

// uwsgiShowConfig runs the real uWSGI on a config with --show-config and a --chdir that
// fails right after the dump (so no server starts), and returns the dumped options.
// uWSGI's own directive lines are dropped: the one loading the file, include, inherit,
// ini, set* (and the placeholder entry after set-placeholder), show-config and chdir.
func uwsgiShowConfig(t *testing.T, bin, dir, flag, file string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--"+flag, file, "--show-config", "--chdir", filepath.Join(dir, "does-not-exist"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME=/home/peer")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, _ := cmd.CombinedOutput() // exits 1 on the chdir, by design
	t.Cleanup(func() {
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	var opts []string
	in, skipNext := false, false
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "[uwsgi]":
			in = true
			continue
		case line == ";end of configuration":
			in = false
		}
		if !in {
			continue
		}
		key, value, _ := strings.Cut(line, " = ")
		if skipNext {
			skipNext = false
			continue
		}
		switch key {
		case flag, "include", "inherit", "ini", "set", "show-config", "chdir":
			continue
		case "set-placeholder", "set-ph":
			skipNext = true
			continue
		}
		opts = append(opts, key+"="+value)
	}
	if len(opts) == 0 {
		t.Fatalf("no --show-config dump from %s:\n%s", bin, out)
	}
	return opts
}

func TestShowConfigLikeUWSGI(t *testing.T) {
	bin, err := exec.LookPath("uwsgi-core")
	if err != nil {
		if bin, err = exec.LookPath("uwsgi"); err != nil {
			t.Fatalf("uwsgi not found: run rel/scripts/install-peers.sh")
		}
	}
	dir := t.TempDir()
	files := map[string]string{
		"conf/site.ini": "[uwsgi]\n; comment\nk-magic = %n %d %p %s %e %c %o %0 %j %v %h %k %u %U %g %G 100%%\n" +
			"k-base = /srv\nk-ref = %(k-base)/x %(k-later) %(k-unknown) %(k-dup)\nk-dup = first\nk-dup = second\n" +
			"k-math = %(k-two k-two + 1) %(k-two * 3) %(k-two ++)\nk-two = 2\n" +
			"set = k-set=$(HOME)/s\nset-placeholder = k-ph=$(HOME)/p\nk-uses = %(k-set) %(k-ph)\n" +
			"k-env = $(HOME) $(NOT_SET_ANYWHERE)\nk-file = @(conf/secret.txt)\nk-bare\nk-inline = x # y\n" +
			"include = conf/inc.ini\nini = conf/inc.ini:other\ninherit = conf/tpl.ini\nk-later = later\n" +
			"[other]\nk-other = not here\n",
		"conf/inc.ini":    "[uwsgi]\nk-inc = from %n\n[other]\nk-other = %x of %n %N\n",
		"conf/tpl.ini":    "[uwsgi]\nk-tpl = template %n %N\n",
		"conf/secret.txt": "s3cr3t\n",
		"apps.xml": "<all>\n<uwsgi id=\"a\"><k-x>1</k-x></uwsgi>\n<uwsgi id=\"b\">\n  <k-x>2</k-x>\n  <k-bare/>\n" +
			"  <k-y id=\"a\">skip</k-y>\n  <k-y>%n &amp; %e</k-y>\n</uwsgi>\n</all>\n",
		"app.yml":  "uwsgi:\n  k-list: [\":1\", \":2\"]\n  k-block:\n    - a\n    - b\n  k-one: 1\n  k-true: true\n  k-q: \"%n: %e\"\nother:\n  k-no: 1\n",
		"app.json": `{"x": 1, "uwsgi": {"k-s": "%n", "k-t": true, "k-f": false, "k-n": null, "k-i": 4, "k-r": 1.5, "k-s": "again", "k-a": ["a", 2, true]}}`,
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	loader := config.Loader{
		FS:   os.DirFS(dir),
		Dir:  dir,
		Env:  func(name string) (string, bool) { return map[string]string{"HOME": "/home/peer"}[name], name == "HOME" },
		Vars: config.HostVars(),
	}
	for _, tc := range []struct{ flag, file string }{
		{"ini", "conf/site.ini"},
		{"ini", "conf/inc.ini:other"},
		{"xml", "apps.xml:b"},
		{"yaml", "app.yml"},
		{"json", "app.json"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			want := uwsgiShowConfig(t, bin, dir, tc.flag, tc.file)
			opts, err := loader.Load(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range opts {
				got = append(got, o.Key+"="+o.Value)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("differs from uWSGI\n--- imperial\n%s\n--- uwsgi\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
