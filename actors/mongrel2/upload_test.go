package mongrel2

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"imperial/actors/wire/tnetstring"
)

func uploadReq(start, done, cl string, body string) tnetstring.Request {
	hs := tnetstring.Headers{{Key: "METHOD", Value: "POST"}}
	if start != "-" {
		hs = append(hs, tnetstring.Header{Key: tnetstring.HeaderUploadStart, Value: start})
	}
	if done != "-" {
		hs = append(hs, tnetstring.Header{Key: tnetstring.HeaderUploadDone, Value: done})
	}
	if cl != "-" {
		hs = append(hs, tnetstring.Header{Key: "content-length", Value: cl})
	}
	return tnetstring.Request{UUID: "u", ConnID: "1", Path: "/up", Headers: hs, Body: []byte(body)}
}

func TestClassifyUpload(t *testing.T) {
	for _, tc := range []struct {
		r    tnetstring.Request
		want uploadKind
	}{
		{uploadReq("-", "-", "3", "abc"), uploadNone},
		{uploadReq("/tmp/u", "-", "3000", ""), uploadStarted},
		{uploadReq("/tmp/u", "/tmp/u", "3000", ""), uploadDone},
		{uploadReq("-", "/tmp/u", "3000", ""), uploadDone},
	} {
		if got := classifyUpload(tc.r); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.r.Headers, got, tc.want)
		}
	}
}

func TestOpenUpload(t *testing.T) {
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "tmp"), 0o700)
	data := strings.Repeat("x", 3000)
	os.WriteFile(filepath.Join(root, "tmp", "upload.ok"), []byte(data), 0o600)
	os.WriteFile(filepath.Join(root, "secret"), []byte(data), 0o600)
	os.Symlink(filepath.Join(root, "secret"), filepath.Join(root, "tmp", "upload.link"))
	os.Mkdir(filepath.Join(root, "tmp", "upload.dir"), 0o700)
	outside := filepath.Join(t.TempDir(), "outside")
	os.WriteFile(outside, []byte(data), 0o600)

	tests := []struct {
		name   string
		r      tnetstring.Request
		chroot string
		ok     bool
		want   string // substring of the error
	}{
		{"chroot-relative", uploadReq("/tmp/upload.ok", "/tmp/upload.ok", "3000", ""), root, true, ""},
		{"relative", uploadReq("tmp/upload.ok", "tmp/upload.ok", "3000", ""), root, true, ""},
		{"no chroot", uploadReq(filepath.Join(root, "tmp/upload.ok"), filepath.Join(root, "tmp/upload.ok"), "3000", ""), "", true, ""},
		{"dotdot stays inside", uploadReq("/../../tmp/upload.ok", "/../../tmp/upload.ok", "3000", ""), root, true, ""},
		{"outside chroot", uploadReq(outside, outside, "3000", ""), root, false, "no such file"},
		{"start != done", uploadReq("/tmp/upload.ok", "/tmp/other", "3000", ""), root, false, "!="},
		{"done only", uploadReq("-", "/tmp/upload.ok", "3000", ""), root, false, "want one"},
		{"body in message (client headers)", uploadReq("/tmp/upload.ok", "/tmp/upload.ok", "3", "abc"), root, false, "body bytes"},
		{"no content-length", uploadReq("/tmp/upload.ok", "/tmp/upload.ok", "-", ""), root, false, "content-length"},
		{"zero content-length", uploadReq("/tmp/upload.ok", "/tmp/upload.ok", "0", ""), root, false, "content-length"},
		{"bad content-length", uploadReq("/tmp/upload.ok", "/tmp/upload.ok", "3e3", ""), root, false, "content-length"},
		{"size mismatch", uploadReq("/tmp/upload.ok", "/tmp/upload.ok", "2999", ""), root, false, "has 3000 bytes"},
		{"symlink", uploadReq("/tmp/upload.link", "/tmp/upload.link", "3000", ""), root, false, "symbolic"},
		{"directory", uploadReq("/tmp/upload.dir", "/tmp/upload.dir", "3000", ""), root, false, "regular"},
		{"missing", uploadReq("/tmp/nope", "/tmp/nope", "3000", ""), root, false, "no such file"},
		{"empty path", uploadReq("", "", "3000", ""), root, false, "!="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			up, err := openUpload(tc.r, tc.chroot)
			if !tc.ok {
				if !errors.Is(err, ErrUpload) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want ErrUpload containing %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer up.f.Close()
			b, _ := io.ReadAll(up.f)
			if up.size != 3000 || string(b) != data || up.path != filepath.Join(root, "tmp", "upload.ok") {
				t.Fatalf("got %s, %d bytes (size %d)", up.path, len(b), up.size)
			}
		})
	}
	// a list-valued header (client repeated it) is refused
	r := uploadReq("/tmp/upload.ok", "-", "3000", "")
	r.Headers = append(r.Headers, tnetstring.Header{Key: tnetstring.HeaderUploadDone, Value: "/tmp/upload.ok", Values: []string{"/tmp/upload.ok", "x"}})
	if _, err := openUpload(r, root); !errors.Is(err, ErrUpload) {
		t.Fatalf("list header: err = %v", err)
	}
}
