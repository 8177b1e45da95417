package bert

import (
	"imperial/node/etf"
)

// The atoms of the BERT conventions.
const (
	atomBert  = etf.Atom("bert")
	atomNil   = etf.Atom("nil")
	atomTrue  = etf.Atom("true")
	atomFalse = etf.Atom("false")
	atomDict  = etf.Atom("dict")
	atomTime  = etf.Atom("time")
	atomRegex = etf.Atom("regex")
)

// Pair is one key/value of a Dict.
type Pair = etf.Pair

// Dict is a BERT dict, {bert, dict, [{K, V}, …]}, with its pairs in wire
// order. Keys and values are Go values as Decode returns them.
type Dict []Pair

// Get returns the value of the first pair whose key equals key as a BERT term
// (so int64(1) finds int 1, []byte("a") finds "a", and Dict or time keys
// work).
func (d Dict) Get(key any) (any, bool) {
	want, err := Encode(key)
	if err != nil {
		return nil, false
	}
	for _, p := range d {
		if got, err := Encode(p.Key); err == nil && string(got) == string(want) {
			return p.Value, true
		}
	}
	return nil, false
}

// Regex is a BERT regex, {bert, regex, Source, Options}. Source is the
// pattern text (a binary on the wire); Options are PCRE option atom names as
// Ruby writes them ("caseless", "extended", "multiline").
type Regex struct {
	Source  string
	Options []string
}

// Equal reports whether a and b encode to the same BERT term. Meant for tests.
func Equal(a, b any) bool {
	ea, erra := Encode(a)
	eb, errb := Encode(b)
	return erra == nil && errb == nil && string(ea) == string(eb)
}
