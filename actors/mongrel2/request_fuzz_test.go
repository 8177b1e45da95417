package mongrel2

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzNewRequest: for any request Mongrel2 could send, newRequest builds
// the request cgi.ToRequest builds from its environ.
func FuzzNewRequest(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "wire", "tnetstring", "testdata", "capture", "req-*.bin"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) { sameAsToRequest(t, frame, false) })
}
