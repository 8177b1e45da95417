package ernie

import (
	"fmt"
	"reflect"

	"imperial/bertrpc/bert"
	"imperial/ernie/accesslog"
	"imperial/node/etf"
)

// MaxDetail bounds the Detail and each backtrace frame of an error reply
// built from an Erlang exception (the ~p text is cut there).
const MaxDetail = 4096

// MaxFrames bounds the backtrace of an error reply built from an Erlang
// exception.
const MaxFrames = 64

var (
	atomBert  = etf.Atom("bert")
	atomNil   = etf.Atom("nil")
	atomTrue  = etf.Atom("true")
	atomFalse = etf.Atom("false")
)

// ToErlang converts request arguments the way Ernie's bert.erl decodes them
// for native Erlang handlers: {bert, nil} becomes [], {bert, true} and
// {bert, false} the atoms true and false, in every list and tuple. Dicts,
// times and regexes stay {bert, ...} tuples (bert.erl would build an OTP
// dict record; handlers that need one call dict:from_list/1). The input is
// not modified; unchanged parts are shared.
func ToErlang(v any) any {
	switch x := v.(type) {
	case etf.Tuple:
		if len(x) == 2 && x[0] == atomBert {
			switch x[1] {
			case atomNil:
				return etf.List{}
			case atomTrue:
				return atomTrue
			case atomFalse:
				return atomFalse
			}
			return x
		}
		if len(x) > 0 && x[0] == atomBert {
			return x
		}
		if out, changed := mapElems(x, ToErlang); changed {
			return etf.Tuple(out)
		}
	case etf.List:
		if out, changed := mapElems(x, ToErlang); changed {
			return etf.List(out)
		}
	case etf.ImproperList:
		es, c1 := mapElems(x.Elems, ToErlang)
		tail := ToErlang(x.Tail)
		if c1 || !sameTerm(tail, x.Tail) {
			return etf.ImproperList{Elems: es, Tail: tail}
		}
	}
	return v
}

// FromErlang converts a native Erlang handler's result the way bert.erl
// encodes it: every [] becomes {bert, nil} (Erlang's nil), the atoms true
// and false become booleans, in every list and tuple. The result is ready
// for bert.Encode (which writes floats as FLOAT_EXT, unlike Ernie). The
// input is not modified.
func FromErlang(v any) any {
	switch x := v.(type) {
	case etf.Atom:
		switch x {
		case atomTrue:
			return true
		case atomFalse:
			return false
		}
	case etf.List:
		if len(x) == 0 {
			return nil
		}
		out, _ := mapElems(x, FromErlang)
		return etf.List(out)
	case etf.Tuple:
		out, _ := mapElems(x, FromErlang)
		return etf.Tuple(out)
	case etf.ImproperList:
		es, _ := mapElems(x.Elems, FromErlang)
		return etf.ImproperList{Elems: es, Tail: FromErlang(x.Tail)}
	}
	return v
}

// ToGo converts request arguments for a native Go function: BERT complex
// types become Go values (bert.FromTerm). The input is not modified.
func ToGo(args etf.List) ([]any, error) {
	if !hasComplex(args, 0) {
		return args, nil
	}
	c := copyTerm(args, 0)
	v, err := bert.FromTerm(c)
	if err != nil {
		return nil, err
	}
	l, _ := v.(etf.List)
	return l, nil
}

// maxConvertDepth bounds the recursion of hasComplex and copyTerm; decoded
// terms are already bounded by etf.Limits.MaxDepth.
const maxConvertDepth = 100000

// hasComplex reports whether v holds a tuple headed by bert or a map (the
// values bert.FromTerm would replace).
func hasComplex(v any, depth int) bool {
	if depth > maxConvertDepth {
		return true
	}
	switch x := v.(type) {
	case etf.Tuple:
		if len(x) > 0 && x[0] == atomBert {
			return true
		}
		for _, e := range x {
			if hasComplex(e, depth+1) {
				return true
			}
		}
	case etf.List:
		for _, e := range x {
			if hasComplex(e, depth+1) {
				return true
			}
		}
	case etf.ImproperList:
		for _, e := range x.Elems {
			if hasComplex(e, depth+1) {
				return true
			}
		}
		return hasComplex(x.Tail, depth+1)
	case etf.Map:
		return true
	}
	return false
}

// copyTerm copies the containers of v (not binaries, which FromTerm never
// modifies).
func copyTerm(v any, depth int) any {
	if depth > maxConvertDepth {
		return v
	}
	switch x := v.(type) {
	case etf.Tuple:
		out := make(etf.Tuple, len(x))
		for i, e := range x {
			out[i] = copyTerm(e, depth+1)
		}
		return out
	case etf.List:
		out := make(etf.List, len(x))
		for i, e := range x {
			out[i] = copyTerm(e, depth+1)
		}
		return out
	case etf.ImproperList:
		es := make([]any, len(x.Elems))
		for i, e := range x.Elems {
			es[i] = copyTerm(e, depth+1)
		}
		return etf.ImproperList{Elems: es, Tail: copyTerm(x.Tail, depth+1)}
	case etf.Map:
		out := make(etf.Map, len(x))
		for i, p := range x {
			out[i] = etf.Pair{Key: copyTerm(p.Key, depth+1), Value: copyTerm(p.Value, depth+1)}
		}
		return out
	}
	return v
}

// mapElems applies f to each element; it copies only when something changed.
func mapElems(s []any, f func(any) any) ([]any, bool) {
	var out []any
	for i, e := range s {
		n := f(e)
		if out == nil && !sameTerm(n, e) {
			out = make([]any, len(s))
			copy(out, s[:i])
		}
		if out != nil {
			out[i] = n
		}
	}
	if out == nil {
		return s, false
	}
	return out, true
}

// sameTerm reports whether f returned its input unchanged (identity of
// comparable values; containers are compared by their first element's
// address, which is what mapElems needs).
func sameTerm(a, b any) bool {
	switch x := a.(type) {
	case etf.Tuple:
		y, ok := b.(etf.Tuple)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case etf.List:
		y, ok := b.(etf.List)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case etf.ImproperList:
		y, ok := b.(etf.ImproperList)
		return ok && len(x.Elems) == len(y.Elems) && (len(x.Elems) == 0 || &x.Elems[0] == &y.Elems[0]) && sameTerm(x.Tail, y.Tail)
	case []byte:
		y, ok := b.([]byte)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case nil:
		return b == nil
	}
	if t := reflect.TypeOf(a); t != reflect.TypeOf(b) || !t.Comparable() {
		return false
	}
	return a == b
}

// ErlangError builds the user error reply for an exception raised by a
// native Erlang handler: Class RuntimeError (Ernie's), Detail the ~p text
// of the reason (prefixed "throw: " or "exit: " for those classes, which
// Ernie never catches), Backtrace one ~p text per stack frame.
func ErlangError(class etf.Atom, reason, stack any) *bert.Error {
	e := &bert.Error{Type: bert.ErrorUser, Code: CodeUndesignated, Class: ClassRuntime}
	var d []byte
	if class != "error" && class != "" {
		d = append(d, class...)
		d = append(d, ": "...)
	}
	e.Detail = clip(accesslog.AppendTerm(d, reason))
	if frames, ok := stack.(etf.List); ok {
		for i, f := range frames {
			if i == MaxFrames {
				e.Backtrace = append(e.Backtrace, fmt.Sprintf("... %d more frames", len(frames)-i))
				break
			}
			e.Backtrace = append(e.Backtrace, clip(accesslog.AppendTerm(nil, f)))
		}
	}
	return e
}

func clip(b []byte) string {
	if len(b) > MaxDetail {
		return string(b[:MaxDetail]) + "..."
	}
	return string(b)
}

// ErlangException is an exception raised by a function called on the BEAM
// peer: what the ErlangRPC function of actors/ernie returns as its error
// when the call reached the function (any other error means the peer could
// not be reached).
type ErlangException struct {
	Class  etf.Atom // error, throw or exit
	Reason any
	Stack  any // the stacktrace for class error, else nil
}

// Error returns "erlang <class>: <~p of reason>".
func (e *ErlangException) Error() string {
	return "erlang " + string(e.Class) + ": " + clip(accesslog.AppendTerm(nil, e.Reason))
}

// Reply returns the user error reply for the exception (see ErlangError).
func (e *ErlangException) Reply() *bert.Error { return ErlangError(e.Class, e.Reason, e.Stack) }
