package mongrel2

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/security/null"
)

// zconn is one ZMTP 3.0 connection to a libzmq peer (Mongrel2, a log
// collector). zmq4 does the greeting and the NULL-security handshake
// (zmq4.Open: socket types checked, our identity sent); then this file
// reads and writes the frames itself, because zmq4's sockets read a frame
// header and body with separate unbuffered reads, allocate whatever length
// the peer announces, copy a PUSH message to every peer and reconnect by
// re-dialling from inside their write path. Here reads go through a buffer,
// a message is bounded before its memory is allocated, and a message is
// written with one writev (concurrent writers each write whole messages: the
// net.Conn serialises writes).
type zconn struct {
	nc  net.Conn
	br  *bufio.Reader
	max int // largest message (all frames) accepted
}

// ZMTP frame flags.
const (
	zmtpMore    = 0x01
	zmtpLong    = 0x02
	zmtpCommand = 0x04
)

// errTooLarge: a peer announced a message over the limit.
var errTooLarge = errors.New("mongrel2: zeromq message too large")

// handshakeTimeout bounds the ZMTP greeting and handshake.
const handshakeTimeout = 5 * time.Second

// bufConn reads through a buffer; everything else is the connection's.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (b bufConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// splitEndpoint turns tcp://HOST:PORT or ipc://PATH into a dial address.
func splitEndpoint(ep string) (network, addr string, err error) {
	switch {
	case strings.HasPrefix(ep, "tcp://"):
		return "tcp", ep[len("tcp://"):], nil
	case strings.HasPrefix(ep, "ipc://"):
		return "unix", ep[len("ipc://"):], nil
	}
	return "", "", fmt.Errorf("%w: endpoint %q: want tcp://HOST:PORT or ipc://PATH", ErrOptions, ep)
}

// dialZMTP connects to endpoint as a socket of type typ with identity id.
func dialZMTP(ctx context.Context, endpoint string, typ zmq4.SocketType, id string, max int) (*zconn, error) {
	network, addr, err := splitEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: handshakeTimeout}
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	nc.SetDeadline(time.Now().Add(handshakeTimeout))
	if _, err := zmq4.Open(bufConn{nc, br}, null.Security(), typ, zmq4.SocketIdentity(id), false, nil); err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return &zconn{nc: nc, br: br, max: max}, nil
}

// readMsg reads one message: its frames, and whether it is a ZMTP command
// (a command is one frame: name length, name, data).
func (c *zconn) readMsg() ([][]byte, bool, error) {
	var frames [][]byte
	budget := c.max
	for {
		flags, err := c.br.ReadByte()
		if err != nil {
			return nil, false, err
		}
		var size uint64
		if flags&zmtpLong != 0 {
			var b [8]byte
			if _, err := io.ReadFull(c.br, b[:]); err != nil {
				return nil, false, err
			}
			size = binary.BigEndian.Uint64(b[:])
		} else {
			b, err := c.br.ReadByte()
			if err != nil {
				return nil, false, err
			}
			size = uint64(b)
		}
		if size > uint64(budget) {
			return nil, false, fmt.Errorf("%w: frame of %d bytes, %d left of %d", errTooLarge, size, budget, c.max)
		}
		budget -= int(size)
		body := make([]byte, size)
		if _, err := io.ReadFull(c.br, body); err != nil {
			return nil, false, err
		}
		frames = append(frames, body)
		if flags&zmtpCommand != 0 {
			return frames, true, nil
		}
		if flags&zmtpMore == 0 {
			return frames, false, nil
		}
	}
}

// send writes a single-frame message.
func (c *zconn) send(frame []byte) error {
	var hdr [9]byte
	n := 2
	if len(frame) > 255 {
		hdr[0] = zmtpLong
		binary.BigEndian.PutUint64(hdr[1:], uint64(len(frame)))
		n = 9
	} else {
		hdr[1] = byte(len(frame))
	}
	bufs := net.Buffers{hdr[:n], frame}
	_, err := bufs.WriteTo(c.nc)
	return err
}

// maxBatch bounds the messages one writev carries.
const maxBatch = 64

// writeLoop writes the messages of q until a write fails or stop closes:
// whatever is queued when it wakes goes out in one writev, so that under
// load many responses share a system call (on both sides: Mongrel2 then
// reads them in one go too), as libzmq batches its sends.
func (c *zconn) writeLoop(q <-chan []byte, stop <-chan struct{}) error {
	bufs := make(net.Buffers, 0, 2*maxBatch)
	hdrs := make([]byte, 0, 9*maxBatch)
	for {
		var f []byte
		select {
		case f = <-q:
		case <-stop:
			return nil
		}
		bufs, hdrs = bufs[:0], hdrs[:0]
		for {
			n := len(hdrs)
			if len(f) > 255 {
				hdrs = append(hdrs, zmtpLong)
				hdrs = binary.BigEndian.AppendUint64(hdrs, uint64(len(f)))
			} else {
				hdrs = append(hdrs, 0, byte(len(f)))
			}
			bufs = append(bufs, hdrs[n:len(hdrs):len(hdrs)], f)
			if len(bufs) >= 2*maxBatch {
				break
			}
			select {
			case f = <-q:
				continue
			default:
			}
			break
		}
		w := bufs // WriteTo consumes its receiver
		if _, err := w.WriteTo(c.nc); err != nil {
			return err
		}
		clear(bufs) // drop the references to the sent messages
	}
}

func (c *zconn) close() error { return c.nc.Close() }

// commandName returns the name of a ZMTP command frame.
func commandName(frame []byte) string {
	if len(frame) == 0 || int(frame[0]) > len(frame)-1 {
		return ""
	}
	return string(frame[1 : 1+int(frame[0])])
}
