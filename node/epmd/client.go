package epmd

// Client side of EPMD: one TCP connection per request, closed after the
// response, except ALIVE2 whose connection is the registration itself.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// Alive2 registers node with the epmd at host:epmdPort. On success it returns
// the open connection, which is the registration: closing it unregisters the
// name. The caller owns the connection. A refused name returns ErrNameInUse.
func Alive2(ctx context.Context, host string, epmdPort int, node NodeInfo) (net.Conn, Alive2Resp, error) {
	req, err := AppendAlive2Req(nil, node)
	if err != nil {
		return nil, Alive2Resp{}, err
	}
	addr := net.JoinHostPort(host, strconv.Itoa(epmdPort))
	conn, stop, err := dial(ctx, addr)
	if err != nil {
		return nil, Alive2Resp{}, fmt.Errorf("epmd: alive2 %q at %s: %w", node.Name, addr, ctxErr(ctx, err))
	}
	resp, err := exchange(conn, req, 6, ParseAlive2Resp)
	stopped := stop()
	if err == nil && !stopped {
		err = ctx.Err()
	}
	if err != nil {
		conn.Close()
		return nil, Alive2Resp{}, fmt.Errorf("epmd: alive2 %q at %s: %w", node.Name, addr, ctxErr(ctx, err))
	}
	// The registration lives on: no deadline from now on.
	if err := conn.SetDeadline(time.Time{}); err != nil {
		conn.Close()
		return nil, Alive2Resp{}, fmt.Errorf("epmd: alive2 %q at %s: %w", node.Name, addr, err)
	}
	return conn, resp, nil
}

// PortPlease2 asks the epmd at host:epmdPort where the node whose alive part is
// alive listens. An unknown name returns ErrNotRegistered.
func PortPlease2(ctx context.Context, host string, epmdPort int, alive string) (NodeInfo, error) {
	req, err := AppendPortPlease2Req(nil, alive)
	if err != nil {
		return NodeInfo{}, err
	}
	addr := net.JoinHostPort(host, strconv.Itoa(epmdPort))
	conn, stop, err := dial(ctx, addr)
	if err != nil {
		return NodeInfo{}, fmt.Errorf("epmd: port_please2 %q at %s: %w", alive, addr, ctxErr(ctx, err))
	}
	defer conn.Close()
	defer stop()
	info, err := exchange(conn, req, port2Fixed+MaxNameLen+2+MaxExtraLen, ParsePort2Resp)
	if err != nil {
		return NodeInfo{}, fmt.Errorf("epmd: port_please2 %q at %s: %w", alive, addr, ctxErr(ctx, err))
	}
	return info, nil
}

// Names asks the epmd at host:epmdPort for every registered name. It returns
// the port epmd reports for itself and the entries in epmd's order.
func Names(ctx context.Context, host string, epmdPort int) (int, []NameEntry, error) {
	addr := net.JoinHostPort(host, strconv.Itoa(epmdPort))
	conn, stop, err := dial(ctx, addr)
	if err != nil {
		return 0, nil, fmt.Errorf("epmd: names at %s: %w", addr, ctxErr(ctx, err))
	}
	defer conn.Close()
	defer stop()
	port, entries, err := names(conn)
	if err != nil {
		return 0, nil, fmt.Errorf("epmd: names at %s: %w", addr, ctxErr(ctx, err))
	}
	return port, entries, nil
}

func names(conn net.Conn) (int, []NameEntry, error) {
	if _, err := conn.Write(AppendNamesReq(nil)); err != nil {
		return 0, nil, err
	}
	// The response ends when epmd closes the connection.
	b, err := io.ReadAll(io.LimitReader(conn, int64(MaxNamesRespLen)+1))
	if err != nil {
		return 0, nil, err
	}
	if len(b) > MaxNamesRespLen {
		return 0, nil, fmt.Errorf("%w: NAMES response > max %d bytes", ErrTooLarge, MaxNamesRespLen)
	}
	port, n, err := ParseNamesHeader(b)
	if err != nil {
		return 0, nil, truncated(err)
	}
	b = b[n:]
	var entries []NameEntry
	for len(b) > 0 {
		if len(entries) == MaxNames {
			return 0, nil, fmt.Errorf("%w: NAMES response > max %d names", ErrTooLarge, MaxNames)
		}
		e, n, err := ParseNameLine(b)
		if err != nil {
			return 0, nil, truncated(err)
		}
		entries = append(entries, e)
		b = b[n:]
	}
	return int(port), entries, nil
}

// dial connects to addr and ties the connection's deadline to ctx. stop
// detaches ctx (it reports false if ctx already fired).
func dial(ctx context.Context, addr string) (net.Conn, func() bool, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	// Not conn.SetDeadline(ctx deadline): its timer may fire before ctx's,
	// and the caller could not tell a timeout from a dead peer.
	stop := context.AfterFunc(ctx, func() {
		// Unblock any read or write in progress; ctx.Err() is set by now.
		conn.SetDeadline(time.Unix(1, 0))
	})
	return conn, stop, nil
}

// exchange writes req and reads one response decoded by parse, reading at most
// max bytes.
func exchange[T any](conn net.Conn, req []byte, max int, parse func([]byte) (T, int, error)) (T, error) {
	var zero T
	if _, err := conn.Write(req); err != nil {
		return zero, err
	}
	buf := make([]byte, 0, 64)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, rerr := conn.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		v, _, err := parse(buf)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, ErrNeedMore) {
			return zero, err
		}
		if len(buf) >= max {
			return zero, fmt.Errorf("%w: response > max %d bytes", ErrTooLarge, max)
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return zero, fmt.Errorf("%w: truncated response: %w", ErrMalformed, io.ErrUnexpectedEOF)
			}
			return zero, rerr
		}
	}
}

// truncated turns ErrNeedMore on a finished stream into ErrMalformed.
func truncated(err error) error {
	if errors.Is(err, ErrNeedMore) {
		return fmt.Errorf("%w: truncated response: %w", ErrMalformed, io.ErrUnexpectedEOF)
	}
	return err
}

// ctxErr prefers the context's error over the I/O error it caused.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	return err
}
