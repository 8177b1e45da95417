//go:build peers

package router_test

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"imperial/rel/peers"
)

// buildImperial builds the imperial binary into a temp directory.
func buildImperial(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "imperial")
	out, err := exec.Command("go", "build", "-o", bin, "imperial/rel/imperial").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestPeerSeedDemo runs the seed's cluster demo with the imperial binary in
// every role: a FastRouter with its subscription server, workers announcing
// themselves with the seed's `--subscribe-to HOST:PORT:psgi_cluster:5`, nginx
// in front (uwsgi_param UWSGI_FASTROUTER_KEY psgi_cluster), and the HTTP front
// a newcomer curls without nginx. A worker stopped with SIGINT unsubscribes
// and its traffic moves to the other with no failed request.
func TestPeerSeedDemo(t *testing.T) {
	bin := buildImperial(t)
	dir := t.TempDir()
	fr, sub, stats, front := peers.FreeAddr(t), peers.FreeUDP(t), peers.FreeAddr(t), peers.FreeAddr(t)
	router := peers.Start(t, nil, bin, "--fastrouter", fr, "--fastrouter-subscription-server", sub,
		"--fastrouter-stats", stats, "--http", front, "--master")
	defer func() {
		if t.Failed() {
			t.Logf("router output:\n%s", router.Output())
		}
	}()
	w1, w2 := peers.FreeAddr(t), peers.FreeAddr(t)
	worker1 := peers.Start(t, nil, bin, "--socket", w1, "--subscribe-to", sub+":psgi_cluster:5",
		"--wsgi-file", peers.PythonApp(t, dir, "app1.wsgi", appSrc("W1")), "--master", "--processes", "2")
	peers.Start(t, nil, bin, "-s", w2, "--subscribe-to", sub+":psgi_cluster,5",
		"--wsgi-file", peers.PythonApp(t, dir, "app2.wsgi", appSrc("W2")), "-M", "-p", "2")
	s := waitNodes(t, stats, "psgi_cluster", 2)
	for _, n := range s.Subscriptions[0].Nodes {
		if n.Modifier1 != 5 {
			t.Fatalf("node %+v: want modifier1 5 from both spellings", n)
		}
	}
	ngx := peers.StartNginx(t, fmt.Sprintf(`location / { include uwsgi_params; uwsgi_param UWSGI_FASTROUTER_KEY psgi_cluster; uwsgi_pass %s; }`, fr))
	client := &http.Client{Timeout: 10 * time.Second}
	seen := map[string]int{}
	for i := 0; i < 10; i++ {
		code, body := get(t, client, fmt.Sprintf("http://%s/n%d", ngx, i))
		if code != 200 || !strings.Contains(body, fmt.Sprintf(" /n%d ", i)) {
			t.Fatalf("nginx request %d: %d %q", i, code, body)
		}
		seen[strings.Fields(body)[0]]++
	}
	if seen["W1"] == 0 || seen["W2"] == 0 {
		t.Fatalf("both workers should serve: %v", seen)
	}
	// The HTTP front routes by Host: the newcomer's curl.
	req, _ := http.NewRequest("GET", "http://"+front+"/curl", nil)
	req.Host = "psgi_cluster"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP front: %d", resp.StatusCode)
	}
	// SIGINT: the worker unsubscribes and stops; nothing fails meanwhile.
	worker1.Signal(syscall.SIGINT)
	waitNodes(t, stats, "psgi_cluster", 1)
	for i := 0; i < 10; i++ {
		code, body := get(t, client, fmt.Sprintf("http://%s/after%d", ngx, i))
		if code != 200 || !strings.HasPrefix(body, "W2 ") {
			t.Fatalf("after W1 left, request %d: %d %q", i, code, body)
		}
	}
	select {
	case <-worker1.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("worker did not exit on SIGINT")
	}
}

// TestPeerWerkzeugDemoBinary: the command line, run as is.
func TestPeerWerkzeugDemoBinary(t *testing.T) {
	bin := buildImperial(t)
	addr := peers.FreeAddr(t)
	c := peers.Start(t, nil, bin, "--http", addr, "--module", "werkzeug.testapp:test_app", "-p", "2")
	defer func() {
		if t.Failed() {
			t.Logf("imperial output:\n%s", c.Output())
		}
	}()
	peers.WaitFor(t, 15*time.Second, func() error { return peers.Accepts(addr) })
	code, body := get(t, &http.Client{Timeout: 10 * time.Second}, "http://"+addr+"/")
	if code != 200 || !strings.Contains(body, "WSGI Information") {
		t.Fatalf("werkzeug: %d %.200q", code, body)
	}
}
