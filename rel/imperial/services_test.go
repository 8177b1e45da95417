package main

import (
	"testing"

	"imperial/apps/config"
)

// TestRouterOnlyThreads: only an instance whose one service is a router gets
// uWSGI's router process count as its thread count.
func TestRouterOnlyThreads(t *testing.T) {
	opts := func(kv ...string) []config.Option {
		var o []config.Option
		for i := 0; i < len(kv); i += 2 {
			o = append(o, config.Option{Key: kv[i], Value: kv[i+1]})
		}
		return o
	}
	cases := []struct {
		opts []config.Option
		want int
		err  bool
	}{
		{opts("fastrouter", ":4000", "fastrouter-subscription-server", ":4001"), 1, false},
		{opts("fastrouter", ":4000", "fastrouter-processes", "3"), 3, false},
		{opts("http", ":8080", "http-subscription-server", ":4001", "http-workers", "2"), 2, false},
		{opts("fastrouter", ":4000", "fastrouter-processes", "0"), 0, true},
		{opts("fastrouter", ":4000", "fastrouter-processes", "many"), 0, true},
		{opts("fastrouter", ":4000", "socket", ":3031", "app", "testapp"), 0, false}, // a worker too
		{opts("http", ":9090", "app", "testapp"), 0, false},                          // an HTTP worker
		{opts("erlang", "imp@127.0.0.1"), 0, false},
	}
	for _, tc := range cases {
		n, err := routerOnlyThreads(tc.opts)
		if n != tc.want || (err != nil) != tc.err {
			t.Errorf("%v: %d, %v; want %d (error %v)", tc.opts, n, err, tc.want, tc.err)
		}
	}
}
