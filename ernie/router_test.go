package ernie_test

import (
	"context"
	"errors"
	"testing"

	"imperial/bertrpc/bert"
	"imperial/ernie"
	"imperial/ernie/config"
)

func mustNatives(t *testing.T, mods ...ernie.GoModule) ernie.Natives {
	t.Helper()
	n, err := ernie.NewNatives(mods...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

const testConfig = `
[{module, demo}, {type, native}].
[{module, nat}, {type, native}, {codepaths, ["/a", "/b"]}].
[{module, nat}, {type, external}, {command, "ruby ext.rb"}, {count, 2}].
[{module, ext}, {type, external}, {command, "ruby ext.rb"}, {count, 1}].
[{module, gonly}, {type, native}].
[{module, gonly2}, {type, native}, {codepaths, ["/b", "/c"]}].
`

func testRouter(t *testing.T) *ernie.Router {
	t.Helper()
	specs, err := config.Parse([]byte(testConfig), "test.cfg")
	if err != nil {
		t.Fatal(err)
	}
	gonly := ernie.GoModule{Name: "gonly", Functions: []ernie.Function{
		{Name: "f", Arity: 1, Call: func(context.Context, []any) (any, error) { return nil, nil }}}}
	r, err := ernie.NewRouter(specs, mustNatives(t, ernie.Demo("demo"), gonly), map[string][]ernie.FunArity{
		"nat":    {{"add", 2}, {"both", 1}, {"both_pred", 1}, {"only", 0}},
		"gonly2": {{"x", 0}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRoute(t *testing.T) {
	r := testRouter(t)
	type want struct {
		kind  ernie.Kind
		index int
		err   error
	}
	tests := []struct {
		name     string
		mod, fun string
		args     []any
		pred     bool // what the predicate answers
		want     want
	}{
		{"go native", "demo", "add", []any{int64(1), int64(2)}, false, want{ernie.GoNative, 0, nil}},
		{"go native wrong arity", "demo", "add", []any{int64(1)}, false, want{err: ernie.ErrNoFunction}},
		{"go native unknown fun", "demo", "nope", nil, false, want{err: ernie.ErrNoFunction}},
		{"go pred true", "demo", "both", []any{int64(20)}, true, want{ernie.GoNative, 0, nil}},
		{"go pred false, no next entry", "demo", "both", []any{int64(5)}, false, want{err: ernie.ErrNoFunction}},
		{"erlang exported", "nat", "add", []any{int64(1), int64(2)}, false, want{ernie.ErlangNative, 1, nil}},
		{"erlang not exported falls to external", "nat", "sub", []any{int64(1)}, false, want{ernie.External, 2, nil}},
		{"erlang arity mismatch falls to external", "nat", "add", []any{int64(1)}, false, want{ernie.External, 2, nil}},
		{"erlang pred true", "nat", "both", []any{int64(20)}, true, want{ernie.ErlangNative, 1, nil}},
		{"erlang pred false", "nat", "both", []any{int64(5)}, false, want{ernie.External, 2, nil}},
		{"erlang without pred", "nat", "only", nil, false, want{ernie.ErlangNative, 1, nil}},
		{"external only", "ext", "anything", []any{int64(1)}, false, want{ernie.External, 3, nil}},
		{"no module", "nope", "f", nil, false, want{err: ernie.ErrNoModule}},
		{"native only missing", "gonly", "g", nil, false, want{err: ernie.ErrNoFunction}},
		{"second erlang module", "gonly2", "x", nil, false, want{ernie.ErlangNative, 5, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			h, err := r.Route(tt.mod, tt.fun, tt.args, func(h *ernie.Handler) (bool, error) {
				called = true
				if !h.HasPred(tt.fun, len(tt.args)) {
					t.Errorf("pred called for %s without a predicate", h.Module())
				}
				return tt.pred, nil
			})
			if tt.want.err != nil {
				if !errors.Is(err, tt.want.err) {
					t.Fatalf("err %v, want %v", err, tt.want.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Kind != tt.want.kind || h.Index != tt.want.index {
				t.Fatalf("got %s entry %d, want %s entry %d", h.Kind, h.Index, tt.want.kind, tt.want.index)
			}
			if hasPred := tt.fun == "both"; called != hasPred {
				t.Fatalf("predicate called %v, want %v", called, hasPred)
			}
		})
	}
}

func TestRoutePredError(t *testing.T) {
	r := testRouter(t)
	boom := errors.New("boom")
	_, err := r.Route("nat", "both", []any{int64(1)}, func(*ernie.Handler) (bool, error) { return false, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want the predicate's", err)
	}
}

func TestRouterModules(t *testing.T) {
	r := testRouter(t)
	if got := r.Modules(); len(got) != 5 || got[0] != "demo" || got[1] != "nat" || got[4] != "gonly2" {
		t.Fatalf("modules %v", got)
	}
	mods, paths := r.ErlangModules()
	if len(mods) != 2 || mods[0] != "nat" || mods[1] != "gonly2" {
		t.Fatalf("erlang modules %v", mods)
	}
	if len(paths) != 3 || paths[0] != "/a" || paths[1] != "/b" || paths[2] != "/c" {
		t.Fatalf("codepaths %v", paths)
	}
}

func TestRouterUnknownNative(t *testing.T) {
	specs, err := config.Parse([]byte("[{module, missing}, {type, native}].\n"), "x.cfg")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ernie.NewRouter(specs, mustNatives(t, ernie.Demo("demo")), nil)
	if !errors.Is(err, ernie.ErrUnknownNative) {
		t.Fatalf("err %v, want ErrUnknownNative", err)
	}
	if want := "x.cfg:1: "; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Fatalf("error %q does not start with the position %q", err, want)
	}
}

func TestErrorReply(t *testing.T) {
	tests := []struct {
		err  error
		typ  string
		code int64
		det  string
	}{
		{ernie.ErrNoModule, "server", 1, "No such module 'm'"},
		{ernie.ErrNoFunction, "server", 2, "No such function 'm:f'"},
		{ernie.ErrBadPredicate, "server", 0, ernie.ErrBadPredicate.Error()},
		{&ernie.Exception{Class: "ArgumentError", Message: "bad"}, "user", 0, "bad"},
		{errors.New("plain"), "user", 0, "plain"},
		{ernie.ProtocolError(2, "x"), "protocol", 2, "x"},
	}
	for _, tt := range tests {
		e := ernie.ErrorReply(tt.err, "m", "f")
		if e.Type != tt.typ || e.Code != tt.code || e.Detail != tt.det {
			t.Errorf("%v → %+v, want %s %d %q", tt.err, e, tt.typ, tt.code, tt.det)
		}
	}
	b := ernie.EncodeError(ernie.NoSuchModule("nope"))
	m, err := bert.DecodeMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	be, ok := m.(*bert.Error)
	if !ok || be.Class != "ServerError" || !errors.Is(be, bert.ErrRemoteServer) {
		t.Fatalf("decoded %#v", m)
	}
}

func TestNewNativesErrors(t *testing.T) {
	f := func(context.Context, []any) (any, error) { return nil, nil }
	bad := [][]ernie.GoModule{
		{{Name: ""}},
		{{Name: "a"}, {Name: "a"}},
		{{Name: "a", Functions: []ernie.Function{{Name: "", Call: f}}}},
		{{Name: "a", Functions: []ernie.Function{{Name: "f", Arity: -1, Call: f}}}},
		{{Name: "a", Functions: []ernie.Function{{Name: "f", Arity: 256, Call: f}}}},
		{{Name: "a", Functions: []ernie.Function{{Name: "f"}}}},
		{{Name: "a", Functions: []ernie.Function{{Name: "f", Call: f}, {Name: "f", Call: f}}}},
	}
	for i, mods := range bad {
		if _, err := ernie.NewNatives(mods...); !errors.Is(err, ernie.ErrNativeTable) {
			t.Errorf("case %d: err %v, want ErrNativeTable", i, err)
		}
	}
	n := mustNatives(t, ernie.Demo("demo"))
	if ex := n.Exports("demo"); len(ex) != 6 || ex[0].String() != "add/2" {
		t.Fatalf("exports %v", ex)
	}
}
