package mongrel2_test

import (
	"os"
	"path/filepath"
	"testing"

	"imperial/actors/cgi"
	"imperial/actors/mongrel2"
	"imperial/actors/wire/tnetstring"
)

// FuzzEnviron: any request Mongrel2 could send becomes an environ without
// a panic, with the variables every app needs, and cgi.ToRequest either
// builds a request from it or refuses it with an error.
func FuzzEnviron(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(captureDir, "req-*.bin"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("u 1 /%zz 2:{},0:,"))
	f.Add([]byte(`u 1 / 40:{"host":"[::1","x-forwarded-for":",,"},0:,`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		req, err := tnetstring.ParseRequest(frame, tnetstring.Limits{})
		if err != nil {
			return
		}
		vs := mongrel2.Environ(req, "h", int64(len(req.Body)))
		for _, k := range []string{"REQUEST_METHOD", "PATH_INFO", "REQUEST_URI", "SERVER_PORT", "SERVER_NAME"} {
			if _, ok := vs.Get(k); !ok {
				t.Fatalf("%s missing", k)
			}
		}
		if r, err := cgi.ToRequest(vs, nil); err == nil && r.URL == nil {
			t.Fatal("request without URL")
		}
	})
}
