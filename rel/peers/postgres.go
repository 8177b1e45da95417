package peers

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Postgres is a throw-away PostgreSQL cluster on 127.0.0.1 (initdb in a
// temporary directory, trust authentication, user postgres), run as the
// postgres account when the tests run as root.
type Postgres struct {
	Port int
	Dir  string // the cluster's directory: data/ and the unix socket
	bin  string // /usr/lib/postgresql/N/bin
	user *ServiceUser
	cmd  *Cmd
}

// PostgresBin returns the newest /usr/lib/postgresql/N/bin, failing the test
// when PostgreSQL is not installed.
func PostgresBin(t testing.TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionLess(dirs[i], dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "postgres")); err == nil {
			return dirs[i]
		}
	}
	t.Fatalf("postgresql not found: run rel/scripts/install-peers.sh")
	return ""
}

func versionLess(a, b string) bool {
	va := filepath.Base(filepath.Dir(a))
	vb := filepath.Base(filepath.Dir(b))
	if len(va) != len(vb) {
		return len(va) < len(vb)
	}
	return va < vb
}

// StartPostgres creates and starts a cluster; it is stopped at cleanup.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	p := &Postgres{bin: PostgresBin(t), user: ServiceUserFor(t, "postgres"), Port: FreePort(t)}
	p.Dir = TempDirFor(t, p.user, "imperial-pg-")
	out, err := RunAs(t, p.user, p.Dir, nil, filepath.Join(p.bin, "initdb"),
		"-D", filepath.Join(p.Dir, "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	if err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.Start(t)
	return p
}

// Start (re)starts the server on the same port and data, and waits until it answers.
func (p *Postgres) Start(t testing.TB) {
	t.Helper()
	p.cmd = StartAs(t, p.user, p.Dir, nil, filepath.Join(p.bin, "postgres"),
		"-D", filepath.Join(p.Dir, "data"), "-p", fmt.Sprint(p.Port), "-k", p.Dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
		"-c", "max_connections=30", "-c", "shared_buffers=16MB")
	p.cmd.LogOnFailure(t, "postgres")
	p.cmd.Await(t, "postgres", 60*time.Second, func() error {
		_, err := p.psql("SELECT 1")
		return err
	})
}

// Kill SIGKILLs the server's process group (postmaster and backends), as a crash would.
func (p *Postgres) Kill() { p.cmd.Kill() }

// Stop shuts the server down fast (SIGINT) and waits for it.
func (p *Postgres) Stop() {
	p.cmd.StopWith(syscall.SIGINT, 30*time.Second)
}

// ConnInfo is a libpq conninfo for the cluster's postgres database.
func (p *Postgres) ConnInfo() string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable", p.Port)
}

// Psql runs SQL (one or more statements, in one transaction) with psql and
// returns its unaligned, tuples-only output.
func (p *Postgres) Psql(t testing.TB, sql string) string {
	t.Helper()
	out, err := p.psql(sql)
	if err != nil {
		t.Fatalf("psql %q: %v", sql, err)
	}
	return out
}

func (p *Postgres) psql(sql string) (string, error) {
	cmd := exec.Command(filepath.Join(p.bin, "psql"), "-X", "-q", "-A", "-t", "-1", "-v", "ON_ERROR_STOP=1",
		"-h", "127.0.0.1", "-p", fmt.Sprint(p.Port), "-U", "postgres", "-d", "postgres", "-f", "-")
	cmd.Stdin = strings.NewReader(sql)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=5", "PGOPTIONS=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%v: %s", err, out)
	}
	return string(out), nil
}
