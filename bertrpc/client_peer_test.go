//go:build peers

package bertrpc_test

import (
	"bufio"
	"context"
	"errors"
	"os/exec"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"imperial/bertrpc"
	"imperial/bertrpc/bert"
	"imperial/node/etf"
)

// startRubyServer runs testdata/ruby_server.rb and returns its address.
func startRubyServer(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("ruby")
	if err != nil {
		t.Fatalf("ruby not found: run rel/scripts/install-peers.sh")
	}
	cmd := exec.Command(bin, "testdata/ruby_server.rb")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close() // the server exits when stdin closes
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		if s := stderr.String(); s != "" {
			t.Logf("ruby server stderr: %s", s)
		}
	})
	port, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("ruby server did not print its port (is ruby-bert installed? run rel/scripts/install-peers.sh): %v: %s", err, stderr.String())
	}
	return "127.0.0.1:" + strings.TrimSpace(port)
}

func TestRubyServer(t *testing.T) {
	addr := startRubyServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := bertrpc.Options{}

	if sum, err := bertrpc.CallOnce(ctx, addr, opts, "ext", "add", 1, 2); err != nil || sum != int64(3) {
		t.Fatalf("ext:add(1, 2) = %v, %v", sum, err)
	}
	when := time.Unix(1255295581, 446228000).UTC()
	echoes := []struct{ in, want any }{
		{nil, nil},
		{true, true},
		{1.5, 1.5},
		{"héllo", []byte("héllo")},
		{[]any{}, etf.List{}},
		{bert.Dict{{Key: etf.Atom("at"), Value: when}}, bert.Dict{{Key: etf.Atom("at"), Value: when}}},
		{bert.Regex{Source: "a.c", Options: []string{"caseless"}}, bert.Regex{Source: "a.c", Options: []string{"caseless"}}},
		{etf.Tuple{etf.Atom("a"), []any{nil, false}}, etf.Tuple{etf.Atom("a"), etf.List{nil, false}}},
	}
	for _, e := range echoes {
		got, err := bertrpc.CallOnce(ctx, addr, opts, "ext", "echo", e.in)
		if err != nil {
			t.Fatalf("echo %#v: %v", e.in, err)
		}
		if !reflect.DeepEqual(got, e.want) {
			t.Fatalf("echo %#v = %#v, want %#v", e.in, got, e.want)
		}
	}

	_, err := bertrpc.CallOnce(ctx, addr, opts, "ext", "fail")
	var be *bert.Error
	if !errors.As(err, &be) || be.Type != "user" || be.Class != "RuntimeError" || be.Detail != "abandon hope!" || len(be.Backtrace) == 0 {
		t.Fatalf("ext:fail: %#v (%v)", be, err)
	}
	if _, err := bertrpc.CallOnce(ctx, addr, opts, "ext", "nope"); !errors.Is(err, bert.ErrRemoteServer) {
		t.Fatalf("ext:nope: %v", err)
	}
	if err := bertrpc.CastOnce(ctx, addr, opts, "ext", "add", 1, 2); err != nil {
		t.Fatalf("cast: %v", err)
	}

	// Dial, Info, Call, Close: the Ernie way to send a priority.
	c, err := bertrpc.Dial(ctx, addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Info(ctx, "priority", etf.Atom("low")); err != nil {
		t.Fatal(err)
	}
	got, err := c.Call(ctx, "ext", "infos")
	want := etf.List{etf.Tuple{etf.Atom("priority"), etf.List{etf.Atom("low")}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("infos = %#v, %v; want %#v", got, err, want)
	}
}
