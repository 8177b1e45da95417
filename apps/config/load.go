package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// Loader resolves configurations: it reads files from FS, expands magic variables, follows
// includes and sections, then runs uWSGI's placeholder passes. Its zero value with FS set
// treats FS as the root directory "/" and "/" as the working directory.
//
// Resolution is uWSGI's (core/uwsgi.c uwsgi_setup, core/config.c), in this order:
//  1. Each file's raw text gets its magic variables (magic.go), then its adapter runs.
//  2. Directives are followed where they stand: `ini`, `xml`/`xmlconfig`, `yaml`/`yml`,
//     `json`/`js` load a file of that format; `include` and `config` load a file chosen by
//     extension; `inherit` loads its file after everything else (uWSGI configures it
//     last, so a template's options come at the very end). `set = k=v` becomes option k;
//     `set-placeholder`/`set-ph = k=v` defines %(k) without being an option. Directives do
//     not appear in the result. Relative paths are relative to Cwd, as in uWSGI.
//  3. Pass `$(NAME)`: the environment (Env). Unset names stay as written.
//  4. Pass `@(file)`: the file's content, less one trailing newline.
//  5. Pass `%(name)`: the value of the FIRST option or placeholder called name, wherever
//     it stands; unknown names stay as written (so log formats such as %(addr) survive).
//     `%(a + 1)`, `%(a b)`, `%(n ++)` are uWSGI's placeholder arithmetic and concatenation.
//
// Differences from uWSGI, all on input uWSGI mishandles: a substituted value is rescanned
// from its first byte (uWSGI skips byte 0), inherited templates are expanded too (uWSGI
// leaves their placeholders literal), and config logic (for, if-*, end*), declare-option,
// resolve and url schemes (emperor://, http://) are ErrUnsupported.
type Loader struct {
	FS  fs.FS  // the files; nil when only Expand of plain options is needed
	Dir string // absolute directory FS stands for; "" is "/"
	Cwd string // absolute working directory: base of relative paths and %v; "" is Dir
	// Env looks up $(NAME); nil means no variable is set.
	Env func(name string) (string, bool)
	// Vars are the host magic variables b h t T V k u U g G (HostVars fills most).
	// Other keys are ignored.
	Vars map[byte]string
}

// Load reads the config at path (`app.ini`, `app.ini:section`, `/etc/x.xml:id`) with the
// adapter its extension names, from fsys standing for "/" (so "srv/app.ini" and
// "/srv/app.ini" are the same file), and resolves it.
func Load(fsys fs.FS, path string) ([]Option, error) {
	return Loader{FS: fsys}.Load(path)
}

// Load reads the config at path with the adapter its extension names and resolves it.
func (l Loader) Load(path string) ([]Option, error) {
	r := l.resolver()
	entries := r.loadFile(path, nil, nil, true, 0, nil)
	return r.finish(entries)
}

// LoadBytes resolves src as if it were the content of the file at path (which names the
// adapter and the magic variables). The emperor uses it for configs that come from a
// database or a message rather than a file.
func (l Loader) LoadBytes(path string, src []byte) ([]Option, error) {
	r := l.resolver()
	entries := r.loadFile(path, nil, nil, true, 0, src)
	return r.finish(entries)
}

// Expand resolves options that did not come from a file, typically ParseArgs output:
// `--ini app.ini` loads app.ini where it stands, then the passes run over everything.
func (l Loader) Expand(opts []Option) ([]Option, error) {
	r := l.resolver()
	entries := r.process(opts, 0, nil)
	return r.finish(entries)
}

// entry is an option during resolution; placeholders are dropped at the end.
type entry struct {
	Option
	placeholder bool
}

// resolver is the state of one Load, LoadBytes or Expand.
type resolver struct {
	l        Loader
	dir, cwd string
	errs     ErrorList
	files    int
	bytes    int64 // read so far, against MaxTotalSize
	options  int
	first    *magicVars
	inherits []Option
}

func (l Loader) resolver() *resolver {
	dir := cleanAbs(l.Dir)
	cwd := dir
	if l.Cwd != "" {
		cwd = cleanAbs(l.Cwd)
	}
	return &resolver{l: l, dir: dir, cwd: cwd}
}

func cleanAbs(p string) string {
	return path.Clean("/" + p)
}

// fail records an error at the directive that caused it, or at the file itself.
func (r *resolver) fail(from *Option, file string, err error) {
	if from != nil {
		r.errs.add(from.File, from.Line, from.Key, err)
		return
	}
	r.errs.add(file, 0, "", err)
}

// loadFile loads one config. adapter nil means by extension; src nil means read it.
// first marks a file whose magic variables become the upper-case ones (not includes,
// templates or `config`, as in uWSGI's uwsgi_opt_load).
func (r *resolver) loadFile(given string, adapter Adapter, from *Option, first bool, depth int, src []byte) []entry {
	name, section := splitSection(given)
	switch {
	case depth > MaxIncludeDepth:
		r.fail(from, name, fmt.Errorf("%w: more than %d levels at %s", ErrDepth, MaxIncludeDepth, given))
		return nil
	case hasScheme(name):
		r.fail(from, name, fmt.Errorf("%w: config url %q (only files are supported)", ErrUnsupported, given))
		return nil
	case name == "":
		r.fail(from, given, fmt.Errorf("%w: no file name in %q", ErrFile, given))
		return nil
	}
	if adapter == nil {
		var ok bool
		if adapter, ok = AdapterFor(name); !ok {
			r.fail(from, name, fmt.Errorf("%w: %q (want .ini .xml .yml .yaml .json .js)", ErrFormat, name))
			return nil
		}
	}
	abs := r.abs(name)
	ino := ""
	if src == nil {
		var err error
		if src, ino, err = r.read(abs); err != nil {
			r.fail(from, name, err)
			return nil
		}
	} else if len(src) > MaxFileSize {
		r.fail(from, name, fmt.Errorf("%w: %d bytes > max %d", ErrTooLarge, len(src), MaxFileSize))
		return nil
	}
	magic := r.fileMagic(name, abs, section, ino, r.first)
	if first && r.first == nil {
		r.first = magic
	}
	text, misses, err := substituteMagic(src, magic)
	if err != nil {
		r.fail(from, name, err)
		return nil
	}
	opts, err := adapter(text, given)
	if err != nil {
		var list ErrorList
		if errors.As(err, &list) {
			r.errs = append(r.errs, list...)
		} else {
			r.fail(from, name, err)
		}
		return nil
	}
	var magicErrs [][]*Error // per option, reported where the option stands
	for _, miss := range misses {
		for i, o := range opts {
			if o.Line == miss.lines[0] || o.Line == miss.lines[1] {
				if magicErrs == nil {
					magicErrs = make([][]*Error, len(opts))
				}
				magicErrs[i] = append(magicErrs[i], &Error{File: o.File, Line: o.Line, Key: o.Key, Err: fmt.Errorf("%w: %s", ErrMagic, miss.reason)})
			}
		}
	}
	return r.process(opts, depth, magicErrs)
}

// process follows the directives among opts (read at include depth depth). magicErrs,
// when not nil, holds the magic-variable errors of each option.
func (r *resolver) process(opts []Option, depth int, magicErrs [][]*Error) []entry {
	var out []entry
	for i := range opts {
		o := opts[i]
		if magicErrs != nil {
			r.errs = append(r.errs, magicErrs[i]...)
		}
		if r.options >= MaxOptions {
			r.errs.add(o.File, o.Line, o.Key, fmt.Errorf("%w: more than %d options", ErrTooLarge, MaxOptions))
			return out
		}
		if adapter, ok := adapterForKey(o.Key); ok {
			out = append(out, r.loadFile(o.Value, adapter, &o, true, depth+1, nil)...)
			continue
		}
		switch o.Key {
		case "include", "config":
			out = append(out, r.loadFile(o.Value, nil, &o, false, depth+1, nil)...)
		case "inherit":
			r.inherits = append(r.inherits, o)
		case "set", "set-placeholder", "set-ph":
			k, v, ok := strings.Cut(o.Value, "=")
			if !ok || k == "" {
				r.errs.add(o.File, o.Line, o.Key, fmt.Errorf("%w: %q is not name=value", ErrValue, o.Value))
				continue
			}
			r.options++
			out = append(out, entry{Option: Option{Key: k, Value: v, File: o.File, Line: o.Line}, placeholder: o.Key != "set"})
		default:
			if unsupportedKey(o.Key) {
				r.errs.add(o.File, o.Line, o.Key, fmt.Errorf("%w: uWSGI config logic and custom options are not implemented", ErrUnsupported))
				continue
			}
			r.options++
			out = append(out, entry{Option: o})
		}
	}
	return out
}

// unsupportedKey lists uWSGI directives that change how the rest of the config reads.
func unsupportedKey(key string) bool {
	switch key {
	case "for", "for-glob", "for-times", "for-readline", "endfor", "end-for",
		"endif", "end-if", "else", "end",
		"declare-option", "declare-option2", "resolve",
		"inject-before", "inject-after":
		return true
	}
	return strings.HasPrefix(key, "if-")
}

// finish loads the inherited templates, runs the three passes and drops placeholders.
func (r *resolver) finish(entries []entry) ([]Option, error) {
	for i := 0; i < len(r.inherits); i++ { // templates may inherit further templates
		o := r.inherits[i]
		entries = append(entries, r.loadFile(o.Value, nil, &o, false, 1, nil)...)
	}
	r.pass(entries, '$', func(name string) (string, bool, error) {
		if r.l.Env == nil {
			return "", false, nil
		}
		v, ok := r.l.Env(name)
		return v, ok, nil
	})
	r.pass(entries, '@', r.atFile)
	r.pass(entries, '%', r.placeholders(entries))
	if len(r.errs) > 0 {
		return nil, r.errs
	}
	opts := make([]Option, 0, len(entries))
	for _, e := range entries {
		if !e.placeholder {
			opts = append(opts, e.Option)
		}
	}
	return opts, nil
}

// pass expands sym(...) in every option value (not in placeholders, as in uWSGI, where
// they are expanded only once substituted into an option).
func (r *resolver) pass(entries []entry, sym byte, hook func(string) (string, bool, error)) {
	for i := range entries {
		e := &entries[i]
		if e.placeholder || strings.IndexByte(e.Value, sym) < 0 {
			continue
		}
		v, err := expandValue(e.Value, sym, hook)
		if err != nil {
			r.errs.add(e.File, e.Line, e.Key, err)
			continue
		}
		e.Value = v
	}
}

// atFile is the @(file) hook.
func (r *resolver) atFile(name string) (string, bool, error) {
	if hasScheme(name) {
		return "", false, fmt.Errorf("%w: @(%s): url schemes are not supported", ErrUnsupported, name)
	}
	data, _, err := r.read(r.abs(name))
	if err != nil {
		return "", false, fmt.Errorf("@(%s): %w", name, err)
	}
	if n := len(data); n > 0 && (data[n-1] == '\n' || data[n-1] == '\r') {
		data = data[:n-1]
	}
	return string(data), true, nil
}

// placeholders is the %(...) hook over the entries as they stand.
func (r *resolver) placeholders(entries []entry) func(string) (string, bool, error) {
	firstIndex := make(map[string]int, len(entries))
	for i := len(entries) - 1; i >= 0; i-- {
		firstIndex[entries[i].Key] = i
	}
	lookup := func(name string) (string, bool) {
		i, ok := firstIndex[name]
		if !ok {
			return "", false
		}
		return entries[i].Value, true
	}
	return func(expr string) (string, bool, error) {
		if !strings.Contains(expr, " ") {
			v, ok := lookup(expr)
			return v, ok, nil
		}
		v, ok := placeholderMath(expr, lookup)
		return v, ok, nil
	}
}

// abs makes a config path absolute against the working directory.
func (r *resolver) abs(p string) string {
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	return path.Join(r.cwd, p)
}

// read returns a file's content (at most MaxFileSize) and its inode when FS reports one.
func (r *resolver) read(abs string) ([]byte, string, error) {
	if r.l.FS == nil {
		return nil, "", fmt.Errorf("%w: no file system to read %s from", ErrFile, abs)
	}
	r.files++
	if r.files > MaxFiles {
		return nil, "", fmt.Errorf("%w: more than %d files", ErrTooLarge, MaxFiles)
	}
	name, ok := r.fsName(abs)
	if !ok {
		return nil, "", fmt.Errorf("%w: %s is outside %s", ErrFile, abs, r.dir)
	}
	fileErr := func(err error) error {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("%w: %s: %w", ErrFile, abs, err)
	}
	f, err := r.l.FS.Open(name)
	if err != nil {
		return nil, "", fileErr(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, "", fileErr(err)
	}
	if st.IsDir() {
		return nil, "", fmt.Errorf("%w: %s is a directory", ErrFile, abs)
	}
	if st.Size() > MaxFileSize || r.bytes+st.Size() > MaxTotalSize {
		return nil, "", fmt.Errorf("%w: %s: %d bytes (max %d a file, %d in all)", ErrTooLarge, abs, st.Size(), MaxFileSize, MaxTotalSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, "", fileErr(err)
	}
	r.bytes += int64(len(data))
	if len(data) > MaxFileSize || r.bytes > MaxTotalSize {
		return nil, "", fmt.Errorf("%w: %s: more than %d bytes", ErrTooLarge, abs, MaxFileSize)
	}
	return data, inode(st), nil
}

// fsName maps an absolute path to a name in FS.
func (r *resolver) fsName(abs string) (string, bool) {
	var rel string
	switch {
	case r.dir == "/":
		rel = strings.TrimPrefix(abs, "/")
	case abs == r.dir:
		rel = ""
	case strings.HasPrefix(abs, r.dir+"/"):
		rel = abs[len(r.dir)+1:]
	default:
		return "", false
	}
	if rel == "" {
		rel = "."
	}
	return rel, fs.ValidPath(rel)
}
