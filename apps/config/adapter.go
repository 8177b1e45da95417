package config

import (
	"bytes"
	"path"
	"strings"
)

// Adapter turns one config file into options. file names the source (it becomes
// Option.File) and may end in `:section` to select a section (an xml id).
// Adapters see the file as it is: magic variables are expanded before, by the Loader.
type Adapter func(src []byte, file string) ([]Option, error)

// AdapterFor picks the adapter for a config name by its extension, as uWSGI does:
// .ini; .xml; .yml and .yaml; .json and .js. A trailing `:section` is ignored.
func AdapterFor(name string) (Adapter, bool) {
	file, _ := splitSection(name)
	switch path.Ext(file) {
	case ".ini":
		return AdaptINI, true
	case ".xml":
		return AdaptXML, true
	case ".yml", ".yaml":
		return AdaptYAML, true
	case ".json", ".js":
		return AdaptJSON, true
	}
	return nil, false
}

// adapterForKey is the format an option key forces (`ini = x`, `--xml x`, ...).
func adapterForKey(key string) (Adapter, bool) {
	switch key {
	case "ini":
		return AdaptINI, true
	case "xml", "xmlconfig":
		return AdaptXML, true
	case "yaml", "yml":
		return AdaptYAML, true
	case "json", "js":
		return AdaptJSON, true
	}
	return nil, false
}

// splitSection cuts `name:section` at the last ':' (after the last '/' for a scheme URL,
// as uWSGI does). An empty section means none was selected.
func splitSection(file string) (name, section string) {
	search := file
	offset := 0
	if hasScheme(file) {
		offset = strings.LastIndexByte(file, '/') + 1
		search = file[offset:]
	}
	i := strings.LastIndexByte(search, ':')
	if i < 0 {
		return file, ""
	}
	return file[:offset+i], search[i+1:]
}

// hasScheme reports a `scheme://` prefix (http://, emperor://, fd://, ...).
func hasScheme(file string) bool {
	i := strings.Index(file, "://")
	if i <= 0 {
		return false
	}
	for _, c := range file[:i] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// lineCounter maps byte offsets to 1-based lines; offsets must not decrease.
type lineCounter struct {
	src []byte
	off int64
	cur int // line at off
}

func (c *lineCounter) line(off int64) int {
	if c.cur == 0 {
		c.cur = 1
	}
	if off > int64(len(c.src)) {
		off = int64(len(c.src))
	}
	if off > c.off {
		c.cur += bytes.Count(c.src[c.off:off], []byte{'\n'})
		c.off = off
	}
	return c.cur
}

// lineOf is the 1-based line of a byte offset.
func lineOf(src []byte, off int64) int {
	if off < 0 {
		off = 0
	}
	if off > int64(len(src)) {
		off = int64(len(src))
	}
	return bytes.Count(src[:off], []byte{'\n'}) + 1
}
