package mongrel2_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"ergo.services/ergo/gen"
	"github.com/go-zeromq/zmq4"

	"imperial/actors/mongrel2"
)

func TestLogQueue(t *testing.T) {
	q := mongrel2.NewLogQueue(3)
	n, err := q.Write([]byte("one\ntwo\nthree"))
	if n != 13 || err != nil || q.Len() != 3 || q.Dropped() != 0 {
		t.Fatalf("write: %d %v, len %d dropped %d", n, err, q.Len(), q.Dropped())
	}
	q.Write([]byte("four\n"))
	q.Write([]byte(strings.Repeat("x", mongrel2.MaxLogLine*2) + "\n"))
	if q.Len() != 3 || q.Dropped() != 2 {
		t.Fatalf("full queue: len %d dropped %d", q.Len(), q.Dropped())
	}
	w := mongrel2.LogWriter{mongrel2.NewLogQueue(0), mongrel2.NewLogQueue(0)}
	w.Write([]byte("a\n"))
	if w[0].Len() != 1 || w[1].Len() != 1 {
		t.Fatal("LogWriter does not write to every queue")
	}
}

// recvLines reads n messages from a PULL socket.
func recvLines(t *testing.T, pull zmq4.Socket, n int) []string {
	t.Helper()
	var out []string
	for len(out) < n {
		ch := make(chan zmq4.Msg, 1)
		go func() {
			if m, err := pull.Recv(); err == nil {
				ch <- m
			}
		}()
		select {
		case m := <-ch:
			if len(m.Frames) != 1 {
				t.Fatalf("log message of %d frames", len(m.Frames))
			}
			out = append(out, string(m.Frames[0]))
		case <-time.After(10 * time.Second):
			t.Fatalf("got %q, want %d lines", out, n)
		}
	}
	return out
}

// TestLogPusher: lines written before the collector listens are delivered
// once it does, one message per line, "\n" included; a collector restart
// is survived.
func TestLogPusher(t *testing.T) {
	n := startNode(t)
	probe := zmq4.NewPull(context.Background())
	if err := probe.Listen("tcp://127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ep := "tcp://" + probe.Addr().String()
	probe.Close()

	q := mongrel2.NewLogQueue(0)
	q.Write([]byte("early 1\nearly 2\n"))
	if _, err := n.SpawnRegister(mongrel2.LogName, mongrel2.LogFactory, gen.ProcessOptions{},
		mongrel2.LogOptions{Targets: []mongrel2.LogTarget{{Endpoint: ep, Queue: q}}}); err != nil {
		t.Fatal(err)
	}
	pull := zmq4.NewPull(context.Background())
	if err := pull.Listen(ep); err != nil {
		t.Fatal(err)
	}
	if got := recvLines(t, pull, 2); got[0] != "early 1\n" || got[1] != "early 2\n" {
		t.Fatalf("got %q", got)
	}
	pull.Close()

	pull = zmq4.NewPull(context.Background())
	if err := pull.Listen(ep); err != nil {
		t.Fatal(err)
	}
	defer pull.Close()
	// lines written while the old collector's loss is discovered may be
	// lost (zmq4 only sees it on a failing write): keep writing until the
	// new collector hears
	got := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			select {
			case <-got:
				return
			case <-time.After(20 * time.Millisecond):
				q.Write([]byte(fmt.Sprintf("late %d\n", i)))
			}
		}
	}()
	line := recvLines(t, pull, 1)[0]
	close(got)
	if !strings.HasPrefix(line, "late ") || !strings.HasSuffix(line, "\n") {
		t.Fatalf("after the collector restart: %q", line)
	}
}
