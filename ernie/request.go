package ernie

import (
	"errors"
	"fmt"

	"imperial/bertrpc/bert"
	"imperial/ernie/accesslog"
	"imperial/node/etf"
)

// AdminModule is the module name of Ernie's admin calls.
const AdminModule = "__admin__"

// ErrUndecodable means a packet that is not a valid BERT (bad magic,
// truncated, malformed, trailing bytes, over a limit).
var ErrUndecodable = errors.New("ernie: undecodable packet")

// Priority is the queue a request goes through; High is the default.
type Priority = accesslog.Priority

// The priorities.
const (
	High = accesslog.High
	Low  = accesslog.Low
)

// Action is a decoded request: {call|cast, Module, Function, Args}.
type Action struct {
	Kind     bert.Kind // bert.Call or bert.Cast
	Module   string
	Function string
	Args     etf.List
	// Term is the request term as received, for the access log.
	Term etf.Tuple
}

// Packet is one decoded client packet: an info or an action.
type Packet struct {
	// Info is set for {info, Command, Args} (or bertrpc's list form).
	Info bool
	// Command is the info command (priority, cache, callback, stream, ...).
	Command string
	// Priority is set, with HasPriority, by {info, priority, low|high} and
	// {info, priority, [low|high]}. Other values are ignored.
	Priority    Priority
	HasPriority bool
	// Action is the request when Info is false.
	Action Action
}

// DecodePacket decodes a packet body. Undecodable bytes fail with
// ErrUndecodable (reply ProtocolError(CodeNoData, ...)); a valid term that
// is neither an info nor a request fails with ErrInvalidRequest (reply
// InvalidRequest). Atoms, binaries and lists are kept as the etf model
// decodes them (no BERT conversion), so the request can be forwarded or
// logged as received.
func DecodePacket(b []byte, lim etf.Limits) (Packet, error) {
	t, n, err := etf.Decode(b, etf.DecodeOptions{Limits: lim})
	if err != nil {
		return Packet{}, fmt.Errorf("%w: %w", ErrUndecodable, err)
	}
	if n != len(b) {
		return Packet{}, fmt.Errorf("%w: %d trailing bytes", ErrUndecodable, len(b)-n)
	}
	return ParsePacket(t)
}

// ParsePacket classifies a decoded term (see DecodePacket).
func ParsePacket(t any) (Packet, error) {
	m, err := bert.ParseMessage(t)
	if err != nil {
		return Packet{}, invalid(t)
	}
	switch x := m.(type) {
	case bert.Info:
		p := Packet{Info: true, Command: x.Command}
		if x.Command == "priority" {
			p.Priority, p.HasPriority = priorityOf(x.Args)
		}
		return p, nil
	case bert.Request:
		tup, _ := t.(etf.Tuple)
		return Packet{Action: Action{Kind: x.Kind, Module: x.Module, Function: x.Function,
			Args: etf.List(x.Args), Term: tup}}, nil
	}
	return Packet{}, invalid(t)
}

func invalid(t any) error {
	return &InvalidError{Term: string(accesslog.AppendRequest(nil, t))}
}

// InvalidError is a term that is not a request; it matches
// ErrInvalidRequest with errors.Is.
type InvalidError struct {
	Term string // the term in ~p form, cut at accesslog.MaxRequestChars
}

// Error returns "ernie: invalid request: <term>".
func (e *InvalidError) Error() string { return ErrInvalidRequest.Error() + ": " + e.Term }

// Is matches ErrInvalidRequest.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalidRequest }

// priorityOf reads low/high as an atom or a one-element list.
func priorityOf(v any) (Priority, bool) {
	if l, ok := v.(etf.List); ok && len(l) == 1 {
		v = l[0]
	}
	switch v {
	case etf.Atom("low"):
		return Low, true
	case etf.Atom("high"):
		return High, true
	}
	return High, false
}

// Admin is one of Ernie's '__admin__' functions.
type Admin uint8

// The admin functions.
const (
	AdminUnknown Admin = iota
	AdminReloadHandlers
	AdminStats
	AdminHalt
)

// ParseAdmin maps the function name of a '__admin__' call.
func ParseAdmin(fun string) Admin {
	switch fun {
	case "reload_handlers":
		return AdminReloadHandlers
	case "stats":
		return AdminStats
	case "halt":
		return AdminHalt
	}
	return AdminUnknown
}

// Admin replies, as Ernie words them.
const (
	ReplyReloaded    = "Handlers reloaded."
	ReplyHalting     = "Halting."
	ReplyUnsupported = "Admin function not supported."
)
