package mongrel2

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
)

func readerConn(data []byte, max int) *zconn {
	return &zconn{br: bufio.NewReader(bytes.NewReader(data)), max: max}
}

func TestReadMsg(t *testing.T) {
	long := strings.Repeat("x", 300)
	longHdr := []byte{zmtpLong, 0, 0, 0, 0, 0, 0, 1, 44}
	tests := []struct {
		name   string
		in     []byte
		frames []string
		cmd    bool
		err    error
	}{
		{"short", []byte("\x00\x05hello"), []string{"hello"}, false, nil},
		{"empty", []byte("\x00\x00"), []string{""}, false, nil},
		{"long", append(append([]byte{}, longHdr...), long...), []string{long}, false, nil},
		{"multipart", []byte("\x01\x01a\x00\x02bc"), []string{"a", "bc"}, false, nil},
		{"command", []byte("\x04\x05\x04PING"), []string{"\x04PING"}, true, nil},
		{"too large", append(append([]byte{}, longHdr...), long...), nil, false, errTooLarge},
		{"multipart too large", []byte("\x01\x03abc\x00\x03def"), nil, false, errTooLarge},
		{"huge length", []byte{zmtpLong, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, nil, false, errTooLarge},
		{"truncated body", []byte("\x00\x05hel"), nil, false, io.ErrUnexpectedEOF},
		{"truncated header", []byte{zmtpLong, 0, 0}, nil, false, io.ErrUnexpectedEOF},
		{"nothing", nil, nil, false, io.EOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			max := 1 << 10
			if errors.Is(tc.err, errTooLarge) {
				max = 5
			}
			frames, cmd, err := readerConn(tc.in, max).readMsg()
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || cmd != tc.cmd || len(frames) != len(tc.frames) {
				t.Fatalf("got %q %v %v", frames, cmd, err)
			}
			for i := range frames {
				if string(frames[i]) != tc.frames[i] {
					t.Fatalf("frame %d = %q", i, frames[i])
				}
			}
		})
	}
	if commandName([]byte("\x04PING")) != "PING" || commandName([]byte("\x09PI")) != "" || commandName(nil) != "" {
		t.Error("commandName")
	}
}

// TestWriteRead: what writeLoop and send write, readMsg reads back, in
// order, whatever the batching.
func TestWriteRead(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	w := &zconn{nc: a}
	q := make(chan []byte, 16)
	stop := make(chan struct{})
	msgs := []string{"one", strings.Repeat("long", 100), "", "three"}
	for _, m := range msgs {
		q <- []byte(m)
	}
	done := make(chan error, 1)
	go func() { done <- w.writeLoop(q, stop) }()
	r := &zconn{nc: b, br: bufio.NewReader(b), max: 1 << 16}
	for _, want := range msgs {
		frames, cmd, err := r.readMsg()
		if err != nil || cmd || len(frames) != 1 || string(frames[0]) != want {
			t.Fatalf("got %q %v %v, want %q", frames, cmd, err, want)
		}
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	go w.send([]byte("direct"))
	if frames, _, err := r.readMsg(); err != nil || string(frames[0]) != "direct" {
		t.Fatalf("send: %q %v", frames, err)
	}
}

// TestSplitEndpoint covers the endpoint forms.
func TestSplitEndpoint(t *testing.T) {
	for _, tc := range []struct{ in, network, addr string }{
		{"tcp://127.0.0.1:9997", "tcp", "127.0.0.1:9997"},
		{"ipc:///tmp/m2.sock", "unix", "/tmp/m2.sock"},
		{"inproc://x", "", ""},
	} {
		n, a, err := splitEndpoint(tc.in)
		if n != tc.network || a != tc.addr || (tc.network == "") != errors.Is(err, ErrOptions) {
			t.Errorf("%s: %s %s %v", tc.in, n, a, err)
		}
	}
}
