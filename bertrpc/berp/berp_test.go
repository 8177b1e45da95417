package berp_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"imperial/bertrpc/berp"
)

// replyThree is {reply, 3} as Ernie sends it, framed.
var replyThree = []byte{0, 0, 0, 13, 131, 104, 2, 100, 0, 5, 'r', 'e', 'p', 'l', 'y', 97, 3}

func TestSplitTable(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		max     int
		packet  []byte
		n       int
		wantErr error
	}{
		{"empty input", nil, 0, nil, 0, berp.ErrNeedMore},
		{"partial header", []byte{0, 0, 0}, 0, nil, 0, berp.ErrNeedMore},
		{"header only", []byte{0, 0, 0, 1}, 0, nil, 0, berp.ErrNeedMore},
		{"zero length", []byte{0, 0, 0, 0}, 0, []byte{}, 4, nil},
		{"zero length then more", []byte{0, 0, 0, 0, 9}, 0, []byte{}, 4, nil},
		{"one byte", []byte{0, 0, 0, 1, 7}, 0, []byte{7}, 5, nil},
		{"trailing data kept", []byte{0, 0, 0, 1, 7, 0, 0}, 0, []byte{7}, 5, nil},
		{"reply 3", replyThree, 0, replyThree[4:], 17, nil},
		{"at limit", []byte{0, 0, 0, 2, 1, 2}, 2, []byte{1, 2}, 6, nil},
		{"over limit", []byte{0, 0, 0, 3, 1, 2, 3}, 2, nil, 0, berp.ErrTooLarge},
		{"over limit before body", []byte{0, 0, 0, 3}, 2, nil, 0, berp.ErrTooLarge},
		{"over default limit", []byte{0x04, 0, 0, 1}, 0, nil, 0, berp.ErrTooLarge},
		{"max uint32", []byte{0xff, 0xff, 0xff, 0xff}, 1 << 40, nil, 0, berp.ErrNeedMore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, n, err := berp.Split(tt.in, tt.max)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if n != tt.n || !bytes.Equal(p, tt.packet) || (tt.packet != nil && p == nil) {
				t.Fatalf("got (%v, %d), want (%v, %d)", p, n, tt.packet, tt.n)
			}
			if err == nil && cap(p) != len(p) {
				t.Fatalf("packet capacity %d not capped to %d", cap(p), len(p))
			}
		})
	}
}

// TestSplitEveryCut feeds a stream of three packets cut at every point: the
// packets extracted must not depend on where the input was cut.
func TestSplitEveryCut(t *testing.T) {
	var stream []byte
	payloads := [][]byte{replyThree[4:], {}, bytes.Repeat([]byte{0xab}, 300)}
	for _, p := range payloads {
		var err error
		if stream, err = berp.AppendPacket(stream, p); err != nil {
			t.Fatal(err)
		}
	}
	for cut := 0; cut <= len(stream); cut++ {
		var got [][]byte
		var buf []byte
		for _, chunk := range [][]byte{stream[:cut], stream[cut:]} {
			buf = append(buf, chunk...)
			for {
				p, n, err := berp.Split(buf, 0)
				if errors.Is(err, berp.ErrNeedMore) {
					break
				}
				if err != nil {
					t.Fatalf("cut %d: %v", cut, err)
				}
				got = append(got, bytes.Clone(p))
				buf = buf[n:]
			}
		}
		if len(buf) != 0 || len(got) != len(payloads) {
			t.Fatalf("cut %d: %d packets, %d bytes left", cut, len(got), len(buf))
		}
		for i := range got {
			if !bytes.Equal(got[i], payloads[i]) {
				t.Fatalf("cut %d: packet %d = %x, want %x", cut, i, got[i], payloads[i])
			}
		}
	}
}

func TestReadPacket(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		max     int
		want    []byte
		wantErr error
	}{
		{"eof", nil, 0, nil, io.EOF},
		{"partial header", []byte{0, 0}, 0, nil, io.ErrUnexpectedEOF},
		{"missing body", []byte{0, 0, 0, 2}, 0, nil, io.ErrUnexpectedEOF},
		{"short body", []byte{0, 0, 0, 2, 1}, 0, nil, io.ErrUnexpectedEOF},
		{"zero", []byte{0, 0, 0, 0}, 0, []byte{}, nil},
		{"reply", replyThree, 0, replyThree[4:], nil},
		{"too large", []byte{0, 0, 0, 3, 1, 2, 3}, 2, nil, berp.ErrTooLarge},
		// The header claims 4 GiB: refused without allocating or reading on.
		{"huge", []byte{0xff, 0xff, 0xff, 0xff}, 0, nil, berp.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// OneByteReader exercises every partial-read path.
			got, err := berp.ReadPacket(iotest.OneByteReader(bytes.NewReader(tt.in)), tt.max)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !bytes.Equal(got, tt.want) || (tt.want != nil && got == nil) {
				t.Fatalf("got %x, want %x", got, tt.want)
			}
		})
	}
}

// TestReadPacketLarge crosses the internal growth steps.
func TestReadPacketLarge(t *testing.T) {
	for _, size := range []int{1<<20 - 1, 1 << 20, 1<<20 + 1, 5<<20 + 3} {
		payload := make([]byte, size)
		for i := range payload {
			payload[i] = byte(i * 7)
		}
		framed, err := berp.AppendPacket(nil, payload)
		if err != nil {
			t.Fatal(err)
		}
		got, err := berp.ReadPacket(iotest.HalfReader(bytes.NewReader(framed)), 8<<20)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(got, payload) {
			t.Fatalf("size %d: payload differs", size)
		}
		// Truncated by one byte: unexpected EOF, not a short packet.
		if _, err := berp.ReadPacket(bytes.NewReader(framed[:len(framed)-1]), 8<<20); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("size %d truncated: err = %v", size, err)
		}
	}
}

// TestReadPacketSequence reads consecutive packets off one stream.
func TestReadPacketSequence(t *testing.T) {
	var stream bytes.Buffer
	for _, p := range [][]byte{{1}, {}, {2, 3}} {
		if err := berp.WritePacket(&stream, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range [][]byte{{1}, {}, {2, 3}} {
		got, err := berp.ReadPacket(&stream, 0)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("got %x, %v; want %x", got, err, want)
		}
	}
	if _, err := berp.ReadPacket(&stream, 0); !errors.Is(err, io.EOF) {
		t.Fatalf("at end: err = %v, want io.EOF", err)
	}
}

func TestAppendPacketRoundTrip(t *testing.T) {
	prefix := []byte("xy")
	out, err := berp.AppendPacket(prefix, replyThree[4:])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out[:2], prefix) || !bytes.Equal(out[2:], replyThree) {
		t.Fatalf("AppendPacket = %x", out)
	}
	p, n, err := berp.Split(out[2:], 0)
	if err != nil || n != len(replyThree) || !bytes.Equal(p, replyThree[4:]) {
		t.Fatalf("Split after Append = %x, %d, %v", p, n, err)
	}
}

// countingWriter records the number of Write calls.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

func TestWritePacketSingleWrite(t *testing.T) {
	var w countingWriter
	if err := berp.WritePacket(&w, replyThree[4:]); err != nil {
		t.Fatal(err)
	}
	if w.writes != 1 || !bytes.Equal(w.Bytes(), replyThree) {
		t.Fatalf("writes=%d bytes=%x", w.writes, w.Bytes())
	}
}
