package bert

import (
	"fmt"
	"strconv"
	"strings"

	"imperial/node/etf"
)

// Message is a BERT-RPC message: Request, Info, Reply, NoReply or *Error.
// Term returns the message tuple; Encode accepts any Message.
type Message interface {
	Term() etf.Tuple
}

// Kind says whether a Request is a call or a cast.
type Kind uint8

// The request kinds.
const (
	Call Kind = iota + 1 // {call, Mod, Fun, Args}: synchronous
	Cast                 // {cast, Mod, Fun, Args}: answered by {noreply}
)

// String returns "call" or "cast".
func (k Kind) String() string {
	switch k {
	case Call:
		return "call"
	case Cast:
		return "cast"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Request is {call, Module, Function, Args} or {cast, Module, Function, Args}.
type Request struct {
	Kind     Kind
	Module   string
	Function string
	Args     []any
}

// Term returns the request tuple; nil Args is the empty list.
func (r Request) Term() etf.Tuple {
	args := etf.List(r.Args)
	if args == nil {
		args = etf.List{}
	}
	return etf.Tuple{etf.Atom(r.Kind.String()), etf.Atom(r.Module), etf.Atom(r.Function), args}
}

// Info is {info, Command, Args}: metadata for the next packet on the
// connection (e.g. {info, priority, [low]} or {info, cache, [...]}). Args is
// the raw third element, normally a list; Ernie honours priority only in the
// list form.
type Info struct {
	Command string
	Args    any
}

// Term returns the info tuple; nil Args is the empty list (not {bert, nil}).
func (i Info) Term() etf.Tuple {
	args := i.Args
	if args == nil {
		args = etf.List{}
	}
	return etf.Tuple{etf.Atom("info"), etf.Atom(i.Command), args}
}

// Reply is {reply, Result}.
type Reply struct {
	Result any
}

// Term returns the reply tuple.
func (r Reply) Term() etf.Tuple { return etf.Tuple{etf.Atom("reply"), r.Result} }

// NoReply is {noreply}, the answer to a cast.
type NoReply struct{}

// Term returns the noreply tuple.
func (NoReply) Term() etf.Tuple { return etf.Tuple{etf.Atom("noreply")} }

// The error types of the BERT-RPC spec.
const (
	ErrorProtocol = "protocol" // the server could not read or parse the packet
	ErrorServer   = "server"   // dispatch failed (no such module or function)
	ErrorUser     = "user"     // the handler raised
	ErrorProxy    = "proxy"    // raised by an intermediary
)

// Error is {error, {Type, Code, Class, Detail, Backtrace}}. It is a Go error;
// errors.Is matches ErrRemoteProtocol/Server/User/Proxy by Type.
type Error struct {
	Type      string // ErrorProtocol, ErrorServer, ErrorUser, ErrorProxy or another atom
	Code      int64  // 0..99 reserved by the spec; Ernie always sends 0
	Class     string // e.g. "RuntimeError"
	Detail    string // the message
	Backtrace []string
}

// Term returns the error tuple, in the spec's tuple form.
func (e Error) Term() etf.Tuple {
	bt := make(etf.List, len(e.Backtrace))
	for i, f := range e.Backtrace {
		bt[i] = []byte(f)
	}
	return etf.Tuple{etf.Atom("error"), etf.Tuple{
		etf.Atom(e.Type), e.Code, []byte(e.Class), []byte(e.Detail), bt,
	}}
}

// Error formats the remote error as "bert: <type> error <code>: <class>: <detail>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("bert: ")
	b.WriteString(e.Type)
	b.WriteString(" error ")
	b.WriteString(strconv.FormatInt(e.Code, 10))
	if e.Class != "" {
		b.WriteString(": ")
		b.WriteString(e.Class)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Is matches the ErrRemote* sentinel for the error's Type.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrRemoteProtocol:
		return e.Type == ErrorProtocol
	case ErrRemoteServer:
		return e.Type == ErrorServer
	case ErrRemoteUser:
		return e.Type == ErrorUser
	case ErrRemoteProxy:
		return e.Type == ErrorProxy
	}
	return false
}

// DecodeMessage decodes a packet body (Decode) and parses it (ParseMessage).
func DecodeMessage(b []byte) (Message, error) {
	t, err := Decode(b)
	if err != nil {
		return nil, err
	}
	return ParseMessage(t)
}

// ParseMessage turns a value returned by Decode into a Request, Info, Reply,
// NoReply or *Error. It also accepts an info sent as a list, [info, Cmd,
// Args], which the Ruby bertrpc client writes for its cache option. Anything
// else fails with ErrMalformed.
func ParseMessage(v any) (Message, error) {
	var t []any
	switch x := v.(type) {
	case etf.Tuple:
		t = x
	case etf.List:
		if len(x) == 3 && x[0] == etf.Atom("info") {
			return ParseInfo(x)
		}
		return nil, fmt.Errorf("%w: a list is not a BERT-RPC message", ErrMalformed)
	default:
		return nil, fmt.Errorf("%w: %T is not a BERT-RPC message", ErrMalformed, v)
	}
	if len(t) == 0 {
		return nil, fmt.Errorf("%w: empty tuple is not a BERT-RPC message", ErrMalformed)
	}
	switch t[0] {
	case etf.Atom("call"), etf.Atom("cast"):
		return ParseRequest(v)
	case etf.Atom("info"):
		return ParseInfo(v)
	case etf.Atom("reply"):
		if len(t) != 2 {
			return nil, fmt.Errorf("%w: reply of arity %d", ErrMalformed, len(t))
		}
		return Reply{Result: t[1]}, nil
	case etf.Atom("noreply"):
		if len(t) != 1 {
			return nil, fmt.Errorf("%w: noreply of arity %d", ErrMalformed, len(t))
		}
		return NoReply{}, nil
	case etf.Atom("error"):
		return ParseError(v)
	}
	return nil, fmt.Errorf("%w: unknown message %v", ErrMalformed, t[0])
}

// ParseRequest parses {call|cast, Module, Function, Args}: Module and
// Function atoms, Args a proper list.
func ParseRequest(v any) (Request, error) {
	t, ok := v.(etf.Tuple)
	if !ok || len(t) != 4 {
		return Request{}, fmt.Errorf("%w: request is not a 4-tuple", ErrMalformed)
	}
	var r Request
	switch t[0] {
	case etf.Atom("call"):
		r.Kind = Call
	case etf.Atom("cast"):
		r.Kind = Cast
	default:
		return Request{}, fmt.Errorf("%w: request kind %v is neither call nor cast", ErrMalformed, t[0])
	}
	mod, ok1 := t[1].(etf.Atom)
	fun, ok2 := t[2].(etf.Atom)
	if !ok1 || !ok2 {
		return Request{}, fmt.Errorf("%w: module and function must be atoms", ErrMalformed)
	}
	args, ok := t[3].(etf.List)
	if !ok {
		return Request{}, fmt.Errorf("%w: request arguments are %T, not a list", ErrMalformed, t[3])
	}
	r.Module, r.Function, r.Args = string(mod), string(fun), []any(args)
	return r, nil
}

// ParseInfo parses {info, Command, Args} (or the list form [info, Command,
// Args]); Command must be an atom.
func ParseInfo(v any) (Info, error) {
	var t []any
	switch x := v.(type) {
	case etf.Tuple:
		t = x
	case etf.List:
		t = x
	}
	if len(t) != 3 || t[0] != etf.Atom("info") {
		return Info{}, fmt.Errorf("%w: info is not {info, Command, Args}", ErrMalformed)
	}
	cmd, ok := t[1].(etf.Atom)
	if !ok {
		return Info{}, fmt.Errorf("%w: info command is %T, not an atom", ErrMalformed, t[1])
	}
	return Info{Command: string(cmd), Args: t[2]}, nil
}

// ParseError parses {error, Inner}. Inner may be a tuple (the spec, Ernie's
// Ruby side) or a list (Ernie's own errors) of {Type, Code, Class, Detail,
// Backtrace}; the 3-element {Type, Code, Detail} that Ernie's Ruby side sends
// for an invalid request is accepted with Class empty. Text fields may be
// binaries, atoms or character lists; nil stands for empty.
func ParseError(v any) (*Error, error) {
	t, ok := v.(etf.Tuple)
	if !ok || len(t) != 2 || t[0] != etf.Atom("error") {
		return nil, fmt.Errorf("%w: error is not {error, Inner}", ErrMalformed)
	}
	var in []any
	switch x := t[1].(type) {
	case etf.Tuple:
		in = x
	case etf.List:
		in = x
	default:
		return nil, fmt.Errorf("%w: error detail is %T", ErrMalformed, t[1])
	}
	if len(in) < 3 || len(in) > 5 {
		return nil, fmt.Errorf("%w: error detail has %d elements", ErrMalformed, len(in))
	}
	typ, ok := in[0].(etf.Atom)
	if !ok {
		return nil, fmt.Errorf("%w: error type is %T, not an atom", ErrMalformed, in[0])
	}
	code, ok := in[1].(int64)
	if !ok {
		return nil, fmt.Errorf("%w: error code is %T, not an integer", ErrMalformed, in[1])
	}
	e := &Error{Type: string(typ), Code: code}
	texts := in[2:]
	if len(in) == 3 {
		texts = []any{nil, in[2]} // {Type, Code, Detail}
	}
	for i, p := range []*string{&e.Class, &e.Detail} {
		if i >= len(texts) {
			break
		}
		s, ok := text(texts[i])
		if !ok {
			return nil, fmt.Errorf("%w: error text is %T", ErrMalformed, texts[i])
		}
		*p = s
	}
	if len(in) == 5 && in[4] != nil {
		bt, ok := in[4].(etf.List)
		if !ok {
			return nil, fmt.Errorf("%w: error backtrace is %T, not a list", ErrMalformed, in[4])
		}
		if s, ok := charlist(bt); ok && len(bt) > 0 {
			e.Backtrace = []string{s} // a single frame sent as a string
		} else {
			for _, f := range bt {
				s, ok := text(f)
				if !ok {
					return nil, fmt.Errorf("%w: backtrace frame is %T", ErrMalformed, f)
				}
				e.Backtrace = append(e.Backtrace, s)
			}
		}
	}
	return e, nil
}

// text accepts a binary, an atom, a character list or nil (empty).
func text(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case []byte:
		return string(x), true
	case etf.Atom:
		return string(x), true
	case string:
		return x, true
	case etf.List:
		return charlist(x)
	}
	return "", false
}

// charlist converts a list of Unicode code points to a string.
func charlist(l etf.List) (string, bool) {
	var b strings.Builder
	for _, c := range l {
		r, ok := c.(int64)
		if !ok || r < 0 || r > 0x10ffff {
			return "", false
		}
		b.WriteRune(rune(r))
	}
	return b.String(), true
}
