package tnetstring_test

import (
	"testing"

	"imperial/actors/wire/tnetstring"
)

func BenchmarkParseRequest(b *testing.B) {
	for _, bc := range []struct{ name, msg string }{{"json", specJSONGet}, {"tnetstring", specTnetGet}} {
		b.Run(bc.name, func(b *testing.B) {
			msg := []byte(bc.msg)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tnetstring.ParseRequest(msg, tnetstring.Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendHTTPResponse(b *testing.B) {
	body := []byte("Hello from handler")
	hdrs := [][2]string{{"Content-Type", "text/plain"}}
	ids := []string{"1"}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = tnetstring.AppendHTTPResponse(buf[:0], "54c6755b-9628-40a4-9a2d-cc82a816345e", ids, 200, "", hdrs, body)
	}
}
