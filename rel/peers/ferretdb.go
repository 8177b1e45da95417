package peers

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// FerretDB is a MongoDB wire-protocol server for tests: bin/ferretdb, built
// by rel/scripts/build-ferretdb.sh from rel/ferretdb (FerretDB v1, SQLite
// backend), listening on 127.0.0.1 with its data in a temporary directory.
type FerretDB struct {
	Port int
	Dir  string // SQLite data directory; kept across Kill and Start
	bin  string
	cmd  *Cmd
}

// RepoRoot is the directory of imperial's go.mod, found from the test's
// working directory upwards.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.HasPrefix(data, []byte("module imperial\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("imperial's go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// StartFerretDB starts a FerretDB; it is killed at cleanup.
func StartFerretDB(t testing.TB) *FerretDB {
	t.Helper()
	bin := filepath.Join(RepoRoot(t), "bin", "ferretdb")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("ferretdb not found (%s): run rel/scripts/install-peers.sh", bin)
	}
	f := &FerretDB{Port: FreePort(t), Dir: t.TempDir(), bin: bin}
	f.Start(t)
	return f
}

// Start (re)starts the server on the same port and data and waits until it accepts.
func (f *FerretDB) Start(t testing.TB) {
	t.Helper()
	f.cmd = Start(t, nil, f.bin, "-listen", f.Addr(), "-dir", f.Dir)
	f.cmd.LogOnFailure(t, "ferretdb")
	f.cmd.Await(t, "ferretdb", 30*time.Second, func() error { return Accepts(f.Addr()) })
}

// Kill SIGKILLs the server.
func (f *FerretDB) Kill() { f.cmd.Kill() }

// Stop stops the server with SIGTERM.
func (f *FerretDB) Stop() {
	f.cmd.StopWith(syscall.SIGTERM, 10*time.Second)
}

// Addr is the server's host:port.
func (f *FerretDB) Addr() string { return fmt.Sprintf("127.0.0.1:%d", f.Port) }

// Pymongo runs Python code with pymongo (Debian's python3-pymongo, in
// /usr/bin/python3) after a prelude that defines `client` (connected to the
// server), `db` (database uwsgi), `coll` (collection emperor.vassals) and
// imports datetime; it returns what the code printed.
func (f *FerretDB) Pymongo(t testing.TB, code string) string {
	t.Helper()
	prelude := fmt.Sprintf(`import datetime, pymongo
client = pymongo.MongoClient("mongodb://%s/", serverSelectionTimeoutMS=10000)
db = client.uwsgi
coll = db["emperor.vassals"]
`, f.Addr())
	cmd := exec.Command("/usr/bin/python3", "-c", prelude+code)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "No module named 'pymongo'") {
			t.Fatalf("python3-pymongo not found: run rel/scripts/install-peers.sh")
		}
		t.Fatalf("pymongo: %v\n%s\ncode:\n%s", err, out, code)
	}
	return string(out)
}
