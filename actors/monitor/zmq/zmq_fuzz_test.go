package zmq_test

import (
	"bytes"
	"errors"
	"testing"

	"imperial/actors/monitor/zmq"
)

// FuzzParseMessage: frames split from one input at NUL bytes parse to a
// command or a sentinel error.
func FuzzParseMessage(f *testing.F) {
	f.Add([]byte("touch\x00z1.ini\x00[uwsgi]\n"))
	f.Add([]byte("touch\x00z1.ini\x00c\x001000\x00100\x00/tmp/s"))
	f.Add([]byte("destroy\x00z1.ini"))
	f.Add([]byte("bogus\x00z1.ini"))
	f.Add([]byte("touch"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := zmq.ParseMessage(bytes.Split(b, []byte{0}))
		if err != nil {
			for _, s := range []error{zmq.ErrMessage, zmq.ErrCommand, zmq.ErrID, zmq.ErrTooLarge} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error without a sentinel: %v", err)
		}
		if c.Name == "" || (c.Op != zmq.OpTouch && c.Op != zmq.OpDestroy) || c.UID < -1 || c.GID < -1 {
			t.Fatalf("bad command %+v", c)
		}
	})
}
