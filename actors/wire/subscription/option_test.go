package subscription_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"imperial/actors/wire/subscription"
)

func TestParseSubscribeToSpec(t *testing.T) {
	sub := func(key, addr string, m1 uint8) subscription.Subscription {
		return subscription.Subscription{Key: key, Address: addr, Modifier1: m1}
	}
	tests := []struct {
		in   string
		want subscription.Spec
		err  error
	}{
		{in: "127.0.0.1:7171:mykey",
			want: subscription.Spec{Server: "127.0.0.1:7171", Sub: sub("mykey", "", 0)}},
		{in: "127.0.0.1:7171:example.com,5",
			want: subscription.Spec{Server: "127.0.0.1:7171", Sub: sub("example.com", "", 5)}},
		// Pitfall 1: the ":5" is part of the key, modifier1 stays 0.
		{in: "127.0.0.1:7171:foo.local:5",
			want: subscription.Spec{Server: "127.0.0.1:7171", Sub: sub("foo.local:5", "", 0)}},
		{in: "127.0.0.1:7171:example.com:8080,7",
			want: subscription.Spec{Server: "127.0.0.1:7171", Sub: sub("example.com:8080", "", 7)}},
		{in: "127.0.0.1:7171:k,",
			want: subscription.Spec{Server: "127.0.0.1:7171", Sub: sub("k", "", 0)}},
		{in: "10.0.0.5:3031=127.0.0.1:7171:example.com,0,SHA1:/etc/uwsgi/keys/private.pem",
			want: subscription.Spec{Server: "127.0.0.1:7171", Sub: sub("example.com", "10.0.0.5:3031", 0),
				SignKey: "SHA1:/etc/uwsgi/keys/private.pem"}},
		{in: "/run/sub.sock:example.com,5",
			want: subscription.Spec{Server: "/run/sub.sock", Sub: sub("example.com", "", 5)}},
		{in: "/tmp/app.sock=/run/sub.sock:k",
			want: subscription.Spec{Server: "/run/sub.sock", Sub: sub("k", "/tmp/app.sock", 0)}},
		{in: "127.0.0.1:7171:@/etc/uwsgi/keys.map",
			want: subscription.Spec{Server: "127.0.0.1:7171", MapFile: "/etc/uwsgi/keys.map"}},
		{in: "=2=127.0.0.1:7171:k",
			want: subscription.Spec{Server: "127.0.0.1:7171", Sub: sub("k", "", 0), SharedSocket: 2}},
		{in: "127.0.0.1", err: subscription.ErrBadOption},
		{in: "127.0.0.1:7171", err: subscription.ErrBadOption},
		{in: "127.0.0.1:7171:", err: subscription.ErrMissingKey},
		{in: "127.0.0.1:7171:,5", err: subscription.ErrMissingKey},
		{in: "127.0.0.1:7171:" + strings.Repeat("k", 256), err: subscription.ErrTooLarge},
		{in: "127.0.0.1:7171:k,256", err: subscription.ErrBadOption},
		{in: "127.0.0.1:7171:k,x", err: subscription.ErrBadOption},
		{in: "127.0.0.1:7171:k,,SHA1:key.pem", err: subscription.ErrBadOption},
		{in: "127.0.0.1:7171:k,0,", err: subscription.ErrBadOption},
		{in: "127.0.0.1:7171:@", err: subscription.ErrBadOption},
		{in: "=2127.0.0.1:7171:k", err: subscription.ErrBadOption},
		{in: "=x=127.0.0.1:7171:k", err: subscription.ErrBadOption},
		{in: "/nocolon", err: subscription.ErrBadOption},
		{in: ":7171:k", want: subscription.Spec{Server: ":7171", Sub: sub("k", "", 0)}},
	}
	for _, tc := range tests {
		got, err := subscription.ParseSubscribeToSpec(tc.in)
		if tc.err != nil {
			if !errors.Is(err, tc.err) || !errors.Is(err, subscription.ErrBadOption) {
				t.Errorf("%q: err %v, want %v (and ErrBadOption)", tc.in, err, tc.err)
			}
			continue
		}
		if tc.want.SharedSocket == 0 {
			tc.want.SharedSocket = -1
		}
		tc.want.Socket = -1
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got  %+v, %v\n want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseSubscribeTo(t *testing.T) {
	server, s, err := subscription.ParseSubscribeTo("127.0.0.1:7171:example.com,5")
	if err != nil || server != "127.0.0.1:7171" || s.Key != "example.com" || s.Modifier1 != 5 {
		t.Fatalf("= %q %+v %v", server, s, err)
	}
	for _, in := range []string{"127.0.0.1:7171:@f", "=1=127.0.0.1:7171:k", "127.0.0.1:7171:k,0,SHA1:k.pem"} {
		if _, _, err := subscription.ParseSubscribeTo(in); !errors.Is(err, subscription.ErrUnsupported) {
			t.Errorf("%q: err %v, want ErrUnsupported", in, err)
		}
	}
}

func TestParseSubscribe2(t *testing.T) {
	tests := []struct {
		in   string
		want subscription.Spec
		err  error
	}{
		{in: "server=127.0.0.1:7171,key=bar.local,addr=127.0.0.1:3031,weight=3,modifier1=7,modifier2=2",
			want: subscription.Spec{Server: "127.0.0.1:7171", HasWeight: true,
				Sub: subscription.Subscription{Key: "bar.local", Address: "127.0.0.1:3031", Weight: 3, Modifier1: 7, Modifier2: 2}}},
		{in: "key=k,server=/run/s.sock,socket=1,sign=SHA1:/k.pem,check=/tmp/off,sni_key=a,sni_crt=b,sni_ca=c,",
			want: subscription.Spec{Server: "/run/s.sock", Socket: 1, SignKey: "SHA1:/k.pem", Check: "/tmp/off",
				Sub: subscription.Subscription{Key: "k", SNIKey: "a", SNICrt: "b", SNICA: "c"}}},
		{in: `server=127.0.0.1:7171,key=a\,b=c,key=last\\`,
			want: subscription.Spec{Server: "127.0.0.1:7171", Sub: subscription.Subscription{Key: `last\`}}},
		{in: `server=127.0.0.1:7171,key=a\,b=c`,
			want: subscription.Spec{Server: "127.0.0.1:7171", Sub: subscription.Subscription{Key: "a,b=c"}}},
		{in: "key=k", err: subscription.ErrBadOption},
		{in: "server=s:1", err: subscription.ErrBadOption},
		{in: "server=s:1,key=", err: subscription.ErrBadOption},
		{in: "server=s:1,key=k,color=red", err: subscription.ErrBadOption},
		{in: "server=s:1,key=k,weight", err: subscription.ErrBadOption},
		{in: "server=s:1,key=k,weight=x", err: subscription.ErrBadOption},
		{in: "server=s:1,key=k,modifier1=300", err: subscription.ErrBadOption},
		{in: "server=s:1,key=k,addr=" + strings.Repeat("a", 256), err: subscription.ErrBadOption},
	}
	for _, tc := range tests {
		got, err := subscription.ParseSubscribe2Spec(tc.in)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%q: err %v, want %v", tc.in, err, tc.err)
			}
			continue
		}
		tc.want.SharedSocket = -1
		if tc.want.Socket == 0 {
			tc.want.Socket = -1
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got  %+v, %v\n want %+v", tc.in, got, err, tc.want)
		}
	}
	server, s, err := subscription.ParseSubscribe2("server=127.0.0.1:7171,key=bar.local,modifier1=7")
	if err != nil || server != "127.0.0.1:7171" || s.Key != "bar.local" || s.Modifier1 != 7 {
		t.Fatalf("ParseSubscribe2 = %q %+v %v", server, s, err)
	}
	if _, _, err := subscription.ParseSubscribe2("server=a:1,key=k,socket=0"); !errors.Is(err, subscription.ErrUnsupported) {
		t.Fatalf("socket=: %v", err)
	}
}

func TestParseMapFile(t *testing.T) {
	got, err := subscription.ParseMapFile([]byte("# keys\nexample.com,5\n\nfoo.local:5\nbar,\n"))
	want := []subscription.Subscription{{Key: "example.com", Modifier1: 5}, {Key: "foo.local:5"}, {Key: "bar"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("= %+v, %v", got, err)
	}
	for _, bad := range []string{",5\n", "k,999\n", "ok\nk,5,SHA1:x\n"} {
		if _, err := subscription.ParseMapFile([]byte(bad)); !errors.Is(err, subscription.ErrBadOption) {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}
