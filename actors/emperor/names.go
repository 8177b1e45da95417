package emperor

import (
	"fmt"
	"path"
	"strings"
)

// MaxNameLen is the longest vassal name uWSGI accepts (its name buffer is 255
// bytes with the terminating zero).
const MaxNameLen = 254

// Config formats a vassal file may have, named after the uWSGI loader flag.
const (
	FormatINI  = "ini"
	FormatXML  = "xml"
	FormatYAML = "yaml"
	FormatJSON = "json"
)

// FormatOf returns the config format uWSGI picks for a vassal name by its
// extension (.ini, .xml, .yml/.yaml, .json/.js), or "" for any other name.
func FormatOf(name string) string {
	switch path.Ext(name) {
	case ".ini":
		return FormatINI
	case ".xml":
		return FormatXML
	case ".yml", ".yaml":
		return FormatYAML
	case ".json", ".js":
		return FormatJSON
	}
	return ""
}

// ValidName checks a vassal name as uWSGI does (spec §3.7): at most MaxNameLen
// bytes, ending in a config extension or one of extra (--emperor-extra-extension,
// given with or without the dot). Names with a NUL or a ':' (uWSGI's zerg
// syntax, not supported) are refused too.
func ValidName(name string, extra []string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrBadName)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: %d bytes > %d", ErrBadName, len(name), MaxNameLen)
	case strings.ContainsAny(name, "\x00:"):
		return fmt.Errorf("%w: %q contains NUL or ':'", ErrBadName, name)
	}
	if FormatOf(name) != "" {
		return nil
	}
	for _, e := range extra {
		if e != "" && strings.HasSuffix(name, "."+strings.TrimPrefix(e, ".")) {
			return nil
		}
	}
	return fmt.Errorf("%w: %q has no config extension", ErrBadName, name)
}

// NodeAlive turns a vassal name into the alive part of an Erlang node name:
// the base name without its extension, every byte outside [0-9A-Za-z_-]
// replaced by '_' ("my.app.ini" → "my_app").
func NodeAlive(name string) string {
	base := path.Base(name)
	base = strings.TrimSuffix(base, path.Ext(base))
	b := []byte(base)
	for i, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "vassal"
	}
	return string(b)
}
