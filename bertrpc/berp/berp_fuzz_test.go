package berp_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"imperial/bertrpc/berp"
)

// FuzzSplit checks that Split never panics, agrees with ReadPacket, gives the
// same answer when its input arrives in two pieces, and that what it accepts
// re-frames to the same bytes.
func FuzzSplit(f *testing.F) {
	f.Add(replyThree, 0)
	f.Add([]byte{0, 0, 0, 0}, 0)
	f.Add([]byte{0, 0, 0, 3, 1, 2, 3, 0, 0}, 2)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1}, 0)
	f.Add([]byte{0, 0, 1}, 0)
	f.Fuzz(func(t *testing.T, b []byte, maxSize int) {
		if maxSize > 1<<24 {
			maxSize = 1 << 24 // keep ReadPacket's allocation small
		}
		p, n, err := berp.Split(b, maxSize)
		r, rerr := berp.ReadPacket(bytes.NewReader(b), maxSize)
		switch {
		case err == nil:
			if n != berp.HeaderSize+len(p) || n > len(b) {
				t.Fatalf("n=%d len(p)=%d len(b)=%d", n, len(p), len(b))
			}
			again, aerr := berp.AppendPacket(nil, p)
			if aerr != nil || !bytes.Equal(again, b[:n]) {
				t.Fatalf("re-framing differs: %x vs %x", again, b[:n])
			}
			if rerr != nil || !bytes.Equal(r, p) {
				t.Fatalf("ReadPacket = %x, %v; Split = %x", r, rerr, p)
			}
		case errors.Is(err, berp.ErrNeedMore):
			if p != nil || n != 0 {
				t.Fatalf("ErrNeedMore with packet %x n=%d", p, n)
			}
			if !errors.Is(rerr, io.EOF) && !errors.Is(rerr, io.ErrUnexpectedEOF) {
				t.Fatalf("Split needs more but ReadPacket err = %v", rerr)
			}
		case errors.Is(err, berp.ErrTooLarge):
			if !errors.Is(rerr, berp.ErrTooLarge) {
				t.Fatalf("Split too large but ReadPacket err = %v", rerr)
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}
		// Every prefix of b gives either the same packet or ErrNeedMore (or
		// the same ErrTooLarge once the header is complete).
		for cut := 0; cut <= len(b); cut++ {
			cp, cn, cerr := berp.Split(b[:cut], maxSize)
			switch {
			case errors.Is(cerr, berp.ErrNeedMore):
			case err == nil && cerr == nil:
				if cn != n || !bytes.Equal(cp, p) {
					t.Fatalf("prefix %d gives a different packet", cut)
				}
			case errors.Is(err, berp.ErrTooLarge) && errors.Is(cerr, berp.ErrTooLarge):
			default:
				t.Fatalf("prefix %d: err %v, full input err %v", cut, cerr, err)
			}
		}
	})
}
