package config

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"os/user"
	"path"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Magic variables (uWSGI core/uwsgi.c config_magic_table_fill), expanded in the raw text
// of each config file before its adapter runs, exactly as uWSGI does. For
// /srv/app/conf/site.ini loaded as site.ini:prod from /srv/app/conf:
//
//	%o site.ini (as named)   %p /srv/app/conf/site.ini   %s site.ini   %n site   %e ini
//	%d /srv/app/conf/        %c conf                     %x prod       %0..%9 srv, app, conf, "" ...
//	%j djb33x hash of %p (8 hex digits)   %i inode (when the fs.FS reports one)
//	%v the working directory   %% a literal %   %[ ESC   %( stays %( for the %(option) pass
//	%N %D %P %S %E %C %X %O %I %J: the same for the first config file (not includes/templates)
//	%b %h %t %T %V %k %u %U %g %G: host values from Loader.Vars (see HostVars)
//
// uWSGI replaces any other %c by nothing. Here the same happens, but when the variable is
// unknown (or has no value here) on a line that holds an option, Load reports ErrMagic:
// write %% for a literal percent sign. As in uWSGI the expansion is textual, so a path
// holding a quote or '<' can break a json or xml file; a value holding a newline is
// treated as having no value, so that lines keep their numbers.
const hostMagic = "bhtTVkuUgG"

// magicVars is the table of one file.
type magicVars struct {
	val  [256]string
	have [256]bool
}

func (m *magicVars) set(c byte, v string) {
	m.val[c], m.have[c] = v, true
}

// fileMagic builds the table for a file named given (as written, no section), whose
// absolute path is abs. first is the table of the first config file (nil: this is it).
func (r *resolver) fileMagic(given, abs, section, ino string, first *magicVars) *magicVars {
	m := &magicVars{}
	m.set('%', "%")
	m.set('(', "%(")
	m.set('[', "\x1b")
	m.set('v', r.cwd)
	for i := 0; i < len(hostMagic); i++ {
		if v, ok := r.l.Vars[hostMagic[i]]; ok {
			m.set(hostMagic[i], v)
		}
	}
	m.set('o', given)
	m.set('p', abs)
	base := path.Base(abs)
	dir := abs[:len(abs)-len(base)] // keeps the trailing slash
	m.set('s', base)
	m.set('d', dir)
	m.set('n', base)
	m.set('e', "")
	if dot := strings.LastIndexByte(base, '.'); dot >= 0 {
		m.set('n', base[:dot])
		m.set('e', base[dot+1:])
	}
	trimmed := strings.TrimSuffix(dir, "/")
	m.set('c', "")
	if slash := strings.LastIndexByte(trimmed, '/'); slash >= 0 {
		m.set('c', trimmed[slash+1:])
	}
	for c := byte('0'); c <= '9'; c++ {
		m.set(c, "")
	}
	c := byte('0')
	for _, part := range strings.Split(trimmed, "/") {
		if part == "" {
			continue
		}
		if c > '9' {
			break
		}
		m.set(c, part)
		c++
	}
	m.set('x', section)
	m.set('j', djb33xHex(abs))
	if ino != "" {
		m.set('i', ino)
	}
	if first == nil {
		first = m
	}
	for _, pair := range [...][2]byte{{'O', 'o'}, {'D', 'd'}, {'S', 's'}, {'P', 'p'}, {'C', 'c'}, {'E', 'e'}, {'N', 'n'}, {'X', 'x'}, {'I', 'i'}, {'J', 'j'}} {
		if first.have[pair[1]] {
			m.set(pair[0], first.val[pair[1]])
		}
	}
	// a value with a newline would shift every later line: treat it as having no value
	for i := range m.val {
		if m.have[i] && strings.ContainsRune(m.val[i], '\n') {
			m.val[i], m.have[i] = "", false
		}
	}
	return m
}

// magicMiss is a %c that expanded to nothing.
type magicMiss struct {
	lines  [2]int // the line, and for "%\n" also the next line (uWSGI joins them)
	reason string
}

// substituteMagic expands the magic variables of src. Unknown ones expand to nothing and
// are returned as misses. Newlines are never removed, so lines keep their numbers.
func substituteMagic(src []byte, m *magicVars) ([]byte, []magicMiss, error) {
	out := make([]byte, 0, len(src))
	var misses []magicMiss
	line := 1
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c != '%' || i+1 >= len(src) {
			if c == '\n' {
				line++
			}
			out = append(out, c)
			continue
		}
		i++
		n := src[i]
		switch {
		case m.have[n]:
			out = append(out, m.val[n]...)
		case n == '\n':
			misses = append(misses, magicMiss{lines: [2]int{line, line + 1}, reason: "'%' at the end of a line (uWSGI joins the next line to it; write %%)"})
			line++
			out = append(out, '\n')
		case strings.IndexByte(hostMagic, n) >= 0 || n == 'i' || n == 'I':
			misses = append(misses, magicMiss{lines: [2]int{line, line}, reason: fmt.Sprintf("magic variable %%%c has no value here", n)})
		default:
			misses = append(misses, magicMiss{lines: [2]int{line, line}, reason: fmt.Sprintf("unknown magic variable %s (uWSGI expands it to nothing; write %%%% for a literal %%)", strconv.Quote("%"+string(n)))})
		}
		if len(out) > MaxFileSize {
			return nil, nil, fmt.Errorf("%w: %d bytes after magic variables > max %d", ErrTooLarge, len(out), MaxFileSize)
		}
	}
	return out, misses, nil
}

// djb33xHex is uWSGI's %j: the djb33x hash of the path (bytes as signed chars), written
// as the hex of its little-endian bytes, upper case.
func djb33xHex(s string) string {
	h := uint32(5381)
	for i := 0; i < len(s); i++ {
		h = (h<<5 + h) ^ uint32(int32(int8(s[i])))
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], h)
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// HostVars returns the host magic variables uWSGI sets at startup: %h hostname, %k CPU
// count, %u %U %g %G uid, user, gid, group, %t %T unix time in seconds and microseconds,
// %b the executable. Put the result in Loader.Vars (and %V, the version, if wanted).
func HostVars() map[byte]string {
	vars := map[byte]string{
		'k': strconv.Itoa(runtime.NumCPU()),
		'u': strconv.Itoa(os.Getuid()),
		'g': strconv.Itoa(os.Getgid()),
	}
	now := time.Now()
	vars['t'] = strconv.FormatInt(now.Unix(), 10)
	vars['T'] = strconv.FormatInt(now.UnixMicro(), 10)
	vars['U'], vars['G'] = vars['u'], vars['g']
	if h, err := os.Hostname(); err == nil {
		vars['h'] = h
	}
	if u, err := user.LookupId(vars['u']); err == nil {
		vars['U'] = u.Username
	}
	if g, err := user.LookupGroupId(vars['g']); err == nil {
		vars['G'] = g.Name
	}
	if exe, err := os.Executable(); err == nil {
		vars['b'] = exe
	}
	return vars
}
