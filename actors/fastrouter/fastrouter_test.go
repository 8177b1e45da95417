package fastrouter_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/fastrouter"
	"imperial/actors/subscription"
	wire "imperial/actors/wire/subscription"
	"imperial/actors/wire/uwsgi"
	"imperial/rel/peers"
	"imperial/rel/peers/ergotest"
)

func startNode(t *testing.T) gen.Node {
	return ergotest.Start(t, "frtest", gen.LogLevelError)
}

// backend is a uwsgi node that answers each request with a raw HTTP response
// whose body is its name, the modifiers it got and the request bytes (hex
// of header+vars, then the body length).
type backend struct {
	name string
	l    net.Listener
	hits atomic.Int64
}

func startBackend(t *testing.T, name string) *backend {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{name: name, l: l}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go b.serve(c)
		}
	}()
	return b
}

func (b *backend) addr() string { return b.l.Addr().String() }

func (b *backend) serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 0, 1024)
	tmp := make([]byte, 4096)
	var total int
	for {
		size, err := uwsgi.PacketSize(buf, uwsgi.Limits{})
		if err == nil {
			total = size
			break
		}
		n, rerr := c.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if rerr != nil {
			return
		}
	}
	p, _, err := uwsgi.ParsePacket(buf[:total], uwsgi.Limits{})
	if err != nil {
		return
	}
	cl, _ := p.Vars.ContentLength(1 << 30)
	body := append([]byte{}, buf[total:]...)
	if rest := cl - int64(len(body)); rest > 0 {
		more := make([]byte, rest)
		if _, err := io.ReadFull(c, more); err != nil {
			return
		}
		body = append(body, more...)
	}
	b.hits.Add(1)
	fmt.Fprintf(c, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n%s %d %d %x %d %x",
		b.name, p.Header.Modifier1, p.Header.Modifier2, buf[uwsgi.HeaderSize:total], len(body), sum(body))
}

func sum(b []byte) uint32 {
	var s uint32
	for _, c := range b {
		s = s*31 + uint32(c)
	}
	return s
}

func subscribe(t *testing.T, n gen.Node, s wire.Subscription) {
	t.Helper()
	raw, err := wire.Append(nil, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Send(subscription.Name, subscription.MessageSubscription{Raw: raw, Local: true}); err != nil {
		t.Fatal(err)
	}
}

type router struct {
	addr, stats string
}

// startRouter starts a subscription server and a router on n; with
// sopts.Table set the router picks in that table, else by message.
func startRouter(t *testing.T, n gen.Node, sopts subscription.Options) router {
	t.Helper()
	if _, err := n.SpawnRegister(subscription.Name, subscription.Factory,
		gen.ProcessOptions{MailboxSize: subscription.MailboxSize}, sopts); err != nil {
		t.Fatal(err)
	}
	r := router{addr: peers.FreeAddr(t), stats: peers.FreeAddr(t)}
	if _, err := n.Spawn(fastrouter.Factory, gen.ProcessOptions{},
		fastrouter.Options{Listen: []string{r.addr}, Stats: r.stats, Timeout: 5 * time.Second, Table: sopts.Table}); err != nil {
		t.Fatal(err)
	}
	return r
}

// request sends one uwsgi request and returns the whole answer.
func request(addr string, m1, m2 uint8, vars uwsgi.Vars, body []byte) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	pkt, err := uwsgi.AppendPacket(nil, m1, m2, vars)
	if err != nil {
		return nil, err
	}
	go func() {
		c.Write(pkt)
		c.Write(body)
	}()
	return io.ReadAll(c)
}

func TestRouting(t *testing.T) {
	n := startNode(t)
	r := startRouter(t, n, subscription.Options{Table: subscription.NewShared()})
	a, b := startBackend(t, "A"), startBackend(t, "B")
	subscribe(t, n, wire.Subscription{Key: "a.local", Address: a.addr(), Modifier1: 5, Modifier2: 3})
	subscribe(t, n, wire.Subscription{Key: "b.local", Address: b.addr()})
	peers.WaitFor(t, 5*time.Second, func() error {
		out, err := request(r.addr, 0, 0, uwsgi.Vars{}.Add("HTTP_HOST", "b.local"), nil)
		if err != nil || !bytes.Contains(out, []byte("\r\n\r\nB ")) {
			return fmt.Errorf("%q %v", out, err)
		}
		return nil
	})
	for _, tc := range []struct {
		name string
		vars uwsgi.Vars
		want string // backend name, or "" for a closed connection without answer
	}{
		{"fastrouter key beats host", uwsgi.Vars{}.Add("HTTP_HOST", "b.local").Add("UWSGI_FASTROUTER_KEY", "a.local").Add("HTTP_HOST", "b.local"), "A"},
		{"host beats server name", uwsgi.Vars{}.Add("SERVER_NAME", "a.local").Add("HTTP_HOST", "b.local"), "B"},
		{"server name after host", uwsgi.Vars{}.Add("HTTP_HOST", "b.local").Add("SERVER_NAME", "a.local"), "B"},
		{"server name alone", uwsgi.Vars{}.Add("SERVER_NAME", "a.local"), "A"},
		{"empty server name", uwsgi.Vars{}.Add("SERVER_NAME", "").Add("QUERY_STRING", ""), ""},
		{"no key", uwsgi.Vars{}.Add("REQUEST_METHOD", "GET"), ""},
		{"unknown key", uwsgi.Vars{}.Add("HTTP_HOST", "c.local"), ""},
		{"key over 255 ignored", uwsgi.Vars{}.Add("HTTP_HOST", "b.local").Add("UWSGI_FASTROUTER_KEY", strings.Repeat("x", 256)), "B"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := request(r.addr, 0, 0, tc.vars, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if len(out) != 0 {
					t.Fatalf("answer %q, want none", out)
				}
				return
			}
			if !bytes.Contains(out, []byte("\r\n\r\n"+tc.want+" ")) {
				t.Fatalf("answer %q, want from %s", out, tc.want)
			}
		})
	}
	// The node gets the client's bytes with its own modifiers, and the body.
	vars := uwsgi.Vars{}.Add("UWSGI_FASTROUTER_KEY", "a.local").Add("CONTENT_LENGTH", "1000000").Add("X", "y")
	body := bytes.Repeat([]byte("0123456789abcdefghij"), 50000)
	out, err := request(r.addr, 0, 7, vars, body)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := uwsgi.AppendVars(nil, vars)
	want := fmt.Sprintf("A 5 3 %x %d %x", enc, len(body), sum(body))
	if !bytes.HasSuffix(out, []byte(want)) {
		t.Fatalf("answer %q, want suffix %q", out, want)
	}
	// A bad packet is closed without an answer, and the router still serves.
	c, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte{0, 5, 0, 0, 0, 0, 1, 0, 'x'}) // empty key
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, _ := io.ReadAll(c); len(got) != 0 {
		t.Fatalf("bad packet answered %q", got)
	}
	c.Close()
	if out, err := request(r.addr, 0, 0, uwsgi.Vars{}.Add("HTTP_HOST", "b.local"), nil); err != nil || !bytes.Contains(out, []byte("\r\n\r\nB ")) {
		t.Fatalf("after a bad packet: %q %v", out, err)
	}
}

func TestFailover(t *testing.T) {
	t.Run("table", func(t *testing.T) { testFailover(t, subscription.NewShared()) })
	t.Run("messages", func(t *testing.T) { testFailover(t, nil) })
}

func testFailover(t *testing.T, table *subscription.Shared) {
	n := startNode(t)
	r := startRouter(t, n, subscription.Options{Table: table})
	a := startBackend(t, "A")
	dead := peers.FreeAddr(t) // nothing listens there
	subscribe(t, n, wire.Subscription{Key: "k", Address: a.addr()})
	subscribe(t, n, wire.Subscription{Key: "k", Address: dead})
	vars := uwsgi.Vars{}.Add("HTTP_HOST", "k")
	peers.WaitFor(t, 5*time.Second, func() error {
		st := readStats(t, r.stats)
		if len(st.Subscriptions) != 1 || len(st.Subscriptions[0].Nodes) != 2 {
			return fmt.Errorf("stats %+v", st)
		}
		return nil
	})
	for i := 0; i < 6; i++ {
		out, err := request(r.addr, 0, 0, vars, nil)
		if err != nil || !bytes.Contains(out, []byte("\r\n\r\nA ")) {
			t.Fatalf("request %d: %q %v", i, out, err)
		}
	}
	// The session reports its end after the client got the answer.
	peers.WaitFor(t, 5*time.Second, func() error {
		st := readStats(t, r.stats)
		nodes := st.Subscriptions[0].Nodes
		if len(nodes) != 1 || nodes[0].Name != a.addr() || nodes[0].Requests != 6 || nodes[0].Ref != 0 {
			return fmt.Errorf("after failover: %+v", nodes)
		}
		return nil
	})
	// Every node refusing: the request is closed without an answer.
	a.l.Close()
	if out, err := request(r.addr, 0, 0, vars, nil); err != nil || len(out) != 0 {
		t.Fatalf("all dead: %q %v", out, err)
	}
}

type statsDoc struct {
	Version        string   `json:"version"`
	ActiveSessions int      `json:"active_sessions"`
	Fastrouter     []string `json:"fastrouter"`
	Subscriptions  []struct {
		Key   string `json:"key"`
		Hash  int    `json:"hash"`
		Hits  int    `json:"hits"`
		Nodes []struct {
			Name      string `json:"name"`
			Modifier1 int    `json:"modifier1"`
			Requests  int    `json:"requests"`
			TX        int    `json:"tx"`
			RX        int    `json:"rx"`
			Weight    int    `json:"weight"`
			Ref       int    `json:"ref"`
			DeathMark int    `json:"death_mark"`
		} `json:"nodes"`
	} `json:"subscriptions"`
	Cheap int `json:"cheap"`
}

func readStats(t *testing.T, addr string) statsDoc {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	var d statsDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("stats %q: %v", raw, err)
	}
	return d
}

func TestStatsOrder(t *testing.T) {
	doc := fastrouter.RenderStats(fastrouter.StatsInfo{Version: "v", PID: 1, Cwd: "/x", Sockets: []string{"a", "b"}},
		[]subscription.SlotStats{{Key: "k", Hash: 7, Hits: 2, Nodes: []subscription.NodeStats{{Name: "n", Weight: 1}}}})
	var keys []string
	dec := json.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		if v, ok := tok.(string); ok {
			keys = append(keys, v)
		}
	}
	got := strings.Join(keys, " ")
	want := "version v pid uid gid cwd /x active_sessions fastrouter a b subscriptions key k hash hits sni_enabled nodes " +
		"name n modifier1 modifier2 last_check pid uid gid requests last_requests tx rx cores load weight wrr ref failcnt death_mark cheap"
	if got != want {
		t.Fatalf("keys\n%s\nwant\n%s", got, want)
	}
}

func TestUDPSubscription(t *testing.T) {
	n := startNode(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	udp := pc.LocalAddr().String()
	pc.Close()
	r := startRouter(t, n, subscription.Options{Listen: []string{udp}})
	a := startBackend(t, "A")
	raw, _ := wire.Append(nil, wire.Subscription{Key: "udp.local", Address: a.addr(), Modifier1: 0})
	vars := uwsgi.Vars{}.Add("HTTP_HOST", "udp.local")
	peers.WaitFor(t, 5*time.Second, func() error {
		c, err := net.Dial("udp", udp)
		if err != nil {
			return err
		}
		c.Write(raw)
		c.Close()
		out, err := request(r.addr, 0, 0, vars, nil)
		if err != nil || !bytes.Contains(out, []byte("\r\n\r\nA ")) {
			return fmt.Errorf("%q %v", out, err)
		}
		return nil
	})
	// Unsubscribe removes it.
	un, _ := wire.Append(nil, wire.Subscription{Key: "udp.local", Address: a.addr(), Unsubscribe: true})
	c, _ := net.Dial("udp", udp)
	c.Write(un)
	c.Close()
	peers.WaitFor(t, 5*time.Second, func() error {
		if st := readStats(t, r.stats); len(st.Subscriptions) != 0 {
			return fmt.Errorf("still subscribed: %+v", st.Subscriptions)
		}
		return nil
	})
}
