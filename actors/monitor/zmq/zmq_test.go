package zmq_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"imperial/actors/monitor/zmq"
)

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		arg, want string
		err       error
	}{
		{arg: "tcp://127.0.0.1:5252", want: "tcp://127.0.0.1:5252"},
		{arg: "tcp://*:5252", want: "tcp://0.0.0.0:5252"},
		{arg: "tcp://[::1]:5252", want: "tcp://[::1]:5252"},
		{arg: "ipc:///tmp/emperor.sock", want: "ipc:///tmp/emperor.sock"},
		{arg: "tcp://127.0.0.1", err: zmq.ErrSpec},
		{arg: "tcp://h:99999", err: zmq.ErrSpec},
		{arg: "ipc://", err: zmq.ErrSpec},
		{arg: "udp://h:1", err: zmq.ErrSpec},
		{arg: "127.0.0.1:5252", err: zmq.ErrSpec},
	}
	for _, tt := range tests {
		got, err := zmq.ParseEndpoint(tt.arg)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("ParseEndpoint(%q) err %v, want %v", tt.arg, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseEndpoint(%q) = %q, %v; want %q", tt.arg, got, err, tt.want)
		}
	}
}

func frames(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, f := range s {
		out[i] = []byte(f)
	}
	return out
}

func TestParseMessage(t *testing.T) {
	tests := []struct {
		name   string
		frames [][]byte
		want   string // op name config uid gid socket
		err    error
	}{
		{"touch with config", frames("touch", "z1.ini", "[uwsgi]\n"), "touch z1.ini [uwsgi]\n -1 -1 ", nil},
		{"touch without config", frames("touch", "z1.ini"), "touch z1.ini  -1 -1 ", nil},
		{"touch uid", frames("touch", "z1.ini", "c", "1000"), "touch z1.ini c 1000 -1 ", nil},
		{"touch uid gid", frames("touch", "z1.ini", "c", "1000", "100"), "touch z1.ini c 1000 100 ", nil},
		{"touch all six", frames("touch", "z1.ini", "c", "1", "2", "/tmp/z.sock"), "touch z1.ini c 1 2 /tmp/z.sock", nil},
		{"empty socket is normal", frames("touch", "z1.ini", "c", "", "", ""), "touch z1.ini c -1 -1 ", nil},
		{"extra frames ignored", frames("touch", "z1.ini", "c", "1", "2", "", "junk"), "touch z1.ini c 1 2 ", nil},
		{"destroy", frames("destroy", "z1.ini"), "destroy z1.ini  -1 -1 ", nil},
		{"destroy ignores the rest", frames("destroy", "z1.ini", "c", "x"), "destroy z1.ini  -1 -1 ", nil},

		{"single frame", frames("touch"), "", zmq.ErrMessage},
		{"no frames", nil, "", zmq.ErrMessage},
		{"empty name", frames("touch", ""), "", zmq.ErrMessage},
		{"bogus command", frames("bogus", "z1.ini"), "", zmq.ErrCommand},
		{"bad uid", frames("touch", "z1.ini", "c", "root"), "", zmq.ErrID},
		{"negative gid", frames("touch", "z1.ini", "c", "1", "-5"), "", zmq.ErrID},
		{"config too large", frames("touch", "z1.ini", strings.Repeat("c", zmq.MaxConfig+1)), "", zmq.ErrTooLarge},
		{"name too large", frames("touch", strings.Repeat("n", 300)), "", zmq.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := zmq.ParseMessage(tt.frames)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("%s %s %s %d %d %s", c.Op, c.Name, c.Config, c.UID, c.GID, c.Socket)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorsNameTheInput(t *testing.T) {
	_, err := zmq.ParseMessage(frames("bogus", "z1.ini"))
	if err == nil || !strings.Contains(err.Error(), `unknown command "bogus"`) {
		t.Errorf("err %v", err)
	}
	c, err := zmq.ParseMessage(frames("touch", "z1.ini", "c", "x"))
	if err == nil || c.Name != "z1.ini" {
		t.Errorf("err %v, name %q: a bad message keeps its name for the log", err, c.Name)
	}
}

// Round trip: the frames of a command parse back to it.
func TestRoundTrip(t *testing.T) {
	for _, c := range []zmq.Command{
		{Op: zmq.OpTouch, Name: "a.ini", Config: []byte("[uwsgi]\nx = 1\n"), UID: 1000, GID: 1000, Socket: "/tmp/a.sock"},
		{Op: zmq.OpTouch, Name: "b.xml", UID: -1, GID: -1},
		{Op: zmq.OpDestroy, Name: "c.yml", UID: -1, GID: -1},
	} {
		f := frames(c.Op, c.Name, string(c.Config), id(c.UID), id(c.GID), c.Socket)
		got, err := zmq.ParseMessage(f)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(c) {
			t.Errorf("got %+v, want %+v", got, c)
		}
	}
}

func id(n int) string {
	if n < 0 {
		return ""
	}
	return fmt.Sprint(n)
}

func TestVassal(t *testing.T) {
	v := zmq.Command{Op: zmq.OpTouch, Name: "a.ini", UID: 5, GID: 6, Socket: "/s"}.Vassal("/srv")
	if v.Path != "/srv/a.ini" || v.Dir != "/srv" || v.Config != nil || v.UID != 5 || v.GID != 6 || v.Socket != "/s" {
		t.Errorf("file vassal %+v", v)
	}
	v = zmq.Command{Op: zmq.OpTouch, Name: "/etc/a.ini"}.Vassal("/srv")
	if v.Path != "/etc/a.ini" || v.Dir != "" {
		t.Errorf("absolute file vassal %+v", v)
	}
	v = zmq.Command{Op: zmq.OpTouch, Name: "a.ini", Config: []byte("c")}.Vassal("/srv")
	if v.Path != "" || string(v.Config) != "c" || !v.MTime.IsZero() {
		t.Errorf("config vassal %+v", v)
	}
}
