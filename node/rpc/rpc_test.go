package rpc

import (
	"errors"
	"testing"

	"imperial/node/dist"
	"imperial/node/etf"
)

type mod struct{}

func (mod) Exports(f etf.Atom, arity int) bool { return f == "add" && arity == 2 }
func (mod) Call(c Call) (any, error) {
	return c.Args[0].(int64) + c.Args[1].(int64), nil
}

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	r.Register("imperial", "echo", func(c Call) (any, error) { return c.Args[0], nil })
	r.Register("other", "echo", func(c Call) (any, error) { return etf.Atom("other"), nil })
	r.Register("m", "throw", func(c Call) (any, error) { return nil, Throw(etf.Atom("t")) })
	r.Register("m", "exit", func(c Call) (any, error) { return nil, Exit(etf.Atom("bye")) })
	r.Register("m", "error", func(c Call) (any, error) { return nil, Raise(etf.Atom("boom")) })
	r.Register("m", "goerr", func(c Call) (any, error) { return nil, errors.New("plain") })
	r.Register("m", "panic", func(c Call) (any, error) { panic("oops") })
	r.Register("m", "nil", func(c Call) (any, error) { return nil, nil })
	r.RegisterModule("calc", mod{})

	cases := []struct {
		m, f  etf.Atom
		args  []any
		class etf.Atom
		value any
	}{
		{"imperial", "echo", []any{int64(1)}, dist.ClassReturn, int64(1)},
		{"other", "echo", []any{int64(1)}, dist.ClassReturn, etf.Atom("other")},
		{"nomod", "echo", []any{int64(2)}, dist.ClassReturn, int64(2)}, // by function name alone
		{"calc", "add", []any{int64(2), int64(3)}, dist.ClassReturn, int64(5)},
		{"calc", "echo", []any{int64(2)}, dist.ClassError, etf.Atom("undef")}, // a module owns its name
		{"calc", "add", []any{int64(2)}, dist.ClassError, etf.Atom("undef")},
		{"m", "throw", nil, dist.ClassThrow, etf.Atom("t")},
		{"m", "exit", nil, dist.ClassExit, etf.Atom("bye")},
		{"m", "error", nil, dist.ClassError, etf.Atom("boom")},
		{"m", "goerr", nil, dist.ClassError, etf.Tuple{etf.Atom("imperial"), []byte("plain")}},
		{"m", "nil", nil, dist.ClassReturn, etf.Atom("ok")},
		{"nomod", "nofun", nil, dist.ClassError, etf.Atom("undef")},
	}
	for _, c := range cases {
		res := r.Execute(Call{Module: c.m, Function: c.f, Args: c.args})
		if res.Class != c.class || !etf.Equal(res.Value, c.value) {
			t.Errorf("%s:%s%v = %s %v, want %s %v", c.m, c.f, c.args, res.Class, res.Value, c.class, c.value)
		}
		if res.Class == dist.ClassError && res.Stack == nil {
			t.Errorf("%s:%s: error without a stack", c.m, c.f)
		}
	}
	if res := r.Execute(Call{Module: "m", Function: "panic"}); res.Class != dist.ClassError {
		t.Errorf("panic = %v, want an error result", res)
	}
	r.UnregisterModule("calc")
	if _, ok := r.Lookup("calc", "add", 2); ok {
		t.Error("calc:add after UnregisterModule")
	}
}

func TestRexValue(t *testing.T) {
	stack := etf.List{}
	cases := []struct {
		in   dist.Result
		want any
	}{
		{dist.Result{Class: dist.ClassReturn, Value: int64(1)}, int64(1)},
		{dist.Result{Class: dist.ClassThrow, Value: etf.Atom("t")}, etf.Atom("t")},
		{dist.Result{Class: dist.ClassExit, Value: etf.Atom("r")},
			etf.Tuple{etf.Atom("badrpc"), etf.Tuple{etf.Atom("EXIT"), etf.Atom("r")}}},
		{dist.Result{Class: dist.ClassError, Value: etf.Atom("e"), Stack: stack},
			etf.Tuple{etf.Atom("badrpc"), etf.Tuple{etf.Atom("EXIT"), etf.Tuple{etf.Atom("e"), stack}}}},
	}
	for _, c := range cases {
		if got := RexValue(c.in); !etf.Equal(got, c.want) {
			t.Errorf("RexValue(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
