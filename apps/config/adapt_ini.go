package config

import (
	"bytes"
	"fmt"
	"strings"
)

// AdaptINI reads an ini config the way uWSGI's core/ini.c does. file names the source
// and may end in `:section` (default section "uwsgi").
//
//   - Lines are split on '\n'; spaces, tabs and '\r' around lines, keys and values go.
//   - `[name]` starts a section; only options of the selected section are kept, and a
//     section may appear several times.
//   - A line starting with '#' or ';' is a comment. There are no inline comments:
//     `socket = :3031 # x` has the value `:3031 # x`, as in uWSGI.
//   - `key = value` splits at the first '='; a bare `key` has the value "" (a boolean
//     option reads it as true). Repeated keys are kept in order.
//
// Unlike uWSGI, a missing section is ErrNoSection (uWSGI warns), and a section header
// without ']' or a line with an empty key is ErrSyntax.
func AdaptINI(src []byte, file string) ([]Option, error) {
	name, section := splitSection(file)
	if section == "" {
		section = "uwsgi"
	}
	if len(src) > MaxFileSize {
		return nil, ErrorList{{File: name, Err: fmt.Errorf("%w: %d bytes > max %d", ErrTooLarge, len(src), MaxFileSize)}}
	}
	var (
		opts    []Option
		errs    ErrorList
		current string
		found   bool
	)
	for line, rest := 1, src; len(rest) > 0; line++ {
		var raw []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			raw, rest = rest[:i], rest[i+1:]
		} else {
			raw, rest = rest, nil
		}
		s := strings.Trim(string(raw), iniSpace)
		switch {
		case s == "":
		case s[0] == '[':
			if len(s) < 2 || s[len(s)-1] != ']' {
				errs.add(name, line, "", fmt.Errorf("%w: section header %q without ']'", ErrSyntax, s))
				continue
			}
			current = s[1 : len(s)-1]
			if current == section {
				found = true
			}
		case s[0] == '#' || s[0] == ';':
		case current != section:
		default:
			key, value, _ := strings.Cut(s, "=")
			key = strings.TrimRight(key, iniSpace)
			value = strings.TrimLeft(value, iniSpace)
			if key == "" {
				errs.add(name, line, "", fmt.Errorf("%w: empty key in %q", ErrSyntax, s))
				continue
			}
			if len(opts) >= MaxOptions {
				errs.add(name, line, key, fmt.Errorf("%w: more than %d options", ErrTooLarge, MaxOptions))
				return nil, errs
			}
			opts = append(opts, Option{Key: key, Value: value, File: name, Line: line})
		}
	}
	if !found {
		errs.add(name, 0, "", fmt.Errorf("%w: no [%s] in ini file", ErrNoSection, section))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return opts, nil
}

const iniSpace = " \t\r"
