package uwsgi_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"imperial/actors/wire/uwsgi"
)

// TestReadPacket: a packet arriving a byte at a time, into a buffer too small
// for it, is read whole with its body bytes after it; an oversized header and
// a connection that ends early are reported as such.
func TestReadPacket(t *testing.T) {
	var vs uwsgi.Vars
	vs = vs.Add("REQUEST_METHOD", "POST").Add("PATH_INFO", "/"+strings.Repeat("x", 300))
	pkt, err := uwsgi.AppendPacket(nil, 0, 0, vs)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("the body")
	in := append(append([]byte(nil), pkt...), body...)
	for _, r := range []io.Reader{bytes.NewReader(in), iotest.OneByteReader(bytes.NewReader(in)), iotest.HalfReader(bytes.NewReader(in))} {
		buf, n, total, err := uwsgi.ReadPacket(r, make([]byte, 64), uwsgi.Limits{})
		if err != nil || total != len(pkt) || n < total || !bytes.Equal(buf[:total], pkt) || !bytes.HasPrefix(body, buf[total:n]) {
			t.Fatalf("n %d total %d (want %d) err %v", n, total, len(pkt), err)
		}
	}
	if _, _, _, err := uwsgi.ReadPacket(bytes.NewReader(pkt), nil, uwsgi.Limits{MaxVarsSize: 100}); !errors.Is(err, uwsgi.ErrTooLarge) {
		t.Fatalf("oversized packet: %v, want ErrTooLarge", err)
	}
	_, n, _, err := uwsgi.ReadPacket(bytes.NewReader(pkt[:10]), make([]byte, 64), uwsgi.Limits{})
	if !errors.Is(err, io.EOF) || n != 10 {
		t.Fatalf("cut packet: n %d, %v; want 10 bytes and EOF", n, err)
	}
}
