package zmq

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"imperial/actors/emperor"
)

// Limits on messages.
const (
	MaxConfig = 65535 // bytes of a config: what the vassal's config socket carries
	MaxSocket = 4096  // bytes of an on-demand socket name
)

// Commands.
const (
	OpTouch   = "touch"
	OpDestroy = "destroy"
)

// Command is one decoded message.
type Command struct {
	Op     string // OpTouch or OpDestroy
	Name   string
	Config []byte // a copy; empty: the file Name
	UID    int    // -1: none
	GID    int    // -1: none
	Socket string
}

// ParseEndpoint checks the argument of `zmq://ARG`: tcp://HOST:PORT or ipc://PATH.
func ParseEndpoint(arg string) (string, error) {
	arg = strings.TrimSpace(arg)
	switch {
	case strings.HasPrefix(arg, "tcp://"):
		host, port, err := net.SplitHostPort(arg[len("tcp://"):])
		if err != nil {
			return "", fmt.Errorf("%w: %q: %v", ErrSpec, arg, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return "", fmt.Errorf("%w: %q: bad port", ErrSpec, arg)
		}
		if host == "*" {
			arg = "tcp://0.0.0.0:" + port // zmq's "any interface"
		}
		return arg, nil
	case strings.HasPrefix(arg, "ipc://") && len(arg) > len("ipc://"):
		return arg, nil
	}
	return "", fmt.Errorf("%w: %q: want tcp://HOST:PORT or ipc://PATH", ErrSpec, arg)
}

// ParseMessage decodes the frames of one message. Frames past the sixth are
// ignored, as uWSGI does.
func ParseMessage(frames [][]byte) (Command, error) {
	c := Command{UID: -1, GID: -1}
	if len(frames) < 2 || len(frames[1]) == 0 {
		return c, ErrMessage
	}
	if len(frames[1]) > emperor.MaxNameLen {
		return c, fmt.Errorf("%w: name %d bytes > %d", ErrTooLarge, len(frames[1]), emperor.MaxNameLen)
	}
	c.Name = string(frames[1])
	switch op := string(frames[0]); op {
	case OpDestroy:
		c.Op = op
		return c, nil
	case OpTouch:
		c.Op = op
	default:
		if len(op) > 64 {
			op = op[:64] + "..."
		}
		return c, fmt.Errorf("%w %q", ErrCommand, op)
	}
	if len(frames) > 2 {
		if len(frames[2]) > MaxConfig {
			return c, fmt.Errorf("%w: config %d bytes > %d", ErrTooLarge, len(frames[2]), MaxConfig)
		}
		if len(frames[2]) > 0 {
			c.Config = append([]byte(nil), frames[2]...)
		}
	}
	var err error
	if len(frames) > 3 {
		if c.UID, err = parseID("uid", frames[3]); err != nil {
			return c, err
		}
	}
	if len(frames) > 4 {
		if c.GID, err = parseID("gid", frames[4]); err != nil {
			return c, err
		}
	}
	if len(frames) > 5 {
		if len(frames[5]) > MaxSocket {
			return c, fmt.Errorf("%w: socket %d bytes > %d", ErrTooLarge, len(frames[5]), MaxSocket)
		}
		c.Socket = string(frames[5])
	}
	return c, nil
}

func parseID(what string, b []byte) (int, error) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 0 {
		if len(s) > 32 {
			s = s[:32] + "..."
		}
		return -1, fmt.Errorf("%w: %s %q", ErrID, what, s)
	}
	return int(n), nil
}

// Vassal is a touch's vassal; cwd is the emperor's directory, where a
// config-less vassal's file is.
func (c Command) Vassal(cwd string) emperor.VassalConfig {
	v := emperor.VassalConfig{Name: c.Name, Config: c.Config, UID: c.UID, GID: c.GID, Socket: c.Socket}
	if len(c.Config) == 0 {
		v.Config = nil
		if filepath.IsAbs(c.Name) {
			v.Path = c.Name
		} else {
			v.Path, v.Dir = filepath.Join(cwd, c.Name), cwd
		}
	}
	return v
}
