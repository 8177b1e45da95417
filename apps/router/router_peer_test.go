//go:build peers

package router_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/wire/uwsgi"
	"imperial/node"
	"imperial/node/nodetest"
	"imperial/rel/peers"
	"imperial/rel/peers/imperialtest"
)

// startImperial runs an imperial instance in this process: the options of a
// command line, the services apps.Build makes of them, on a node with (dist)
// or without distribution.
func startImperial(t *testing.T, dist bool, args ...string) gen.Node {
	t.Helper()
	name := ""
	if dist {
		name = peers.UniqueName("imp") + "@127.0.0.1"
	}
	return imperialtest.Start(t, nil, name, args...)
}

// appSrc is a WSGI app answering "NAME PATH HOST".
func appSrc(name string) string {
	return fmt.Sprintf(`
def application(env, start_response):
    body = ('%s %%s %%s' %% (env['PATH_INFO'], env.get('HTTP_HOST', ''))).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
`, name)
}

type frStats struct {
	Subscriptions []struct {
		Key   string `json:"key"`
		Nodes []struct {
			Name      string `json:"name"`
			Modifier1 int    `json:"modifier1"`
			Requests  int    `json:"requests"`
			DeathMark int    `json:"death_mark"`
		} `json:"nodes"`
	} `json:"subscriptions"`
}

func readStats(addr string) (frStats, error) {
	var s frStats
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return s, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	raw, err := io.ReadAll(c)
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(raw, &s)
}

// waitNodes waits until the stats at addr list n nodes for key.
func waitNodes(t *testing.T, stats, key string, n int) frStats {
	t.Helper()
	var s frStats
	peers.WaitFor(t, 15*time.Second, func() error {
		var err error
		if s, err = readStats(stats); err != nil {
			return err
		}
		for _, sl := range s.Subscriptions {
			if sl.Key == key && len(sl.Nodes) == n {
				return nil
			}
		}
		return fmt.Errorf("stats %+v: want %d nodes for %s", s.Subscriptions, n, key)
	})
	return s
}

func get(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestPeerNginxFastRouterMixedWorkers: nginx (uwsgi_pass, UWSGI_FASTROUTER_KEY)
// → imperial's FastRouter → a real uWSGI python3 worker and an imperial worker
// running a .wsgi file through the Python adapter, both subscribed to
// imperial; then the real worker is SIGKILLed and every following request is
// served by the imperial one, none failing.
func TestPeerNginxFastRouterMixedWorkers(t *testing.T) {
	dir := t.TempDir()
	fr, sub, stats := peers.FreeAddr(t), peers.FreeUDP(t), peers.FreeAddr(t)
	startImperial(t, false, "--fastrouter", fr, "--fastrouter-subscription-server", sub, "--fastrouter-stats", stats)

	real := peers.FreeAddr(t)
	u := peers.StartUWSGI(t, "--plugins", "python3", "--master", "--processes", "1", "--socket", real,
		"--wsgi-file", peers.PythonApp(t, dir, "real.py", appSrc("REAL")), "--subscribe-to", sub+":app.local",
		"--disable-logging")
	imp := peers.FreeAddr(t)
	startImperial(t, false, "--socket", imp, "--wsgi-file", peers.PythonApp(t, dir, "imp.wsgi", appSrc("IMP")),
		"--processes", "2", "--master", "--subscribe-to", sub+":app.local")
	waitNodes(t, stats, "app.local", 2)

	ngx := peers.StartNginx(t, fmt.Sprintf(`location / { include uwsgi_params; uwsgi_param UWSGI_FASTROUTER_KEY app.local; uwsgi_pass %s; }`, fr))
	client := &http.Client{Timeout: 10 * time.Second}
	seen := map[string]int{}
	for i := 0; i < 20; i++ {
		code, body := get(t, client, fmt.Sprintf("http://%s/p%d", ngx, i))
		want := fmt.Sprintf(" /p%d ", i)
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("request %d: %d %q", i, code, body)
		}
		seen[strings.Fields(body)[0]]++
	}
	if seen["REAL"] == 0 || seen["IMP"] == 0 {
		t.Fatalf("both workers should serve: %v", seen)
	}

	u.KillHard() // no unsubscribe: the router finds out by the refused connect
	for i := 0; i < 20; i++ {
		code, body := get(t, client, fmt.Sprintf("http://%s/after%d", ngx, i))
		if code != 200 || !strings.HasPrefix(body, "IMP /after") {
			t.Fatalf("after the kill, request %d: %d %q", i, code, body)
		}
	}
	s := waitNodes(t, stats, "app.local", 1)
	if n := s.Subscriptions[0].Nodes[0]; n.Name != imp {
		t.Fatalf("surviving node %+v, want %s", n, imp)
	}
}

// uwsgiGet sends one uwsgi request with vars and returns the answer.
func uwsgiGet(addr string, vars uwsgi.Vars) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	pkt, err := uwsgi.AppendPacket(nil, 0, 0, vars)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(pkt); err != nil {
		return nil, err
	}
	return io.ReadAll(c)
}

// TestPeerImperialWorkerBehindRealFastRouter: an imperial worker subscribes
// to a real uWSGI FastRouter with the seed's uWSGI 0.9 spelling (KEY:5); the
// real router stores key psgi_cluster with modifier1 5, routes to it, and
// marks it failed when the worker stops (unsubscribe).
func TestPeerImperialWorkerBehindRealFastRouter(t *testing.T) {
	fr, sub, stats := peers.FreeAddr(t), peers.FreeUDP(t), peers.FreeAddr(t)
	u := peers.StartUWSGI(t, "--plugins", "corerouter,fastrouter", "--master", "--fastrouter", fr,
		"--fastrouter-subscription-server", sub, "--fastrouter-stats", stats)
	peers.WaitFor(t, 10*time.Second, func() error { return peers.Accepts(stats) })
	imp := peers.FreeAddr(t)
	n := startImperial(t, false, "--socket", imp, "--app", "testapp", "--subscribe-to", sub+":psgi_cluster:5")
	s := waitNodes(t, stats, "psgi_cluster", 1)
	if nd := s.Subscriptions[0].Nodes[0]; nd.Name != imp || nd.Modifier1 != 5 {
		t.Fatalf("real router's node %+v, want %s with modifier1 5", nd, imp)
	}
	out, err := uwsgiGet(fr, uwsgi.Vars{}.Add("REQUEST_METHOD", "GET").Add("REQUEST_URI", "/hello").
		Add("PATH_INFO", "/hello").Add("SERVER_PROTOCOL", "HTTP/1.1").Add("HTTP_HOST", "psgi_cluster"))
	if err != nil || !bytes.HasPrefix(out, []byte("HTTP/1.1 200 OK")) ||
		!bytes.Contains(out, []byte("<th>PATH_INFO</th><td><code>/hello</code>")) {
		t.Fatalf("through the real router: %q %v", out, err)
	}
	n.Stop()
	peers.WaitFor(t, 10*time.Second, func() error {
		if want := "psgi_cluster => marking " + imp + " as failed"; !strings.Contains(u.Output(), want) {
			return fmt.Errorf("no %q in the router's log", want)
		}
		return nil
	})
}

// TestPeerCluster: two connected imperial nodes, each with a FastRouter and a
// subscription server; a real uWSGI worker subscribes to the first only, and
// the second routes to it too (item 6: one view across the cluster).
func TestPeerCluster(t *testing.T) {
	dir := t.TempDir()
	fr1, sub1, st1 := peers.FreeAddr(t), peers.FreeUDP(t), peers.FreeAddr(t)
	fr2, sub2, st2 := peers.FreeAddr(t), peers.FreeUDP(t), peers.FreeAddr(t)
	n1 := startImperial(t, true, "--fastrouter", fr1, "--fastrouter-subscription-server", sub1, "--fastrouter-stats", st1)
	n2 := startImperial(t, true, "--fastrouter", fr2, "--fastrouter-subscription-server", sub2, "--fastrouter-stats", st2)
	if err := node.Connect(n1, n2.Name()); err != nil {
		t.Fatal(err)
	}
	real := peers.FreeAddr(t)
	peers.StartUWSGI(t, "--plugins", "python3", "--master", "--socket", real,
		"--wsgi-file", peers.PythonApp(t, dir, "c.py", appSrc("CLUSTER")), "--subscribe-to", sub1+":cluster.local",
		"--disable-logging")
	waitNodes(t, st1, "cluster.local", 1)
	waitNodes(t, st2, "cluster.local", 1)
	for _, fr := range []string{fr1, fr2} {
		out, err := uwsgiGet(fr, uwsgi.Vars{}.Add("PATH_INFO", "/c").Add("HTTP_HOST", "cluster.local"))
		if err != nil || !bytes.HasSuffix(out, []byte("CLUSTER /c cluster.local")) {
			t.Fatalf("via %s: %q %v", fr, out, err)
		}
	}
	// An Erlang node sees the second router's table.
	out := peers.RunErl(t, 20*time.Second, peers.ErlOptions{Name: peers.UniqueName("erl") + "@127.0.0.1",
		Cookie: nodetest.Cookie, Eval: fmt.Sprintf(`io:format("SUBS ~p~n", [rpc:call('%s', imperial_router, subscriptions, [])])`, string(n2.Name()))})
	if want := fmt.Sprintf(`[{<<"cluster.local">>,[{<<"%s">>,0,0,1,1,0,false}]}]`, real); !strings.Contains(strings.Join(strings.Fields(out), ""), want) {
		t.Fatalf("erl sees %q, want %s", out, want)
	}
}
