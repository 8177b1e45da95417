package amqp_test

import (
	"errors"
	"strings"
	"testing"

	"imperial/actors/monitor/amqp"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		arg, want string
		err       error
	}{
		{arg: "127.0.0.1:5672", want: "amqp://guest:guest@127.0.0.1:5672"},
		{arg: "localhost", want: "amqp://guest:guest@localhost"},
		{arg: "u:p@h:5673/vh", want: "amqp://u:p@h:5673/vh"},
		{arg: "", err: amqp.ErrSpec},
		{arg: "/vhost", err: amqp.ErrSpec},
		{arg: "@h", err: amqp.ErrSpec},
		{arg: "h:notaport", err: amqp.ErrSpec},
		{arg: "h h", err: amqp.ErrSpec},
	}
	for _, tt := range tests {
		got, err := amqp.ParseSpec(tt.arg)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("ParseSpec(%q) err %v, want %v", tt.arg, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSpec(%q) = %q, %v; want %q", tt.arg, got, err, tt.want)
		}
	}
	if got := amqp.Redact("amqp://u:secret@h:1/v"); got != "amqp://u:xxxxx@h:1/v" {
		t.Errorf("Redact = %q", got)
	}
	if _, err := amqp.ParseSpec("u:secret@h:bad"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("err %v: want an error without the password", err)
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, key, body string
		kind            amqp.Kind
		vassal, target  string
		err             error
	}{
		{name: "direct config", key: "direct1.ini", body: "[uwsgi]\n", kind: amqp.KindDirect, vassal: "direct1.ini"},
		{name: "direct empty removes", key: "direct1.ini", body: "", kind: amqp.KindRemove, vassal: "direct1.ini"},
		{name: "path", key: "", body: "/etc/uwsgi/a.ini", kind: amqp.KindPath, vassal: "/etc/uwsgi/a.ini", target: "/etc/uwsgi/a.ini"},
		{name: "relative path", key: "", body: "v/a.xml", kind: amqp.KindPath, vassal: "v/a.xml", target: "v/a.xml"},
		{name: "url", key: "", body: "http://127.0.0.1:8080/a.ini", kind: amqp.KindURL, vassal: "127.0.0.1_8080/a.ini", target: "http://127.0.0.1:8080/a.ini"},
		{name: "https url", key: "", body: "HTTPS://h/x/a.ini", kind: amqp.KindURL, vassal: "h/x/a.ini", target: "HTTPS://h/x/a.ini"},
		{name: "bare scheme is a path", key: "", body: "http://", kind: amqp.KindPath, vassal: "http://", target: "http://"},

		{name: "empty body without key", key: "", body: "", err: amqp.ErrEmpty},
		{name: "path too long", key: "", body: "/" + strings.Repeat("p", amqp.MaxPath), err: amqp.ErrTooLarge},
		{name: "config too large", key: "big.ini", body: strings.Repeat("c", amqp.MaxConfig+1), vassal: "big.ini", err: amqp.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := amqp.Decode(tt.key, []byte(tt.body))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				if a.Name != tt.vassal {
					t.Errorf("name %q, want %q", a.Name, tt.vassal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Kind != tt.kind || a.Name != tt.vassal || a.Target != tt.target {
				t.Errorf("got %s %q %q, want %s %q %q", a.Kind, a.Name, a.Target, tt.kind, tt.vassal, tt.target)
			}
			if tt.kind == amqp.KindDirect && string(a.Config) != tt.body {
				t.Errorf("config %q", a.Config)
			}
		})
	}
}

// Decode copies the body: amqp091 may reuse it.
func TestDecodeCopies(t *testing.T) {
	body := []byte("[uwsgi]\n")
	a, _ := amqp.Decode("a.ini", body)
	copy(body, "XXXXXXX")
	if string(a.Config) != "[uwsgi]\n" {
		t.Errorf("Decode kept the body: %q", a.Config)
	}
}
