package fastrouter

import (
	"testing"

	"imperial/actors/wire/uwsgi"
)

// FuzzScanRequest: any vars block yields a key within the limit (a view into
// the block) or an error, never a panic.
func FuzzScanRequest(f *testing.F) {
	for _, vs := range []uwsgi.Vars{
		uwsgi.Vars{}.Add("HTTP_HOST", "a").Add("UWSGI_FASTROUTER_KEY", "k").Add("CONTENT_LENGTH", "7"),
		uwsgi.Vars{}.Add("SERVER_NAME", "").Add("HTTP_HOST", "").Add("SERVER_NAME", "s"),
		uwsgi.Vars{}.Add("CONTENT_LENGTH", "x"),
	} {
		b, _ := uwsgi.AppendVars(nil, vs)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		key, cl, err := scanRequest(b)
		if err != nil {
			return
		}
		if len(key) > maxKeyLen || cl < 0 {
			t.Fatalf("key %d bytes, cl %d", len(key), cl)
		}
	})
}

func TestScanRequest(t *testing.T) {
	for _, tc := range []struct {
		vars uwsgi.Vars
		key  string
		cl   int64
	}{
		{uwsgi.Vars{}.Add("SERVER_NAME", "s").Add("HTTP_HOST", "h"), "h", 0},
		{uwsgi.Vars{}.Add("UWSGI_FASTROUTER_KEY", "k").Add("HTTP_HOST", "h"), "k", 0},
		{uwsgi.Vars{}.Add("HTTP_HOST", "").Add("SERVER_NAME", "s"), "s", 0},
		{uwsgi.Vars{}.Add("CONTENT_LENGTH", "12"), "", 12},
	} {
		b, _ := uwsgi.AppendVars(nil, tc.vars)
		key, cl, err := scanRequest(b)
		if err != nil || string(key) != tc.key || cl != tc.cl {
			t.Errorf("%v: %q %d %v", tc.vars, key, cl, err)
		}
	}
	b, _ := uwsgi.AppendVars(nil, uwsgi.Vars{}.Add("CONTENT_LENGTH", "-1"))
	if _, _, err := scanRequest(b); err == nil {
		t.Errorf("bad CONTENT_LENGTH accepted")
	}
}
