package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// addGoldenSeeds seeds a fuzzer with the inputs of the golden files of one format.
func addGoldenSeeds(f *testing.F, exts ...string) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.txt"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		input, _, _ := strings.Cut(string(data), goldenSep)
		for _, ext := range exts {
			if strings.Contains(p, ext) {
				f.Add([]byte(input))
			}
		}
	}
}

// checkAdapted is what every adapter owes any input: no panic, options xor error, an
// error that wraps a sentinel and names the file, options with positions inside the input.
func checkAdapted(t *testing.T, src []byte, file string, opts []Option, err error) {
	t.Helper()
	if err != nil {
		if opts != nil {
			t.Fatalf("options and error: %v", err)
		}
		var list ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error is not a non-empty ErrorList: %v", err)
		}
		for _, e := range list {
			if e.File != file || e.Err == nil {
				t.Fatalf("bad diagnostic %#v", e)
			}
			known := false
			for _, s := range []error{ErrSyntax, ErrNoSection, ErrValue, ErrTooLarge} {
				known = known || errors.Is(e, s)
			}
			if !known {
				t.Fatalf("diagnostic wraps no adapter sentinel: %v", e)
			}
		}
		return
	}
	lines := strings.Count(string(src), "\n") + 1
	if len(opts) > MaxOptions {
		t.Fatalf("%d options > MaxOptions", len(opts))
	}
	for _, o := range opts {
		if o.File != file || o.Line < 1 || o.Line > lines || o.Key == "" {
			t.Fatalf("bad option %+v (input has %d lines)", o, lines)
		}
	}
}

func FuzzAdaptINI(f *testing.F) {
	addGoldenSeeds(f, ".ini")
	f.Add([]byte("[uwsgi]\nsocket = :1\n[x"))
	f.Add([]byte("[]\n=\n[uwsgi]\n\r\n#\n;\nk"))
	f.Fuzz(func(t *testing.T, src []byte) {
		opts, err := AdaptINI(src, "f.ini")
		checkAdapted(t, src, "f.ini", opts, err)
		// the ini round trip: what was read and can be written reads back the same
		if err == nil {
			if out, ferr := FormatINI(opts); ferr == nil {
				unescaped, misses, merr := substituteMagic(out, &magicVars{val: [256]string{'%': "%"}, have: [256]bool{'%': true}})
				if merr != nil || len(misses) > 0 {
					t.Fatalf("FormatINI left a bare %%: %v %v\n%q", merr, misses, out)
				}
				back, berr := AdaptINI(unescaped, "f.ini")
				if berr != nil || len(back) != len(opts) {
					t.Fatalf("round trip: %v\n%q", berr, out)
				}
				for i := range back {
					if back[i].Key != opts[i].Key || back[i].Value != opts[i].Value {
						t.Fatalf("round trip changed %+v into %+v", opts[i], back[i])
					}
				}
			}
		}
	})
}

func FuzzAdaptXML(f *testing.F) {
	addGoldenSeeds(f, ".xml", "xml-")
	f.Add([]byte(`<r><uwsgi id="a"><x id="b">1</x><app mountpoint="/"><s>y</s></app></uwsgi></r>`))
	f.Add([]byte("<uwsgi><![CDATA[x]]>\n<a/></uwsgi>"))
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, file := range []string{"f.xml", "f.xml:a"} {
			opts, err := AdaptXML(src, file)
			checkAdapted(t, src, "f.xml", opts, err)
		}
	})
}

func FuzzAdaptYAML(f *testing.F) {
	addGoldenSeeds(f, ".yml", ".yaml", "yaml-")
	f.Add([]byte("a: &a [1, 2]\nuwsgi:\n  b: *a\n  c: {d: 1}\n"))
	f.Add([]byte("uwsgi:\n  <<: {a: 1}\n---\nuwsgi: 2\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		opts, err := AdaptYAML(src, "f.yml")
		checkAdapted(t, src, "f.yml", opts, err)
	})
}

func FuzzAdaptJSON(f *testing.F) {
	addGoldenSeeds(f, ".json", ".js", "json-")
	f.Add([]byte(`{"uwsgi": {"a": [1, [2], {"b": null}], "a": 1e9}, "x": [[[]]]}`))
	f.Add([]byte(`{"uwsgi": 1} `))
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, file := range []string{"f.json", "f.json:x"} {
			opts, err := AdaptJSON(src, file)
			checkAdapted(t, src, "f.json", opts, err)
		}
	})
}

// FuzzLoad drives magic variables, includes and the three placeholder passes.
func FuzzLoad(f *testing.F) {
	addGoldenSeeds(f, ".ini")
	f.Add([]byte("[uwsgi]\na = %(b %(c) + 1)\nb = $(X)@(i.ini)\nc = %(a)\ninclude = i.ini\ninherit = i.ini\nset-ph = q=%(a)\n"))
	f.Add([]byte("[uwsgi]\nx = %(x x x x)\ny = %(y)%(y)\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		fsys := fstest.MapFS{
			"srv/i.ini":  {Data: []byte("[uwsgi]\ni = %(a) %n\ninclude = m.ini\n")},
			"srv/m.ini":  {Data: src},
			"srv/i.json": {Data: []byte(`{"uwsgi": {"j": "%(i)"}}`)},
		}
		l := Loader{FS: fsys, Cwd: "/srv", Env: func(n string) (string, bool) { return "$(" + n + ")", len(n)%2 == 0 }}
		opts, err := l.Load("m.ini")
		if err != nil {
			if opts != nil {
				t.Fatal("options and error")
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("not an ErrorList: %v", err)
			}
			return
		}
		for _, o := range opts {
			if len(o.Value) > MaxValueSize && strings.ContainsAny(o.Value, "%$@") {
				t.Fatalf("value over MaxValueSize after expansion: %d", len(o.Value))
			}
		}
	})
}

func FuzzParseArgs(f *testing.F) {
	f.Add("--socket\x00:1\x00-Mp4\x00a.ini\x00--\x00-x")
	f.Add("-C\x00--chmod-socket=1\x00--master=1\x00-s")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		opts, rest, err := ParseArgs(args)
		if err != nil {
			if opts != nil || !errors.Is(err, ErrArgs) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("bad error result: %v %v", opts, err)
			}
			return
		}
		if len(opts) > len(joined)+1 || len(rest) > len(args) {
			t.Fatalf("%d options and %d rest from %d args", len(opts), len(rest), len(args))
		}
		for _, o := range opts {
			if o.Line < 1 || o.Line > len(args) || o.Key == "" {
				t.Fatalf("bad option %+v", o)
			}
		}
	})
}
