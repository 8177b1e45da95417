package router

import (
	"errors"
	"testing"
	"time"

	"imperial/apps/config"
)

func opts(kv ...string) []config.Option {
	var o []config.Option
	for i := 0; i+1 < len(kv); i += 2 {
		o = append(o, config.Option{Key: kv[i], Value: kv[i+1], File: "t.ini", Line: i/2 + 1})
	}
	return o
}

func TestParse(t *testing.T) {
	o, err := Parse(opts("fastrouter", "127.0.0.1:4000", "fastrouter-subscription-server", "127.0.0.1:4001",
		"fastrouter-stats", "127.0.0.1:5005", "subscription-tolerance", "30", "http", ":8080", "master", ""))
	if err != nil {
		t.Fatal(err)
	}
	if o.FastRouter == nil || o.FastRouter.Stats != "127.0.0.1:5005" || o.HTTP == nil || len(o.Subscription.Listen) != 1 ||
		o.Subscription.Tolerance != 30*time.Second || !o.Subscription.Cluster {
		t.Fatalf("%+v %+v %+v", o.Subscription, o.FastRouter, o.HTTP)
	}
	if !Wants(opts("http", ":80", "http-subscription-server", ":7000")) {
		t.Errorf("http front not wanted")
	}
	if Wants(opts("http", ":80", "http-subscription-server", ":7000", "module", "app")) {
		t.Errorf("http with an app is a worker, not a router")
	}
	for _, tc := range [][]config.Option{
		opts("fastrouter", ":1", "subscription-algo", "random"),
		opts("fastrouter", ":1", "fastrouter-timeout", "x"),
		opts("subscription-tolerance", "3"),
	} {
		if _, err := Parse(tc); !errors.Is(err, ErrOptions) {
			t.Errorf("%v: err %v", tc, err)
		}
	}
}
