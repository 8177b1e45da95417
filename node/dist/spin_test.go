package dist

import (
	"io"
	"net"
	"testing"
	"time"
)

func tcpPair(t *testing.T) (a, b net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	a, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b = <-accepted
	if b == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// The polling reader returns what a plain read would: data that was waiting,
// data that arrives while it polls or after it parked, and the end of input.
func TestSpinReaderReadsLikeTheSocket(t *testing.T) {
	AllowSpin(true)
	defer AllowSpin(false)
	a, b := tcpPair(t)
	r := newSpinReader(b)
	if _, ok := r.(*spinReader); !ok {
		t.Fatalf("a TCP connection got %T", r)
	}
	buf := make([]byte, 16)

	a.Write([]byte("first"))
	if n, err := io.ReadFull(r, buf[:5]); err != nil || string(buf[:n]) != "first" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	// just had input: the next read polls, and stops polling when the
	// writer (which waits for nothing) gets its bytes through
	go a.Write([]byte("second"))
	if n, err := io.ReadFull(r, buf[:6]); err != nil || string(buf[:n]) != "second" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	// input only after longer than a poll: the reader parks, and still wakes
	time.AfterFunc(10*spinFor, func() { a.Write([]byte("third")) })
	if n, err := io.ReadFull(r, buf[:5]); err != nil || string(buf[:n]) != "third" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	a.Close()
	if n, err := r.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("after close: %d, %v; want EOF", n, err)
	}
}

func TestSpinReaderDoesNotPollWhenNotAllowed(t *testing.T) {
	AllowSpin(false)
	a, b := tcpPair(t)
	r := newSpinReader(b)
	before := SpinTime()
	a.Write([]byte("x"))
	buf := make([]byte, 4)
	if _, err := r.Read(buf); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(2*spinFor, func() { a.Write([]byte("y")) })
	if _, err := r.Read(buf); err != nil {
		t.Fatal(err)
	}
	if SpinTime() != before {
		t.Fatal("polled although the machine has no spare core")
	}
}
