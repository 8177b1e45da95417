package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// seedConfig combines the spec's example (ernie-bert.md §3.9) with the
// layout of Ernie's examples/example.cfg: multi-line entries, a native
// entry shadowing an external one, comments.
const seedConfig = `% Ernie handler config (file:consult syntax).
[{module, nat}, {type, native}, {codepaths, ["/srv/app/ebin"]}].
[{module, ext}, {type, external}, {command, "ruby /srv/app/ext.rb"}, {count, 2}].

%% examples/example.cfg: a native module shadowing the external one.
[{module, both},
 {type, native},
 {codepaths, ["examples", "/opt/lib"]}].

[{module, both},
 {type, external},
 {command, "ruby examples/ext.rb"},
 {count, 1}
 ].
[{module, 'Quoted-Mod'}, {type, external}, {command, <<"python3 -u w.py">>}, {count, 16#10}].
[{count, 3}, {command, "./w \"x\""}, {type, external}, {module, last}].
`

func TestParseSeed(t *testing.T) {
	got, err := Parse([]byte(seedConfig), "ernie.cfg")
	if err != nil {
		t.Fatal(err)
	}
	want := []ModuleSpec{
		{Module: "nat", Type: Native, CodePaths: []string{"/srv/app/ebin"}, File: "ernie.cfg", Line: 2, Col: 1},
		{Module: "ext", Type: External, Command: "ruby /srv/app/ext.rb", Count: 2, File: "ernie.cfg", Line: 3, Col: 1},
		{Module: "both", Type: Native, CodePaths: []string{"examples", "/opt/lib"}, File: "ernie.cfg", Line: 6, Col: 1},
		{Module: "both", Type: External, Command: "ruby examples/ext.rb", Count: 1, File: "ernie.cfg", Line: 10, Col: 1},
		{Module: "Quoted-Mod", Type: External, Command: "python3 -u w.py", Count: 16, File: "ernie.cfg", Line: 15, Col: 1},
		{Module: "last", Type: External, Command: `./w "x"`, Count: 3, File: "ernie.cfg", Line: 16, Col: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ernie.cfg")
	if err := os.WriteFile(path, []byte(seedConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	specs, err := ParseFile(path)
	if err != nil || len(specs) != 6 || specs[0].File != path {
		t.Fatalf("ParseFile = %d specs, %v", len(specs), err)
	}
	if _, err := ParseFile(filepath.Join(dir, "missing.cfg")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	big := filepath.Join(dir, "big.cfg")
	if err := os.WriteFile(big, make([]byte, MaxFileSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseFile(big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("big file: %v", err)
	}
}

func TestParseEmpty(t *testing.T) {
	specs, err := Parse([]byte("% no handlers\n"), "e")
	if err != nil || len(specs) != 0 {
		t.Fatalf("Parse(empty) = %v, %v", specs, err)
	}
}

func TestParseNativeWithoutCodepaths(t *testing.T) {
	specs, err := Parse([]byte("[{module, go}, {type, native}]. [{module, g2}, {type, native}, {codepaths, []}]."), "n")
	if err != nil {
		t.Fatal(err)
	}
	if specs[0].CodePaths != nil || len(specs[1].CodePaths) != 0 {
		t.Fatalf("codepaths: %#v %#v", specs[0].CodePaths, specs[1].CodePaths)
	}
}

func TestParseInvalid(t *testing.T) {
	const ext = `{type, external}, {command, "w"}, {count, 1}`
	tests := []struct {
		name      string
		src       string
		sentinel  error
		line, col int
		msg       string
	}{
		{"syntax error passes through", "[{module, a}", ErrSyntax, 1, 13, "want ',', '|' or ']'"},
		{"not a list", "{module, a}.", ErrBadEntry, 1, 1, "entry must be a list"},
		{"element not a tuple", "[{module, a}, {type, native}, oops].", ErrBadEntry, 1, 31, "must be a {Key, Value} tuple, got atom oops"},
		{"three-tuple", "[{module, a, b}, {type, native}].", ErrBadEntry, 1, 2, "a tuple of 3 elements"},
		{"key not atom", `[{"module", a}, {type, native}].`, ErrBadEntry, 1, 3, "key must be an atom"},
		{"unknown key", "[{module, a}, {type, native}, {cuont, 2}].", ErrUnknownKey, 1, 32, "unknown key cuont"},
		{"count on native", "[{module, a}, {type, native}, {count, 2}].", ErrUnknownKey, 1, 39, "count does not apply to native entries"},
		{"codepaths on external", `[{module, a}, ` + ext + `, {codepaths, []}].`, ErrUnknownKey, 1, 73, "codepaths does not apply"},
		{"duplicate key", "[{module, a}, {type, native},\n {module, b}].", ErrDuplicateKey, 2, 3, "key module repeated (first at line 1)"},
		{"missing module", "[{type, native}].", ErrMissingKey, 1, 1, "no {module, Name}"},
		{"missing type", "[{module, a}].", ErrMissingKey, 1, 1, "no {type"},
		{"unknown type", "[{module, a}, {type, internal}].", ErrUnknownType, 1, 22, "got atom internal"},
		{"type as string", `[{module, a}, {type, "native"}].`, ErrUnknownType, 1, 22, `got string "native"`},
		{"module as string", `[{module, "a"}, {type, native}].`, ErrBadValue, 1, 11, "module must be an atom"},
		{"module __admin__", `[{module, '__admin__'}, {type, native}].`, ErrBadValue, 1, 11, "reserved"},
		{"missing command", `[{module, a}, {type, external}, {count, 1}].`, ErrMissingKey, 1, 1, "no {command"},
		{"command not a string", `[{module, a}, {type, external}, {command, ruby}, {count, 1}].`, ErrBadValue, 1, 43, "command must be a string"},
		{"command charlist with bad code", `[{module, a}, {type, external}, {command, [-1]}, {count, 1}].`, ErrBadValue, 1, 43, "command must be a string"},
		{"empty command", `[{module, a}, {type, external}, {command, "  "}, {count, 1}].`, ErrBadValue, 1, 43, "empty"},
		{"command with NUL", `[{module, a}, {type, external}, {command, "a\0b"}, {count, 1}].`, ErrBadValue, 1, 43, "NUL"},
		{"missing count", `[{module, a}, {type, external}, {command, "w"}].`, ErrMissingKey, 1, 1, "no {count"},
		{"count zero", `[{module, a}, {type, external}, {command, "w"}, {count, 0}].`, ErrBadValue, 1, 57, "count 0 out of range"},
		{"count negative", `[{module, a}, {type, external}, {command, "w"}, {count, -2}].`, ErrBadValue, 1, 57, "count -2 out of range"},
		{"count too large", `[{module, a}, {type, external}, {command, "w"}, {count, 1025}].`, ErrBadValue, 1, 57, "out of range 1..1024"},
		{"count float", `[{module, a}, {type, external}, {command, "w"}, {count, 2.0}].`, ErrBadValue, 1, 57, "count must be an integer"},
		{"count big", `[{module, a}, {type, external}, {command, "w"}, {count, 99999999999999999999}].`, ErrBadValue, 1, 57, "count must be an integer"},
		{"codepaths one string", `[{module, a}, {type, native}, {codepaths, "ebin"}].`, ErrBadValue, 1, 43, "got one string"},
		{"codepaths atom", `[{module, a}, {type, native}, {codepaths, ebin}].`, ErrBadValue, 1, 43, "must be a list of strings"},
		{"codepaths element", "[{module, a}, {type, native},\n {codepaths, [\"ok\",\n    ebin]}].", ErrBadValue, 3, 5, "element must be a non-empty string, got atom ebin"},
		{"codepaths empty string", `[{module, a}, {type, native}, {codepaths, [""]}].`, ErrBadValue, 1, 44, "non-empty string"},
		{"second external", "[{module, a}, " + ext + "].\n[{module, a}, " + ext + "].", ErrDuplicateModule, 2, 1, "external entry at line 1 always answers"},
		{"native after external", "[{module, a}, " + ext + "].\n[{module, a}, {type, native}].", ErrDuplicateModule, 2, 1, "never used"},
		{"second native", "[{module, a}, {type, native}].\n\n[{module, a}, {type, native}].", ErrDuplicateModule, 3, 1, "second native entry for module a (first at line 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			specs, err := Parse([]byte(tt.src), "e.cfg")
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", specs)
			}
			if specs != nil {
				t.Errorf("specs returned with an error: %+v", specs)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("err = %v, want %v", err, tt.sentinel)
			}
			var pe *PosError
			if !errors.As(err, &pe) {
				t.Fatalf("%v is not a *PosError", err)
			}
			if pe.Line != tt.line || pe.Col != tt.col || pe.File != "e.cfg" {
				t.Errorf("at %s:%d:%d, want e.cfg:%d:%d (%v)", pe.File, pe.Line, pe.Col, tt.line, tt.col, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

func TestParseCollectsErrors(t *testing.T) {
	src := "[{module, a}, {type, x}].\n[{module, b}, {type, external}, {count, 0}].\n[{module, c}, {type, native}, {bogus, 1}].\n"
	_, err := Parse([]byte(src), "m.cfg")
	for _, want := range []string{
		"m.cfg:1:22: type must be native or external",
		"m.cfg:2:1: external entry has no {command",
		"m.cfg:2:41: count 0 out of range",
		"m.cfg:3:32: unknown key bogus",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	for _, s := range []error{ErrUnknownType, ErrMissingKey, ErrBadValue, ErrUnknownKey} {
		if !errors.Is(err, s) {
			t.Errorf("joined error does not match %v", s)
		}
	}
	var many strings.Builder
	for i := 0; i < 3*MaxErrors; i++ {
		many.WriteString("[{type, native}].\n")
	}
	_, err = Parse([]byte(many.String()), "many")
	if n := strings.Count(err.Error(), "\n") + 1; n != MaxErrors {
		t.Errorf("%d errors reported, want %d", n, MaxErrors)
	}
}

func TestTypeString(t *testing.T) {
	for ty, want := range map[Type]string{Native: "native", External: "external", 0: "Type(0)"} {
		if got := ty.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", ty, got, want)
		}
	}
}

func TestServer(t *testing.T) {
	s := Defaults()
	if s.Port != 8000 || s.LogLevel != 2 || s.AccessLog != "" || s.PidFile != "" {
		t.Fatalf("Defaults() = %+v", s)
	}
	if err := s.Validate(); !errors.Is(err, ErrMissingKey) || !strings.Contains(err.Error(), "A config file must be specified: ernie -c /path/to/config.yml") {
		t.Fatalf("Validate without config: %v", err)
	}
	s.ConfigFile = "ernie.cfg"
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for _, bad := range []Server{
		{ConfigFile: "c", Port: 0, LogLevel: 2},
		{ConfigFile: "c", Port: 65536, LogLevel: 2},
		{ConfigFile: "c", Port: 1, LogLevel: -1},
		{ConfigFile: "c", Port: 1, LogLevel: 5},
	} {
		if err := bad.Validate(); !errors.Is(err, ErrBadValue) {
			t.Errorf("Validate(%+v) = %v", bad, err)
		}
	}
}
