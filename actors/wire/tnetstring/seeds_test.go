package tnetstring_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Request messages as captured from Mongrel2 1.12.2 in spec uwsgi.md §4.2
// and §4.3 (the spec wraps them over several lines; the declared lengths
// 275, 255, 17, 16 and 21 match the joined text).
const (
	specJSONGet = `54c6755b-9628-40a4-9a2d-cc82a816345e 1 /hello/world 275:{"PATH":"/hello/world","x-test":"1",` +
		`"x-forwarded-for":"127.0.0.1","accept":"*/*","user-agent":"curl/7.88.1","host":"127.0.0.1:6767","METHOD":"GET",` +
		`"VERSION":"HTTP/1.1","URI":"/hello/world?a=1&b=2","QUERY":"a=1&b=2","PATTERN":"/","URL_SCHEME":"http",` +
		`"REMOTE_ADDR":"127.0.0.1"},0:,`
	specTnetGet = `34f9ceee-cd52-4b7f-b197-88bf2f0ec378 3 /tnet/x 255:11:REMOTE_ADDR,9:127.0.0.1,6:METHOD,3:GET,10:URL_SCHEME,4:http,` +
		`7:PATTERN,6:/tnet/,5:QUERY,3:q=1,3:URI,11:/tnet/x?q=1,7:VERSION,8:HTTP/1.1,4:PATH,7:/tnet/x,4:host,14:127.0.0.1:6767,` +
		`10:user-agent,11:curl/7.88.1,6:accept,3:*/*,15:x-forwarded-for,9:127.0.0.1,}0:,`
	specJSONDisconnect = `54c6755b-9628-40a4-9a2d-cc82a816345e 1 @* 17:{"METHOD":"JSON"},21:{"type":"disconnect"},`
	specTnetDisconnect = `34f9ceee-cd52-4b7f-b197-88bf2f0ec378 3 @* 16:6:METHOD,4:JSON,}21:{"type":"disconnect"},`
	// Upload pair for one connection (§4.3): start only, then start+done,
	// both with an empty body. Header set as Mongrel2 builds it for a POST.
	specUploadStart = `54c6755b-9628-40a4-9a2d-cc82a816345e 7 /up 248:{"PATH":"/up","content-length":"3000",` +
		`"x-mongrel2-upload-start":"/tmp/upload.xYhZ15","host":"127.0.0.1:6767","x-forwarded-for":"127.0.0.1",` +
		`"METHOD":"POST","VERSION":"HTTP/1.1","URI":"/up","PATTERN":"/","URL_SCHEME":"http","REMOTE_ADDR":"127.0.0.1"},0:,`
	specUploadDone = `54c6755b-9628-40a4-9a2d-cc82a816345e 7 /up 294:{"PATH":"/up","content-length":"3000",` +
		`"x-mongrel2-upload-start":"/tmp/upload.xYhZ15","x-mongrel2-upload-done":"/tmp/upload.xYhZ15",` +
		`"host":"127.0.0.1:6767","x-forwarded-for":"127.0.0.1","METHOD":"POST","VERSION":"HTTP/1.1","URI":"/up",` +
		`"PATTERN":"/","URL_SCHEME":"http","REMOTE_ADDR":"127.0.0.1"},0:,`
	// POST with a body and a repeated header (JSON array / tnetstring list).
	specJSONPost = `54c6755b-9628-40a4-9a2d-cc82a816345e 2 /post 217:{"PATH":"/post",` +
		`"content-type":"application/x-www-form-urlencoded","content-length":"7","x-dup":["a","b"],` +
		`"METHOD":"POST","VERSION":"HTTP/1.1","URI":"/post","PATTERN":"/","URL_SCHEME":"http","REMOTE_ADDR":"127.0.0.1"},7:abc=def,`
	specTnetPost = `34f9ceee-cd52-4b7f-b197-88bf2f0ec378 4 /tnet/post 119:11:REMOTE_ADDR,9:127.0.0.1,6:METHOD,4:POST,` +
		`5:QUERY,3:z=9,4:PATH,10:/tnet/post,14:content-length,1:7,5:x-dup,8:1:a,1:b,]}7:abc=def,`
)

// Response messages from spec §4.4.
const (
	specBroadcast = "54c6755b-9628-40a4-9a2d-cc82a816345e 3:4 5, HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nbroadcast!"
	specClose     = "54c6755b-9628-40a4-9a2d-cc82a816345e 3:4 5, "
)

var specRequests = []string{specJSONGet, specTnetGet, specJSONDisconnect, specTnetDisconnect,
	specUploadStart, specUploadDone, specJSONPost, specTnetPost}

// captured returns the frames saved under testdata/capture/ whose names
// start with prefix ("req-" or "resp-"): one raw ZeroMQ frame per file,
// recorded from a real Mongrel2 (see testdata/capture/README).
func captured(t testing.TB, prefix string) [][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "capture", prefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, name := range names {
		if strings.HasSuffix(name, "README") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
