// Package rpc is imperial's RPC stack (uWSGI's idea): a registry of named functions
// that Erlang nodes reach with rpc:call(Node, Module, Function, Args), erpc, and
// rex's {call, ...}, and that uWSGI RPC and Ernie reach too.
//
// A Module registered under a name receives every call to that module (Ernie
// modules register here). Otherwise the function is looked up by name alone,
// whatever module the caller named, as uWSGI's RPC does.
//
// The registry is copy-on-write: registering builds a new table and swaps it in,
// so the workers that read it share no mutable state. It imports node/etf and
// node/dist (for the Result shape); node/kernel runs it, apps register into it.
package rpc

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"ergo.services/ergo/gen"

	"imperial/node/dist"
	"imperial/node/etf"
)

// Call is one invocation.
type Call struct {
	// Process is the worker running the call: functions may Call or Send from it.
	Process     gen.Process
	Module      etf.Atom
	Function    etf.Atom
	Args        []any
	Caller      gen.PID // zero for calls that did not come from a process
	GroupLeader gen.PID
}

// Func is a registered function. It returns the value, or an error: an
// *Exception raises that Erlang exception; any other error raises
// error:{imperial, Text}.
type Func func(c Call) (any, error)

// Module serves every function of one module name.
type Module interface {
	// Exports tells whether Module serves Function with this many arguments.
	Exports(function etf.Atom, arity int) bool
	Call(c Call) (any, error)
}

// Exception is an Erlang exception raised by a function.
type Exception struct {
	Class  etf.Atom // throw, exit or error
	Reason any
	Stack  any // for error; nil means [{M,F,Arity,[]}] of the call
}

func (e *Exception) Error() string { return fmt.Sprintf("%s: %v", e.Class, e.Reason) }

// Throw, Exit and Raise build the three kinds of Erlang exception.
func Throw(v any) error      { return &Exception{Class: dist.ClassThrow, Reason: v} }
func Exit(reason any) error  { return &Exception{Class: dist.ClassExit, Reason: reason} }
func Raise(reason any) error { return &Exception{Class: dist.ClassError, Reason: reason} }
func Badarg() error          { return Raise(etf.Atom("badarg")) }
func Undef() error           { return errUndef }

var errUndef = errors.New("rpc: undefined function")

// Registry maps names to functions and modules.
type Registry struct {
	wmu   sync.Mutex
	table atomic.Pointer[table]
}

type table struct {
	modules map[etf.Atom]Module
	funcs   map[etf.Atom]Func    // by bare function name
	mfuncs  map[[2]etf.Atom]Func // by module and function
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	r := &Registry{}
	r.table.Store(&table{modules: map[etf.Atom]Module{}, funcs: map[etf.Atom]Func{}, mfuncs: map[[2]etf.Atom]Func{}})
	return r
}

func (r *Registry) update(f func(t *table)) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	old := r.table.Load()
	t := &table{modules: make(map[etf.Atom]Module, len(old.modules)+1), funcs: make(map[etf.Atom]Func, len(old.funcs)+1),
		mfuncs: make(map[[2]etf.Atom]Func, len(old.mfuncs)+1)}
	for k, v := range old.modules {
		t.modules[k] = v
	}
	for k, v := range old.funcs {
		t.funcs[k] = v
	}
	for k, v := range old.mfuncs {
		t.mfuncs[k] = v
	}
	f(t)
	r.table.Store(t)
}

// RegisterModule routes every call to module name to m.
func (r *Registry) RegisterModule(name etf.Atom, m Module) {
	r.update(func(t *table) { t.modules[name] = m })
}

// UnregisterModule removes a module.
func (r *Registry) UnregisterModule(name etf.Atom) {
	r.update(func(t *table) { delete(t.modules, name) })
}

// Register makes module:function callable; it is also found by function name
// alone when the caller names a module nobody registered.
func (r *Registry) Register(module, function etf.Atom, f Func) {
	r.update(func(t *table) {
		t.mfuncs[[2]etf.Atom{module, function}] = f
		if _, taken := t.funcs[function]; !taken {
			t.funcs[function] = f
		}
	})
}

// Lookup finds what serves module:function/arity.
func (r *Registry) Lookup(module, function etf.Atom, arity int) (Func, bool) {
	t := r.table.Load()
	if m, ok := t.modules[module]; ok {
		if !m.Exports(function, arity) {
			return nil, false
		}
		return m.Call, true
	}
	if f, ok := t.mfuncs[[2]etf.Atom{module, function}]; ok {
		return f, true
	}
	f, ok := t.funcs[function]
	return f, ok
}

// Execute runs a call and reports how it ended, in erpc's terms. A panic in the
// function becomes error:{imperial_panic, Text}, never a crash of the worker.
func (r *Registry) Execute(c Call) (res dist.Result) {
	f, ok := r.Lookup(c.Module, c.Function, len(c.Args))
	if !ok {
		return undef(c)
	}
	defer func() {
		if p := recover(); p != nil {
			res = dist.Result{Class: dist.ClassError,
				Value: etf.Tuple{etf.Atom("imperial_panic"), []byte(fmt.Sprint(p))}, Stack: stack(c)}
		}
	}()
	v, err := f(c)
	if err == nil {
		if v == nil {
			v = etf.Atom("ok")
		}
		return dist.Result{Class: dist.ClassReturn, Value: v}
	}
	if errors.Is(err, errUndef) {
		return undef(c)
	}
	var ex *Exception
	if errors.As(err, &ex) {
		s := ex.Stack
		if ex.Class == dist.ClassError && s == nil {
			s = stack(c)
		}
		return dist.Result{Class: ex.Class, Value: ex.Reason, Stack: s}
	}
	return dist.Result{Class: dist.ClassError, Value: etf.Tuple{etf.Atom("imperial"), []byte(err.Error())}, Stack: stack(c)}
}

func stack(c Call) any {
	return etf.List{etf.Tuple{c.Module, c.Function, int64(len(c.Args)), etf.List{}}}
}

func undef(c Call) dist.Result {
	args := etf.List(c.Args)
	if args == nil {
		args = etf.List{}
	}
	return dist.Result{Class: dist.ClassError, Value: etf.Atom("undef"),
		Stack: etf.List{etf.Tuple{c.Module, c.Function, args, etf.List{}}}}
}

// RexValue turns a result into what rpc:call's rex path returns: the value, a
// thrown term, or {badrpc, {'EXIT', ...}}.
func RexValue(r dist.Result) any {
	switch r.Class {
	case dist.ClassReturn, dist.ClassThrow:
		return r.Value
	case dist.ClassExit:
		return etf.Tuple{etf.Atom("badrpc"), etf.Tuple{etf.Atom("EXIT"), r.Value}}
	}
	return etf.Tuple{etf.Atom("badrpc"), etf.Tuple{etf.Atom("EXIT"), etf.Tuple{r.Value, r.Stack}}}
}
