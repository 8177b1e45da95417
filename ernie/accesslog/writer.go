package accesslog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// DefaultCheckInterval is how often, at most, Write compares the path with
// the open file when WriterOptions.CheckInterval is zero. Ernie checks
// every 10 s on a timer; checking before writes loses no line to a moved
// file once the interval has passed.
const DefaultCheckInterval = time.Second

// ErrClosed is returned by Writer methods after Close.
var ErrClosed = errors.New("accesslog: writer closed")

// WriterOptions configure a Writer.
type WriterOptions struct {
	// CheckInterval bounds how often Write stats the path: 0 means
	// DefaultCheckInterval, a negative value means before every write.
	CheckInterval time.Duration
	// Perm is the mode for a newly created file (0 means 0644).
	Perm fs.FileMode
}

// Writer appends access-log lines to a path in O_APPEND mode and reopens
// the path (creating it) when the file it has open was moved or deleted,
// which it detects by comparing os.Stat(path) with the open file
// (os.SameFile: device and inode). The comparison runs before a write when
// CheckInterval has passed since the last one, and whenever Check is
// called; an owner that wants Ernie's "new file within 10 s even without
// traffic" calls Check from a timer.
//
// A Writer is not safe for concurrent use: one goroutine (the access-log
// actor) owns it.
type Writer struct {
	path     string
	opts     WriterOptions
	f        *os.File
	fi       os.FileInfo // of f, taken at open
	lastStat time.Time
	buf      []byte
	now      func() time.Time // time.Now; replaced in tests
}

// Open opens (creating if needed) the access log at path for appending.
func Open(path string, opts WriterOptions) (*Writer, error) {
	if opts.CheckInterval == 0 {
		opts.CheckInterval = DefaultCheckInterval
	}
	if opts.Perm == 0 {
		opts.Perm = 0o644
	}
	w := &Writer{path: path, opts: opts, now: time.Now}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

// Path returns the configured path.
func (w *Writer) Path() string { return w.path }

func (w *Writer) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, w.opts.Perm)
	if err != nil {
		return fmt.Errorf("accesslog: open: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("accesslog: stat %s: %w", w.path, err)
	}
	w.f, w.fi, w.lastStat = f, fi, w.now()
	return nil
}

// Write formats e with AppendLine and appends it.
func (w *Writer) Write(e Entry) error {
	w.buf = AppendLine(w.buf[:0], e)
	return w.WriteLine(w.buf)
}

// WriteLine appends one already formatted line (it should end in '\n').
// When the path check fails (see Check) the line still goes to the file
// already open, and the check's error is returned.
func (w *Writer) WriteLine(line []byte) error {
	if w.f == nil {
		return ErrClosed
	}
	var checkErr error
	if w.opts.CheckInterval < 0 || w.now().Sub(w.lastStat) >= w.opts.CheckInterval {
		_, checkErr = w.Check()
	}
	if _, err := w.f.Write(line); err != nil {
		return errors.Join(checkErr, fmt.Errorf("accesslog: write %s: %w", w.path, err))
	}
	return checkErr
}

// Check compares the path with the open file and reopens the path when it
// no longer names that file (moved, deleted, or replaced). It reports
// whether it reopened. When the path cannot be examined for a reason other
// than not existing (permissions, say), Check returns the error and the
// Writer keeps its old file (Ernie silently stops logging instead).
func (w *Writer) Check() (reopened bool, err error) {
	if w.f == nil {
		return false, ErrClosed
	}
	w.lastStat = w.now()
	fi, err := os.Stat(w.path)
	switch {
	case err == nil && os.SameFile(fi, w.fi):
		return false, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("accesslog: stat %s: %w", w.path, err)
	}
	if err := w.Reopen(); err != nil {
		return false, err
	}
	return true, nil
}

// Reopen closes the current file and opens the path again, creating it if
// needed. If the path cannot be opened the old file stays in use.
func (w *Writer) Reopen() error {
	if w.f == nil {
		return ErrClosed
	}
	old := w.f
	if err := w.open(); err != nil { // w.f is still old
		return err
	}
	if err := old.Close(); err != nil {
		return fmt.Errorf("accesslog: close old file: %w", err)
	}
	return nil
}

// Close closes the file. Later calls return ErrClosed.
func (w *Writer) Close() error {
	if w.f == nil {
		return ErrClosed
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return fmt.Errorf("accesslog: close: %w", err)
	}
	return nil
}
