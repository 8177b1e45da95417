package ernie

import (
	"errors"
	"fmt"

	"imperial/bertrpc/bert"
	"imperial/ernie/config"
)

// PredSuffix is appended to a function name to name its predicate
// (Fun_pred/Arity), as in Ernie.
const PredSuffix = "_pred"

// Kind is the kind of a resolved handler.
type Kind uint8

// Handler kinds.
const (
	GoNative     Kind = iota + 1 // a GoModule of the Natives table
	ErlangNative                 // an Erlang module on the BEAM peer ({codepaths, [...]})
	External                     // a pool of worker processes ({command, C}, {count, N})
)

// String returns "go", "erlang" or "external".
func (k Kind) String() string {
	switch k {
	case GoNative:
		return "go"
	case ErlangNative:
		return "erlang"
	case External:
		return "external"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Native reports whether the kind is one of the two native kinds.
func (k Kind) Native() bool { return k == GoNative || k == ErlangNative }

// Handler is one config entry, resolved. Handlers are immutable.
type Handler struct {
	Kind Kind
	// Index is the entry's position in the config (0-based), which names
	// its external pool.
	Index int
	Spec  config.ModuleSpec

	natives Natives           // GoNative
	exports map[FunArity]bool // ErlangNative: what the loaded module exports
}

// Module returns the BERT-RPC module name.
func (h *Handler) Module() string { return h.Spec.Module }

// Exports reports whether the handler serves fun/arity. An external handler
// serves everything (the worker reports unknown functions itself).
func (h *Handler) Exports(fun string, arity int) bool {
	switch h.Kind {
	case GoNative:
		_, ok := h.natives.Lookup(h.Spec.Module, fun, arity)
		return ok
	case ErlangNative:
		return h.exports[FunArity{fun, arity}]
	}
	return true
}

// HasPred reports whether a native handler has Fun_pred/Arity.
func (h *Handler) HasPred(fun string, arity int) bool {
	switch h.Kind {
	case GoNative:
		f, ok := h.natives.Lookup(h.Spec.Module, fun, arity)
		return ok && f.Pred != nil
	case ErlangNative:
		return h.exports[FunArity{fun + PredSuffix, arity}]
	}
	return false
}

// Function returns the Go function of a GoNative handler.
func (h *Handler) Function(fun string, arity int) (Function, bool) {
	if h.Kind != GoNative {
		return Function{}, false
	}
	return h.natives.Lookup(h.Spec.Module, fun, arity)
}

// Router decides which handler answers a request. It is immutable once
// built and safe for concurrent use.
type Router struct {
	handlers []*Handler            // config order
	byModule map[string][]*Handler // config order per module
}

// NewRouter resolves the config entries. A native entry with codepaths is
// an Erlang module on the BEAM peer and exports what erlang[module] lists
// (nil: nothing is known yet, so nothing is exported); a native entry
// without codepaths must name a module of natives (ErrUnknownNative).
func NewRouter(specs []config.ModuleSpec, natives Natives, erlang map[string][]FunArity) (*Router, error) {
	r := &Router{byModule: make(map[string][]*Handler)}
	var errs []error
	for i, s := range specs {
		h := &Handler{Index: i, Spec: s}
		switch {
		case s.Type == config.External:
			h.Kind = External
		case len(s.CodePaths) > 0:
			h.Kind = ErlangNative
			h.exports = make(map[FunArity]bool, len(erlang[s.Module]))
			for _, fa := range erlang[s.Module] {
				h.exports[fa] = true
			}
		case natives.Has(s.Module):
			h.Kind = GoNative
			h.natives = natives
		default:
			errs = append(errs, fmt.Errorf("%s:%d: %w: %s (give {codepaths, [...]} for an Erlang module; Go modules: %v)",
				s.File, s.Line, ErrUnknownNative, s.Module, natives.Modules()))
			continue
		}
		r.handlers = append(r.handlers, h)
		r.byModule[s.Module] = append(r.byModule[s.Module], h)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// Handlers returns the handlers in config order (shared; do not modify).
func (r *Router) Handlers() []*Handler { return r.handlers }

// Modules returns the configured module names in config order, once each.
func (r *Router) Modules() []string {
	var out []string
	seen := map[string]bool{}
	for _, h := range r.handlers {
		if !seen[h.Spec.Module] {
			seen[h.Spec.Module] = true
			out = append(out, h.Spec.Module)
		}
	}
	return out
}

// ErlangModules returns the modules of the ErlangNative handlers and the
// union of their codepaths, in config order.
func (r *Router) ErlangModules() (modules, codepaths []string) {
	seen := map[string]bool{}
	for _, h := range r.handlers {
		if h.Kind != ErlangNative {
			continue
		}
		modules = append(modules, h.Spec.Module)
		for _, p := range h.Spec.CodePaths {
			if !seen[p] {
				seen[p] = true
				codepaths = append(codepaths, p)
			}
		}
	}
	return modules, codepaths
}

// Route walks mod's handlers in config order (ernie-bert.md §3.4): a native
// handler that exports fun/len(args) answers unless it has a Fun_pred and
// pred(h) returns false; an external handler always answers. pred is only
// called for handlers with HasPred. Errors: ErrNoModule, ErrNoFunction
// (wrapped), or pred's error as is.
func (r *Router) Route(mod, fun string, args []any, pred func(h *Handler) (bool, error)) (*Handler, error) {
	hs, ok := r.byModule[mod]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoModule, mod)
	}
	arity := len(args)
	for _, h := range hs {
		if h.Kind == External {
			return h, nil
		}
		if !h.Exports(fun, arity) {
			continue
		}
		if !h.HasPred(fun, arity) {
			return h, nil
		}
		yes, err := pred(h)
		if err != nil {
			return nil, err
		}
		if yes {
			return h, nil
		}
	}
	return nil, fmt.Errorf("%w: %s:%s/%d", ErrNoFunction, mod, fun, arity)
}

// ErrorReply maps an error from Route (or from running a handler) to the
// reply the client gets: ErrNoModule and ErrNoFunction become Ernie's
// messages with the spec's codes, ErrBadPredicate and ErrInvalidRequest a
// server error, a *bert.Error is sent as is, anything else is a user error.
func ErrorReply(err error, mod, fun string) *bert.Error {
	var be *bert.Error
	var ie *InvalidError
	switch {
	case errors.As(err, &be):
		return be
	case errors.As(err, &ie):
		return InvalidRequest(ie.Term)
	case errors.Is(err, ErrNoModule):
		return NoSuchModule(mod)
	case errors.Is(err, ErrNoFunction):
		return NoSuchFunction(mod, fun)
	case errors.Is(err, ErrBadPredicate), errors.Is(err, ErrInvalidRequest):
		return ServerError(CodeUndesignated, err.Error())
	}
	return UserError(err)
}
