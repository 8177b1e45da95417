package subscription

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"imperial/internal/nbio"
)

// socketPair accepts one connection through ListenRaw and an Acceptor and
// returns the raw Socket and the peer's end.
func socketPair(t *testing.T) (*Socket, net.Conn) {
	t.Helper()
	l, f, err := ListenRaw("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(); l.Close() })
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var a Acceptor
	peer, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	// TCP_DEFER_ACCEPT: the connection is handed over with its first bytes.
	if _, err := peer.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := rc.Read(a.Step); err != nil {
		t.Fatal(err)
	}
	fd, err := a.Conn()
	if err != nil || fd < 0 {
		t.Fatal(fd, err)
	}
	s := NewSocket(fd, 5*time.Second)
	t.Cleanup(func() { s.Close() })
	return s, peer
}

func TestSocketRawAndPolled(t *testing.T) {
	s, peer := socketPair(t)
	buf := make([]byte, 16)
	n, err := s.Read(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q %v", buf[:n], err)
	}
	// Nothing more to read: the socket goes to the poller and waits.
	go peer.Write([]byte("again"))
	n, err = io.ReadFull(s, buf[:5])
	if err != nil || string(buf[:n]) != "again" {
		t.Fatalf("read after wait %q %v", buf[:n], err)
	}
	// More than the socket buffers hold: the write waits for the reader.
	big := bytes.Repeat([]byte("x"), 8<<20)
	got := make(chan int, 1)
	go func() {
		n, _ := io.Copy(io.Discard, peer)
		got <- int(n)
	}()
	if n, err := s.Write(big); err != nil || n != len(big) {
		t.Fatalf("big write %d %v", n, err)
	}
	if n, err := s.WriteLast([]byte("end")); err != nil || n != 3 {
		t.Fatalf("last write %d %v", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := <-got; n != len(big)+3 {
		t.Fatalf("peer read %d bytes, want %d", n, len(big)+3)
	}
}

func TestSocketLastWriteAndClose(t *testing.T) {
	s, peer := socketPair(t)
	// (unread bytes would make the close a reset)
	if n, err := s.Read(make([]byte, 8)); n != 5 || err != nil {
		t.Fatalf("read %d %v", n, err)
	}
	if _, err := s.WriteLast([]byte("answer")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	out, err := io.ReadAll(peer)
	if err != nil || string(out) != "answer" {
		t.Fatalf("peer got %q %v", out, err)
	}
}

func TestSocketAbort(t *testing.T) {
	t.Run("raw", func(t *testing.T) {
		s, peer := socketPair(t)
		s.Abort()
		if _, err := s.Read(make([]byte, 8)); !errors.Is(err, ErrSocketClosed) {
			t.Fatalf("read after abort: %v", err)
		}
		_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(peer); err != nil {
			t.Fatalf("peer: %v (want the end of the stream)", err)
		}
	})
	t.Run("waiting", func(t *testing.T) {
		s, _ := socketPair(t)
		buf := make([]byte, 8)
		s.Read(buf) // "hello"
		if err := s.Poll(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := s.Read(buf)
			done <- err
		}()
		// Whether the read waits already or not: a polled read ends when
		// the file is closed, a later one fails on the flag.
		s.Abort()
		if err := <-done; err == nil {
			t.Fatal("read ended without error")
		}
	})
}

func TestAcceptorClosed(t *testing.T) {
	l, f, err := ListenRaw("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rc, _ := f.SyscallConn()
	var a Acceptor
	done := make(chan error, 1)
	go func() { done <- rc.Read(a.Step) }()
	f.Close()
	if err := <-done; err == nil {
		t.Fatal("waiting on a closed file ended without error")
	}
}

func TestSocketTryReadAndReset(t *testing.T) {
	s, peer := socketPair(t)
	buf := make([]byte, 16)
	if n, e := s.TryRead(buf); e != 0 || string(buf[:n]) != "hello" {
		t.Fatalf("try read %q %v", buf[:n], e)
	}
	if _, e := s.TryRead(buf); e != syscall.EAGAIN {
		t.Fatalf("try read on an empty socket: %v", e)
	}
	peer.Close()
	// The peer is gone: the wait ends with the end of the stream.
	if n, err := s.Read(buf); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("read after the peer closed: %d %v", n, err)
	}
	if e := nbio.Disconnect(s.fd); e != 0 {
		t.Fatal(e)
	}
	if _, err := s.Write([]byte("x")); err == nil {
		t.Fatal("write after reset")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// unacked is how many segments the peer has sent that are not acknowledged.
func unacked(t *testing.T, peer net.Conn) uint32 {
	t.Helper()
	rc, err := peer.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var info *unix.TCPInfo
	var ierr error
	if err := rc.Control(func(fd uintptr) { info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) }); err != nil {
		t.Fatal(err)
	}
	if ierr != nil {
		t.Fatal(ierr)
	}
	return info.Unacked
}

// A connection from ListenRaw acknowledges its request with its answer (no
// ACK segment of its own), but at once when it has to wait for more input:
// a client whose Nagle algorithm holds the rest of its request back until
// then must not wait for the delayed-ACK timer.
func TestSocketDelaysAckUntilWait(t *testing.T) {
	// The delayed-ACK timer (40 ms at least) could fire on a stalled
	// machine between the peer's write and the first check: try again.
	for try := 0; ; try++ {
		s, peer := socketPair(t)
		buf := make([]byte, 16)
		if n, err := s.Read(buf); err != nil || n != 5 {
			t.Fatalf("read %d %v", n, err)
		}
		if unacked(t, peer) != 1 {
			if try < 3 {
				continue
			}
			t.Fatal("the request was acknowledged at once: the listener is not in delayed-ACK mode")
		}
		if err := s.Poll(); err != nil {
			t.Fatal(err)
		}
		if n := unacked(t, peer); n != 0 {
			t.Fatalf("%d segments unacknowledged after Poll", n)
		}
		return
	}
}

// A node connection that ended with the node's close is dissolved and its
// socket connects again for the next request, raw or polled.
func TestPickerReusesNodeSocket(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() { // the node: answers each request with its number, then closes
		for i := 0; ; i++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			req := make([]byte, 5)
			if _, err := io.ReadFull(c, req); err == nil {
				fmt.Fprintf(c, "%s %d", req, i)
			}
			c.Close()
		}
	}()
	p := NewPicker(Client{Timeout: 5 * time.Second})
	t.Cleanup(p.Close)
	var first NodeConn
	for i := 0; i < 20; i++ {
		c, err := p.dial(l.Addr().String(), []byte("hello"))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if i == 0 {
			first = c
		} else if c != first {
			t.Fatalf("request %d: a new socket", i)
		}
		if i%2 == 1 {
			// As a router's reads that wait: through the runtime poller.
			if err := c.(*Socket).Poll(); err != nil {
				t.Fatal(err)
			}
		}
		got, err := io.ReadAll(c)
		if want := fmt.Sprintf("hello %d", i); err != nil || string(got) != want {
			t.Fatalf("request %d: %q %v, want %q", i, got, err, want)
		}
		p.Recycle(c)
	}
}
