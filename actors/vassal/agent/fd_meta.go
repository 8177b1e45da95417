package agent

// fdMeta owns the emperor control socket of an imperial vassal.
//
// Accepts  messageWrite (one byte for the emperor), messageReexec (reload:
//          re-exec this binary in place).
// Replies  nothing.
// Sends    messageByte for every byte read, messageLost when the socket
//          closes, to its parent (the agent).
// Spawns   nothing; Start first connects this node to the emperor's node
//          when there is one.
// Owns     reading and writing the descriptor (inherited, non-blocking, kept
//          open and without close-on-exec so that a re-exec keeps it; the
//          *os.File itself belongs to the caller of the agent).

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ergo.services/ergo/gen"
)

type messageReexec struct{}

type fdMeta struct {
	proc        gen.MetaProcess
	f           *os.File
	node        gen.Node
	emperorNode gen.Atom
	reload      func()
	reloads     int
}

func (m *fdMeta) Init(p gen.MetaProcess) error {
	m.proc = p
	return nil
}

func (m *fdMeta) Start() error {
	if m.emperorNode != "" && m.node != nil {
		var err error
		for i := 0; i < 5; i++ {
			if _, err = m.node.Network().GetNode(m.emperorNode); err == nil {
				break
			}
			time.Sleep(time.Duration(i+1) * 100 * time.Millisecond)
		}
		if err != nil {
			m.proc.Log().Warning("cannot connect to the emperor's node %s: %v", m.emperorNode, err)
		}
	}
	m.f.SetReadDeadline(time.Time{}) // a previous agent's meta may have set one
	var buf [16]byte
	for {
		n, err := m.f.Read(buf[:])
		for _, b := range buf[:n] {
			m.proc.Send(m.proc.Parent(), messageByte{b: b})
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil // Terminate: the agent is gone
		}
		if err != nil {
			m.proc.Send(m.proc.Parent(), messageLost{err: err.Error()})
			return nil
		}
	}
}

func (m *fdMeta) HandleMessage(from gen.PID, message any) error {
	switch msg := message.(type) {
	case messageWrite:
		if _, err := m.f.Write([]byte{msg.b}); err != nil {
			m.proc.Log().Error("write to emperor: %v", err)
		}
	case messageReexec:
		exe, err := os.Executable()
		if err != nil {
			m.proc.Log().Error("reload: %v", err)
			return nil
		}
		env := make([]string, 0, len(os.Environ())+1)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "UWSGI_RELOADS=") {
				env = append(env, kv)
			}
		}
		env = append(env, "UWSGI_RELOADS="+strconv.Itoa(m.reloads+1))
		m.proc.Log().Info("binary reloading imperial...")
		m.releaseName()
		err = syscall.Exec(exe, os.Args, env)
		m.proc.Log().Error("reload: exec %s: %v", exe, err)
	}
	return nil
}

// releaseName stops distribution and waits until epmd has dropped this
// node's name, so that the re-executed binary can register it again (epmd
// notices the closed registration connection a moment after the exec).
func (m *fdMeta) releaseName() {
	if m.node == nil || m.node.Network().Mode() == gen.NetworkModeDisabled {
		return
	}
	alive, _, _ := strings.Cut(string(m.node.Name()), "@")
	m.node.NetworkStop()
	port := "4369"
	if p := os.Getenv("ERL_EPMD_PORT"); p != "" {
		port = p
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && epmdKnows(net.JoinHostPort("127.0.0.1", port), alive) {
		time.Sleep(10 * time.Millisecond)
	}
}

// epmdKnows asks epmd (PORT_PLEASE2_REQ) whether alive is registered.
func epmdKnows(addr, alive string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	req := make([]byte, 0, 3+len(alive))
	req = binary.BigEndian.AppendUint16(req, uint16(1+len(alive)))
	req = append(append(req, 'z'), alive...) // PORT_PLEASE2_REQ
	if _, err := c.Write(req); err != nil {
		return false
	}
	var resp [2]byte // PORT2_RESP 'w', result (0: known)
	if _, err := io.ReadFull(c, resp[:]); err != nil {
		return false
	}
	return resp[0] == 'w' && resp[1] == 0
}

func (m *fdMeta) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return nil, nil
}

// Terminate stops Start's Read (the descriptor is non-blocking, so a deadline
// wakes it) without closing the descriptor, which the next agent reuses.
func (m *fdMeta) Terminate(reason error) { m.f.SetReadDeadline(time.Now()) }

func (m *fdMeta) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"fd": m.f.Name()}
}
