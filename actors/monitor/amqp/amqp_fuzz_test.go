package amqp_test

import (
	"errors"
	"strings"
	"testing"

	"imperial/actors/monitor/amqp"
)

// FuzzDecode: any routing key and body decode to an action or a sentinel error.
func FuzzDecode(f *testing.F) {
	f.Add("direct1.ini", []byte("[uwsgi]\n"))
	f.Add("", []byte("/etc/uwsgi/a.ini"))
	f.Add("", []byte("http://127.0.0.1:8080/a.ini"))
	f.Add("", []byte{})
	f.Add("x.ini", []byte{})
	f.Fuzz(func(t *testing.T, key string, body []byte) {
		a, err := amqp.Decode(key, body)
		if err != nil {
			if !errors.Is(err, amqp.ErrEmpty) && !errors.Is(err, amqp.ErrTooLarge) {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		switch a.Kind {
		case amqp.KindDirect, amqp.KindRemove:
			if a.Name != key || key == "" {
				t.Fatalf("%s: name %q, key %q", a.Kind, a.Name, key)
			}
		case amqp.KindPath, amqp.KindURL:
			if key != "" || a.Target != string(body) || a.Name == "" || (a.Kind == amqp.KindURL && strings.Contains(a.Name, ":")) {
				t.Fatalf("%s: %+v", a.Kind, a)
			}
		default:
			t.Fatalf("kind %s", a.Kind)
		}
	})
}
