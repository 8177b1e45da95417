package http_test

import (
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"ergo.services/ergo/gen"

	httpfront "imperial/actors/http"
	"imperial/actors/subscription"
	wire "imperial/actors/wire/subscription"
	"imperial/actors/wire/uwsgi"
	"imperial/rel/peers/ergotest"
)

func startNode(t *testing.T) gen.Node {
	return ergotest.Start(t, "httptest", gen.LogLevelError)
}

// backend answers every uwsgi request with HTTP/1.1 and a Content-Length
// body naming the backend, the modifier1, the method, path, and body.
func backend(t *testing.T, name string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				var buf []byte
				tmp := make([]byte, 4096)
				for {
					if size, err := uwsgi.PacketSize(buf, uwsgi.Limits{}); err == nil {
						p, _, err := uwsgi.ParsePacket(buf[:size], uwsgi.Limits{})
						if err != nil {
							return
						}
						cl, _ := p.Vars.ContentLength(1 << 20)
						body := buf[size:]
						for int64(len(body)) < cl {
							n, err := c.Read(tmp)
							body = append(body, tmp[:n]...)
							if err != nil {
								return
							}
						}
						m, _ := p.Vars.Get("REQUEST_METHOD")
						path, _ := p.Vars.Get("PATH_INFO")
						host, _ := p.Vars.Get("HTTP_HOST")
						out := fmt.Sprintf("%s m1=%d %s %s host=%s body=%s", name, p.Header.Modifier1, m, path, host, body)
						fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(out), out)
						return
					}
					n, err := c.Read(tmp)
					buf = append(buf, tmp[:n]...)
					if err != nil {
						return
					}
				}
			}(c)
		}
	}()
	return l.Addr().String()
}

func TestFront(t *testing.T) {
	n := startNode(t)
	if _, err := n.SpawnRegister(subscription.Name, subscription.Factory,
		gen.ProcessOptions{MailboxSize: subscription.MailboxSize}, subscription.Options{}); err != nil {
		t.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	if _, err := n.Spawn(httpfront.Factory, gen.ProcessOptions{}, httpfront.Options{Listen: []string{addr}, Timeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	key := "app.local:" + port
	raw, _ := wire.Append(nil, wire.Subscription{Key: key, Address: backend(t, "A"), Modifier1: 7})
	if err := n.Send(subscription.Name, subscription.MessageSubscription{Raw: raw, Local: true}); err != nil {
		t.Fatal(err)
	}
	tr := &nethttp.Transport{MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	client := &nethttp.Client{Transport: tr, Timeout: 10 * time.Second}
	do := func(method, body string, chunked bool) (int, string) {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
			if chunked {
				rd = io.MultiReader(rd) // hides the length: sent chunked
			}
		}
		req, _ := nethttp.NewRequest(method, "http://"+addr+"/x/y", rd)
		req.Host = key
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The front sees the subscription once the server processed it; the
	// first request may race it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _ := do("GET", "", false)
		if code == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; i < 3; i++ { // keep-alive: several requests on one connection
		code, got := do("GET", "", false)
		if want := "A m1=7 GET /x/y host=" + key + " body="; code != 200 || got != want {
			t.Fatalf("GET: %d %q, want %q", code, got, want)
		}
	}
	if code, got := do("POST", "hello", false); code != 200 || !strings.HasSuffix(got, "body=hello") {
		t.Fatalf("POST: %d %q", code, got)
	}
	if code, got := do("POST", "chunked body", true); code != 200 || !strings.HasSuffix(got, "body=chunked body") {
		t.Fatalf("chunked POST: %d %q", code, got)
	}
	req, _ := nethttp.NewRequest("GET", "http://"+addr+"/", nil)
	req.Host = "nobody.local"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 502 {
		t.Fatalf("unknown host: %d, want 502", resp.StatusCode)
	}
}
