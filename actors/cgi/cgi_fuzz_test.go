package cgi

import (
	"bytes"
	"testing"

	"imperial/actors/wire/uwsgi"
)

// FuzzToRequest: any vars block a worker accepts turns into a request or an
// error, never a panic.
func FuzzToRequest(f *testing.F) {
	seed, _ := uwsgi.AppendVars(nil, nginxVars())
	f.Add(seed)
	f.Add([]byte{})
	small, _ := uwsgi.AppendVars(nil, uwsgi.Vars{}.Add("REQUEST_URI", "%zz").Add("HTTP_", "x").Add("CONTENT_LENGTH", "99999999999999999999"))
	f.Add(small)
	f.Fuzz(func(t *testing.T, b []byte) {
		vs, _, err := uwsgi.ParseVars(b, uwsgi.Limits{})
		if err != nil {
			return
		}
		r, err := ToRequest(vs, bytes.NewReader(b))
		if err != nil {
			return
		}
		if r.URL == nil || r.Header == nil || r.Body == nil {
			t.Fatalf("incomplete request %+v", r)
		}
		_ = FromRequest(r, "127.0.0.1:80", "http")
	})
}
