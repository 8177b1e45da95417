package tnetstring_test

import (
	"bytes"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"imperial/actors/wire/tnetstring"
)

const uuid = "54c6755b-9628-40a4-9a2d-cc82a816345e"

func TestAppendResponse(t *testing.T) {
	page := "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nbroadcast!"
	for _, tc := range []struct {
		got, want string
	}{
		{string(tnetstring.AppendResponse(nil, uuid, []string{"4", "5"}, []byte(page))), specBroadcast},
		{string(tnetstring.AppendClose(nil, uuid, []string{"4", "5"})), specClose},
		{string(tnetstring.AppendResponse([]byte("pre"), "u", []string{"12"}, []byte("x"))), "preu 2:12, x"},
		{string(tnetstring.AppendClose(nil, "", []string{"7"})), " 1:7, "},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestAppendHTTPResponse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		reason  string
		headers [][2]string
		body    string
		want    string
	}{
		{"ok", 200, "", [][2]string{{"Content-Type", "text/plain"}}, "hello",
			"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"},
		{"own reason, caller length dropped", 404, "Nope", [][2]string{{"content-length", "99"}, {"X-A", "1"}}, "",
			"HTTP/1.1 404 Nope\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n"},
		{"crlf neutralised", 200, "O\r\nK", [][2]string{{"X-A\r\n", "a\r\nSet-Cookie: x"}}, "b",
			"HTTP/1.1 200 O  K\r\nX-A  : a  Set-Cookie: x\r\nContent-Length: 1\r\n\r\nb"},
		{"no content", 204, "", nil, "ignored", "HTTP/1.1 204 No Content\r\n\r\n"},
		{"not modified", 304, "", [][2]string{{"ETag", `"x"`}}, "", "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"},
		{"unknown status", 299, "", nil, "", "HTTP/1.1 299 Status\r\nContent-Length: 0\r\n\r\n"},
		{"too large", 413, "", nil, "", "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tnetstring.AppendHTTPResponse([]byte("pre"), "u", []string{"3", "9"}, tc.status, tc.reason,
				tc.headers, []byte(tc.body))
			want := "preu 3:3 9, " + tc.want
			if string(got) != want {
				t.Errorf("got  %q\nwant %q", got, want)
			}
			r, err := tnetstring.ParseResponse(got[3:], tnetstring.Limits{})
			if err != nil || string(r.Body) != tc.want {
				t.Errorf("ParseResponse: %+v, %v", r, err)
			}
		})
	}
}

func TestStatusText(t *testing.T) {
	for code, want := range map[int]string{200: "OK", 404: "Not Found", 500: "Internal Server Error",
		502: "Bad Gateway", 777: "Status"} {
		if got := tnetstring.StatusText(code); got != want {
			t.Errorf("StatusText(%d) = %q", code, got)
		}
	}
}

func TestParseResponse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want tnetstring.Response
	}{
		{specBroadcast, tnetstring.Response{UUID: uuid, ConnIDs: []string{"4", "5"},
			Body: []byte("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nbroadcast!")}},
		{specClose, tnetstring.Response{UUID: uuid, ConnIDs: []string{"4", "5"}, Body: []byte{}}},
		{" 1:0, x", tnetstring.Response{UUID: "", ConnIDs: []string{"0"}, Body: []byte("x")}},
		{"u 1:1,  two spaces", tnetstring.Response{UUID: "u", ConnIDs: []string{"1"}, Body: []byte(" two spaces")}},
	} {
		r, err := tnetstring.ParseResponse([]byte(tc.in), tnetstring.Limits{})
		if err != nil || !reflect.DeepEqual(r, tc.want) {
			t.Errorf("ParseResponse(%q) = %+v, %v; want %+v", tc.in, r, err, tc.want)
		}
	}
}

func TestParseResponseInvalid(t *testing.T) {
	ids := make([]string, tnetstring.MaxTargets+1)
	for i := range ids {
		ids[i] = strconv.Itoa(i + 1)
	}
	tooMany := tnetstring.AppendClose(nil, "u", ids)
	for _, tc := range []struct {
		name string
		in   string
		lim  tnetstring.Limits
		want error
	}{
		{"empty", "", tnetstring.Limits{}, tnetstring.ErrNeedMore},
		{"uuid only", "u", tnetstring.Limits{}, tnetstring.ErrNeedMore},
		{"ids cut", "u 3:4 ", tnetstring.Limits{}, tnetstring.ErrNeedMore},
		{"no space", "u 3:4 5,", tnetstring.Limits{}, tnetstring.ErrNeedMore},
		{"no space body", "u 3:4 5,x", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"no ids", "u 0:, x", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"double space ids", "u 4:4  5, x", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"trailing space ids", "u 2:4 , x", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"ctl X", "u 3:X 4, 7:1:1#0:~]", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"ids not netstring", "u 3:4 5] x", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"ids length bad", "u x:4, x", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"too many ids", string(tooMany), tnetstring.Limits{}, tnetstring.ErrTooLarge},
		{"ids length huge", "u 99999:", tnetstring.Limits{}, tnetstring.ErrTooLarge},
		{"body too large", "u 1:1, abcd", tnetstring.Limits{MaxBody: 3}, tnetstring.ErrTooLarge},
		{"uuid too long", strings.Repeat("u", 20) + " 1:1, x", tnetstring.Limits{MaxLine: 10}, tnetstring.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tnetstring.ParseResponse([]byte(tc.in), tc.lim)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseResponse(%q) = %+v, %v; want %v", tc.in, r, err, tc.want)
			}
			if !reflect.DeepEqual(r, tnetstring.Response{}) {
				t.Errorf("error with response %+v", r)
			}
		})
	}
}

// TestParseResponseSplit: the body runs to the end of the frame, so only the
// prefixes before it must ask for more; longer ones parse with a shorter
// body and the same ids.
func TestParseResponseSplit(t *testing.T) {
	msgs := [][]byte{[]byte(specBroadcast), []byte(specClose)}
	msgs = append(msgs, captured(t, "resp-")...)
	for _, full := range msgs {
		want, err := tnetstring.ParseResponse(full, tnetstring.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		head := len(full) - len(want.Body)
		for cut := 0; cut <= len(full); cut++ {
			part := bytes.Clone(full[:cut])
			r, err := tnetstring.ParseResponse(part, tnetstring.Limits{})
			if cut < head {
				if !errors.Is(err, tnetstring.ErrNeedMore) {
					t.Errorf("prefix %q: %+v, %v; want ErrNeedMore", part, r, err)
				}
				continue
			}
			if err != nil || r.UUID != want.UUID || !reflect.DeepEqual(r.ConnIDs, want.ConnIDs) ||
				!bytes.Equal(r.Body, want.Body[:cut-head]) {
				t.Errorf("cut %d: %+v, %v", cut, r, err)
			}
		}
	}
}

func TestResponseRoundTrip(t *testing.T) {
	for _, ids := range [][]string{{"1"}, {"4", "5"}, {"0", "18", "123456789012345678"}} {
		for _, body := range []string{"", " ", "HTTP/1.1 200 OK\r\n\r\n", "\x00,:"} {
			b := tnetstring.AppendResponse(nil, uuid, ids, []byte(body))
			r, err := tnetstring.ParseResponse(b, tnetstring.Limits{})
			if err != nil || r.UUID != uuid || !reflect.DeepEqual(r.ConnIDs, ids) || string(r.Body) != body {
				t.Errorf("%q: %+v, %v", b, r, err)
			}
		}
	}
}
