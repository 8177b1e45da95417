package config

import (
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"unicode/utf8"

	"imperial/node/etf"
)

// Limits on entry values.
const (
	// MaxCount is the largest worker count of an external entry.
	MaxCount = 1024
	// MaxErrors is how many validation errors Parse reports before it stops.
	MaxErrors = 20
)

// Type is the kind of a handler entry.
type Type uint8

// Handler types (ernie-bert.md §3.9).
const (
	// Native handlers run in-process. In Ernie they are Erlang modules
	// loaded from codepaths; in imperial they are Go handlers registered
	// under the module name.
	Native Type = iota + 1
	// External handlers are pools of Count worker processes started with
	// Command, speaking BERP on fds 3 and 4.
	External
)

// String returns "native" or "external" (the atoms of the config file).
func (t Type) String() string {
	switch t {
	case Native:
		return "native"
	case External:
		return "external"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// ModuleSpec is one handler entry of an Ernie config file. Entries keep file
// order, which is the order handlers are tried for a module (§3.4): a
// native entry listed before an external one for the same module shadows
// it for the functions it exports (and whose Fun_pred accepts the call).
type ModuleSpec struct {
	// Module is the BERT-RPC module name clients call ({module, Atom}).
	Module string
	// Type is Native or External ({type, native | external}).
	Type Type
	// CodePaths lists the native entry's {codepaths, [Dir, ...]} in file
	// order. Ernie prepends each to the Erlang code path, so the last one
	// ends up searched first. Optional here (imperial's natives are
	// compiled in); Ernie crashes without it.
	CodePaths []string
	// Command is the external entry's shell command ({command, String}),
	// run with /bin/sh -c. Ernie appends " --procline xxx..." (§4.1).
	Command string
	// Count is the external entry's number of workers ({count, N}),
	// 1..MaxCount. Ernie accepts 0 (requests then wait forever).
	Count int
	// File, Line and Col locate the entry's opening bracket.
	File string
	Line int
	Col  int
}

// ParseFile reads and parses the config file at path.
func ParseFile(path string) ([]ModuleSpec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	return Parse(src, path)
}

// Parse reads an Ernie config file (see Consult for the syntax) and
// validates each entry. Syntax errors stop at the first one; validation
// errors are collected (up to MaxErrors) and returned joined. Every error
// is a *PosError naming file:line:col.
//
// Differences from Ernie, which validates nothing and crashes or misbehaves
// later: unknown keys, repeated keys, keys of the other type (count on a
// native entry), count < 1, entries that can never be chosen (any entry
// after an external entry for the same module, a second native entry for a
// module) and the reserved module '__admin__' are errors. An empty file
// gives no entries and no error.
func Parse(src []byte, file string) ([]ModuleSpec, error) {
	nodes, err := consultNodes(src, file)
	if err != nil {
		return nil, err
	}
	v := validator{file: file}
	specs := make([]ModuleSpec, 0, len(nodes))
	for _, n := range nodes {
		if s, ok := v.entry(n); ok {
			specs = append(specs, s)
		}
		if len(v.errs) >= MaxErrors {
			break
		}
	}
	v.shadowing(specs)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return specs, nil
}

// validator collects validation errors.
type validator struct {
	file string
	errs []error
}

func (v *validator) fail(p Pos, sentinel error, format string, args ...any) {
	if len(v.errs) >= MaxErrors {
		return
	}
	v.errs = append(v.errs, &PosError{File: v.file, Line: p.Line, Col: p.Col, Err: sentinel, Msg: fmt.Sprintf(format, args...)})
}

// keyType reports whether Ernie reads key, and the entry type it applies
// to (0: all types).
func keyType(key string) (Type, bool) {
	switch key {
	case "module", "type":
		return 0, true
	case "codepaths":
		return Native, true
	case "command", "count":
		return External, true
	}
	return 0, false
}

// entry validates one top-level term.
func (v *validator) entry(n *node) (ModuleSpec, bool) {
	spec := ModuleSpec{File: v.file, Line: n.pos.Line, Col: n.pos.Col}
	list, ok := n.value.(etf.List)
	if !ok {
		v.fail(n.pos, ErrBadEntry, "entry must be a list of {Key, Value} tuples, got %s", describe(n.value))
		return spec, false
	}
	nerr := len(v.errs)
	props := map[string]*node{} // key → value node
	order := []string{}
	for i := range list {
		kn := n.kid(i)
		t, ok := list[i].(etf.Tuple)
		if !ok || len(t) != 2 {
			v.fail(kn.pos, ErrBadEntry, "entry element must be a {Key, Value} tuple, got %s", describe(list[i]))
			continue
		}
		key, ok := t[0].(etf.Atom)
		if !ok {
			v.fail(kn.kid(0).pos, ErrBadEntry, "key must be an atom, got %s", describe(t[0]))
			continue
		}
		k := string(key)
		if _, known := keyType(k); !known {
			v.fail(kn.kid(0).pos, ErrUnknownKey, "unknown key %s (Ernie knows module, type, codepaths, command, count)", quoteAtomText(k))
			continue
		}
		if first, dup := props[k]; dup {
			v.fail(kn.kid(0).pos, ErrDuplicateKey, "key %s repeated (first at line %d)", k, first.pos.Line)
			continue
		}
		props[k] = kn.kid(1)
		order = append(order, k)
	}

	if mn, ok := props["module"]; !ok {
		v.fail(n.pos, ErrMissingKey, "entry has no {module, Name}")
	} else if a, ok := mn.value.(etf.Atom); !ok {
		v.fail(mn.pos, ErrBadValue, "module must be an atom, got %s", describe(mn.value))
	} else if a == "" || a == "__admin__" {
		v.fail(mn.pos, ErrBadValue, "module %s is reserved", quoteAtomText(string(a)))
	} else {
		spec.Module = string(a)
	}

	tn, ok := props["type"]
	if !ok {
		v.fail(n.pos, ErrMissingKey, "entry has no {type, native | external}")
		return spec, false
	}
	switch tn.value {
	case etf.Atom("native"):
		spec.Type = Native
	case etf.Atom("external"):
		spec.Type = External
	default:
		v.fail(tn.pos, ErrUnknownType, "type must be native or external, got %s", describe(tn.value))
		return spec, false
	}
	for _, k := range order {
		if want, _ := keyType(k); want != 0 && want != spec.Type {
			v.fail(props[k].pos, ErrUnknownKey, "key %s does not apply to %s entries", k, spec.Type)
		}
	}

	if spec.Type == Native {
		if cn, ok := props["codepaths"]; ok {
			spec.CodePaths = v.stringList(cn, "codepaths")
		}
	} else {
		if cn, ok := props["command"]; !ok {
			v.fail(n.pos, ErrMissingKey, "external entry has no {command, \"...\"}")
		} else if s, ok := stringValue(cn.value); !ok {
			v.fail(cn.pos, ErrBadValue, "command must be a string, got %s", describe(cn.value))
		} else if strings.TrimSpace(s) == "" {
			v.fail(cn.pos, ErrBadValue, "command is empty")
		} else if strings.IndexByte(s, 0) >= 0 {
			v.fail(cn.pos, ErrBadValue, "command contains a NUL character")
		} else {
			spec.Command = s
		}
		if cn, ok := props["count"]; !ok {
			v.fail(n.pos, ErrMissingKey, "external entry has no {count, N}")
		} else if c, ok := cn.value.(int64); !ok {
			v.fail(cn.pos, ErrBadValue, "count must be an integer, got %s", describe(cn.value))
		} else if c < 1 || c > MaxCount {
			v.fail(cn.pos, ErrBadValue, "count %d out of range 1..%d", c, MaxCount)
		} else {
			spec.Count = int(c)
		}
	}
	return spec, len(v.errs) == nerr
}

// stringList converts a list of strings (codepaths).
func (v *validator) stringList(n *node, key string) []string {
	list, ok := n.value.(etf.List)
	if !ok {
		v.fail(n.pos, ErrBadValue, "%s must be a list of strings, got %s", key, describe(n.value))
		return nil
	}
	if _, isString := stringValue(list); isString && len(list) > 0 {
		v.fail(n.pos, ErrBadValue, "%s must be a list of strings, got one string (write [\"dir\"])", key)
		return nil
	}
	out := make([]string, 0, len(list))
	for i, e := range list {
		s, ok := stringValue(e)
		if !ok || s == "" {
			v.fail(n.kid(i).pos, ErrBadValue, "%s element must be a non-empty string, got %s", key, describe(e))
			continue
		}
		out = append(out, s)
	}
	return out
}

// shadowing reports entries that can never be chosen (§3.4): handlers for
// a module are tried in file order, an external entry always answers, and
// a second native entry names the same handler as the first.
func (v *validator) shadowing(specs []ModuleSpec) {
	type seen struct{ native, external *ModuleSpec }
	by := map[string]*seen{}
	for i := range specs {
		s := &specs[i]
		st := by[s.Module]
		if st == nil {
			st = &seen{}
			by[s.Module] = st
		}
		p := Pos{Line: s.Line, Col: s.Col}
		switch {
		case st.external != nil:
			v.fail(p, ErrDuplicateModule, "entry for module %s is never used: the external entry at line %d always answers first",
				quoteAtomText(s.Module), st.external.Line)
		case s.Type == Native && st.native != nil:
			v.fail(p, ErrDuplicateModule, "second native entry for module %s (first at line %d)",
				quoteAtomText(s.Module), st.native.Line)
		case s.Type == Native:
			st.native = s
		default:
			st.external = s
		}
	}
}

// stringValue converts an Erlang string to Go: a proper list of Unicode
// code points (as "..." parses) or, as an extension Ernie lacks, a binary
// holding UTF-8.
func stringValue(v any) (string, bool) {
	switch x := v.(type) {
	case etf.List:
		var sb strings.Builder
		for _, e := range x {
			c, ok := e.(int64)
			if !ok || c < 0 || c > utf8.MaxRune || (c >= 0xD800 && c <= 0xDFFF) {
				return "", false
			}
			sb.WriteRune(rune(c))
		}
		return sb.String(), true
	case []byte:
		if !utf8.Valid(x) {
			return "", false
		}
		return string(x), true
	}
	return "", false
}

// describe names a term's type for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case etf.Atom:
		return "atom " + quoteAtomText(string(x))
	case int64, *big.Int:
		return fmt.Sprintf("integer %v", x)
	case float64:
		return "a float"
	case etf.List:
		if len(x) == 0 {
			return "[]"
		}
		if s, ok := stringValue(x); ok {
			return fmt.Sprintf("string %q", s)
		}
		return "a list"
	case etf.ImproperList:
		return "an improper list"
	case etf.Tuple:
		return fmt.Sprintf("a tuple of %d elements", len(x))
	case []byte:
		return "a binary"
	case etf.Map:
		return "a map"
	}
	return fmt.Sprintf("%T", v)
}
