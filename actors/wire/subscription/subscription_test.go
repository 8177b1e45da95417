package subscription_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"imperial/actors/wire/subscription"
)

// Datagrams sent by uWSGI 2.0.21-debian (--master --processes 1 --socket
// 127.0.0.1:0, bound to port 41483), captured with a UDP dump.
const (
	// --subscribe-to 127.0.0.1:P:example.com,5, first announce.
	realExample = "e066000003006b65790b006578616d706c652e636f6d0700616464726573730f003132372e302e302e313a343134383309006d6f6469666965723101003509006d6f646966696572320100300500636f72657301003104006c6f61640100300600776569676874010030"
	// --subscribe-to 127.0.0.1:P:foo.local:5 (the ":5" is part of the key),
	// second announce (weight 3: --subscribe2 weight= set it globally).
	realFooLocal = "e066000003006b65790b00666f6f2e6c6f63616c3a350700616464726573730f003132372e302e302e313a343134383309006d6f6469666965723101003009006d6f646966696572320100300500636f72657301003104006c6f61640100300600776569676874010033"
	// --subscribe2 server=…,key=bar.local,addr=127.0.0.1:3031,weight=3,
	// modifier1=7,modifier2=2, unsubscribe sent on SIGINT.
	realBarUnsub = "e063000103006b657909006261722e6c6f63616c0700616464726573730e003132372e302e302e313a3330333109006d6f6469666965723101003709006d6f646966696572320100320500636f72657301003104006c6f61640100300600776569676874010033"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rec encodes one vars record by hand.
func rec(k, v string) []byte {
	b := []byte{byte(len(k)), byte(len(k) >> 8)}
	b = append(b, k...)
	b = append(b, byte(len(v)), byte(len(v)>>8))
	return append(b, v...)
}

func pkt(m1, m2 byte, recs ...[]byte) []byte {
	body := bytes.Join(recs, nil)
	return append([]byte{m1, byte(len(body)), byte(len(body) >> 8), m2}, body...)
}

func base(extra ...[]byte) [][]byte {
	return append([][]byte{rec("key", "k.example"), rec("address", "127.0.0.1:3031")}, extra...)
}

func TestRealPackets(t *testing.T) {
	tests := []struct {
		hex  string
		want subscription.Subscription
	}{
		{realExample, subscription.Subscription{Key: "example.com", Address: "127.0.0.1:41483", Modifier1: 5, Cores: 1}},
		{realFooLocal, subscription.Subscription{Key: "foo.local:5", Address: "127.0.0.1:41483", Cores: 1, Weight: 3}},
		{realBarUnsub, subscription.Subscription{Unsubscribe: true, Key: "bar.local", Address: "127.0.0.1:3031",
			Modifier1: 7, Modifier2: 2, Cores: 1, Weight: 3}},
	}
	for _, tc := range tests {
		b := unhex(t, tc.hex)
		got, err := subscription.Parse(b)
		if err != nil {
			t.Fatalf("Parse(%s…): %v", tc.hex[:16], err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse = %+v\nwant    %+v", got, tc.want)
		}
		again, err := subscription.Append(nil, got)
		if err != nil || !bytes.Equal(again, b) {
			t.Errorf("Append(Parse(real)) = %x, %v\nwant %x", again, err, b)
		}
	}
}

// TestSpecCapture rebuilds the 105-byte datagram of spec §2.1.
func TestSpecCapture(t *testing.T) {
	b, err := subscription.Append(nil, subscription.Subscription{Key: "example.com", Address: "127.0.0.1:3031", Modifier1: 5, Cores: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 105 || hex.EncodeToString(b[:4]) != "e0650000" {
		t.Fatalf("%d bytes, header %x; want 105, e0650000", len(b), b[:4])
	}
}

func TestParseTable(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		err  error
		want subscription.Subscription
	}{
		{name: "minimal", in: pkt(224, 0, base()...),
			want: subscription.Subscription{Key: "k.example", Address: "127.0.0.1:3031"}},
		{name: "any order, unknown keys ignored, last wins",
			in: pkt(224, 1, rec("weight", "9"), rec("backup", "1"), rec("address", "a:1"), rec("key", "x"), rec("weight", "4"),
				rec("notify", "/tmp/n.sock"), rec("sni_key", "k.pem"), rec("sni_crt", "c.pem"), rec("sni_ca", "ca.pem"),
				rec("load", "12"), rec("modifier2", "255"), rec("unix", "1700000001"), rec("sign", "\x00sig")),
			want: subscription.Subscription{Unsubscribe: true, Key: "x", Address: "a:1", Weight: 4, Load: 12, Modifier2: 255,
				Notify: "/tmp/n.sock", SNIKey: "k.pem", SNICrt: "c.pem", SNICA: "ca.pem", Unix: 1700000001, Sign: []byte("\x00sig")}},
		{name: "empty sign ignored", in: pkt(224, 0, base(rec("sign", ""))...),
			want: subscription.Subscription{Key: "k.example", Address: "127.0.0.1:3031"}},
		{name: "missing key", in: pkt(224, 0, rec("address", "a:1")), err: subscription.ErrMissingKey},
		{name: "empty key", in: pkt(224, 0, rec("key", ""), rec("address", "a:1")), err: subscription.ErrMissingKey},
		{name: "missing address", in: pkt(224, 0, rec("key", "k")), err: subscription.ErrMissingAddress},
		{name: "empty address", in: pkt(224, 0, rec("key", "k"), rec("address", "")), err: subscription.ErrMissingAddress},
		{name: "key too long", in: pkt(224, 0, rec("key", strings.Repeat("k", 256)), rec("address", "a:1")), err: subscription.ErrTooLarge},
		{name: "address too long", in: pkt(224, 0, rec("key", "k"), rec("address", strings.Repeat("a", 256))), err: subscription.ErrTooLarge},
		{name: "key of 255 ok", in: pkt(224, 0, rec("key", strings.Repeat("k", 255)), rec("address", "a:1")),
			want: subscription.Subscription{Key: strings.Repeat("k", 255), Address: "a:1"}},
		{name: "modifier1 over 255", in: pkt(224, 0, base(rec("modifier1", "256"))...), err: subscription.ErrBadValue},
		{name: "negative weight", in: pkt(224, 0, base(rec("weight", "-1"))...), err: subscription.ErrBadValue},
		{name: "empty number", in: pkt(224, 0, base(rec("cores", ""))...), err: subscription.ErrBadValue},
		{name: "wrong modifier1", in: pkt(0, 0, base()...), err: subscription.ErrModifier},
		{name: "command 2", in: pkt(224, 2, base()...), err: subscription.ErrModifier},
		{name: "short header", in: []byte{224, 5}, err: subscription.ErrTruncated},
		{name: "cut datagram", in: pkt(224, 0, base()...)[:20], err: subscription.ErrTruncated},
		{name: "trailing bytes", in: append(pkt(224, 0, base()...), 0), err: subscription.ErrTrailing},
		{name: "bad record", in: pkt(224, 0, append(rec("key", "k"), 9, 0, 'x')), err: subscription.ErrMalformed},
		{name: "empty var name", in: pkt(224, 0, append(rec("key", "k"), rec("", "x")...)), err: subscription.ErrMalformed},
		{name: "over 4096 bytes", in: pkt(224, 0, base(rec("notify", strings.Repeat("n", 4096)))...), err: subscription.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := subscription.Parse(tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseCopies(t *testing.T) {
	b := pkt(224, 0, base(rec("sign", "SIG"))...)
	s, err := subscription.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 'X'
	}
	if s.Key != "k.example" || string(s.Sign) != "SIG" {
		t.Fatalf("Parse result aliases its input: %+v", s)
	}
}

// TestSplit: every proper prefix of a datagram is rejected as truncated (a
// datagram never continues), and the whole one parses.
func TestSplit(t *testing.T) {
	for _, h := range []string{realExample, realBarUnsub} {
		b := unhex(t, h)
		for cut := 0; cut < len(b); cut++ {
			if _, err := subscription.Parse(b[:cut]); !errors.Is(err, subscription.ErrTruncated) {
				t.Fatalf("cut %d: err %v, want ErrTruncated", cut, err)
			}
		}
		if _, err := subscription.Parse(b); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, s := range []subscription.Subscription{
		{Key: "a", Address: "/tmp/x.sock"},
		{Unsubscribe: true, Key: "example.com:8080", Address: "127.0.0.1:3031", Modifier1: 255, Modifier2: 255,
			Cores: 1 << 40, Load: 7, Weight: 3, SNIKey: "k", SNICrt: "c", SNICA: "a", Notify: "n", Unix: 1 << 40, Sign: []byte{0, 1, 2}},
	} {
		b, err := subscription.Append([]byte("pre"), s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := subscription.Parse(b[3:])
		if err != nil || !reflect.DeepEqual(got, s) {
			t.Fatalf("round trip: %+v, %v\nwant %+v", got, err, s)
		}
	}
}

func TestAppendErrors(t *testing.T) {
	ok := subscription.Subscription{Key: "k", Address: "a:1"}
	mod := func(f func(*subscription.Subscription)) subscription.Subscription {
		s := ok
		f(&s)
		return s
	}
	tests := []struct {
		name string
		s    subscription.Subscription
		err  error
	}{
		{"no key", mod(func(s *subscription.Subscription) { s.Key = "" }), subscription.ErrMissingKey},
		{"no address", mod(func(s *subscription.Subscription) { s.Address = "" }), subscription.ErrMissingAddress},
		{"long key", mod(func(s *subscription.Subscription) { s.Key = strings.Repeat("k", 256) }), subscription.ErrTooLarge},
		{"long address", mod(func(s *subscription.Subscription) { s.Address = strings.Repeat("a", 256) }), subscription.ErrTooLarge},
		{"negative load", mod(func(s *subscription.Subscription) { s.Load = -1 }), subscription.ErrBadValue},
		{"over a datagram", mod(func(s *subscription.Subscription) { s.Sign = make([]byte, 4050) }), subscription.ErrTooLarge},
		{"over a uwsgi item", mod(func(s *subscription.Subscription) { s.Notify = strings.Repeat("n", 70000) }), subscription.ErrTooLarge},
	}
	for _, tc := range tests {
		out, err := subscription.Append([]byte("keep"), tc.s)
		if !errors.Is(err, tc.err) || string(out) != "keep" {
			t.Errorf("%s: %d bytes, %v; want %v", tc.name, len(out), err, tc.err)
		}
	}
}

func TestSigned(t *testing.T) {
	s := subscription.Subscription{Key: "test.uwsgi.it:8000", Address: "127.0.0.1:3031", Unix: 1700000000}
	var signed []byte
	b, err := subscription.AppendSigned(nil, s, func(data []byte) ([]byte, error) {
		signed = bytes.Clone(data)
		return []byte("SIGNATURE"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := subscription.Parse(b)
	if err != nil || string(got.Sign) != "SIGNATURE" || got.Unix != 1700000000 {
		t.Fatalf("Parse signed: %+v, %v", got, err)
	}
	data, err := subscription.SignedData(b)
	if err != nil || !bytes.Equal(data, signed) {
		t.Fatalf("SignedData = %q, %v\nsigned     %q", data, err, signed)
	}
	// The signed bytes are the vars before sign, unix included (spec §2.7).
	if !bytes.HasSuffix(data, rec("unix", "1700000000")) || !bytes.HasPrefix(data, rec("key", s.Key)) {
		t.Fatalf("signed data = %q", data)
	}
	unsigned, _ := subscription.Append(nil, s)
	if _, err := subscription.SignedData(unsigned); !errors.Is(err, subscription.ErrNotSigned) {
		t.Fatalf("unsigned: %v", err)
	}
	notLast := pkt(224, 0, base(rec("sign", "S"), rec("unix", "1"))...)
	if _, err := subscription.SignedData(notLast); !errors.Is(err, subscription.ErrNotSigned) {
		t.Fatalf("sign not last: %v", err)
	}
	boom := errors.New("boom")
	if _, err := subscription.AppendSigned(nil, s, func([]byte) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("signer error: %v", err)
	}
}

// testdataSeeds returns the datagrams captured from real uWSGI by the peer
// test (IMPERIAL_CAPTURE=1) in testdata/*.bin.
func testdataSeeds(t testing.TB) [][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.bin"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestTestdata(t *testing.T) {
	for _, b := range testdataSeeds(t) {
		s, err := subscription.Parse(b)
		if err != nil {
			t.Fatalf("captured datagram %x: %v", b, err)
		}
		again, err := subscription.Append(nil, s)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("captured datagram does not re-encode byte for byte: %v", err)
		}
	}
}
