//go:build peers

package amqp_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"imperial/actors/monitor/amqp"
	"imperial/actors/monitor/netwatch/nwtest"
	"imperial/rel/peers"
)

// Against a real RabbitMQ 3.10 with pika publishing to uwsgi.emperor: direct
// configs spawn, republishing reloads (real uWSGI double-frees here), an
// empty body removes; config paths and http:// URLs spawn and reload, a gone
// file or a non-200 removes; bad messages are logged and change nothing; a
// broker killed and restarted keeps the vassals (nothing sent meanwhile).
func TestAMQP(t *testing.T) {
	mq := peers.StartRabbitMQ(t)
	e := nwtest.Start(t)
	cwd := t.TempDir()
	o, err := amqp.FromSpec("amqp://"+mq.Addr(), mq.Addr(), e.Name, 0, cwd)
	if err != nil {
		t.Fatal(err)
	}
	o.MaxBackoff = 300 * time.Millisecond
	e.Spawn(t, amqp.Factory, o)
	e.WaitLog(t, 20*time.Second, "[emperor-amqp]", "connected")
	pub := func(key, body string) { mq.Publish(t, peers.AMQPMessage{Key: key, Body: body}) }

	// direct configs: spawn, reload on every republish, with the newest config
	pub("direct1.ini", "[uwsgi]\nsocket = :3031\n")
	s := e.Expect(t, 5*time.Second, "direct1.ini")
	d1 := nwtest.Find(t, s, "direct1.ini")
	if string(d1.Config) != "[uwsgi]\nsocket = :3031\n" || d1.Path != "" || d1.MTime.IsZero() {
		t.Errorf("direct1.ini = %+v", d1)
	}
	for _, cfg := range []string{"[uwsgi]\nsocket = :3032\n", "[uwsgi]\nsocket = :3032\n"} {
		pub("direct1.ini", cfg)
		s = e.Expect(t, 5*time.Second, "direct1.ini")
		d := nwtest.Find(t, s, "direct1.ini")
		if !d.MTime.After(d1.MTime) || string(d.Config) != cfg {
			t.Fatalf("republished direct1.ini: %v → %v, %q", d1.MTime, d.MTime, d.Config)
		}
		d1 = d
	}

	// a config path (relative: the emperor's directory)
	path := filepath.Join(cwd, "p1.ini")
	if err := os.WriteFile(path, []byte("[uwsgi]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pub("", "p1.ini")
	s = e.Expect(t, 5*time.Second, "direct1.ini,p1.ini")
	p1 := nwtest.Find(t, s, "p1.ini")
	if p1.Path != path || p1.Config != nil {
		t.Errorf("p1.ini = %+v", p1)
	}
	pub("", "p1.ini")
	if p := nwtest.Find(t, e.Expect(t, 5*time.Second, "direct1.ini,p1.ini"), "p1.ini"); !p.MTime.After(p1.MTime) {
		t.Errorf("republished path did not reload: %v → %v", p1.MTime, p.MTime)
	}

	// an http:// URL: 200 spawns with the body, another status removes
	var status atomic.Int32
	status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(status.Load()))
		w.Write([]byte("[uwsgi]\nsocket = :3033\n"))
	}))
	defer srv.Close()
	url := srv.URL + "/apps/u1.ini"
	name := strings.ReplaceAll(strings.TrimPrefix(url, "http://"), ":", "_")
	pub("", url)
	s = e.Expect(t, 5*time.Second, name+",direct1.ini,p1.ini")
	if u := nwtest.Find(t, s, name); string(u.Config) != "[uwsgi]\nsocket = :3033\n" {
		t.Errorf("%s = %+v", name, u)
	}
	status.Store(http.StatusNotFound)
	pub("", url)
	e.Expect(t, 5*time.Second, "direct1.ini,p1.ini")

	// bad messages: logged, nothing changes; the next snapshot is the next change
	pub("", "")
	pub("", "http://127.0.0.1:1/refused.ini")
	pub("", "nosuch.ini") // unknown and not a file: nothing to remove
	e.WaitLog(t, 5*time.Second, "[emperor-amqp]", amqp.ErrEmpty.Error())
	e.WaitLog(t, 5*time.Second, "[emperor-amqp]", "vassal 127.0.0.1_1/refused.ini", amqp.ErrFetch.Error())
	e.WaitLog(t, 5*time.Second, "[emperor-amqp]", `unknown instance "nosuch.ini"`)

	// removals: the file is gone; an empty direct body
	os.Remove(path)
	pub("", "p1.ini")
	e.Expect(t, 5*time.Second, "direct1.ini")
	pub("direct2.ini", "[uwsgi]\n")
	e.Expect(t, 5*time.Second, "direct1.ini,direct2.ini")
	pub("direct1.ini", "")
	e.Expect(t, 5*time.Second, "direct2.ini")

	// the broker dies and comes back: the vassals stay, nothing is sent meanwhile
	mq.Kill()
	e.WaitLog(t, 15*time.Second, "[emperor-amqp]", "backend unavailable")
	mq.Start(t)
	e.WaitLog(t, 30*time.Second, "[emperor-amqp]", "backend is back")
	e.None(t)
	pub("direct3.ini", "[uwsgi]\n")
	s = e.Expect(t, 5*time.Second, "direct2.ini,direct3.ini")
	if !strings.HasPrefix(s.Source, "amqp://") {
		t.Errorf("source %q", s.Source)
	}
}
