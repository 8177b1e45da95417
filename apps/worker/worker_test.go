package worker

import (
	"errors"
	"testing"
	"time"

	"imperial/apps/config"
	"imperial/node/rpc"
)

func opts(kv ...string) []config.Option {
	var o []config.Option
	for i := 0; i+1 < len(kv); i += 2 {
		o = append(o, config.Option{Key: kv[i], Value: kv[i+1], File: "test.ini", Line: i/2 + 1})
	}
	return o
}

func TestParseSubscribeTo(t *testing.T) {
	for _, tc := range []struct {
		in     string
		key    string
		m1     uint8
		legacy bool
	}{
		{"127.0.0.1:4001:psgi_cluster:5", "psgi_cluster", 5, true},  // uWSGI 0.9 (the seed)
		{"127.0.0.1:4001:psgi_cluster,5", "psgi_cluster", 5, false}, // uWSGI 2.0
		{"127.0.0.1:4001:example.com:8080", "example.com:8080", 0, false},
		{"127.0.0.1:4001:example.com:80,0", "example.com:80", 0, false},
		{"127.0.0.1:4001:example.com", "example.com", 0, false},
		{"10.0.0.1:3031=127.0.0.1:4001:k:7", "k", 7, true},
	} {
		sp, legacy, err := ParseSubscribeTo(tc.in)
		if err != nil || sp.Sub.Key != tc.key || sp.Sub.Modifier1 != tc.m1 || legacy != tc.legacy {
			t.Errorf("%s: key %q m1 %d legacy %v err %v; want %q %d %v", tc.in, sp.Sub.Key, sp.Sub.Modifier1, legacy, err,
				tc.key, tc.m1, tc.legacy)
		}
	}
	if _, _, err := ParseSubscribeTo("nocolon"); err == nil {
		t.Errorf("bad spec accepted")
	}
}

func TestParse(t *testing.T) {
	s, err := Parse(Env{Registry: rpc.NewRegistry()}, opts("socket", "127.0.0.1:3031", "processes", "2", "threads", "3",
		"app", "hello", "harakiri", "5", "subscribe-to", "127.0.0.1:4001:psgi_cluster:5",
		"subscribe2", "server=127.0.0.1:4002,key=k2,weight=4", "plugins", "python3", "master", ""))
	if err != nil {
		t.Fatal(err)
	}
	w := s.Worker
	if w.Processes != 2 || w.Threads != 3 || w.App != "hello" || w.Harakiri != 5*time.Second || len(w.Sockets) != 1 || s.RPC == nil {
		t.Fatalf("worker %+v", w)
	}
	if len(s.Subscribers) != 2 {
		t.Fatalf("subscribers %+v", s.Subscribers)
	}
	a := s.Subscribers[0]
	if a.Spec.Server != "127.0.0.1:4001" || a.Spec.Sub.Key != "psgi_cluster" || a.Spec.Sub.Modifier1 != 5 ||
		a.Address != "127.0.0.1:3031" || a.Cores != 6 {
		t.Fatalf("subscriber %+v", a)
	}
	if b := s.Subscribers[1]; b.Spec.Sub.Key != "k2" || b.Spec.Sub.Weight != 4 {
		t.Fatalf("subscribe2 %+v", b)
	}

	for _, tc := range []struct {
		name string
		o    []config.Option
	}{
		{"no app", opts("socket", ":3031")},
		{"no socket", opts("app", "hello")},
		{"unknown app", opts("socket", ":3031", "app", "nosuch")},
		{"two apps", opts("socket", ":3031", "app", "hello", "module", "x")},
		{"bad processes", opts("socket", ":3031", "app", "hello", "processes", "two")},
		{"subscribe without socket", opts("http-socket", ":8080", "app", "hello", "subscribe-to", "127.0.0.1:1:k")},
		{"erlang app without node", opts("socket", ":3031", "app", "erlang")},
	} {
		if _, err := Parse(Env{}, tc.o); !errors.Is(err, ErrOptions) {
			t.Errorf("%s: err %v, want ErrOptions", tc.name, err)
		}
	}
}

func TestParseExternal(t *testing.T) {
	s, err := Parse(Env{}, opts("http", ":9090", "module", "werkzeug.testapp:test_app", "processes", "2"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Pool == nil || s.Pool.Count != 2 || s.Worker.External == nil || len(s.Worker.HTTPSockets) != 1 {
		t.Fatalf("external %+v %+v", s.Pool, s.Worker)
	}
}
