package accesslog

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func entry(fun string) Entry {
	return Entry{Accepted: at(2026, 1, 1, 0, 0, 0, 1), Handler: Native, Request: call("m", fun)}
}

func line(fun string) string { return string(AppendLine(nil, entry(fun))) }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}

func mustWrite(t *testing.T, w *Writer, fun string) {
	t.Helper()
	if err := w.Write(entry(fun)); err != nil {
		t.Fatalf("Write(%s): %v", fun, err)
	}
}

func openTest(t *testing.T, path string, opts WriterOptions) *Writer {
	t.Helper()
	w, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func TestWriterAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := openTest(t, path, WriterOptions{})
	mustWrite(t, w, "a")
	mustWrite(t, w, "b")
	if got, want := readFile(t, path), "old\n"+line("a")+line("b"); got != want {
		t.Fatalf("file:\n%q\nwant\n%q", got, want)
	}
	if w.Path() != path {
		t.Fatalf("Path() = %q", w.Path())
	}
}

func TestWriterReopenAfterRename(t *testing.T) {
	dir := t.TempDir()
	path, moved := filepath.Join(dir, "access.log"), filepath.Join(dir, "access.log.1")
	w := openTest(t, path, WriterOptions{CheckInterval: -1})
	mustWrite(t, w, "a")
	if err := os.Rename(path, moved); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, w, "b")
	if got := readFile(t, moved); got != line("a") {
		t.Fatalf("moved file: %q", got)
	}
	if got := readFile(t, path); got != line("b") {
		t.Fatalf("new file: %q", got)
	}
}

func TestWriterReopenAfterDelete(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	w := openTest(t, path, WriterOptions{CheckInterval: -1})
	mustWrite(t, w, "a")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, w, "b")
	if got := readFile(t, path); got != line("b") {
		t.Fatalf("new file: %q", got)
	}
}

func TestWriterReopenAfterReplace(t *testing.T) {
	// logrotate's "create": move the log away, then put a new file in place.
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	w := openTest(t, path, WriterOptions{CheckInterval: -1})
	mustWrite(t, w, "a")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("fresh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, w, "b")
	if got := readFile(t, path); got != "fresh\n"+line("b") {
		t.Fatalf("replaced file: %q", got)
	}
}

func TestWriterCheckInterval(t *testing.T) {
	dir := t.TempDir()
	path, moved := filepath.Join(dir, "access.log"), filepath.Join(dir, "moved.log")
	w := openTest(t, path, WriterOptions{CheckInterval: time.Hour})
	clock := time.Unix(1000, 0)
	w.now = func() time.Time { return clock }
	w.lastStat = clock
	mustWrite(t, w, "a")
	if err := os.Rename(path, moved); err != nil {
		t.Fatal(err)
	}
	// Within the interval the path is not examined: the line lands in the
	// moved file, as Ernie's lines do until its next 10 s check.
	clock = clock.Add(time.Hour - time.Nanosecond)
	mustWrite(t, w, "b")
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("path recreated before the interval: %v", err)
	}
	clock = clock.Add(time.Nanosecond)
	mustWrite(t, w, "c")
	if got := readFile(t, moved); got != line("a")+line("b") {
		t.Fatalf("moved file: %q", got)
	}
	if got := readFile(t, path); got != line("c") {
		t.Fatalf("new file: %q", got)
	}
}

func TestWriterCheckWithoutWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	w := openTest(t, path, WriterOptions{})
	reopened, err := w.Check()
	if err != nil || reopened {
		t.Fatalf("Check on an unchanged file = %v, %v", reopened, err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	reopened, err = w.Check()
	if err != nil || !reopened {
		t.Fatalf("Check after delete = %v, %v", reopened, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("Check did not recreate the file: %v", err)
	}
}

func TestWriterStatErrorKeepsFile(t *testing.T) {
	// The path's directory is replaced by a regular file: stat fails with
	// ENOTDIR, not ENOENT, so the Writer reports it and keeps its file.
	root := t.TempDir()
	dir := filepath.Join(root, "logs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "access.log")
	w := openTest(t, path, WriterOptions{CheckInterval: -1})
	mustWrite(t, w, "a")
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(entry("b")); err == nil || errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Write with an unreadable path: %v", err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir+".old", dir); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, w, "c") // same file again: no reopen needed
	if got := readFile(t, path); got != line("a")+line("b")+line("c") {
		t.Fatalf("file: %q", got)
	}
}

func TestWriterReopenFailureKeepsFile(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "logs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "access.log")
	w := openTest(t, path, WriterOptions{CheckInterval: -1})
	mustWrite(t, w, "a")
	// Deleting the directory makes the path unopenable.
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(entry("b")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Write when the path cannot be reopened: %v", err)
	}
	if err := w.WriteLine([]byte("x\n")); err == nil {
		t.Fatal("WriteLine succeeded with no file at the path")
	}
	if err := os.Rename(dir+".old", dir); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, w, "c")
	// The lines written while the path was unusable went to the open file.
	if got := readFile(t, path); got != line("a")+line("b")+"x\n"+line("c") {
		t.Fatalf("file: %q", got)
	}
}

func TestWriterClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	w, err := Open(path, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Write": w.Write(entry("a")), "Reopen": w.Reopen(), "Close": w.Close(),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
	if _, err := w.Check(); !errors.Is(err, ErrClosed) {
		t.Errorf("Check after Close: %v", err)
	}
}

func TestOpenError(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "missing", "access.log"), WriterOptions{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open in a missing directory: %v", err)
	}
}

func TestWriterPerm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	openTest(t, path, WriterOptions{Perm: 0o600})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("mode %v, want no group/other bits", fi.Mode())
	}
}
