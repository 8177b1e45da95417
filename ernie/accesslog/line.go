package accesslog

import (
	"strconv"
	"time"
)

// MaxRequestChars is where the request field is cut: a longer ~p rendering
// is cut to this many characters followed by "...".
const MaxRequestChars = 150

// Handler is the kind of handler that served a request.
type Handler uint8

// Handler kinds. The zero value prints "unk", as Ernie's initial log record.
const (
	Unknown  Handler = iota
	Native           // "nat"
	External         // "ext"
)

// String returns the three-letter field: "nat", "ext" or "unk".
func (h Handler) String() string {
	switch h {
	case Native:
		return "nat"
	case External:
		return "ext"
	}
	return "unk"
}

// Priority is the queue a request went through.
type Priority uint8

// Priorities. The zero value is High, Ernie's default.
const (
	High Priority = iota // "high"
	Low                  // "low"
)

// String returns "high" or "low".
func (p Priority) String() string {
	if p == Low {
		return "low"
	}
	return "high"
}

// Entry is one completed request, with the fields Ernie logs.
type Entry struct {
	// Accepted is when the connection was accepted. It is printed in its
	// own location with no zone, so pass a local time (time.Now()) to log
	// like Ernie, or a UTC one to log UTC.
	Accepted time.Time
	// Wait is accept → dispatch: reading the request and infos plus the
	// queue wait (first duration field).
	Wait time.Duration
	// Run is dispatch → done: for external handlers the worker round trip
	// and the reply send (second duration field).
	Run time.Duration
	// QueueHigh and QueueLow are the queue lengths at accept.
	QueueHigh, QueueLow int
	// Handler is the kind of handler that was chosen.
	Handler Handler
	// Priority is the request's queue.
	Priority Priority
	// Request is the action term as received ({call,M,F,A} or
	// {cast,M,F,A}) in the imperial/node/etf model; it is printed like
	// Erlang's ~p and cut after MaxRequestChars.
	Request any
	// Error, when not empty, makes the line an ERR line and is printed
	// before the request ("<Error> : <request>"). Ernie writes
	// "External process error <Class>: <Reason>"; see ExternalError.
	// Carriage returns and newlines are printed as spaces.
	Error string
}

// ExternalError returns the ERR text Ernie writes for a failed exchange
// with an external worker, e.g. ExternalError("error",
// "{badmatch,{error,closed}}").
func ExternalError(class, reason string) string {
	return "External process error " + class + ": " + reason
}

// AppendLine appends e as one access-log line, newline included, and
// returns the extended buffer.
func AppendLine(buf []byte, e Entry) []byte {
	if e.Error == "" {
		buf = append(buf, "ACC ["...)
	} else {
		buf = append(buf, "ERR ["...)
	}
	buf = appendTimestamp(buf, e.Accepted)
	buf = append(buf, "] "...)
	buf = appendSeconds(buf, e.Wait)
	buf = append(buf, ' ')
	buf = appendSeconds(buf, e.Run)
	buf = append(buf, " - "...)
	buf = strconv.AppendInt(buf, int64(e.QueueHigh), 10)
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, int64(e.QueueLow), 10)
	buf = append(buf, ' ')
	buf = append(buf, e.Handler.String()...)
	buf = append(buf, ' ')
	buf = append(buf, e.Priority.String()...)
	buf = append(buf, " - "...)
	if e.Error != "" {
		for i := 0; i < len(e.Error); i++ {
			c := e.Error[i]
			if c == '\n' || c == '\r' {
				c = ' '
			}
			buf = append(buf, c)
		}
		buf = append(buf, " : "...)
	}
	buf = AppendRequest(buf, e.Request)
	return append(buf, '\n')
}

// AppendRequest appends the request field: term printed like Erlang's ~p on
// one line, cut to MaxRequestChars characters plus "..." when longer.
// Characters are bytes here: the printer emits only characters 0..255, one
// byte each, as Ernie's latin-1 log file does.
func AppendRequest(buf []byte, term any) []byte {
	start := len(buf)
	buf = appendTerm(buf, term, start+MaxRequestChars+1)
	if len(buf)-start > MaxRequestChars {
		buf = append(buf[:start+MaxRequestChars], "..."...)
	}
	return buf
}

// appendTimestamp appends YYYY-MM-DDTHH:MM:SS.ffffff with zero-padded
// microseconds.
func appendTimestamp(buf []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	buf = appendPadded(buf, y, 4)
	buf = append(buf, '-')
	buf = appendPadded(buf, int(mo), 2)
	buf = append(buf, '-')
	buf = appendPadded(buf, d, 2)
	buf = append(buf, 'T')
	buf = appendPadded(buf, h, 2)
	buf = append(buf, ':')
	buf = appendPadded(buf, mi, 2)
	buf = append(buf, ':')
	buf = appendPadded(buf, s, 2)
	buf = append(buf, '.')
	return appendPadded(buf, t.Nanosecond()/1000, 6)
}

// appendPadded appends n in decimal, left-padded with zeros to width.
func appendPadded(buf []byte, n, width int) []byte {
	if n < 0 {
		buf = append(buf, '-')
		n = -n
	}
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		buf = append(buf, '0')
	}
	return append(buf, s...)
}

// appendSeconds appends d in seconds with six decimals, as Erlang's ~f,
// rounding to the nearest microsecond (halves away from zero).
func appendSeconds(buf []byte, d time.Duration) []byte {
	us := int64(d / time.Microsecond)
	if rem := d % time.Microsecond; rem >= 500 {
		us++
	} else if rem <= -500 {
		us--
	}
	if us < 0 {
		buf = append(buf, '-')
		us = -us
	}
	buf = strconv.AppendInt(buf, us/1e6, 10)
	buf = append(buf, '.')
	return appendPadded(buf, int(us%1e6), 6)
}
