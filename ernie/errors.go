package ernie

import (
	"errors"
	"fmt"

	"imperial/bertrpc/bert"
)

// Sentinel errors of the package; returned errors wrap one of them (test
// with errors.Is).
var (
	// ErrNoModule means no config entry names the module.
	ErrNoModule = errors.New("ernie: no such module")
	// ErrNoFunction means no handler of the module serves Fun/Arity.
	ErrNoFunction = errors.New("ernie: no such function")
	// ErrInvalidRequest means a term that is not {call|cast, Atom, Atom,
	// List} where an action was expected.
	ErrInvalidRequest = errors.New("ernie: invalid request")
	// ErrBadPredicate means a Fun_pred returned something other than a
	// boolean (Ernie's dispatcher crashes on that).
	ErrBadPredicate = errors.New("ernie: predicate did not return a boolean")
	// ErrNativeTable means a Natives table that cannot be built (duplicate
	// module or function, bad arity, missing Call).
	ErrNativeTable = errors.New("ernie: bad native module table")
	// ErrUnknownNative means a native entry without codepaths whose module
	// is not in the Go Natives table.
	ErrUnknownNative = errors.New("ernie: native module not compiled in")
)

// Codes of the BERT-RPC spec (ernie-bert.md §2.3). Ernie itself sends 0
// everywhere; imperial sends the spec's codes (the Ruby and Go clients
// raise the same exception class whatever the code).
const (
	CodeUndesignated = 0 // every type
	CodeNoHeader     = 1 // protocol: unable to read the header (too large, truncated)
	CodeNoData       = 2 // protocol: unable to read or decode the data
	CodeNoModule     = 1 // server: no such module
	CodeNoFunction   = 2 // server: no such function
)

// Exception classes imperial puts in error replies it builds itself.
const (
	ClassProtocol = "ProtocolError"
	ClassServer   = "ServerError"
	ClassRuntime  = "RuntimeError" // Ernie's class for native handler errors
)

// ProtocolError is {error, {protocol, Code, "ProtocolError", Detail, []}}:
// the request could not be read or decoded.
func ProtocolError(code int64, detail string) *bert.Error {
	return &bert.Error{Type: bert.ErrorProtocol, Code: code, Class: ClassProtocol, Detail: detail}
}

// ServerError is {error, {server, Code, "ServerError", Detail, []}}.
func ServerError(code int64, detail string) *bert.Error {
	return &bert.Error{Type: bert.ErrorServer, Code: code, Class: ClassServer, Detail: detail}
}

// NoSuchModule is Ernie's reply for a module no config entry names, with
// the spec's code 1.
func NoSuchModule(mod string) *bert.Error {
	return ServerError(CodeNoModule, "No such module '"+mod+"'")
}

// NoSuchFunction is Ernie's reply for a function no handler serves, with the
// spec's code 2.
func NoSuchFunction(mod, fun string) *bert.Error {
	return ServerError(CodeNoFunction, "No such function '"+mod+":"+fun+"'")
}

// InvalidRequest is the server error for a term that is not a request
// (Ernie's Ruby side words it the same way).
func InvalidRequest(detail string) *bert.Error {
	return ServerError(CodeUndesignated, "Invalid request: "+detail)
}

// Exception is what a native Go function returns to raise a user error
// with a chosen class, as a Ruby handler raising ArgumentError would.
type Exception struct {
	Class     string // e.g. "ArgumentError"; empty means RuntimeError
	Message   string
	Backtrace []string
}

// Error returns "Class: Message".
func (e *Exception) Error() string {
	c := e.Class
	if c == "" {
		c = ClassRuntime
	}
	return c + ": " + e.Message
}

// UserError turns what a native Go function returned into the error reply:
// a *bert.Error is sent as is (a native may pick any type and code), an
// *Exception keeps its class, anything else is a RuntimeError with the
// error's text.
func UserError(err error) *bert.Error {
	var be *bert.Error
	if errors.As(err, &be) {
		return be
	}
	var ex *Exception
	if errors.As(err, &ex) {
		c := ex.Class
		if c == "" {
			c = ClassRuntime
		}
		return &bert.Error{Type: bert.ErrorUser, Code: CodeUndesignated, Class: c, Detail: ex.Message, Backtrace: ex.Backtrace}
	}
	return &bert.Error{Type: bert.ErrorUser, Code: CodeUndesignated, Class: ClassRuntime, Detail: err.Error()}
}

// EncodeError returns the BERT encoding of {error, {Type, Code, Class,
// Detail, Backtrace}}.
func EncodeError(e *bert.Error) []byte {
	b, err := bert.Encode(e)
	if err != nil {
		// Only a non-Latin-1 type atom can fail; fall back to a plain server error.
		b, _ = bert.Encode(ServerError(CodeUndesignated, fmt.Sprintf("unencodable error reply: %v", err)))
	}
	return b
}
