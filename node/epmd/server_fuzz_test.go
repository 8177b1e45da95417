package epmd

import (
	"io"
	"net"
	"testing"
	"time"
)

// FuzzServerConn feeds arbitrary bytes to one server connection (over
// net.Pipe): the handler must return once the client hangs up, never panic,
// and leave no registration behind.
func FuzzServerConn(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		s := NewServer(ServerOptions{RequestTimeout: time.Second})
		client, server := net.Pipe()
		if !s.track(server) {
			t.Fatal("track refused")
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.handle(server, 4369)
		}()
		go func() {
			client.Write(b)
			client.Close()
		}()
		io.Copy(io.Discard, client) // until either side closes
		<-done
		if n := s.Names(); len(n) != 0 {
			t.Fatalf("registration survived its connection: %v", n)
		}
		s.Close()
	})
}
