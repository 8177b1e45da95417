package config

import (
	"fmt"
	"strings"
)

// ParseArgs reads a uWSGI command line (args without the program name) as uWSGI's
// getopt_long does (core/init.c uwsgi_commandline_config):
//
//   - `--name value` and `--name=value` for options taking an argument (any option not
//     in the table of args_table.go takes one); `--name` alone for boolean options
//     (`--master`), where `--master=x` is an error; `--name` or `--name=value`, never
//     `--name value`, for the few with an optional argument (`--chmod-socket`);
//   - short flags from uWSGI's table: `-s :3031`, `-s:3031`, `-p 4`, `-p4`, `-M`, and
//     clusters such as `-Mp 4` or `-Mp4`;
//   - arguments that are not options (config files, `-`), and everything after `--`,
//     are returned in rest, in order. uWSGI loads them as configs by extension after the
//     options: append Option{Key: "config", Value: arg} for each before Loader.Expand to
//     do the same.
//
// Boolean options get the value "true" (uWSGI stores none; --show-config prints true).
// Each Option has File CommandLine and Line the 1-based position of its argument in args
// (its os.Args index when args is os.Args[1:]). Unlike getopt_long, abbreviated long
// options (`--sock`) are not recognised: they are taken as options of their own name.
// uWSGI has no `--no-name` negation, and neither has ParseArgs. Errors are collected
// (ErrArgs); the options are nil when there is any.
func ParseArgs(args []string) ([]Option, []string, error) {
	var (
		opts []Option
		rest []string
		errs ErrorList
	)
	add := func(key, value string, pos int) {
		if len(opts) >= MaxOptions {
			if len(opts) == MaxOptions {
				errs.add(CommandLine, pos, key, fmt.Errorf("%w: more than %d options", ErrTooLarge, MaxOptions))
			}
			return
		}
		opts = append(opts, Option{Key: key, Value: value, File: CommandLine, Line: pos})
	}
	bad := func(pos int, key, format string, a ...any) {
		errs.add(CommandLine, pos, key, fmt.Errorf("%w: "+format, append([]any{ErrArgs}, a...)...))
	}
	for i := 0; i < len(args); i++ {
		arg, pos := args[i], i+1
		switch {
		case arg == "--":
			rest = append(rest, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(arg, "--"):
			name, value, hasValue := strings.Cut(arg[2:], "=")
			if name == "" {
				bad(pos, "", "%q names no option", arg)
				continue
			}
			switch kindOf(name) {
			case argNone:
				if hasValue {
					bad(pos, name, "option --%s takes no argument", name)
					continue
				}
				value = "true"
			case argOptional:
				if !hasValue {
					value = "true"
				}
			case argRequired:
				if !hasValue {
					if i+1 >= len(args) {
						bad(pos, name, "option --%s requires an argument", name)
						continue
					}
					i++
					value = args[i]
				}
			}
			add(name, value, pos)
		case len(arg) > 1 && arg[0] == '-':
			for k := 1; k < len(arg); k++ {
				name, ok := shortOption(arg[k])
				if !ok {
					bad(pos, "", "unknown short option -%s", printable(arg[k]))
					break
				}
				kind := kindOf(name)
				if kind == argNone {
					add(name, "true", pos)
					continue
				}
				switch {
				case k+1 < len(arg):
					add(name, arg[k+1:], pos)
				case kind == argOptional:
					add(name, "true", pos)
				case i+1 < len(args):
					i++
					add(name, args[i], pos)
				default:
					bad(pos, name, "option -%c (--%s) requires an argument", arg[k], name)
				}
				break
			}
		default:
			rest = append(rest, arg)
		}
	}
	if len(errs) > 0 {
		return nil, rest, errs
	}
	return opts, rest, nil
}

func printable(c byte) string {
	if c < 0x20 || c >= 0x7f {
		return fmt.Sprintf("\\x%02x", c)
	}
	return string(c)
}
