package bert

import "errors"

var (
	// ErrMalformed means the input is not a valid BERT term or message: bad
	// ETF, trailing bytes, an unknown or ill-formed {bert, …} complex type, or
	// a BERT-RPC form with the wrong shape. The etf error, if any, is wrapped
	// too.
	ErrMalformed = errors.New("bert: malformed term")
	// ErrTooLarge means a decode limit (size, depth, elements) was hit.
	ErrTooLarge = errors.New("bert: term too large")
	// ErrNotBERT means a value has no BERT encoding (pid, ref, port, fun,
	// bitstring) or is a Go type the encoder does not know.
	ErrNotBERT = errors.New("bert: value has no BERT encoding")
	// ErrTooDeep means a Go value given to Encode nests deeper than
	// MaxEncodeDepth (or is cyclic).
	ErrTooDeep = errors.New("bert: value nested too deep")

	// ErrRemoteProtocol, ErrRemoteServer, ErrRemoteUser and ErrRemoteProxy
	// match an *Error of that Type with errors.Is.
	ErrRemoteProtocol = errors.New("bert: remote protocol error")
	ErrRemoteServer   = errors.New("bert: remote server error")
	ErrRemoteUser     = errors.New("bert: remote user error")
	ErrRemoteProxy    = errors.New("bert: remote proxy error")
)
