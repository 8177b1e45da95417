package zmq

// pullMeta owns the bound PULL socket.
//
// Accepts  nothing (Terminate ends it).
// Replies  nothing.
// Sends    to its parent: netwatch.MessageUp once bound; per message
//          netwatch.MessageTouch, netwatch.MessageDestroy or
//          netwatch.MessageProblem; netwatch.MessageDown (its last message)
//          when binding fails (a peer's connection ending is not a failure).
// Spawns   nothing.
// Owns     the zmq4 socket (bound in Start, closed when Start returns; zmq4
//          runs accept and reader goroutines) and the context Terminate
//          cancels to end Recv.

import (
	"errors"
	"io"

	"ergo.services/ergo/gen"
	"github.com/go-zeromq/zmq4"

	"imperial/actors/monitor/netwatch"
)

type pullMeta struct {
	netwatch.Conn
	o Options
}

func newPullMeta(o Options) *pullMeta {
	m := &pullMeta{Conn: netwatch.NewConn(), o: o}
	m.Run = m.run
	return m
}

func (m *pullMeta) run() error {
	sock := zmq4.NewPull(m.Ctx)
	defer sock.Close()
	if err := sock.Listen(m.o.Endpoint); err != nil {
		return err
	}
	m.Report(netwatch.MessageUp{})
	for {
		msg, err := sock.Recv()
		if err != nil {
			if m.Ctx.Err() != nil {
				return m.Ctx.Err()
			}
			// zmq4 hands over each peer's read error (EOF when a PUSH peer
			// disconnects); the socket itself goes on
			if !errors.Is(err, io.EOF) {
				m.Proc.Log().Info("[emperor-zeromq] %s: a peer's connection ended: %v", m.o.Source, err)
			}
			continue
		}
		m.Report(m.handle(msg.Frames))
	}
}

func (m *pullMeta) handle(frames [][]byte) any {
	c, err := ParseMessage(frames)
	if err != nil {
		return netwatch.MessageProblem{Problem: netwatch.Problem{Name: c.Name, Err: err}}
	}
	if c.Op == OpDestroy {
		return netwatch.MessageDestroy{Name: c.Name}
	}
	return netwatch.MessageTouch{Vassal: c.Vassal(m.o.Cwd)}
}

func (m *pullMeta) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"source": m.o.Source, "endpoint": m.o.Endpoint}
}
