package bert

import (
	"errors"
	"fmt"
	"time"

	"imperial/node/etf"
)

// Decode decodes one whole BERT (version byte 131 first, no trailing bytes)
// with the default etf limits and converts the BERT complex types to Go
// values (see the package comment). Input that is truncated, malformed or
// followed by extra bytes fails with ErrMalformed, input over a limit with
// ErrTooLarge; the etf error is wrapped as well.
func Decode(b []byte) (any, error) {
	return DecodeLimits(b, etf.Limits{})
}

// DecodeLimits is Decode with explicit limits (zero fields take the etf
// defaults). Use tight limits for input from untrusted peers.
func DecodeLimits(b []byte, lim etf.Limits) (any, error) {
	t, n, err := etf.Decode(b, etf.DecodeOptions{Limits: lim})
	if err != nil {
		if errors.Is(err, etf.ErrTooLarge) || errors.Is(err, etf.ErrTooDeep) {
			return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if n != len(b) {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(b)-n)
	}
	return FromTerm(t)
}

// FromTerm converts a decoded etf term into Go values: {bert, …} complex
// types become nil, bool, Dict, time.Time and Regex, and etf.Map becomes a
// Dict. Containers are rewritten in place, so t must not be shared. A tuple
// headed by the atom bert that is not one of the five complex types fails
// with ErrMalformed.
func FromTerm(t any) (any, error) {
	switch x := t.(type) {
	case etf.Tuple:
		if len(x) > 0 && x[0] == atomBert {
			return complexValue(x)
		}
		if err := convertAll(x); err != nil {
			return nil, err
		}
		return x, nil
	case etf.List:
		if err := convertAll(x); err != nil {
			return nil, err
		}
		return x, nil
	case etf.ImproperList:
		if err := convertAll(x.Elems); err != nil {
			return nil, err
		}
		tail, err := FromTerm(x.Tail)
		if err != nil {
			return nil, err
		}
		x.Tail = tail
		return x, nil
	case etf.Map:
		for i := range x {
			if err := convertPair(&x[i]); err != nil {
				return nil, err
			}
		}
		return Dict(x), nil
	}
	return t, nil
}

func convertAll(s []any) error {
	for i, e := range s {
		v, err := FromTerm(e)
		if err != nil {
			return err
		}
		s[i] = v
	}
	return nil
}

func convertPair(p *Pair) error {
	k, err := FromTerm(p.Key)
	if err != nil {
		return err
	}
	v, err := FromTerm(p.Value)
	if err != nil {
		return err
	}
	p.Key, p.Value = k, v
	return nil
}

// complexValue converts a tuple whose first element is the atom bert.
func complexValue(t etf.Tuple) (any, error) {
	if len(t) < 2 {
		return nil, fmt.Errorf("%w: {bert} without a type", ErrMalformed)
	}
	kind, _ := t[1].(etf.Atom)
	switch {
	case len(t) == 2 && kind == atomNil:
		return nil, nil
	case len(t) == 2 && kind == atomTrue:
		return true, nil
	case len(t) == 2 && kind == atomFalse:
		return false, nil
	case len(t) == 3 && kind == atomDict:
		return dictValue(t[2])
	case len(t) == 5 && kind == atomTime:
		return timeValue(t[2], t[3], t[4])
	case len(t) == 4 && kind == atomRegex:
		return regexValue(t[2], t[3])
	}
	return nil, fmt.Errorf("%w: unknown complex type {bert, %v} of arity %d", ErrMalformed, t[1], len(t))
}

func dictValue(v any) (any, error) {
	list, ok := v.(etf.List)
	if !ok {
		return nil, fmt.Errorf("%w: dict pairs are %T, not a list", ErrMalformed, v)
	}
	d := make(Dict, len(list))
	for i, e := range list {
		kv, ok := e.(etf.Tuple)
		if !ok || len(kv) != 2 {
			return nil, fmt.Errorf("%w: dict element %d is not a {Key, Value} tuple", ErrMalformed, i)
		}
		d[i] = Pair{Key: kv[0], Value: kv[1]}
		if err := convertPair(&d[i]); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// timeBound keeps Mega·10⁶ + Sec and Micro·10³ far from int64 overflow while
// covering every date time.Time can express in practice.
const timeBound = 1 << 40

func timeValue(mv, sv, uv any) (any, error) {
	mega, ok1 := mv.(int64)
	sec, ok2 := sv.(int64)
	micro, ok3 := uv.(int64)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("%w: time fields are not integers", ErrMalformed)
	}
	for _, x := range []int64{mega, sec, micro} {
		if x > timeBound || x < -timeBound {
			return nil, fmt.Errorf("%w: time field %d out of range", ErrMalformed, x)
		}
	}
	return time.Unix(mega*1e6+sec, micro*1e3).UTC(), nil
}

func regexValue(src, opts any) (any, error) {
	s, ok := src.([]byte)
	if !ok {
		return nil, fmt.Errorf("%w: regex source is %T, not a binary", ErrMalformed, src)
	}
	list, ok := opts.(etf.List)
	if !ok {
		return nil, fmt.Errorf("%w: regex options are %T, not a list", ErrMalformed, opts)
	}
	r := Regex{Source: string(s), Options: make([]string, len(list))}
	for i, o := range list {
		a, ok := o.(etf.Atom)
		if !ok {
			return nil, fmt.Errorf("%w: regex option %d is %T, not an atom", ErrMalformed, i, o)
		}
		r.Options[i] = string(a)
	}
	return r, nil
}
