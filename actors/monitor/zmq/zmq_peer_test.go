//go:build peers

package zmq_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"imperial/actors/monitor/netwatch/nwtest"
	"imperial/actors/monitor/zmq"
	"imperial/rel/peers"
)

// push sends multipart messages from a libzmq PUSH socket (pyzmq), as uWSGI's
// emperor_zeromq users do, and waits until they are delivered.
func push(t *testing.T, endpoint string, msgs ...[]string) {
	t.Helper()
	py := peers.PyZMQ(t)
	data, err := json.Marshal(msgs)
	if err != nil {
		t.Fatal(err)
	}
	code := fmt.Sprintf(`import json, sys, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.PUSH)
s.connect(%q)
for m in json.load(sys.stdin):
    s.send_multipart([f.encode() for f in m])
s.close(linger=10000)
ctx.term()
`, endpoint)
	cmd := exec.Command(py, "-c", code)
	cmd.Stdin = strings.NewReader(string(data))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pyzmq push: %v\n%s", err, out)
	}
}

// Against pyzmq (libzmq 4.3) PUSH peers: touch spawns and reloads (twice in
// one second too), config-less touches name a file, all six parts and the
// five-part form are read, bad messages are logged, destroy removes; a
// second source on a busy endpoint retries until it is free.
func TestZeroMQ(t *testing.T) {
	e := nwtest.Start(t)
	cwd := t.TempDir()
	ep := fmt.Sprintf("tcp://127.0.0.1:%d", peers.FreePort(t))
	o, err := zmq.FromSpec("zmq://"+ep, ep, e.Name, 0, cwd)
	if err != nil {
		t.Fatal(err)
	}
	first := e.Spawn(t, zmq.Factory, o)
	e.WaitLog(t, 10*time.Second, "[emperor-zeromq]", "connected")

	push(t, ep, []string{"touch", "z1.ini", "[uwsgi]\nsocket = :3031\n"})
	s := e.Expect(t, 5*time.Second, "z1.ini")
	z1 := nwtest.Find(t, s, "z1.ini")
	if string(z1.Config) != "[uwsgi]\nsocket = :3031\n" || z1.UID != -1 || z1.Socket != "" || s.Source != "zmq://"+ep {
		t.Errorf("z1.ini = %+v (source %q)", z1, s.Source)
	}
	push(t, ep, []string{"touch", "z1.ini", "[uwsgi]\nsocket = :3032\n"})
	z := nwtest.Find(t, e.Expect(t, 5*time.Second, "z1.ini"), "z1.ini")
	if !z.MTime.After(z1.MTime) || !strings.Contains(string(z.Config), ":3032") {
		t.Errorf("second touch: %v → %v, %q", z1.MTime, z.MTime, z.Config)
	}

	push(t, ep,
		[]string{"touch", "f.ini"},
		[]string{"touch", "s.ini", "[uwsgi]\n", "1000", "1001", "/tmp/s.sock"},
		[]string{"touch", "five.ini", "[uwsgi]\n", "1000", "1001"})
	var last string
	for i := 0; i < 3; i++ {
		s = e.Next(t, 5*time.Second)
		last = nwtest.Names(s)
	}
	if last != "f.ini,five.ini,s.ini,z1.ini" {
		t.Fatalf("snapshot [%s]", last)
	}
	if f := nwtest.Find(t, s, "f.ini"); f.Path != filepath.Join(cwd, "f.ini") || f.Dir != cwd || f.Config != nil {
		t.Errorf("f.ini = %+v", f)
	}
	if v := nwtest.Find(t, s, "s.ini"); v.UID != 1000 || v.GID != 1001 || v.Socket != "/tmp/s.sock" {
		t.Errorf("s.ini = %+v", v)
	}
	if v := nwtest.Find(t, s, "five.ini"); v.UID != 1000 || v.GID != 1001 || v.Socket != "" {
		t.Errorf("five.ini = %+v", v)
	}

	// bad messages are logged and change nothing
	push(t, ep, []string{"bogus", "z1.ini"}, []string{"touch"}, []string{"touch", "u.ini", "c", "root"}, []string{"destroy", "nope.ini"})
	e.WaitLog(t, 5*time.Second, "[emperor-zeromq]", `unknown command "bogus"`)
	e.WaitLog(t, 5*time.Second, "[emperor-zeromq]", "bad message received (command and instance name required)")
	e.WaitLog(t, 5*time.Second, "[emperor-zeromq]", "vassal u.ini", `uid "root"`)
	e.WaitLog(t, 5*time.Second, "[emperor-zeromq]", `unknown instance "nope.ini"`)

	push(t, ep, []string{"destroy", "z1.ini"})
	e.Expect(t, 5*time.Second, "f.ini,five.ini,s.ini")

	// a second source on the same endpoint cannot bind: it retries, and binds
	// once the first one is gone
	o2 := o
	o2.Source = "zmq-second"
	e.Spawn(t, zmq.Factory, o2)
	e.WaitLog(t, 5*time.Second, "zmq-second", "backend unavailable")
	if err := e.Node.Kill(first); err != nil {
		t.Fatal(err)
	}
	e.WaitLog(t, 10*time.Second, "zmq-second", "backend is back")
	push(t, ep, []string{"touch", "z2.ini", "[uwsgi]\n"})
	if s = e.Expect(t, 5*time.Second, "z2.ini"); s.Source != "zmq-second" {
		t.Errorf("source %q", s.Source)
	}
}
