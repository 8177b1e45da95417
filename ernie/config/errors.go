package config

import (
	"errors"
	"strconv"
)

// Sentinel errors. Every error from Consult and Parse wraps one of these;
// test with errors.Is.
var (
	// ErrSyntax means the text is not valid Erlang term syntax (or uses a
	// construct file:consult would reject, such as a variable).
	ErrSyntax = errors.New("config: syntax error")
	// ErrUnsupported means valid Erlang syntax that this reader does not
	// implement (binary size/type specifiers).
	ErrUnsupported = errors.New("config: unsupported construct")
	// ErrTooLarge means the input or a literal in it exceeds a limit
	// (MaxFileSize, MaxAtomChars, MaxDigits).
	ErrTooLarge = errors.New("config: too large")
	// ErrTooDeep means terms are nested deeper than MaxDepth.
	ErrTooDeep = errors.New("config: nested too deep")
	// ErrBadEntry means a top-level term is not a property list of
	// {Key, Value} pairs with atom keys.
	ErrBadEntry = errors.New("config: bad entry")
	// ErrUnknownKey means a key Ernie does not know, or a key that does not
	// apply to the entry's type (count on a native entry).
	ErrUnknownKey = errors.New("config: unknown key")
	// ErrDuplicateKey means the same key twice in one entry (Ernie silently
	// uses the first).
	ErrDuplicateKey = errors.New("config: duplicate key")
	// ErrMissingKey means a required key is absent.
	ErrMissingKey = errors.New("config: missing key")
	// ErrBadValue means a key has a value of the wrong type or out of range.
	ErrBadValue = errors.New("config: bad value")
	// ErrUnknownType means a type other than native or external.
	ErrUnknownType = errors.New("config: unknown type")
	// ErrDuplicateModule means an entry that can never be chosen: a second
	// native or external entry for a module, or any entry after an external
	// entry for the same module (the external one always answers).
	ErrDuplicateModule = errors.New("config: duplicate module")
)

// PosError is an error at a position in a config file. Line and Col are
// 1-based; Col counts characters (runes), not bytes.
type PosError struct {
	File string
	Line int
	Col  int
	Err  error  // one of the sentinel errors
	Msg  string // what is wrong, without the position
}

// Error returns "file:line:col: msg".
func (e *PosError) Error() string {
	b := make([]byte, 0, len(e.File)+len(e.Msg)+24)
	b = append(b, e.File...)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(e.Line), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(e.Col), 10)
	b = append(b, ": "...)
	b = append(b, e.Msg...)
	return string(b)
}

// Unwrap returns the sentinel error.
func (e *PosError) Unwrap() error { return e.Err }

// Pos is a position in a config file.
type Pos struct {
	Line, Col int
}
