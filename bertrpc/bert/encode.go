package bert

import (
	"bytes"
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"time"

	"imperial/node/etf"
)

// MaxEncodeDepth bounds the nesting of a Go value given to Encode or ToTerm;
// deeper (or cyclic) values fail with ErrTooDeep.
const MaxEncodeDepth = 10000

// Encode returns the BERT encoding (version byte 131 first) of v, converting
// the Go values listed in the package comment to their BERT complex types
// and writing only the BERT tag subset (ATOM_EXT, FLOAT_EXT), which Ruby's
// bert can read. It fails with ErrNotBERT for values without a BERT form,
// ErrTooDeep for values nested deeper than MaxEncodeDepth, and with the etf
// encoder's errors (etf.ErrBadAtom for non-Latin-1 atoms, etf.ErrBadFloat
// for NaN and infinities), all wrapped.
func Encode(v any) ([]byte, error) {
	t, err := ToTerm(v)
	if err != nil {
		return nil, err
	}
	b, err := etf.Encode(t, etf.EncodeOptions{BERT: true})
	if err != nil {
		return nil, fmt.Errorf("bert: %w", err)
	}
	return b, nil
}

// ToTerm converts a Go value into the etf term that Encode writes: nil,
// bools, Dicts, Go maps, times, regexes and BERT-RPC messages become their
// {bert, …} or message tuples, Go slices become lists. The input is not
// modified.
func ToTerm(v any) (any, error) {
	return toTerm(v, 0)
}

func toTerm(v any, depth int) (any, error) {
	if depth > MaxEncodeDepth {
		return nil, fmt.Errorf("%w: more than %d levels", ErrTooDeep, MaxEncodeDepth)
	}
	depth++
	switch x := v.(type) {
	case nil:
		return etf.Tuple{atomBert, atomNil}, nil
	case bool:
		if x {
			return etf.Tuple{atomBert, atomTrue}, nil
		}
		return etf.Tuple{atomBert, atomFalse}, nil
	case etf.Atom, string, []byte, float64, float32, *big.Int, big.Int,
		int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, uintptr:
		return v, nil
	case etf.Tuple:
		return elems(etf.Tuple{}, x, depth)
	case etf.List:
		return elems(etf.List{}, x, depth)
	case []any:
		return elems(etf.List{}, x, depth)
	case etf.ImproperList:
		es, err := elems(etf.List{}, x.Elems, depth)
		if err != nil {
			return nil, err
		}
		tail, err := toTerm(x.Tail, depth)
		if err != nil {
			return nil, err
		}
		return etf.ImproperList{Elems: es, Tail: tail}, nil
	case Dict:
		return dictTerm(x, depth)
	case etf.Map:
		return dictTerm(Dict(x), depth)
	case time.Time:
		return timeTerm(x), nil
	case *time.Time:
		if x == nil {
			return toTerm(nil, depth)
		}
		return timeTerm(*x), nil
	case Regex:
		return regexTerm(x), nil
	case *regexp.Regexp:
		if x == nil {
			return toTerm(nil, depth)
		}
		return regexTerm(Regex{Source: x.String()}), nil
	case Request:
		if x.Kind != Call && x.Kind != Cast {
			return nil, fmt.Errorf("%w: request kind %d", ErrMalformed, x.Kind)
		}
		return toTerm(x.Term(), depth)
	case Message:
		if rv := reflect.ValueOf(x); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return toTerm(nil, depth)
		}
		return toTerm(x.Term(), depth)
	case etf.Pid, etf.Ref, etf.Port, etf.Export, etf.Fun, etf.BitString:
		return nil, fmt.Errorf("%w: %T", ErrNotBERT, v)
	}
	return reflectTerm(v, depth)
}

// elems converts each element of src and appends it to dst.
func elems[S ~[]any](dst S, src []any, depth int) (S, error) {
	dst = slices.Grow(dst, len(src))
	for _, e := range src {
		t, err := toTerm(e, depth)
		if err != nil {
			return nil, err
		}
		dst = append(dst, t)
	}
	return dst, nil
}

func dictTerm(d Dict, depth int) (any, error) {
	pairs := make(etf.List, 0, len(d))
	for _, p := range d {
		k, err := toTerm(p.Key, depth)
		if err != nil {
			return nil, err
		}
		v, err := toTerm(p.Value, depth)
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, etf.Tuple{k, v})
	}
	return etf.Tuple{atomBert, atomDict, pairs}, nil
}

// timeTerm splits t into {bert, time, Mega, Sec, Micro} as Ruby does: Mega
// and Sec by floor division of the Unix seconds, Micro truncated.
func timeTerm(t time.Time) etf.Tuple {
	sec := t.Unix()
	mega, s := sec/1e6, sec%1e6
	if s < 0 {
		mega, s = mega-1, s+1e6
	}
	return etf.Tuple{atomBert, atomTime, mega, s, int64(t.Nanosecond() / 1000)}
}

func regexTerm(r Regex) etf.Tuple {
	opts := make(etf.List, len(r.Options))
	for i, o := range r.Options {
		opts[i] = etf.Atom(o)
	}
	return etf.Tuple{atomBert, atomRegex, []byte(r.Source), opts}
}

// reflectTerm handles Go maps (→ dict, keys sorted by their encoding so the
// output is deterministic) and slices or arrays other than []byte (→ list).
func reflectTerm(v any, depth int) (any, error) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if rv.IsNil() {
			return toTerm(nil, depth)
		}
		type kv struct {
			enc  []byte
			k, v any
		}
		pairs := make([]kv, 0, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			k, err := toTerm(it.Key().Interface(), depth)
			if err != nil {
				return nil, err
			}
			enc, err := etf.Encode(k, etf.EncodeOptions{BERT: true})
			if err != nil {
				return nil, fmt.Errorf("bert: %w", err)
			}
			val, err := toTerm(it.Value().Interface(), depth)
			if err != nil {
				return nil, err
			}
			pairs = append(pairs, kv{enc, k, val})
		}
		slices.SortFunc(pairs, func(a, b kv) int { return bytes.Compare(a.enc, b.enc) })
		list := make(etf.List, len(pairs))
		for i, p := range pairs {
			list[i] = etf.Tuple{p.k, p.v}
		}
		return etf.Tuple{atomBert, atomDict, list}, nil
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			return rv.Bytes(), nil // named []byte types
		}
		list := make(etf.List, rv.Len())
		for i := range list {
			t, err := toTerm(rv.Index(i).Interface(), depth)
			if err != nil {
				return nil, err
			}
			list[i] = t
		}
		return list, nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return toTerm(rv.Bool(), depth)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint(), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return toTerm(nil, depth)
		}
	}
	return nil, fmt.Errorf("%w: %T", ErrNotBERT, v)
}
