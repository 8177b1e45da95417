package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// AdaptYAML reads a yaml config the way uWSGI's libyaml reader (core/yaml.c) does. file
// names the source and may end in `:section` (default "uwsgi"), a top-level key.
//
//   - The section is a mapping; each `key: scalar` is an option whose value is the scalar
//     as written (`master: true` is "true", `processes: 4` is "4", quotes removed).
//   - `key: [a, b]` or a block list is one option per item, in order.
//   - Aliases to scalars or lists are followed. Only the first yaml document is read.
//
// Unlike uWSGI, a missing section is ErrNoSection; a nested mapping, a list inside a list
// and a merge key are ErrValue; and `key:` with no value is ErrValue (uWSGI drops it).
func AdaptYAML(src []byte, file string) ([]Option, error) {
	name, section := splitSection(file)
	if section == "" {
		section = "uwsgi"
	}
	if len(src) > MaxFileSize {
		return nil, ErrorList{{File: name, Err: fmt.Errorf("%w: %d bytes > max %d", ErrTooLarge, len(src), MaxFileSize)}}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, ErrorList{{File: name, Line: yamlErrLine(err), Err: fmt.Errorf("%w: %v", ErrSyntax, err)}}
	}
	var (
		opts  []Option
		errs  ErrorList
		found bool
	)
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(root.Content); i += 2 {
			k, v := deref(root.Content[i]), deref(root.Content[i+1])
			if k.Kind != yaml.ScalarNode || k.Value != section {
				continue
			}
			found = true
			switch {
			case v.Kind == yaml.MappingNode:
				if !yamlSection(v, name, &opts, &errs) {
					return nil, errs
				}
			case isYAMLNull(v):
				// `uwsgi:` with nothing under it: an empty section
			default:
				errs.add(name, v.Line, "", fmt.Errorf("%w: section %q is not a mapping", ErrValue, section))
			}
		}
	}
	if !found {
		errs.add(name, 0, "", fmt.Errorf("%w: no top-level %q mapping in yaml file", ErrNoSection, section))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return opts, nil
}

// yamlSection appends the options of one section mapping; false when MaxOptions is hit.
func yamlSection(m *yaml.Node, file string, opts *[]Option, errs *ErrorList) bool {
	add := func(key, value string, line int) bool {
		if len(*opts) >= MaxOptions {
			errs.add(file, line, key, fmt.Errorf("%w: more than %d options", ErrTooLarge, MaxOptions))
			return false
		}
		*opts = append(*opts, Option{Key: key, Value: value, File: file, Line: line})
		return true
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		kn, v := m.Content[i], deref(m.Content[i+1])
		k := deref(kn)
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			errs.add(file, kn.Line, "", fmt.Errorf("%w: option name must be a non-empty scalar", ErrValue))
			continue
		}
		key := k.Value
		if key == "<<" && k.Tag == "!!merge" {
			errs.add(file, kn.Line, key, fmt.Errorf("%w: merge keys are not supported", ErrValue))
			continue
		}
		switch v.Kind {
		case yaml.ScalarNode:
			if isYAMLNull(v) && v.Value == "" {
				errs.add(file, kn.Line, key, fmt.Errorf("%w: no value (uWSGI ignores the option; write %s: true or \"\")", ErrValue, key))
				continue
			}
			if !add(key, v.Value, kn.Line) {
				return false
			}
		case yaml.SequenceNode:
			for _, itemNode := range v.Content {
				item := deref(itemNode)
				if item.Kind != yaml.ScalarNode {
					errs.add(file, itemNode.Line, key, fmt.Errorf("%w: list items must be scalars", ErrValue))
					continue
				}
				if !add(key, item.Value, itemNode.Line) {
					return false
				}
			}
		default:
			errs.add(file, kn.Line, key, fmt.Errorf("%w: a mapping is not an option value", ErrValue))
		}
	}
	return true
}

// deref follows an alias to its anchor (once: yaml.v3 never aliases an alias).
func deref(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

func isYAMLNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// yamlErrLine digs the line out of a yaml.v3 error ("yaml: line 3: ...").
func yamlErrLine(err error) int {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		err = errors.New(te.Errors[0])
	}
	msg := err.Error()
	i := strings.Index(msg, "line ")
	if i < 0 {
		return 0
	}
	digits := msg[i+len("line "):]
	end := 0
	for end < len(digits) && end < 9 && digits[end] >= '0' && digits[end] <= '9' {
		end++
	}
	n, convErr := strconv.Atoi(digits[:end])
	if convErr != nil {
		return 0
	}
	return n
}
