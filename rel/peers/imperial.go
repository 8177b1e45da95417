package peers

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// BuildImperial builds the imperial binary (rel/imperial) into a directory of
// the test and returns its path, for tests that run imperial as a peer (an
// emperor's vassals, a CLI).
func BuildImperial(t testing.TB) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not found: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "imperial")
	if out, err := exec.Command(goBin, "build", "-o", bin, "imperial/rel/imperial").CombinedOutput(); err != nil {
		t.Fatalf("build imperial: %v\n%s", err, out)
	}
	return bin
}
