package mongrel2

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"imperial/actors/wire/tnetstring"
	"imperial/actors/wire/uwsgi"
)

// MaxUpload bounds the content-length of a spooled upload.
const MaxUpload = 1 << 40

// uploadKind says what a request is in Mongrel2's large-upload protocol.
type uploadKind uint8

const (
	uploadNone    uploadKind = iota // an ordinary request: the body is in the message
	uploadStarted                   // x-mongrel2-upload-start only: Mongrel2 is writing the file; no answer
	uploadDone                      // both headers: the body is in the temp file
)

func (k uploadKind) String() string {
	switch k {
	case uploadNone:
		return "none"
	case uploadStarted:
		return "started"
	case uploadDone:
		return "done"
	}
	return fmt.Sprintf("uploadKind(%d)", uint8(k))
}

func classifyUpload(r tnetstring.Request) uploadKind {
	_, start := r.Headers.Lookup(tnetstring.HeaderUploadStart)
	_, done := r.Headers.Lookup(tnetstring.HeaderUploadDone)
	switch {
	case done:
		return uploadDone
	case start:
		return uploadStarted
	}
	return uploadNone
}

// upload is an opened temp file.
type upload struct {
	f    *os.File
	path string // as opened (chroot applied)
	size int64
}

// openUpload opens the temp file of an upload-done request. Mongrel2 does
// not strip client headers named x-mongrel2-upload-*, so the request must
// look like one Mongrel2 made itself: start and done equal and single, an
// empty body in the message while content-length is positive (a client's
// own body up to limits.content_length would be in the message; a larger
// one makes Mongrel2 spool it and overwrite both headers), and a regular
// file (no symlink) of exactly content-length bytes. The path Mongrel2
// sends is relative to its chroot: with chroot set it is resolved inside
// chroot ("/tmp/upload.x" → chroot/tmp/upload.x, ".." cannot leave it);
// without, it is used as is.
func openUpload(r tnetstring.Request, chroot string) (*upload, error) {
	start, ok1 := r.Headers.Lookup(tnetstring.HeaderUploadStart)
	done, ok2 := r.Headers.Lookup(tnetstring.HeaderUploadDone)
	switch {
	case !ok1 || !ok2 || start.IsList() || done.IsList():
		return nil, fmt.Errorf("%w: want one %s and one %s header", ErrUpload, tnetstring.HeaderUploadStart, tnetstring.HeaderUploadDone)
	case start.Value != done.Value || done.Value == "":
		return nil, fmt.Errorf("%w: start %q != done %q", ErrUpload, start.Value, done.Value)
	case len(r.Body) != 0:
		return nil, fmt.Errorf("%w: %d body bytes in the message: not a spooled upload", ErrUpload, len(r.Body))
	}
	cl, ok := r.Headers.Lookup("content-length")
	if !ok || cl.IsList() {
		return nil, fmt.Errorf("%w: no single content-length", ErrUpload)
	}
	want, err := uwsgi.ParseNumber([]byte(cl.Value), MaxUpload)
	if err != nil || want == 0 {
		return nil, fmt.Errorf("%w: content-length %q", ErrUpload, cl.Value)
	}
	path := done.Value
	if chroot != "" {
		path = filepath.Join(chroot, filepath.Clean("/"+path))
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUpload, err)
	}
	st, err := f.Stat()
	switch {
	case err != nil:
		f.Close()
		return nil, fmt.Errorf("%w: %w", ErrUpload, err)
	case !st.Mode().IsRegular():
		f.Close()
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrUpload, path)
	case uint64(st.Size()) != want:
		f.Close()
		return nil, fmt.Errorf("%w: %s has %d bytes, content-length is %d", ErrUpload, path, st.Size(), want)
	}
	return &upload{f: f, path: path, size: st.Size()}, nil
}
