package etf

import "unicode/utf8"

// AtomTable interns atoms across decodes: a connection that decodes the same
// names frame after frame (node names in pids, registered names, '$gen_call')
// then allocates neither their strings nor their interface boxes again. It is
// not safe for concurrent use: its owner, typically one read loop, passes it
// in the DecodeOptions of every decode it runs.
type AtomTable struct {
	m   map[string]*internedAtom
	max int
}

type internedAtom struct {
	a     Atom
	boxed any // a as an interface, made on first use
}

// NewAtomTable returns a table that keeps up to max atoms; later ones are
// decoded as if there were no table, so hostile input cannot grow it further.
func NewAtomTable(max int) *AtomTable {
	return &AtomTable{m: make(map[string]*internedAtom), max: max}
}

// Intern returns the atom spelled by the UTF-8 bytes b, kept in the table if
// there is room; ok is false if b is not a valid atom (bad UTF-8, too long).
// A nil table interns nothing.
func (t *AtomTable) Intern(b []byte) (a Atom, ok bool) {
	if t != nil {
		if e := t.lookup(b); e != nil {
			return e.a, true
		}
	}
	if !utf8.Valid(b) || utf8.RuneCount(b) > MaxAtomChars {
		return "", false
	}
	if t != nil {
		if e := t.add(b); e != nil {
			return e.a, true
		}
	}
	return Atom(b), true
}

// Len is how many atoms the table holds.
func (t *AtomTable) Len() int { return len(t.m) }

// lookup finds the atom spelled by b without allocating.
func (t *AtomTable) lookup(b []byte) *internedAtom { return t.m[string(b)] }

// add keeps a copy of b unless the table is full.
func (t *AtomTable) add(b []byte) *internedAtom {
	if len(t.m) >= t.max {
		return nil
	}
	e := &internedAtom{a: Atom(b)}
	t.m[string(e.a)] = e
	return e
}
