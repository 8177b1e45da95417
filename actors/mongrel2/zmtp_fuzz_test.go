package mongrel2

import (
	"testing"
)

// FuzzReadMsg: any byte stream from a peer gives frames within the limit,
// or an error; never a panic or an allocation past the limit.
func FuzzReadMsg(f *testing.F) {
	f.Add([]byte("\x00\x05hello"))
	f.Add([]byte("\x01\x01a\x00\x02bc"))
	f.Add([]byte("\x04\x05\x04PING"))
	f.Add([]byte{zmtpLong, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{zmtpLong, 0, 0, 0, 0, 0, 0, 0, 3, 'a', 'b', 'c'})
	f.Fuzz(func(t *testing.T, data []byte) {
		const max = 1 << 12
		c := readerConn(data, max)
		for i := 0; i < 64; i++ {
			frames, _, err := c.readMsg()
			if err != nil {
				return
			}
			total := 0
			for _, fr := range frames {
				total += len(fr)
			}
			if total > max {
				t.Fatalf("%d bytes > limit %d", total, max)
			}
		}
	})
}
