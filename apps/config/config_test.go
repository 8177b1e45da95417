package config

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// kv strips positions for comparisons that are about keys and values only.
func kv(opts []Option) []string {
	out := make([]string, len(opts))
	for i, o := range opts {
		out[i] = o.Key + "=" + o.Value
	}
	return out
}

func TestAdapters(t *testing.T) {
	tests := []struct {
		name    string
		adapter Adapter
		file    string
		src     string
		want    []string
		err     error
	}{
		{"ini basic", AdaptINI, "a.ini", "[uwsgi]\nsocket = :1\nsocket = :2\nmaster\n", []string{"socket=:1", "socket=:2", "master="}, nil},
		{"ini section", AdaptINI, "a.ini:x", "[uwsgi]\na=1\n[x]\nb=2\n", []string{"b=2"}, nil},
		{"ini empty section name is default", AdaptINI, "a.ini:", "[uwsgi]\na=1\n", []string{"a=1"}, nil},
		{"ini empty section is no error", AdaptINI, "a.ini", "[uwsgi]\n", []string{}, nil},
		{"ini no trailing newline", AdaptINI, "a.ini", "[uwsgi]\na=1", []string{"a=1"}, nil},
		{"ini missing section", AdaptINI, "a.ini", "[x]\na=1\n", nil, ErrNoSection},
		{"ini empty file", AdaptINI, "a.ini", "", nil, ErrNoSection},
		{"ini bad header", AdaptINI, "a.ini", "[uwsgi\n", nil, ErrSyntax},
		{"ini empty key", AdaptINI, "a.ini", "[uwsgi]\n=1\n", nil, ErrSyntax},
		{"ini too large", AdaptINI, "a.ini", "[uwsgi]\n" + strings.Repeat("#", MaxFileSize), nil, ErrTooLarge},

		{"xml basic", AdaptXML, "a.xml", "<uwsgi><socket>:1</socket><master/></uwsgi>", []string{"socket=:1", "master=1"}, nil},
		{"xml id", AdaptXML, "a.xml:b", `<r><uwsgi id="a"><x>1</x></uwsgi><uwsgi id="b"><x>2</x></uwsgi></r>`, []string{"x=2"}, nil},
		{"xml id matches uwsgi without id", AdaptXML, "a.xml:b", `<r><uwsgi><x>1</x></uwsgi></r>`, []string{"x=1"}, nil},
		{"xml second uwsgi ignored", AdaptXML, "a.xml", `<r><uwsgi><x>1</x></uwsgi><uwsgi><x>2</x></uwsgi></r>`, []string{"x=1"}, nil},
		{"xml cdata value", AdaptXML, "a.xml", "<uwsgi><eval><![CDATA[a<b]]></eval></uwsgi>", []string{"eval=a<b"}, nil},
		{"xml no uwsgi", AdaptXML, "a.xml", "<r/>", nil, ErrNoSection},
		{"xml empty", AdaptXML, "a.xml", "", nil, ErrNoSection},
		{"xml root id mismatch", AdaptXML, "a.xml:b", `<uwsgi id="a"/>`, nil, ErrNoSection},
		{"xml nested", AdaptXML, "a.xml", "<uwsgi><a><b/></a></uwsgi>", nil, ErrValue},
		{"xml namespaced", AdaptXML, "a.xml", `<uwsgi xmlns:n="urn:x"><n:a>1</n:a></uwsgi>`, nil, ErrValue},
		{"xml unclosed", AdaptXML, "a.xml", "<uwsgi><a>", nil, ErrSyntax},
		{"xml mismatched", AdaptXML, "a.xml", "<uwsgi><a></b></uwsgi>", nil, ErrSyntax},

		{"yaml basic", AdaptYAML, "a.yml", "uwsgi:\n  socket: :1\n  master: true\n", []string{"socket=:1", "master=true"}, nil},
		{"yaml list", AdaptYAML, "a.yml", "uwsgi:\n  socket:\n    - :1\n    - :2\n", []string{"socket=:1", "socket=:2"}, nil},
		{"yaml null section", AdaptYAML, "a.yml", "uwsgi:\n", []string{}, nil},
		{"yaml two sections", AdaptYAML, "a.yml", "uwsgi:\n  a: 1\nuwsgi:\n  a: 2\n", []string{"a=1", "a=2"}, nil},
		{"yaml section scalar", AdaptYAML, "a.yml", "uwsgi: 3\n", nil, ErrValue},
		{"yaml nested", AdaptYAML, "a.yml", "uwsgi:\n  env:\n    a: b\n", nil, ErrValue},
		{"yaml merge key", AdaptYAML, "a.yml", "d: &d {a: 1}\nuwsgi:\n  <<: *d\n", nil, ErrValue},
		{"yaml empty value", AdaptYAML, "a.yml", "uwsgi:\n  master:\n", nil, ErrValue},
		{"yaml not a mapping", AdaptYAML, "a.yml", "- uwsgi\n", nil, ErrNoSection},
		{"yaml syntax", AdaptYAML, "a.yml", "uwsgi: [\n", nil, ErrSyntax},
		{"yaml percent directive", AdaptYAML, "a.yml", "uwsgi:\n  socket: %n\n", nil, ErrSyntax},

		{"json basic", AdaptJSON, "a.json", `{"uwsgi":{"socket":":1","socket":":2","master":true}}`, []string{"socket=:1", "socket=:2", "master=1"}, nil},
		{"json section", AdaptJSON, "a.json:x", `{"uwsgi":{"a":"1"},"x":{"b":2}}`, []string{"b=2"}, nil},
		{"json empty", AdaptJSON, "a.json", ``, nil, ErrSyntax},
		{"json not object section", AdaptJSON, "a.json", `{"uwsgi":[1]}`, nil, ErrValue},
		{"json nested", AdaptJSON, "a.json", `{"uwsgi":{"a":{"b":1}}}`, nil, ErrValue},
		{"json empty key", AdaptJSON, "a.json", `{"uwsgi":{"":1}}`, nil, ErrValue},
		{"json missing", AdaptJSON, "a.json", `{}`, nil, ErrNoSection},
		{"json bad", AdaptJSON, "a.json", `{"uwsgi":{"a":}}`, nil, ErrSyntax},
		{"json trailing", AdaptJSON, "a.json", `{"uwsgi":{}} x`, nil, ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := tt.adapter([]byte(tt.src), tt.file)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				var e *Error
				if !errors.As(err, &e) || e.File == "" {
					t.Fatalf("error %v carries no *Error with a file", err)
				}
				if opts != nil {
					t.Fatalf("options with an error: %v", opts)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got := kv(opts); !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			file, _ := splitSection(tt.file)
			for _, o := range opts {
				if o.File != file || o.Line < 1 {
					t.Fatalf("bad position in %+v", o)
				}
			}
		})
	}
}

func TestAdapterFor(t *testing.T) {
	for name, want := range map[string]bool{
		"a.ini": true, "a.ini:s": true, "a.xml": true, "a.yml": true, "a.yaml": true, "a.json": true,
		"a.js": true, "/x/y.ini:zerg": true, "a.txt": false, "ini": false, "a.ini.tmp": false,
	} {
		if _, ok := AdapterFor(name); ok != want {
			t.Errorf("AdapterFor(%q) = %v, want %v", name, ok, want)
		}
	}
}

func TestSplitSection(t *testing.T) {
	tests := []struct{ in, name, section string }{
		{"a.ini", "a.ini", ""},
		{"a.ini:prod", "a.ini", "prod"},
		{"a.ini:", "a.ini", ""},
		{"/d/a:b.ini:c", "/d/a:b.ini", "c"},
		{"http://host:80/a.ini", "http://host:80/a.ini", ""},
		{"http://host:80/a.ini:s", "http://host:80/a.ini", "s"},
	}
	for _, tt := range tests {
		if name, section := splitSection(tt.in); name != tt.name || section != tt.section {
			t.Errorf("splitSection(%q) = %q, %q; want %q, %q", tt.in, name, section, tt.name, tt.section)
		}
	}
}

// TestINIPrefixes cuts an ini file after every line: each prefix gives exactly the options
// of the lines it holds (ini is line based, so no option may change or appear early).
func TestINIPrefixes(t *testing.T) {
	src := "[uwsgi]\nsocket = :1\n; c\nmaster\n[other]\nx = 1\n[uwsgi]\nprocesses = 4\n"
	full, err := AdaptINI([]byte(src), "a.ini")
	if err != nil {
		t.Fatal(err)
	}
	for cut := 0; cut <= len(src); cut++ {
		opts, err := AdaptINI([]byte(src[:cut]), "a.ini")
		if cut < len("[uwsgi]") {
			if !errors.Is(err, ErrNoSection) && !errors.Is(err, ErrSyntax) {
				t.Fatalf("cut %d: err = %v", cut, err)
			}
			continue
		}
		lines := strings.Count(src[:cut], "\n")
		if partial := src[strings.LastIndexByte(src[:cut], '\n')+1 : cut]; strings.HasPrefix(partial, "[") && !strings.HasSuffix(partial, "]") {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("cut %d inside a header: err = %v", cut, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		var want []Option
		for _, o := range full {
			if o.Line <= lines {
				want = append(want, o)
			}
		}
		if len(opts) < len(want) || len(opts) > len(want)+1 {
			t.Fatalf("cut %d: %d options, want %d (+1 for a cut line)", cut, len(opts), len(want))
		}
		if !reflect.DeepEqual(opts[:len(want)], want) && len(want) > 0 {
			t.Fatalf("cut %d: got %v, want prefix %v", cut, opts, want)
		}
	}
}

func TestFormatINIRoundTrip(t *testing.T) {
	opts := []Option{
		{Key: "socket", Value: ":1"}, {Key: "socket", Value: ":2"},
		{Key: "logformat", Value: "%(addr) 100% %d"}, {Key: "env", Value: "A=B"},
		{Key: "master", Value: ""}, {Key: "home", Value: "$(HOME)"},
	}
	src, err := FormatINI(opts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Loader{Env: func(string) (string, bool) { return "", false }}.LoadBytes("v.ini", src)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	if !reflect.DeepEqual(kv(got), kv(opts)) {
		t.Fatalf("round trip:\n got %q\nwant %q\nvia\n%s", kv(got), kv(opts), src)
	}
	for _, bad := range []Option{{Key: "a\nb"}, {Key: "k", Value: "v\n"}, {Key: "a=b"}, {Key: " k"}, {Key: "k", Value: "v "}, {Key: "[k"}, {Key: ""}} {
		if _, err := FormatINI([]Option{bad}); !errors.Is(err, ErrValue) {
			t.Errorf("FormatINI(%q) err = %v, want ErrValue", bad, err)
		}
	}
}

func TestAccessors(t *testing.T) {
	opts := []Option{
		{Key: "socket", Value: ":1", File: "a.ini", Line: 2},
		{Key: "master", Value: "no", File: "a.ini", Line: 3},
		{Key: "socket", Value: ":2", File: "a.ini", Line: 4},
		{Key: "master", Value: "", File: "a.ini", Line: 5},
		{Key: "processes", Value: " 4 ", File: "a.ini", Line: 6},
		{Key: "threads", Value: "4x", File: "a.ini", Line: 7},
		{Key: "lazy", Value: "OFF", File: "a.ini", Line: 8},
		{Key: "vacuum", Value: "maybe", File: "b.ini", Line: 9},
	}
	if v, ok := Get(opts, "socket"); !ok || v != ":2" {
		t.Errorf("Get socket = %q %v", v, ok)
	}
	if _, ok := Get(opts, "nope"); ok {
		t.Error("Get nope found")
	}
	if got := All(opts, "socket"); !reflect.DeepEqual(got, []string{":1", ":2"}) {
		t.Errorf("All socket = %q", got)
	}
	if All(opts, "nope") != nil {
		t.Error("All nope not nil")
	}
	if o, ok := Lookup(opts, "master"); !ok || o.Line != 5 {
		t.Errorf("Lookup master = %+v", o)
	}
	for key, want := range map[string]bool{"master": true, "lazy": false, "absent": false} {
		if got, err := Bool(opts, key); err != nil || got != want {
			t.Errorf("Bool(%s) = %v, %v; want %v", key, got, err, want)
		}
	}
	if _, err := Bool(opts, "vacuum"); !errors.Is(err, ErrNotBool) || !strings.HasPrefix(err.Error(), "b.ini:9: vacuum: ") {
		t.Errorf("Bool(vacuum) err = %v", err)
	}
	if n, err := Int(opts, "processes", 1); err != nil || n != 4 {
		t.Errorf("Int(processes) = %d, %v", n, err)
	}
	if n, err := Int(opts, "absent", 7); err != nil || n != 7 {
		t.Errorf("Int(absent) = %d, %v", n, err)
	}
	if _, err := Int(opts, "threads", 1); !errors.Is(err, ErrNotInt) || !strings.HasPrefix(err.Error(), "a.ini:7: threads: ") {
		t.Errorf("Int(threads) err = %v", err)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    *Error
		want string
	}{
		{&Error{File: "a.ini", Line: 3, Key: "socket", Err: ErrValue}, "a.ini:3: socket: config: unsupported value"},
		{&Error{File: "a.ini", Line: 3, Err: ErrSyntax}, "a.ini:3: config: syntax error"},
		{&Error{File: "a.ini", Err: ErrNoSection}, "a.ini: config: section not found"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	list := ErrorList{tests[0].e, tests[2].e}
	if !errors.Is(list, ErrValue) || !errors.Is(list, ErrNoSection) || errors.Is(list, ErrSyntax) {
		t.Error("ErrorList does not unwrap to its errors")
	}
	if list.Error() != tests[0].want+"\n"+tests[2].want {
		t.Errorf("list = %q", list.Error())
	}
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
		rest []string
		err  error
	}{
		{"long forms", []string{"--socket", ":1", "--socket=:2", "--master"}, []string{"socket=:1", "socket=:2", "master=true"}, nil, nil},
		{"short forms", []string{"-s", ":1", "-s:2", "-p", "4", "-p4", "-M"}, []string{"socket=:1", "socket=:2", "processes=4", "processes=4", "master=true"}, nil, nil},
		{"cluster", []string{"-Mp", "4", "-TMp8"}, []string{"master=true", "processes=4", "enable-threads=true", "master=true", "processes=8"}, nil, nil},
		{"python flags", []string{"-w", "app:application", "-H", "/venv", "--module=x"}, []string{"module=app:application", "home=/venv", "module=x"}, nil, nil},
		{"value starting with dash", []string{"--set", "-x=1", "-s", "-"}, []string{"set=-x=1", "socket=-"}, nil, nil},
		{"optional argument", []string{"--chmod-socket", "660", "-C", "--chmod-socket=600", "-C666"}, []string{"chmod-socket=true", "chmod-socket=true", "chmod-socket=600", "chmod-socket=666"}, []string{"660"}, nil},
		{"empty value", []string{"--socket="}, []string{"socket="}, nil, nil},
		{"rest kept in order", []string{"a.ini", "--master", "-", "b.xml", "--", "--socket", "x"}, []string{"master=true"}, []string{"a.ini", "-", "b.xml", "--socket", "x"}, nil},
		{"unknown long takes a value", []string{"--my-plugin-option", "v"}, []string{"my-plugin-option=v"}, nil, nil},
		{"config flags", []string{"-x", "a.xml", "-y", "a.yml", "-j", "a.json", "--ini", "a.ini"}, []string{"xmlconfig=a.xml", "yaml=a.yml", "json=a.json", "ini=a.ini"}, nil, nil},
		{"boolean with value", []string{"--master=1"}, nil, nil, ErrArgs},
		{"missing value", []string{"--socket"}, nil, nil, ErrArgs},
		{"missing short value", []string{"-M", "-s"}, nil, nil, ErrArgs},
		{"unknown short", []string{"-Z"}, nil, nil, ErrArgs},
		{"no name", []string{"--=x"}, nil, nil, ErrArgs},
		{"nothing", nil, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, rest, err := ParseArgs(tt.args)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || opts != nil {
					t.Fatalf("got %v, %v; want error %v", opts, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := kv(opts); !reflect.DeepEqual(got, tt.want) && len(got)+len(tt.want) > 0 {
				t.Errorf("options %q, want %q", got, tt.want)
			}
			if !reflect.DeepEqual(rest, tt.rest) {
				t.Errorf("rest %q, want %q", rest, tt.rest)
			}
			for _, o := range opts {
				if o.File != CommandLine || o.Line < 1 || o.Line > len(tt.args) {
					t.Errorf("bad position %+v", o)
				}
			}
		})
	}
	opts, _, _ := ParseArgs([]string{"a.ini", "-Mp", "4", "--socket", ":1"})
	if lines := []int{opts[0].Line, opts[1].Line, opts[2].Line}; !reflect.DeepEqual(lines, []int{2, 2, 4}) {
		t.Errorf("lines = %v, want the argument positions [2 2 4]", lines)
	}
}

func TestLoaderDirAndCwd(t *testing.T) {
	fsys := fstest.MapFS{
		"app.ini":        {Data: []byte("[uwsgi]\ninclude = sub/b.ini\np = %p\n")},
		"sub/b.ini":      {Data: []byte("[uwsgi]\nb = %d\n")},
		"sub/escape.ini": {Data: []byte("[uwsgi]\ninclude = ../../../etc/x.ini\n")},
	}
	l := Loader{FS: fsys, Dir: "/srv/vassals"}
	opts, err := l.Load("app.ini")
	if err != nil {
		t.Fatal(err)
	}
	if got := kv(opts); !reflect.DeepEqual(got, []string{"b=/srv/vassals/sub/", "p=/srv/vassals/app.ini"}) {
		t.Fatalf("got %q", got)
	}
	if _, err := l.Load("/srv/vassals/app.ini"); err != nil {
		t.Fatalf("absolute path inside Dir: %v", err)
	}
	if _, err := l.Load("sub/escape.ini"); !errors.Is(err, ErrFile) || !strings.Contains(err.Error(), "outside /srv/vassals") {
		t.Fatalf("escape: %v", err)
	}
	l.Cwd = "/srv/vassals/sub"
	if opts, err := l.Load("b.ini"); err != nil || opts[0].Value != "/srv/vassals/sub/" {
		t.Fatalf("cwd-relative load: %v %v", opts, err)
	}
	if _, err := (Loader{}).Load("a.ini"); !errors.Is(err, ErrFile) {
		t.Fatalf("no FS: %v", err)
	}
	if _, err := l.Load("nothere.ini"); !errors.Is(err, ErrFile) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := l.Load("."); !errors.Is(err, ErrFormat) {
		t.Fatalf("dir: %v", err)
	}
	if _, err := (Loader{FS: fstest.MapFS{"d.ini/x": {}}}).Load("d.ini"); !errors.Is(err, ErrFile) {
		t.Fatalf("directory named like a config: %v", err)
	}
}

func TestExpand(t *testing.T) {
	opts := []Option{
		{Key: "base", Value: "/srv", File: CommandLine, Line: 1},
		{Key: "chdir", Value: "%(base)/app", File: CommandLine, Line: 2},
		{Key: "home", Value: "$(HOME)", File: CommandLine, Line: 3},
	}
	got, err := Loader{Env: func(n string) (string, bool) { return "/root", n == "HOME" }}.Expand(opts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(kv(got), []string{"base=/srv", "chdir=/srv/app", "home=/root"}) {
		t.Fatalf("got %q", kv(got))
	}
	if opts[1].Value != "%(base)/app" {
		t.Fatal("Expand modified its input")
	}
	// no magic variables outside files: uWSGI expands them only in file text
	got, err = Loader{}.Expand([]Option{{Key: "a", Value: "%n %(", File: CommandLine, Line: 1}})
	if err != nil || got[0].Value != "%n %(" {
		t.Fatalf("command line magic: %v %v", got, err)
	}
}

func TestExpandValueLimits(t *testing.T) {
	self := func(string) (string, bool, error) { return "%(x)", true, nil }
	if _, err := expandValue("%(x)", '%', self); !errors.Is(err, ErrExpansion) {
		t.Fatalf("self reference: %v", err)
	}
	grow := func(string) (string, bool, error) { return strings.Repeat("y", 1000) + "%(x)", true, nil }
	if _, err := expandValue("%(x)", '%', grow); !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrExpansion) {
		t.Fatalf("growth: %v", err)
	}
	if _, err := expandValue("%(x)", '%', func(string) (string, bool, error) { return "", false, ErrFile }); !errors.Is(err, ErrFile) {
		t.Fatalf("hook error: %v", err)
	}
	tests := map[string]string{
		"%(a)": "A", "%(a)%(a)": "AA", "x%(a": "x%(a", "%()": "%()", "%(b)": "%(b)",
		"%(a(b))": "%(a(b))", "%(%(a))": "%(A)", "%%(a)": "%A", "%x(a)": "%x(a)", "$(a)": "$(a)",
	}
	for in, want := range tests {
		got, err := expandValue(in, '%', func(k string) (string, bool, error) { return strings.ToUpper(k), k == "a", nil })
		if err != nil || got != want {
			t.Errorf("expandValue(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestPlaceholderMath(t *testing.T) {
	vals := map[string]string{"p": "2", "c": "8", "s": "abc", "neg": "-3"}
	lookup := func(k string) (string, bool) { v, ok := vals[k]; return v, ok }
	tests := []struct {
		expr string
		want string
		ok   bool
	}{
		{"p c + 2", "30", true}, {"p * c", "16", true}, {"c / p", "4", true}, {"c / 0", "0", true},
		{"p - c", "-6", true}, {"p ++", "3", true}, {"c --", "7", true}, {"s s", "abcabc", true},
		{"missing p", "2", true}, {"+ ", "", false}, {"++", "", false}, {"neg * p", "-6", true},
		{"s + 1", "1", true}, {"9223372036854775807 + 1", "-9223372036854775808", true},
	}
	for _, tt := range tests {
		if got, ok := placeholderMath(tt.expr, lookup); got != tt.want || ok != tt.ok {
			t.Errorf("placeholderMath(%q) = %q, %v; want %q, %v", tt.expr, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLeadingInt(t *testing.T) {
	tests := map[string]int64{
		"": 0, "12": 12, "  -7x": -7, "+3": 3, "x1": 0, "99999999999999999999": 9223372036854775807,
		"-99999999999999999999": -9223372036854775808, "-9223372036854775808": -9223372036854775808, "-": 0,
	}
	for in, want := range tests {
		if got := leadingInt(in); got != want {
			t.Errorf("leadingInt(%q) = %d, want %d", in, got, want)
		}
	}
}

// TestMagicLikeUWSGI replays a run of the real uWSGI 2.0.21 (Debian): from cwd /tmp/cfgx,
// `uwsgi --ini fmt/magic.ini:uwsgi` printed the line below for this file.
func TestMagicLikeUWSGI(t *testing.T) {
	src := "[uwsgi]\nfoo = bar\nsocket = /tmp/a.sock\nsocket = /tmp/b.sock\n" +
		"print = n=%n d=%d p=%p s=%s e=%e c=%c x=%x v=%v o=%o 0=%0 1=%1 j=%j pct=%% ref=%(foo) sock=%(socket) later=%(baz) unk=%(nope)\n" +
		"baz = qux\nmaster\n"
	fsys := fstest.MapFS{"tmp/cfgx/fmt/magic.ini": {Data: []byte(src)}}
	opts, err := Loader{FS: fsys, Cwd: "/tmp/cfgx"}.Load("fmt/magic.ini:uwsgi")
	if err != nil {
		t.Fatal(err)
	}
	const want = "n=magic d=/tmp/cfgx/fmt/ p=/tmp/cfgx/fmt/magic.ini s=magic.ini e=ini c=fmt x=uwsgi v=/tmp/cfgx " +
		"o=fmt/magic.ini 0=tmp 1=cfgx j=282CEB26 pct=% ref=bar sock=/tmp/a.sock later=qux unk=%(nope)"
	if got, _ := Get(opts, "print"); got != want {
		t.Fatalf("print =\n%s\nwant\n%s", got, want)
	}
	if got, _ := Get(opts, "master"); got != "" {
		t.Fatalf("bare master = %q, want \"\" (uWSGI: `master = `)", got)
	}
}

func TestDjb33x(t *testing.T) {
	if got := djb33xHex("/tmp/cfgx/fmt/magic.ini"); got != "282CEB26" {
		t.Fatalf("got %s, want uWSGI's 282CEB26", got)
	}
	if djb33xHex("/\xe9") == djb33xHex("/\x69") {
		t.Fatal("high bytes must hash as signed chars, not collide")
	}
}

func TestLoadBytesAndLimits(t *testing.T) {
	l := Loader{FS: fstest.MapFS{}, Cwd: "/v"}
	opts, err := l.LoadBytes("app.yml", []byte("uwsgi:\n  socket: /run/%n.sock\n"))
	if err != nil || opts[0].Value != "/run/app.sock" || opts[0].File != "app.yml" {
		t.Fatalf("LoadBytes: %v %v", opts, err)
	}
	// in yaml a plain scalar cannot start with %: magic variables are expanded first, as in uWSGI
	opts, err = l.LoadBytes("app.yml", []byte("uwsgi:\n  socket: %n.sock\n"))
	if err != nil || opts[0].Value != "app.sock" {
		t.Fatalf("yaml scalar starting with a magic variable: %v %v", opts, err)
	}
	if _, err := l.LoadBytes("app.ini", make([]byte, MaxFileSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("big: %v", err)
	}
	grow := []byte("[uwsgi]\na = " + strings.Repeat("%p", MaxFileSize/2-10) + "\n")
	if _, err := l.LoadBytes("/some/long/directory/name/app.ini", grow); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("magic growth: %v", err)
	}
	var many strings.Builder
	many.WriteString("[uwsgi]\n")
	for i := 0; i <= MaxOptions; i++ {
		many.WriteString("a=1\n")
	}
	if _, err := l.LoadBytes("app.ini", []byte(many.String())); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("many options: %v", err)
	}
	// an inherit chain of MaxFiles+ files stops with ErrTooLarge, not forever
	fsys := fstest.MapFS{"t.ini": {Data: []byte("[uwsgi]\ninherit = t.ini\n")}}
	if _, err := (Loader{FS: fsys}).Load("t.ini"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("inherit loop: %v", err)
	}
	// the files of one resolution share MaxTotalSize
	big := fstest.MapFS{}
	var top strings.Builder
	top.WriteString("[uwsgi]\n")
	for i := 0; i <= MaxTotalSize/MaxFileSize; i++ {
		name := fmt.Sprintf("big%d.ini", i)
		big[name] = &fstest.MapFile{Data: append([]byte("[uwsgi]\n"), make([]byte, MaxFileSize-8)...)}
		top.WriteString("include = " + name + "\n")
	}
	big["top.ini"] = &fstest.MapFile{Data: []byte(top.String())}
	if _, err := (Loader{FS: big}).Load("top.ini"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("total size: %v", err)
	}
	if _, err := l.LoadBytes("app.cfg", []byte("x")); !errors.Is(err, ErrFormat) {
		t.Fatalf("format: %v", err)
	}
	if _, err := l.LoadBytes("http://x/app.ini", []byte("x")); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("scheme: %v", err)
	}
}

func TestErrorsCollected(t *testing.T) {
	src := "[uwsgi]\nif-env = X\nset = bad\nlog = %Y\ninclude = none.ini\nsecret = @(none.txt)\n"
	_, err := Loader{FS: fstest.MapFS{}}.LoadBytes("v.ini", []byte(src))
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 5 {
		t.Fatalf("want 5 collected errors, got %v", err)
	}
	for i, want := range []error{ErrUnsupported, ErrValue, ErrMagic, ErrFile, ErrFile} {
		if !errors.Is(list[i], want) || list[i].Line != i+2 {
			t.Errorf("error %d = %v (line %d), want %v at line %d", i, list[i], list[i].Line, want, i+2)
		}
	}
}

func TestHostVars(t *testing.T) {
	vars := HostVars()
	for _, c := range "kugUGtT" {
		if vars[byte(c)] == "" {
			t.Errorf("%%%c empty", c)
		}
	}
	fsys := fstest.MapFS{"a.ini": {Data: []byte("[uwsgi]\ncores = %k\n")}}
	opts, err := Loader{FS: fsys, Vars: vars}.Load("a.ini")
	if err != nil || opts[0].Value != vars['k'] {
		t.Fatalf("%v %v", opts, err)
	}
}
