package config

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// AdaptXML reads an xml config the way uWSGI's libxml2 reader (core/xmlconf.c) does.
// file names the source and may end in `:id`.
//
//   - The section is the root element if it is <uwsgi>, otherwise the first <uwsgi> child of
//     the root. With `file.xml:id` the section must carry id="id" (or no id at all, as in
//     uWSGI); a root <uwsgi> with another id is ErrNoSection.
//   - Each child element is an option: <socket>:3031</socket> is socket = :3031 (text kept
//     as written, spaces included), a bare <master/> or empty <master></master> is
//     master = 1. Repeated elements are repeated options. With `:id`, an option element
//     carrying another id attribute is skipped, as in uWSGI.
//   - A CDATA section directly inside <uwsgi> is an `eval` option.
//   - <app mountpoint="/m">x</app> is mount = /m=x then app = "" (domain="d" gives d|=x).
//
// Unlike uWSGI (which keeps only the first text node), an element inside an option, a
// namespaced option or stray text inside <uwsgi> is an error. The `mode` attribute is
// not interpreted: every option is kept.
func AdaptXML(src []byte, file string) ([]Option, error) {
	name, id := splitSection(file)
	if len(src) > MaxFileSize {
		return nil, ErrorList{{File: name, Err: fmt.Errorf("%w: %d bytes > max %d", ErrTooLarge, len(src), MaxFileSize)}}
	}
	var (
		opts    []Option
		errs    ErrorList
		lines   = lineCounter{src: src}
		dec     = xml.NewDecoder(bytes.NewReader(src))
		depth   int        // depth of the element being read (root = 1)
		section int        // depth of the selected <uwsgi>, 0 when outside it
		found   bool       // a section was selected (later <uwsgi> elements are ignored)
		cur     *xmlOption // the option element being read
	)
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := lines.line(off)
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				line = se.Line
			}
			errs.add(name, line, "", fmt.Errorf("%w: %v", ErrSyntax, err))
			return nil, errs
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			line := lines.line(off)
			switch {
			case !found && depth == 1 && isUwsgi(t):
				if attrID, ok := xmlAttr(t, "id"); ok && id != "" && attrID != id {
					break // a root <uwsgi> of another id: no section in this file
				}
				section, found = depth, true
			case !found && depth == 2 && isUwsgi(t):
				if attrID, ok := xmlAttr(t, "id"); ok && id != "" && attrID != id {
					break
				}
				section, found = depth, true
			case section > 0 && depth == section+1:
				cur = &xmlOption{key: t.Name.Local, line: line, start: t}
				if t.Name.Space != "" {
					errs.add(name, line, t.Name.Local, fmt.Errorf("%w: namespaced element %s:%s", ErrValue, t.Name.Space, t.Name.Local))
					cur.skip = true
				}
				if attrID, ok := xmlAttr(t, "id"); ok && id != "" && attrID != id {
					cur.skip = true
				}
			case section > 0 && depth == section+2 && cur != nil:
				if cur.key == "app" && !cur.nested {
					cur.nested, cur.hasText = true, false
					cur.text.Reset()
					cur.inNested = true
					break
				}
				if !cur.skip {
					errs.add(name, line, cur.key, fmt.Errorf("%w: element <%s> inside an option", ErrValue, t.Name.Local))
				}
				cur.skip = true
			case section > 0 && depth > section+2 && cur != nil:
				if !cur.skip {
					errs.add(name, line, cur.key, fmt.Errorf("%w: element <%s> nested too deep in an option", ErrValue, t.Name.Local))
				}
				cur.skip = true
			}
		case xml.EndElement:
			if section > 0 && depth == section+1 && cur != nil {
				if !cur.skip {
					if len(opts)+2 > MaxOptions {
						errs.add(name, cur.line, cur.key, fmt.Errorf("%w: more than %d options", ErrTooLarge, MaxOptions))
						return nil, errs
					}
					opts = cur.emit(opts, name)
				}
				cur = nil
			}
			if section > 0 && depth == section+2 && cur != nil {
				cur.inNested = false
			}
			if depth == section {
				section = 0
			}
			depth--
		case xml.CharData:
			switch {
			case section > 0 && cur != nil && ((depth == section+1 && !cur.nested) || (depth == section+2 && cur.inNested)):
				cur.text.Write(t)
				cur.hasText = true
			case section > 0 && depth == section:
				if bytes.HasPrefix(src[off:], []byte("<![CDATA[")) {
					if len(opts) >= MaxOptions {
						errs.add(name, lines.line(off), "eval", fmt.Errorf("%w: more than %d options", ErrTooLarge, MaxOptions))
						return nil, errs
					}
					opts = append(opts, Option{Key: "eval", Value: string(t), File: name, Line: lines.line(off)})
				} else if s := strings.TrimSpace(string(t)); s != "" {
					lead := len(t) - len(bytes.TrimLeft(t, " \t\r\n"))
					errs.add(name, lines.line(off+int64(lead)), "", fmt.Errorf("%w: text %q outside an option element", ErrSyntax, s))
				}
			}
		}
	}
	if !found {
		what := "<uwsgi>"
		if id != "" {
			what = fmt.Sprintf("<uwsgi id=%q>", id)
		}
		errs.add(name, 0, "", fmt.Errorf("%w: no %s in xml file", ErrNoSection, what))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return opts, nil
}

// xmlOption is an option element while it is being read.
type xmlOption struct {
	key      string
	line     int
	start    xml.StartElement
	text     strings.Builder
	hasText  bool
	nested   bool // <app> whose content is a nested element: text is that element's
	inNested bool // inside that nested element now
	skip     bool // another id, or already reported
}

// emit appends the option(s) the element stands for.
func (x *xmlOption) emit(opts []Option, file string) []Option {
	if x.key != "app" {
		value := x.text.String()
		if !x.hasText {
			value = "1"
		}
		return append(opts, Option{Key: x.key, Value: value, File: file, Line: x.line})
	}
	if x.hasText {
		value := x.text.String()
		if mp, ok := xmlAttr(x.start, "mountpoint"); ok {
			value = mp + "=" + value
		} else if domain, ok := xmlAttr(x.start, "domain"); ok {
			value = domain + "|=" + value
		}
		opts = append(opts, Option{Key: "mount", Value: value, File: file, Line: x.line})
	}
	return append(opts, Option{Key: "app", Value: "", File: file, Line: x.line})
}

func isUwsgi(t xml.StartElement) bool { return t.Name.Space == "" && t.Name.Local == "uwsgi" }

func xmlAttr(t xml.StartElement, name string) (string, bool) {
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}
