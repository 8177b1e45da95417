package mongrel2

import (
	"os"
	"path/filepath"
	"testing"

	"imperial/actors/worker"
)

// BenchmarkHandle: one captured request (JSON and tnetstring headers)
// through parse, environ, request, the worker's hello app and the response
// message, without sockets.
func BenchmarkHandle(b *testing.B) {
	app, _ := worker.LookupApp("hello")
	hello, _ := app.New(worker.AppEnv{})
	sh := &shared{opts: Options{InFlight: 1, ServerName: "bench"}, native: hello, conns: newConnTable()}
	h := newHandler(sh, 0, 1, "uuid")
	for _, name := range []string{"req-json-get.bin", "req-tnet-get.bin"} {
		frame, err := os.ReadFile(filepath.Join("..", "wire", "tnetstring", "testdata", "capture", name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			n := 0
			publish := func(f []byte) error { n += len(f); return nil }
			b.ReportAllocs()
			for b.Loop() {
				h.handle(frame, publish)
			}
			if n == 0 {
				b.Fatal("nothing published")
			}
		})
	}
}
