package subscription

// udpMeta: the socket of one subscription server address.
//
// Accepts  nothing (messages are logged and ignored).
// Sends    MessageSubscription{Local: true} to its parent, one per datagram.
// Owns     the UDP (or unix datagram) socket: Start reads it until Terminate
//          closes it.

import (
	"errors"
	"net"
	"os"
	"strings"

	"ergo.services/ergo/gen"

	wire "imperial/actors/wire/subscription"
)

var _ gen.MetaBehavior = (*udpMeta)(nil)

type udpMeta struct {
	gen.MetaProcess
	conn net.PacketConn
	unix string // socket file to remove at the end
}

// newUDPMeta binds addr: UDP when it contains ':', else a unix datagram socket.
func newUDPMeta(addr string) (*udpMeta, error) {
	if strings.Contains(addr, ":") {
		if strings.HasPrefix(addr, ":") {
			addr = "0.0.0.0" + addr
		}
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, err
		}
		return &udpMeta{conn: c}, nil
	}
	_ = os.Remove(addr)
	c, err := net.ListenPacket("unixgram", addr)
	if err != nil {
		return nil, err
	}
	return &udpMeta{conn: c, unix: addr}, nil
}

func (u *udpMeta) Init(process gen.MetaProcess) error {
	u.MetaProcess = process
	return nil
}

func (u *udpMeta) Start() error {
	// uWSGI reads into a 4096-byte buffer; one more byte tells a longer
	// datagram apart, which Parse then refuses instead of reading it cut.
	buf := make([]byte, wire.MaxDatagram+1)
	for {
		n, from, err := u.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		src := ""
		if from != nil {
			src = from.String()
		}
		raw := append([]byte(nil), buf[:n]...)
		if err := u.Send(u.Parent(), MessageSubscription{Raw: raw, From: src, Local: true}); err != nil {
			u.Log().Warning("subscription from %s dropped: %s", src, err)
		}
	}
}

func (u *udpMeta) HandleMessage(from gen.PID, message any) error {
	u.Log().Warning("unexpected message from %s: %T", from, message)
	return nil
}

func (u *udpMeta) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}

func (u *udpMeta) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"listener": u.conn.LocalAddr().String()}
}

func (u *udpMeta) Terminate(reason error) {
	u.conn.Close()
	if u.unix != "" {
		_ = os.Remove(u.unix)
	}
}
