package mongrel2

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestDispatchWorkers: with InFlight slots, every message is served, at
// most InFlight at once, by at most InFlight request goroutines, and they
// are all counted.
func TestDispatchWorkers(t *testing.T) {
	frame, err := os.ReadFile(filepath.Join("..", "wire", "tnetstring", "testdata", "capture", "req-json-get.bin"))
	if err != nil {
		t.Fatal(err)
	}
	const inFlight, n = 3, 200
	served := make(chan int, n)
	release := make(chan struct{})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		served <- 1
	})
	sh := &shared{opts: Options{InFlight: inFlight, ServerName: "t"}, native: app, conns: newConnTable()}
	h := newHandler(sh, 0, 1, "uuid")
	go func() {
		for i := 0; i < n; i++ {
			if !h.dispatch(frame) {
				t.Error("dispatch refused before Terminate")
				return
			}
		}
	}()
	for i := 0; i < n; i++ {
		release <- struct{}{}
		if w := h.workers.Load(); w > inFlight {
			t.Fatalf("%d request goroutines, want at most %d", w, inFlight)
		}
		if l := len(h.slots); l > inFlight {
			t.Fatalf("%d in flight, want at most %d", l, inFlight)
		}
		<-served
	}
	close(h.done)
	if got := h.requests.Load(); got > n {
		t.Fatalf("%d requests counted, want at most %d", got, n)
	}
	if h.workers.Load() == 0 {
		t.Fatal("no request goroutine kept")
	}
}
