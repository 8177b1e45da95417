package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// AdaptJSON reads a json config the way uWSGI's json reader (core/json.c, as built by
// Debian) does. file names the source and may end in `:section` (default "uwsgi"), a key
// of the top-level object whose value is an object of options.
//
//   - Keys keep their order, and a repeated key is a repeated option (the decoder is
//     token based, not a map).
//   - A string is its value; true is "1", false and null are "0"; a number is its
//     literal text ("4", "1.5").
//   - An array is one option per item, in order.
//
// Unlike uWSGI, a missing section is ErrNoSection, and an object or array nested inside
// an option is ErrValue (uWSGI skips it silently).
func AdaptJSON(src []byte, file string) ([]Option, error) {
	name, section := splitSection(file)
	if section == "" {
		section = "uwsgi"
	}
	if len(src) > MaxFileSize {
		return nil, ErrorList{{File: name, Err: fmt.Errorf("%w: %d bytes > max %d", ErrTooLarge, len(src), MaxFileSize)}}
	}
	r := jsonReader{dec: json.NewDecoder(bytes.NewReader(src)), lines: lineCounter{src: src}, file: name}
	r.dec.UseNumber()
	opts, found, err := r.document(section)
	if err != nil {
		r.errs.add(name, r.errLine(err), "", fmt.Errorf("%w: %v", ErrSyntax, err))
		return nil, r.errs
	}
	if !found {
		r.errs.add(name, 0, "", fmt.Errorf("%w: no %q object in json file", ErrNoSection, section))
	}
	if len(r.errs) > 0 {
		return nil, r.errs
	}
	return opts, nil
}

// jsonReader walks the token stream of one document.
type jsonReader struct {
	dec   *json.Decoder
	lines lineCounter
	file  string
	errs  ErrorList
	opts  []Option
}

// errTooMany stops the walk when MaxOptions is hit (already recorded in errs).
var errTooMany = errors.New("too many options")

// document reads the top-level object; syntax errors are returned, value errors recorded.
func (r *jsonReader) document(section string) ([]Option, bool, error) {
	tok, err := r.dec.Token()
	if err != nil {
		return nil, false, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, false, fmt.Errorf("top level is not an object")
	}
	found := false
	for r.dec.More() {
		tok, err := r.dec.Token()
		if err != nil {
			return nil, false, err
		}
		key, _ := tok.(string)
		if key != section {
			if err := r.skipValue(); err != nil {
				return nil, false, err
			}
			continue
		}
		found = true
		line := r.lines.line(r.dec.InputOffset())
		tok, err = r.dec.Token()
		if err != nil {
			return nil, false, err
		}
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			r.errs.add(r.file, line, "", fmt.Errorf("%w: %q is not an object", ErrValue, section))
			if err := r.skipOpened(tok); err != nil {
				return nil, false, err
			}
			continue
		}
		if err := r.section(); err != nil {
			if errors.Is(err, errTooMany) {
				return nil, true, nil
			}
			return nil, false, err
		}
	}
	if _, err := r.dec.Token(); err != nil { // the closing '}'
		return nil, false, err
	}
	if _, err := r.dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = fmt.Errorf("data after the top-level object")
		}
		return nil, false, err
	}
	return r.opts, found, nil
}

// section reads the options of an opened section object up to its '}'.
func (r *jsonReader) section() error {
	for r.dec.More() {
		tok, err := r.dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		line := r.lines.line(r.dec.InputOffset())
		if tok, err = r.dec.Token(); err != nil {
			return err
		}
		if key == "" {
			r.errs.add(r.file, line, "", fmt.Errorf("%w: empty option name", ErrValue))
			if err := r.skipOpened(tok); err != nil {
				return err
			}
			continue
		}
		if d, ok := tok.(json.Delim); ok && d == '[' {
			for r.dec.More() {
				item, err := r.dec.Token()
				if err != nil {
					return err
				}
				itemLine := r.lines.line(r.dec.InputOffset())
				if err := r.scalar(key, item, itemLine); err != nil {
					return err
				}
			}
			if _, err := r.dec.Token(); err != nil { // ']'
				return err
			}
			continue
		}
		if err := r.scalar(key, tok, line); err != nil {
			return err
		}
	}
	_, err := r.dec.Token() // '}'
	return err
}

// scalar adds one option from a value token; an opened object or array is ErrValue.
func (r *jsonReader) scalar(key string, tok json.Token, line int) error {
	var value string
	switch v := tok.(type) {
	case string:
		value = v
	case json.Number:
		value = v.String()
	case bool:
		value = "0"
		if v {
			value = "1"
		}
	case nil:
		value = "0"
	case json.Delim:
		r.errs.add(r.file, line, key, fmt.Errorf("%w: nested %s in an option", ErrValue, jsonKind(v)))
		return r.skipOpened(tok)
	}
	if len(r.opts) >= MaxOptions {
		r.errs.add(r.file, line, key, fmt.Errorf("%w: more than %d options", ErrTooLarge, MaxOptions))
		return errTooMany
	}
	r.opts = append(r.opts, Option{Key: key, Value: value, File: r.file, Line: line})
	return nil
}

// skipValue skips the next value whole.
func (r *jsonReader) skipValue() error {
	tok, err := r.dec.Token()
	if err != nil {
		return err
	}
	return r.skipOpened(tok)
}

// skipOpened skips the rest of a value whose first token has been read.
func (r *jsonReader) skipOpened(tok json.Token) error {
	d, ok := tok.(json.Delim)
	if !ok || d == '}' || d == ']' {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := r.dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// errLine places a syntax error.
func (r *jsonReader) errLine(err error) int {
	off := r.dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
	}
	return lineOf(r.lines.src, off)
}

func jsonKind(d json.Delim) string {
	if d == '{' {
		return "object"
	}
	return "array"
}
