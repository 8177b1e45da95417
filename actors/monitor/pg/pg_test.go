package pg_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"imperial/actors/monitor/pg"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		arg      string
		conninfo string
		query    string
		listen   string
		interval time.Duration
		err      error
	}{
		{arg: "host=127.0.0.1 port=5432 user=u dbname=d", conninfo: "host=127.0.0.1 port=5432 user=u dbname=d", query: pg.DefaultQuery},
		{arg: "host=h;SELECT a,b,c FROM t", conninfo: "host=h", query: "SELECT a,b,c FROM t"},
		{arg: " host=h ; SELECT 1;SELECT 2 ", conninfo: "host=h", query: "SELECT 1;SELECT 2"},
		{arg: "host=h listen=vassals interval=500ms;SELECT x", conninfo: "host=h listen=vassals interval=500ms", query: "SELECT x", listen: "vassals", interval: 500 * time.Millisecond},
		{arg: "host=h interval=2", conninfo: "host=h interval=2", query: pg.DefaultQuery, interval: 2 * time.Second},
		{arg: "postgres://u:p@h:5433/db?listen=ch;SELECT 1", conninfo: "postgres://u:p@h:5433/db?listen=ch", query: "SELECT 1", listen: "ch"},
		{arg: "host=h interval=0", err: pg.ErrSpec},
		{arg: "host=h interval=forever", err: pg.ErrSpec},
		{arg: "host=h interval=-1s", err: pg.ErrSpec},
		{arg: "host='unterminated", err: pg.ErrSpec},
		{arg: "postgres://h:notaport/db", err: pg.ErrSpec},
	}
	for _, tt := range tests {
		s, err := pg.ParseSpec(tt.arg)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("ParseSpec(%q) err %v, want %v", tt.arg, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", tt.arg, err)
			continue
		}
		if s.ConnInfo != tt.conninfo || s.Query != tt.query || s.Listen != tt.listen || s.Interval != tt.interval {
			t.Errorf("ParseSpec(%q) = %+v", tt.arg, s)
		}
	}
}

func TestParseSpecHidesPassword(t *testing.T) {
	_, err := pg.ParseSpec("host=h password=s3cret port=x")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("err %v: want an error without the password", err)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"pg://host=h password=secret user=u;SELECT 1", "pg://host=h password=xxxxx user=u;SELECT 1"},
		{"pg://host=h password = 'se cr\\'et' user=u", "pg://host=h password = xxxxx user=u"},
		{"pg://postgres://user:secret@h/db;SELECT 1", "pg://postgres://user:xxxxx@h/db;SELECT 1"},
		{"pg://postgres://h/db?password=secret&sslmode=disable", "pg://postgres://h/db?password=xxxxx&sslmode=disable"},
		{"pg://host=h user=u;SELECT 1", "pg://host=h user=u;SELECT 1"},
		{"pg://password=secret host=h", "pg://password=xxxxx host=h"},
		{"pg://host=h;SELECT password=1 FROM t", "pg://host=h;SELECT password=xxxxx FROM t"},
	}
	for _, tt := range tests {
		if got := pg.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

var (
	numeric = pg.Column{Name: "extract", OID: 1700}
	text    = pg.Column{Name: "t", OID: 25}
	tstz    = pg.Column{Name: "ts", OID: 1184}
	ts      = pg.Column{Name: "ts", OID: 1114}
)

func cols(ts pg.Column, n int) []pg.Column {
	c := []pg.Column{{Name: "name", OID: 25}, {Name: "config", OID: 25}, ts, {Name: "uid", OID: 23}, {Name: "gid", OID: 23}, {Name: "socket", OID: 25}}
	return c[:n]
}

func vals(s ...any) [][]byte {
	out := make([][]byte, len(s))
	for i, v := range s {
		if v != nil {
			out[i] = []byte(v.(string))
		}
	}
	return out
}

func TestRow(t *testing.T) {
	big := strings.Repeat("x", pg.MaxConfig+1)
	tests := []struct {
		name string
		cols []pg.Column
		vals [][]byte
		want string // "name uid gid socket unixnano"
		err  error
	}{
		{"seed query", cols(numeric, 3), vals("a.ini", "[uwsgi]\n", "1700000000.123456"), "a.ini -1 -1  1700000000123456000", nil},
		{"integer ts", cols(numeric, 3), vals("a.ini", "[uwsgi]\n", "1700000000"), "a.ini -1 -1  1700000000000000000", nil},
		{"float ts", cols(numeric, 3), vals("a.ini", "c", "1.7e+09"), "a.ini -1 -1  1700000000000000000", nil},
		{"nanosecond cut", cols(numeric, 3), vals("a.ini", "c", "1.1234567891"), "a.ini -1 -1  1123456789", nil},
		{"negative fraction", cols(numeric, 3), vals("a.ini", "c", "-0.5"), "a.ini -1 -1  -500000000", nil},
		{"timestamptz", cols(tstz, 3), vals("a.ini", "c", "2023-11-14 22:13:20.5+00"), "a.ini -1 -1  1700000000500000000", nil},
		{"timestamptz offset", cols(tstz, 3), vals("a.ini", "c", "2023-11-14 23:13:20+01:00"), "a.ini -1 -1  1700000000000000000", nil},
		{"timestamp", cols(ts, 3), vals("a.ini", "c", "2023-11-14 22:13:20"), "a.ini -1 -1  1700000000000000000", nil},
		{"uid gid", cols(numeric, 5), vals("a.ini", "c", "1", "1000", "100"), "a.ini 1000 100  1000000000", nil},
		{"NULL uid gid", cols(numeric, 5), vals("a.ini", "c", "1", nil, ""), "a.ini -1 -1  1000000000", nil},
		{"socket", cols(numeric, 6), vals("a.ini", "c", "1", "1", "1", "/tmp/a.sock"), "a.ini 1 1 /tmp/a.sock 1000000000", nil},
		{"empty socket is normal", cols(numeric, 6), vals("a.ini", "c", "1", "1", "1", ""), "a.ini 1 1  1000000000", nil},
		{"NULL socket is normal", cols(numeric, 6), vals("a.ini", "c", "1", "1", "1", nil), "a.ini 1 1  1000000000", nil},
		{"text ts", cols(text, 3), vals("a.ini", "c", "12"), "a.ini -1 -1  12000000000", nil},

		{"2 columns", cols(numeric, 2), vals("a.ini", "c"), "", pg.ErrColumns},
		{"7 columns", append(cols(numeric, 6), text), vals("a.ini", "c", "1", "1", "1", "", "x"), "", pg.ErrColumns},
		{"values mismatch", cols(numeric, 3), vals("a.ini", "c"), "", pg.ErrColumns},
		{"NULL name", cols(numeric, 3), vals(nil, "c", "1"), "", pg.ErrName},
		{"NULL config", cols(numeric, 3), vals("a.ini", nil, "1"), "", pg.ErrConfig},
		{"config too large", cols(numeric, 3), vals("a.ini", big, "1"), "", pg.ErrTooLarge},
		{"name too large", cols(numeric, 3), vals(strings.Repeat("n", 300), "c", "1"), "", pg.ErrTooLarge},
		{"NULL ts", cols(numeric, 3), vals("a.ini", "c", nil), "", pg.ErrTS},
		{"text ts not a number", cols(text, 3), vals("a.ini", "c", "yesterday"), "", pg.ErrTS},
		{"ts out of range", cols(numeric, 3), vals("a.ini", "c", "99999999999999999"), "", pg.ErrTS},
		{"bad timestamp", cols(tstz, 3), vals("a.ini", "c", "14/11/2023"), "", pg.ErrTS},
		{"NaN", cols(numeric, 3), vals("a.ini", "c", "NaN"), "", pg.ErrTS},
		{"bad uid", cols(numeric, 5), vals("a.ini", "c", "1", "root", "0"), "", pg.ErrID},
		{"negative gid", cols(numeric, 5), vals("a.ini", "c", "1", "1", "-1"), "", pg.ErrID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := pg.Row(tt.cols, tt.vals)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join([]string{v.Name, itoa(v.UID), itoa(v.GID), v.Socket, itoa64(v.MTime.UnixNano())}, " ")
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if string(v.Config) != string(tt.vals[1]) || v.Path != "" || v.Format != "" {
				t.Errorf("config %q path %q format %q", v.Config, v.Path, v.Format)
			}
		})
	}
}

// Row copies what it keeps: the caller's buffers are reused per row.
func TestRowCopies(t *testing.T) {
	in := vals("a.ini", "[uwsgi]\n", "1")
	v, err := pg.Row(cols(numeric, 3), in)
	if err != nil {
		t.Fatal(err)
	}
	copy(in[0], "XXXXX")
	copy(in[1], "XXXXXXXX")
	if v.Name != "a.ini" || string(v.Config) != "[uwsgi]\n" {
		t.Errorf("Row kept the caller's buffers: %q %q", v.Name, v.Config)
	}
}

// A newer ts, even within the same second, is a later MTime.
func TestParseTSOrder(t *testing.T) {
	a, err1 := pg.ParseTS(1700, []byte("1700000000.1"))
	b, err2 := pg.ParseTS(1700, []byte("1700000000.2"))
	if err1 != nil || err2 != nil || !b.After(a) {
		t.Errorf("%v %v: %v !< %v", err1, err2, a, b)
	}
}

func itoa(n int) string { return itoa64(int64(n)) }

func itoa64(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}
