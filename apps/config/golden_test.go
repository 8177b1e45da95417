package config

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite the dumps of the golden files (errors are kept)")

// goldenSep is the line of ten dashes between a case's input and its expected output.
const goldenSep = "\n----------\n"

// goldenCase is one testdata/<case>.txt: the input, then goldenSep, then the canonical
// dump (Dump) or one or more `error: <substring>` lines.
//
// The input is either one file, named by the case (trac.ini.txt is trac.ini), or a small
// archive of `-- name --` headers, each followed by a file. The first file is the one
// loaded; its header may select a section (`-- app.ini:prod --`). A first file called
// `<command line>` holds one argument per line: it goes through ParseArgs then Expand.
// Files live in /srv/app, the working directory.
type goldenCase struct {
	load  string   // path given to Load, or "" for a command line
	args  []string // the command line
	files fstest.MapFS
}

func parseGoldenInput(t *testing.T, caseName, input string) goldenCase {
	t.Helper()
	gc := goldenCase{files: fstest.MapFS{}}
	if !strings.HasPrefix(input, "-- ") {
		gc.load = caseName
		gc.files["srv/app/"+caseName] = &fstest.MapFile{Data: []byte(input)}
		return gc
	}
	var name string
	var body strings.Builder
	flush := func() {
		if name == "" {
			return
		}
		if name == CommandLine {
			gc.args = strings.Split(strings.TrimSuffix(body.String(), "\n"), "\n")
		} else {
			file, _ := splitSection(name)
			gc.files["srv/app/"+file] = &fstest.MapFile{Data: []byte(body.String())}
		}
		body.Reset()
	}
	first := true
	for _, line := range strings.SplitAfter(input, "\n") {
		trimmed := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			flush()
			name = trimmed[3 : len(trimmed)-3]
			if first && name != CommandLine {
				gc.load = name
			}
			first = false
			continue
		}
		body.WriteString(line)
	}
	flush()
	return gc
}

func goldenLoader(fsys fstest.MapFS) Loader {
	env := map[string]string{"HOME": "/home/user", "EMPTY": ""}
	return Loader{
		FS:  fsys,
		Cwd: "/srv/app",
		Env: func(name string) (string, bool) {
			v, ok := env[name]
			return v, ok
		},
		Vars: map[byte]string{'h': "box", 'k': "2", 'u': "1000", 'U': "user", 'g': "1000", 'G': "user", 'V': "2.0.21"},
	}
}

func (gc goldenCase) run() ([]Option, error) {
	l := goldenLoader(gc.files)
	if gc.load != "" {
		return l.Load(gc.load)
	}
	opts, rest, err := ParseArgs(gc.args)
	if err != nil {
		return nil, err
	}
	for _, r := range rest { // uWSGI loads leftover arguments as configs, after the options
		opts = append(opts, Option{Key: "config", Value: r, File: CommandLine})
	}
	return l.Expand(opts)
}

func TestGolden(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	if len(paths) < 20 {
		t.Fatalf("only %d golden files in testdata", len(paths))
	}
	for _, p := range paths {
		caseName := strings.TrimSuffix(filepath.Base(p), ".txt")
		t.Run(caseName, func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			input, want, ok := strings.Cut(string(data), goldenSep)
			if !ok {
				t.Fatalf("%s: no line of ten dashes", p)
			}
			gc := parseGoldenInput(t, caseName, input+"\n")
			opts, err := gc.run()
			if strings.HasPrefix(want, "error: ") {
				if err == nil {
					t.Fatalf("want an error, got:\n%s", Dump(opts))
				}
				for _, line := range strings.Split(strings.TrimSpace(want), "\n") {
					sub := strings.TrimPrefix(line, "error: ")
					if !strings.Contains(err.Error(), sub) {
						t.Errorf("error does not contain %q:\n%v", sub, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error:\n%v", err)
			}
			got := Dump(opts)
			if *update {
				if err := os.WriteFile(p, []byte(input+goldenSep+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("dump differs\n--- got\n%s--- want\n%s", got, want)
			}
		})
	}
}
