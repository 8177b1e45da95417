package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Option is one `key = value` of a uWSGI configuration, with the place it came from.
// File is the config file as it was named (without any `:section`), or CommandLine;
// Line is 1-based (for the command line, the position of the argument).
type Option struct {
	Key, Value string
	File       string
	Line       int
}

// String renders the option in the canonical dump format used by Dump.
func (o Option) String() string {
	return fmt.Sprintf("%s = %s  # %s:%d", o.Key, dumpValue(o.Value), o.File, o.Line)
}

// CommandLine is the File of options that came from ParseArgs.
const CommandLine = "<command line>"

// Limits. Every one is checked before the memory it guards is used.
const (
	// MaxFileSize bounds a config file, an @(file) read and a file after magic expansion.
	MaxFileSize = 1 << 20
	// MaxOptions bounds the options of one resolution (all files together).
	MaxOptions = 10000
	// MaxIncludeDepth bounds nested includes (a file including itself hits it).
	MaxIncludeDepth = 16
	// MaxFiles bounds the files read by one resolution (includes, inherits, @(file)).
	MaxFiles = 256
	// MaxTotalSize bounds the bytes of all the files read by one resolution.
	MaxTotalSize = 16 << 20
	// MaxExpansions bounds the placeholder substitutions made in one value.
	MaxExpansions = 256
	// MaxValueSize bounds a value after placeholder expansion.
	MaxValueSize = 64 << 10
)

// Sentinel errors; every error this package returns wraps one of them.
var (
	// ErrSyntax: the file is not valid ini/xml/yaml/json.
	ErrSyntax = errors.New("config: syntax error")
	// ErrNoSection: the [uwsgi] section (or the one selected with file:section) is missing.
	ErrNoSection = errors.New("config: section not found")
	// ErrValue: a value uWSGI cannot take (a nested mapping, a float where a list item
	// should be, an empty key).
	ErrValue = errors.New("config: unsupported value")
	// ErrTooLarge: a limit above was exceeded.
	ErrTooLarge = errors.New("config: too large")
	// ErrFormat: no adapter for the file's extension.
	ErrFormat = errors.New("config: unknown config format")
	// ErrFile: a config, include or @(file) could not be read.
	ErrFile = errors.New("config: cannot read file")
	// ErrMagic: a magic variable (%z) uWSGI does not know, or one with no value here,
	// on a line that holds an option.
	ErrMagic = errors.New("config: bad magic variable")
	// ErrExpansion: placeholder expansion did not terminate.
	ErrExpansion = errors.New("config: placeholder expansion does not terminate")
	// ErrDepth: includes nested deeper than MaxIncludeDepth (usually a cycle).
	ErrDepth = errors.New("config: includes nested too deep")
	// ErrUnsupported: a uWSGI directive this package does not implement (config logic
	// such as for/if-env/endif, declare-option, resolve, url schemes).
	ErrUnsupported = errors.New("config: unsupported directive")
	// ErrArgs: a malformed command line (missing argument, unknown short flag, ...).
	ErrArgs = errors.New("config: bad command line")
	// ErrNotBool: the value is not one of uWSGI's boolean spellings.
	ErrNotBool = errors.New("config: not a boolean")
	// ErrNotInt: the value is not a decimal integer.
	ErrNotInt = errors.New("config: not an integer")
)

// Error is one diagnostic, printed as `file:line: key: reason`.
type Error struct {
	File string
	Line int // 0 when the error concerns the whole file
	Key  string
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorList is every diagnostic of one Load, Expand, Adapt or ParseArgs, in input order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.Is and errors.As see every diagnostic.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// add records a diagnostic.
func (l *ErrorList) add(file string, line int, key string, err error) {
	*l = append(*l, &Error{File: file, Line: line, Key: key, Err: err})
}

// Lookup returns the last option named key: for a single-valued option uWSGI applies the
// options in order, so the last one wins.
func Lookup(opts []Option, key string) (Option, bool) {
	for i := len(opts) - 1; i >= 0; i-- {
		if opts[i].Key == key {
			return opts[i], true
		}
	}
	return Option{}, false
}

// Get returns the value of the last option named key.
func Get(opts []Option, key string) (string, bool) {
	o, ok := Lookup(opts, key)
	return o.Value, ok
}

// All returns the values of every option named key, in order (socket, http, env, ...).
func All(opts []Option, key string) []string {
	var vals []string
	for _, o := range opts {
		if o.Key == key {
			vals = append(vals, o.Value)
		}
	}
	return vals
}

// Bool reports the last option named key as uWSGI's boolean options read it: false for
// false/off/no/0 (any case), true for ""/true/on/yes/1, false when absent. uWSGI takes any
// other word as true; Bool returns ErrNotBool instead, naming file:line.
func Bool(opts []Option, key string) (bool, error) {
	o, ok := Lookup(opts, key)
	if !ok {
		return false, nil
	}
	switch strings.ToLower(o.Value) {
	case "false", "off", "no", "0":
		return false, nil
	case "", "true", "on", "yes", "1":
		return true, nil
	}
	return false, &Error{File: o.File, Line: o.Line, Key: key, Err: fmt.Errorf("%w: %q", ErrNotBool, o.Value)}
}

// Int returns the last option named key as a decimal integer, or def when absent.
// uWSGI uses atoi (so "4x" is 4); Int returns ErrNotInt instead, naming file:line.
func Int(opts []Option, key string, def int) (int, error) {
	o, ok := Lookup(opts, key)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(o.Value))
	if err != nil {
		return 0, &Error{File: o.File, Line: o.Line, Key: key, Err: fmt.Errorf("%w: %q", ErrNotInt, o.Value)}
	}
	return n, nil
}

// Dump renders options one per line as `key = value  # file:line`, the canonical form of
// the golden tests. Values with control characters or edge spaces are Go-quoted.
func Dump(opts []Option) string {
	var b strings.Builder
	for _, o := range opts {
		b.WriteString(o.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func dumpValue(v string) string {
	if v != strings.TrimSpace(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return strconv.Quote(v)
	}
	return v
}

// FormatINI writes options as an ini file with one [uwsgi] section, escaping `%` as `%%`
// so that loading it back (Loader.LoadBytes with an .ini name) gives the same keys and
// values. The emperor uses it to push a config to a vassal. Keys and values that ini cannot
// carry (newlines, edge spaces, `=` in a key, a key starting with [ ; #) are ErrValue.
func FormatINI(opts []Option) ([]byte, error) {
	var errs ErrorList
	var b strings.Builder
	b.WriteString("[uwsgi]\n")
	for _, o := range opts {
		if reason := iniUnsafe(o); reason != "" {
			errs.add(o.File, o.Line, o.Key, fmt.Errorf("%w: %s", ErrValue, reason))
			continue
		}
		b.WriteString(strings.ReplaceAll(o.Key, "%", "%%"))
		b.WriteString(" = ")
		b.WriteString(strings.ReplaceAll(o.Value, "%", "%%"))
		b.WriteByte('\n')
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return []byte(b.String()), nil
}

func iniUnsafe(o Option) string {
	const edge = " \t\r"
	switch {
	case o.Key == "":
		return "empty key"
	case strings.ContainsAny(o.Key, "=\n\x00") || strings.ContainsAny(o.Value, "\n\x00"):
		return "key with '=' or newline, or value with newline, cannot be written as ini"
	case strings.Trim(o.Key, edge) != o.Key || strings.Trim(o.Value, edge) != o.Value:
		return "edge spaces cannot be written as ini"
	case strings.ContainsAny(o.Key[:1], "[;#"):
		return "key starting with [ ; or # cannot be written as ini"
	}
	return ""
}
