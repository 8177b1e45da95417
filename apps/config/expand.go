package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// expandValue replaces every sym(key) in v for which hook answers, as uWSGI's
// uwsgi_apply_config_pass does: the innermost sym( starts the key (so %(x%(a)) first
// becomes %(x2) when a is 2), parentheses inside a key nest, and after each substitution
// the value is scanned again from the start, so substituted text is expanded too.
// Keys the hook does not know stay as written.
func expandValue(v string, sym byte, hook func(string) (string, bool, error)) (string, error) {
	count := 0
	state, depth, keyStart := 0, 0, 0 // state: 0 none, 1 after sym, 2 inside sym(...)
	for j := 0; j < len(v); j++ {
		c := v[j]
		switch {
		case c == sym:
			state = 1
		case c == '(' && state == 1:
			state, depth, keyStart = 2, 0, j+1
		case state == 2:
			switch c {
			case '(':
				depth++
			case ')':
				if depth > 0 {
					depth--
					continue
				}
				state = 0
				if j == keyStart {
					continue
				}
				val, ok, err := hook(v[keyStart:j])
				if err != nil {
					return "", err
				}
				if !ok {
					continue
				}
				count++
				if count > MaxExpansions {
					return "", fmt.Errorf("%w: more than %d substitutions in %.60q", ErrExpansion, MaxExpansions, v)
				}
				if len(v)-(j+1-(keyStart-2))+len(val) > MaxValueSize {
					return "", fmt.Errorf("%w: value over %d bytes after expansion", ErrTooLarge, MaxValueSize)
				}
				v = v[:keyStart-2] + val + v[j+1:]
				j = -1
			}
		default:
			state = 0
		}
	}
	return v, nil
}

// placeholderMath evaluates a %(...) key holding spaces, uWSGI's little pipeline
// (core/config.c uwsgi_manage_placeholder): tokens are numbers, option names (unknown
// ones are ""), or the operators + - * / (applied to the running value and the next
// token, as integers) and ++ -- (applied to the running value). Tokens side by side
// concatenate: with processes = 2 and cores = 8, %(processes cores + 2) is 30.
// It reports false when no token produced a value (uWSGI then leaves the text alone).
func placeholderMath(expr string, lookup func(string) (string, bool)) (string, bool) {
	const (
		opConcat = iota
		opAdd
		opSub
		opMul
		opDiv
	)
	op := opConcat
	cur, have := "", false
	for _, tok := range strings.Split(expr, " ") {
		var val string
		switch tok {
		case "":
			continue
		case "+":
			op = opAdd
			continue
		case "-":
			op = opSub
			continue
		case "*":
			op = opMul
			continue
		case "/":
			op = opDiv
			continue
		case "++", "--":
			if have {
				n := leadingInt(cur)
				if tok == "++" {
					n++
				} else {
					n--
				}
				cur = strconv.FormatInt(n, 10)
			}
			op = opConcat
			continue
		default:
			if isDigits(tok) {
				val = tok
			} else {
				val, _ = lookup(tok)
			}
		}
		a, b := leadingInt(cur), leadingInt(val)
		switch op {
		case opConcat:
			cur += val
		case opAdd:
			cur = strconv.FormatInt(a+b, 10)
		case opSub:
			cur = strconv.FormatInt(a-b, 10)
		case opMul:
			cur = strconv.FormatInt(a*b, 10)
		case opDiv:
			if b == 0 || (a == math.MinInt64 && b == -1) {
				cur = "0"
			} else {
				cur = strconv.FormatInt(a/b, 10)
			}
		}
		have = true
		op = opConcat
	}
	return cur, have
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// leadingInt reads an integer the way C's strtoll(s, NULL, 10) does: leading spaces, a
// sign, digits up to the first non-digit; 0 when there are none; clamped on overflow.
func leadingInt(s string) int64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var n uint64
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if n > (limit-d)/10 {
			n = limit
			break
		}
		n = n*10 + d
	}
	if neg && n > 0 {
		return -int64(n-1) - 1
	}
	return int64(n)
}
