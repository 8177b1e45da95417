package handshake

import (
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse runs every parser on arbitrary input: none may panic, a success consumes at most the input and
// is reproduced from exactly the consumed prefix, a failure is one of the codec sentinels, and a decoded
// value re-encodes to something that decodes to the same value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{wireSendName, wireStatus, wireChallenge, wireReply, wireAck,
		wireAck + "00000000", "0012 4e 0000000000000001 00000002 0001 61 ffff", "0000", "0801", "ffff4e", ""} {
		b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for name, parse := range parsers {
			m, n, err := parse(b)
			if err != nil {
				if !isCodecError(err) {
					t.Fatalf("%s: error %v wraps no sentinel", name, err)
				}
				if n != 0 {
					t.Fatalf("%s: n = %d with error", name, n)
				}
				continue
			}
			if n < 3 || n > len(b) {
				t.Fatalf("%s: n = %d of %d", name, n, len(b))
			}
			m2, n2, err := parse(b[:n])
			if err != nil || n2 != n || !reflect.DeepEqual(m, m2) {
				t.Fatalf("%s: prefix gives %#v, %d, %v; full gave %#v, %d", name, m2, n2, err, m, n)
			}
			reencode(t, name, m)
		}
	})
}

func reencode(t *testing.T, name string, m any) {
	var (
		b   []byte
		err error
	)
	switch v := m.(type) {
	case SendName:
		b, err = AppendSendName(nil, v)
	case Challenge:
		b, err = AppendChallenge(nil, v)
	case Status:
		b, err = AppendStatus(nil, v)
	case Reply:
		b = AppendReply(nil, v)
	case Ack:
		b = AppendAck(nil, v)
	default:
		t.Fatalf("%s: unexpected type %T", name, m)
	}
	if err != nil {
		t.Fatalf("%s: re-encode %#v: %v", name, m, err)
	}
	got, n, err := parsers[name](b)
	if err != nil || n != len(b) || !reflect.DeepEqual(got, m) {
		t.Fatalf("%s: re-encoded %#v decodes to %#v, %d, %v", name, m, got, n, err)
	}
}

func isCodecError(err error) bool {
	for _, s := range []error{ErrNeedMore, ErrTooLarge, ErrUnexpectedTag, ErrMalformed} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
