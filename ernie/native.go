package ernie

import (
	"context"
	"fmt"
	"sort"
	"strconv"
)

// MaxArity is the largest arity of a native function (Erlang's limit).
const MaxArity = 255

// Func is a native Go function. args are the request's arguments decoded
// with imperial/bertrpc/bert conventions (nil, bool, bert.Dict, time.Time,
// bert.Regex, etf.Atom, int64 or *big.Int, float64, []byte, etf.List,
// etf.Tuple); the result is encoded with bert.Encode. A returned error
// becomes a user error reply (see UserError). ctx ends when the server's
// call timeout passes or the server stops. A panic is recovered and
// reported as a RuntimeError.
type Func func(ctx context.Context, args []any) (any, error)

// Pred is a Fun_pred: called with the same arguments before Func, it
// decides per call whether the native function answers (true) or the next
// config entry for the module does (false), as Ernie's Fun_pred/Arity.
type Pred func(ctx context.Context, args []any) (bool, error)

// Function is one exported function of a GoModule.
type Function struct {
	Name  string
	Arity int
	Call  Func
	Pred  Pred // optional
}

// FunArity names a function by name and arity, as Erlang exports do.
type FunArity struct {
	Name  string
	Arity int
}

// String returns "name/arity".
func (fa FunArity) String() string { return fa.Name + "/" + strconv.Itoa(fa.Arity) }

// GoModule is a native module compiled into imperial. A config entry
// {type, native} without codepaths names one of these by Name.
type GoModule struct {
	Name      string
	Functions []Function
}

// Natives is the table of native Go modules, built once in code (no
// init-time registration). It is immutable once built and safe for
// concurrent use.
type Natives struct {
	mods map[string]map[FunArity]Function
}

// NewNatives builds the table; a duplicate module or function, an empty
// name, an arity outside 0..MaxArity or a missing Call fail with
// ErrNativeTable.
func NewNatives(mods ...GoModule) (Natives, error) {
	n := Natives{mods: make(map[string]map[FunArity]Function, len(mods))}
	for _, m := range mods {
		if m.Name == "" {
			return Natives{}, fmt.Errorf("%w: module without a name", ErrNativeTable)
		}
		if _, dup := n.mods[m.Name]; dup {
			return Natives{}, fmt.Errorf("%w: module %s listed twice", ErrNativeTable, m.Name)
		}
		fs := make(map[FunArity]Function, len(m.Functions))
		for _, f := range m.Functions {
			fa := FunArity{f.Name, f.Arity}
			switch {
			case f.Name == "":
				return Natives{}, fmt.Errorf("%w: %s: function without a name", ErrNativeTable, m.Name)
			case f.Arity < 0 || f.Arity > MaxArity:
				return Natives{}, fmt.Errorf("%w: %s:%s: arity %d out of range", ErrNativeTable, m.Name, f.Name, f.Arity)
			case f.Call == nil:
				return Natives{}, fmt.Errorf("%w: %s:%s has no Call", ErrNativeTable, m.Name, fa)
			}
			if _, dup := fs[fa]; dup {
				return Natives{}, fmt.Errorf("%w: %s:%s listed twice", ErrNativeTable, m.Name, fa)
			}
			fs[fa] = f
		}
		n.mods[m.Name] = fs
	}
	return n, nil
}

// Has reports whether the table holds module mod.
func (n Natives) Has(mod string) bool {
	_, ok := n.mods[mod]
	return ok
}

// Lookup returns mod's function fun/arity.
func (n Natives) Lookup(mod, fun string, arity int) (Function, bool) {
	f, ok := n.mods[mod][FunArity{fun, arity}]
	return f, ok
}

// Modules returns the module names, sorted.
func (n Natives) Modules() []string {
	out := make([]string, 0, len(n.mods))
	for m := range n.mods {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// Exports returns mod's functions, sorted by name then arity.
func (n Natives) Exports(mod string) []FunArity {
	fs := n.mods[mod]
	out := make([]FunArity, 0, len(fs))
	for fa := range fs {
		out = append(out, fa)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Arity < out[j].Arity
	})
	return out
}
