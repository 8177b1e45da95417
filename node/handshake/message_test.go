package handshake

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// Real bytes between two OTP 25 nodes, cookie x (spec erlang-dist.md §2.2).
const (
	wireSendName  = "001a 4e 0000000d07df7fbd 6b01b760 000b 614031 32372e302e302e31"
	wireStatus    = "0003 73 6f6b"
	wireChallenge = "001e 4e 0000000d07df7fbd 7fbb1496 6b01b75e 000b 624031 32372e302e302e31"
	wireReply     = "0015 72 2cb4bb2d 9a76f43de3e3840eeaabc125884ca367"
	wireAck       = "0011 61 ece3a74a808c215ac716a2401433f243"
)

func TestDigestWire(t *testing.T) {
	for _, tc := range []struct {
		challenge uint32
		want      string
	}{
		{0x7fbb1496, "9a76f43de3e3840eeaabc125884ca367"}, // md5("x2142966934")
		{0x2cb4bb2d, "ece3a74a808c215ac716a2401433f243"}, // md5("x750041901")
	} {
		got := Digest("x", tc.challenge)
		if hex.EncodeToString(got[:]) != tc.want {
			t.Errorf("Digest(x, %d) = %x, want %s", tc.challenge, got, tc.want)
		}
	}
	// unsigned decimal: 0xFFFFFFFF is "4294967295", not "-1"
	a, b := Digest("c", 0xFFFFFFFF), Digest("c", 0)
	if a == b || a != md5.Sum([]byte("c4294967295")) {
		t.Errorf("Digest of 0xFFFFFFFF = %x", a)
	}
}

// parser runs one of the Parse functions and returns its value as any.
type parser func([]byte) (any, int, error)

func wrap[T any](f func([]byte) (T, int, error)) parser {
	return func(b []byte) (any, int, error) { m, n, err := f(b); return m, n, err }
}

var parsers = map[string]parser{
	"send_name": wrap(ParseSendName),
	"challenge": wrap(ParseChallenge),
	"status":    wrap(ParseStatus),
	"reply":     wrap(ParseReply),
	"ack":       wrap(ParseAck),
}

type parseCase struct {
	name   string
	parser string
	in     string // hex
	want   any
	n      int
	err    error
}

func parseCases(t *testing.T) []parseCase {
	var reply Reply
	reply.Challenge = 0x2cb4bb2d
	copy(reply.Digest[:], unhex(t, "9a76f43de3e3840eeaabc125884ca367"))
	var ack Ack
	copy(ack.Digest[:], unhex(t, "ece3a74a808c215ac716a2401433f243"))
	long := strings.Repeat("61", MaxNameLen+1)
	return []parseCase{
		{"wire send_name", "send_name", wireSendName,
			SendName{Flags: 0xD07DF7FBD, Creation: 1795274592, Name: "a@127.0.0.1"}, 28, nil},
		{"send_name trailing in frame", "send_name", "0012 4e 0000000000000001 00000002 0001 61 ffff",
			SendName{Flags: 1, Creation: 2, Name: "a"}, 20, nil},
		{"send_name followed by more", "send_name", "0011 4e 0000000000000001 00000002 0001 61 00000000",
			SendName{Flags: 1, Creation: 2, Name: "a"}, 19, nil},
		{"send_name empty name", "send_name", "000f 4e 0000000000000001 00000002 0000",
			SendName{Flags: 1, Creation: 2}, 17, nil},
		{"wire challenge", "challenge", wireChallenge,
			Challenge{Flags: 0xD07DF7FBD, Challenge: 0x7fbb1496, Creation: 0x6b01b75e, Name: "b@127.0.0.1"}, 32, nil},
		{"wire status", "status", wireStatus, StatusOK, 5, nil},
		{"empty status", "status", "0001 73", Status(""), 3, nil},
		{"wire reply", "reply", wireReply, reply, 23, nil},
		{"wire ack", "ack", wireAck, ack, 19, nil},
		{"ack with frames after", "ack", wireAck + "00000000 00000003 700102", ack, 19, nil},
		{"ack trailing in frame", "ack", "0012 61 ece3a74a808c215ac716a2401433f243 ff", ack, 20, nil},

		{"empty input", "send_name", "", nil, 0, ErrNeedMore},
		{"one byte", "ack", "00", nil, 0, ErrNeedMore},
		{"zero length", "status", "0000 73", nil, 0, ErrMalformed},
		{"over MaxFrameLen", "send_name", "0801", nil, 0, ErrTooLarge},
		{"http request", "send_name", "474554202f20485454502f312e310d0a", nil, 0, ErrTooLarge},
		{"send_name wrong tag", "send_name", "0003 73 6f6b", nil, 0, ErrUnexpectedTag},
		{"challenge for ack", "ack", wireChallenge, nil, 0, ErrUnexpectedTag},
		{"old 'n' send_name", "send_name", "0007 6e 0005 00000000", nil, 0, ErrUnexpectedTag},
		{"send_name short body", "send_name", "000e 4e 0000000000000001 00000002 00", nil, 0, ErrMalformed},
		{"send_name name past frame", "send_name", "0010 4e 0000000000000001 00000002 0002 61", nil, 0, ErrMalformed},
		{"send_name name too long", "send_name", "010f 4e 0000000000000001 00000002 0100" + long[:0x100*2], nil, 0, ErrTooLarge},
		{"challenge short body", "challenge", "0011 4e 0000000000000001 00000002 0000 0000", nil, 0, ErrMalformed},
		{"reply short", "reply", "0014 72 2cb4bb2d 9a76f43de3e3840eeaabc125884ca3", nil, 0, ErrMalformed},
		{"ack short", "ack", "0002 61 00", nil, 0, ErrMalformed},
	}
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := parsers[tc.parser](unhex(t, tc.in))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				if n != 0 {
					t.Errorf("n = %d on error", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if n != tc.n || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, %d; want %#v, %d", got, n, tc.want, tc.n)
			}
		})
	}
}

// TestSplit feeds every prefix of every case: a valid message is ErrNeedMore until complete, an invalid one
// is ErrNeedMore or its final error, never anything else and never a value.
func TestSplit(t *testing.T) {
	for _, tc := range parseCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			in := unhex(t, tc.in)
			full, fn, ferr := parsers[tc.parser](in)
			for cut := 0; cut < len(in); cut++ {
				got, n, err := parsers[tc.parser](in[:cut])
				switch {
				case cut >= fn && ferr == nil:
					if err != nil || n != fn || !reflect.DeepEqual(got, full) {
						t.Fatalf("cut %d (frame %d): %#v, %d, %v", cut, fn, got, n, err)
					}
				case errors.Is(err, ErrNeedMore):
				case ferr != nil && errors.Is(ferr, unwrapSentinel(err)):
				default:
					t.Fatalf("cut %d: %#v, %d, %v (full: %v)", cut, got, n, err, ferr)
				}
			}
		})
	}
}

// unwrapSentinel maps err to the codec sentinel it wraps.
func unwrapSentinel(err error) error {
	for _, s := range []error{ErrNeedMore, ErrTooLarge, ErrUnexpectedTag, ErrMalformed} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

func TestRoundTrip(t *testing.T) {
	name := "n@" + strings.Repeat("h", MaxNameLen-2)
	for _, sn := range []SendName{{}, {Flags: DefaultFlags, Creation: 0xFFFFFFFF, Name: name}, {Flags: 1 << 63, Name: "a@b"}} {
		b, err := AppendSendName([]byte{9}, sn)
		if err != nil {
			t.Fatal(err)
		}
		got, n, err := ParseSendName(b[1:])
		if err != nil || n != len(b)-1 || got != sn {
			t.Errorf("send_name %+v: got %+v, %d, %v", sn, got, n, err)
		}
	}
	for _, ch := range []Challenge{{}, {Flags: HiddenFlags, Challenge: 0xFFFFFFFF, Creation: 7, Name: name}} {
		b, err := AppendChallenge(nil, ch)
		if err != nil {
			t.Fatal(err)
		}
		got, n, err := ParseChallenge(b)
		if err != nil || n != len(b) || got != ch {
			t.Errorf("challenge %+v: got %+v, %d, %v", ch, got, n, err)
		}
	}
	for _, st := range []Status{StatusOK, StatusOKSimultaneous, StatusNok, StatusNotAllowed, StatusAlive, StatusTrue, StatusFalse} {
		b, err := AppendStatus(nil, st)
		if err != nil {
			t.Fatal(err)
		}
		got, n, err := ParseStatus(b)
		if err != nil || n != len(b) || got != st {
			t.Errorf("status %q: got %q, %d, %v", st, got, n, err)
		}
	}
	r := Reply{Challenge: 42, Digest: Digest("cookie", 42)}
	if got, n, err := ParseReply(AppendReply(nil, r)); err != nil || n != 23 || got != r {
		t.Errorf("reply: got %+v, %d, %v", got, n, err)
	}
	a := Ack{Digest: Digest("cookie", 43)}
	if got, n, err := ParseAck(AppendAck(nil, a)); err != nil || n != 19 || got != a {
		t.Errorf("ack: got %+v, %d, %v", got, n, err)
	}
}

func TestEncodeWire(t *testing.T) {
	var reply Reply
	reply.Challenge = 0x2cb4bb2d
	reply.Digest = Digest("x", 0x7fbb1496)
	b1, _ := AppendSendName(nil, SendName{Flags: 0xD07DF7FBD, Creation: 1795274592, Name: "a@127.0.0.1"})
	b2, _ := AppendChallenge(nil, Challenge{Flags: 0xD07DF7FBD, Challenge: 0x7fbb1496, Creation: 0x6b01b75e, Name: "b@127.0.0.1"})
	b3, _ := AppendStatus(nil, StatusOK)
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"send_name", b1, wireSendName},
		{"challenge", b2, wireChallenge},
		{"status", b3, wireStatus},
		{"reply", AppendReply(nil, reply), wireReply},
		{"ack", AppendAck(nil, Ack{Digest: Digest("x", 0x2cb4bb2d)}), wireAck},
	} {
		if want := unhex(t, tc.want); !bytes.Equal(tc.got, want) {
			t.Errorf("%s: %x, want %x", tc.name, tc.got, want)
		}
	}
}

func TestEncodeLimits(t *testing.T) {
	long := "a@" + strings.Repeat("b", MaxNameLen)
	if _, err := AppendSendName(nil, SendName{Name: long}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("send_name: %v", err)
	}
	if _, err := AppendChallenge(nil, Challenge{Name: long}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("challenge: %v", err)
	}
	if _, err := AppendStatus(nil, Status(strings.Repeat("x", MaxFrameLen))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("status: %v", err)
	}
}

func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"a@127.0.0.1", nil},
		{"Imp-1.x@vm", nil},
		{"a@b", nil},
		{"", ErrBadName},
		{"imp", ErrBadName},
		{"imp@", ErrBadName},
		{"@host", ErrBadName},
		{"a@b@c", ErrBadName},
		{"@", ErrBadName},
		{"a@" + strings.Repeat("h", MaxNameLen-2), nil},
		{"a@" + strings.Repeat("h", MaxNameLen-1), ErrTooLarge},
	} {
		if err := CheckName(tc.name); !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("CheckName(%q) = %v, want %v", tc.name, err, tc.err)
		}
	}
}
