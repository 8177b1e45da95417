package subscription_test

import (
	"errors"
	"reflect"
	"testing"

	"imperial/actors/wire/subscription"
)

// FuzzParseSubscription: Parse never panics, and whatever it accepts
// re-encodes (Append) to a datagram that parses back to the same value.
func FuzzParseSubscription(f *testing.F) {
	for _, h := range []string{realExample, realFooLocal, realBarUnsub} {
		f.Add(unhex(f, h))
	}
	for _, b := range testdataSeeds(f) {
		f.Add(b)
	}
	f.Add(pkt(224, 0, base()...))
	f.Add(pkt(224, 1, base(rec("unix", "1700000001"), rec("sign", "sig"))...))
	f.Add(pkt(224, 0, rec("key", "k"), rec("address", "a"), rec("weight", "99999999999999999999")))
	f.Add(pkt(224, 0, append(rec("key", "k"), 9, 0)))
	f.Add([]byte{224, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := subscription.Parse(b)
		_, serr := subscription.SignedData(b)
		if err != nil {
			return
		}
		if len(s.Key) == 0 || len(s.Key) > subscription.MaxKeyLen || len(s.Address) == 0 || len(s.Address) > subscription.MaxAddressLen {
			t.Fatalf("accepted key %q address %q", s.Key, s.Address)
		}
		if serr == nil && len(s.Sign) == 0 {
			t.Fatalf("SignedData accepted a packet without signature")
		}
		again, err := subscription.Append(nil, s)
		if err != nil {
			// Append always writes the five numeric records, so a datagram
			// near MaxDatagram that omitted them may not fit again.
			if errors.Is(err, subscription.ErrTooLarge) && len(b) > subscription.MaxDatagram-5*30 {
				return
			}
			t.Fatalf("Append(Parse(b)): %v", err)
		}
		back, err := subscription.Parse(again)
		if err != nil || !reflect.DeepEqual(back, s) {
			t.Fatalf("round trip: %+v, %v\nwant %+v", back, err, s)
		}
	})
}

// FuzzParseSubscribeTo: the option parsers never panic and never return an
// out-of-limit key.
func FuzzParseSubscribeTo(f *testing.F) {
	for _, s := range []string{
		"127.0.0.1:7171:example.com,5", "127.0.0.1:7171:foo.local:5", "a=/run/s:k,1,SHA1:x",
		"=1=h:1:@map", "server=h:1,key=k,weight=3", `server=h:1,key=a\,b`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (subscription.Spec, error){subscription.ParseSubscribeToSpec, subscription.ParseSubscribe2Spec} {
			sp, err := parse(s)
			if err != nil {
				continue
			}
			if sp.Server == "" || (sp.MapFile == "" && (sp.Sub.Key == "" || len(sp.Sub.Key) > subscription.MaxKeyLen)) {
				t.Fatalf("%q: accepted %+v", s, sp)
			}
		}
	})
}
