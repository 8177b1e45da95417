package mongrel2_test

import (
	"errors"
	"strings"
	"testing"

	"imperial/actors/mongrel2"
	"imperial/apps/config"
	mongrel2app "imperial/apps/mongrel2"
	"imperial/supervisors"
)

func args(t *testing.T, a ...string) []config.Option {
	t.Helper()
	opts, rest, err := config.ParseArgs(a)
	if err != nil || len(rest) > 0 {
		t.Fatalf("ParseArgs(%q): %v %v", a, err, rest)
	}
	return opts
}

func TestParse(t *testing.T) {
	const s1, s2 = "tcp://127.0.0.1:9997,tcp://127.0.0.1:9996", "ipc:///tmp/s,ipc:///tmp/r"
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, o supervisors.Mongrel2SupOptions)
		err   string
	}{
		{"seed", []string{"--zeromq", s1, "-p", "4", "--threads", "8", "--module", "werkzeug.testapp:test_app"},
			func(t *testing.T, o supervisors.Mongrel2SupOptions) {
				h := o.Handler
				if len(h.Servers) != 1 || h.Servers[0] != (mongrel2.Server{Send: "tcp://127.0.0.1:9997", Recv: "tcp://127.0.0.1:9996"}) {
					t.Errorf("servers %v", h.Servers)
				}
				if h.Processes != 4 || o.Pool == nil || o.Pool.Count != 32 || h.External != supervisors.Mongrel2PoolName || h.App != "" {
					t.Errorf("processes %d, pool %+v, external %v", h.Processes, o.Pool, h.External)
				}
				if !strings.Contains(o.Pool.Command, "werkzeug.testapp:test_app") {
					t.Errorf("pool command %q", o.Pool.Command)
				}
			}, ""},
		{"every spelling, native app", []string{"--zmq", s1, "--zeromq-socket", s2, "--zmq-socket", s1, "--mongrel2", s2, "--app", "hello", "--chdir", "/srv/m2"},
			func(t *testing.T, o supervisors.Mongrel2SupOptions) {
				if len(o.Handler.Servers) != 4 || o.Pool != nil || o.Handler.App != "hello" || o.Handler.Chroot != "/srv/m2" || o.Handler.Processes != 1 {
					t.Errorf("%+v", o)
				}
			}, ""},
		{"with --http the worker's pool is shared", []string{"--zeromq", s1, "--http", "127.0.0.1:8080", "--wsgi-file", "app.py"},
			func(t *testing.T, o supervisors.Mongrel2SupOptions) {
				if o.Pool != nil || o.Handler.External != supervisors.ExtWorkerPoolName {
					t.Errorf("pool %+v, external %v", o.Pool, o.Handler.External)
				}
			}, ""},
		{"bad endpoint", []string{"--zeromq", "tcp://127.0.0.1:9997", "--app", "hello"}, nil, "<command line>:1: zeromq"},
		{"no app", []string{"--zeromq", s1}, nil, "no app"},
		{"unknown app", []string{"--zeromq", s1, "--app", "nope"}, nil, "unknown app"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := args(t, tc.args...)
			if !mongrel2app.Wants(opts) {
				t.Fatal("Wants is false")
			}
			o, err := mongrel2app.Parse(mongrel2app.Env{}, opts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, o)
		})
	}
	if mongrel2app.Wants(args(t, "--socket", ":3031", "--app", "hello")) {
		t.Error("Wants without --zeromq")
	}
	for _, k := range []string{"zeromq", "zmq", "zeromq-socket", "zmq-socket", "mongrel2"} {
		found := false
		for _, o := range mongrel2app.Keys() {
			found = found || o == k
		}
		if !found {
			t.Errorf("Keys lacks %s", k)
		}
	}
}

func TestLogging(t *testing.T) {
	w, app, err := mongrel2app.Logging(args(t, "--zeromq", "tcp://a:1,tcp://a:2"))
	if w != nil || app != nil || err != nil {
		t.Fatalf("no logger: %v %v %v", w, app, err)
	}
	w, app, err = mongrel2app.Logging(args(t, "--logger", "zeromq:tcp://127.0.0.1:5560", "--logger", "mylog zmq:ipc:///tmp/log",
		"--log-zeromq", "tcp://127.0.0.1:5561"))
	if err != nil || app == nil {
		t.Fatalf("Logging: %v", err)
	}
	lw, ok := w.(mongrel2.LogWriter)
	if !ok || len(lw) != 3 {
		t.Fatalf("writer %T %v", w, w)
	}
	w.Write([]byte("a line\n"))
	for i, q := range lw {
		if q.Len() != 1 {
			t.Errorf("queue %d has %d lines", i, q.Len())
		}
	}
	for _, bad := range [][]string{
		{"--logger", "file:/tmp/x"},
		{"--logger", "zeromq:"},
		{"--log-zeromq", "udp://1.2.3.4:5"},
	} {
		_, _, err := mongrel2app.Logging(args(t, bad...))
		if !errors.Is(err, mongrel2app.ErrOptions) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}
