package netwatch

import (
	"context"

	"ergo.services/ergo/gen"
)

// Conn is what every source's connection meta process shares: the context
// Terminate cancels (its blocking I/O watches it), and Start turning the end
// of Run into the MessageDown the Actor reconnects on — also when Run panics.
// A source embeds it, sets Run, and adds HandleInspect.
type Conn struct {
	Proc   gen.MetaProcess
	Ctx    context.Context
	cancel context.CancelFunc
	Run    func() error
}

// NewConn returns a Conn with a fresh context; the source then sets Run.
func NewConn() Conn {
	ctx, cancel := context.WithCancel(context.Background())
	return Conn{Ctx: ctx, cancel: cancel}
}

// Report sends one of this package's messages to the source actor.
func (c *Conn) Report(msg any) { c.Proc.Send(c.Proc.Parent(), msg) }

func (c *Conn) Init(p gen.MetaProcess) error {
	c.Proc = p
	return nil
}

func (c *Conn) Start() error {
	clean := false
	defer func() {
		if !clean {
			c.Report(MessageDown{Err: ErrMetaGone})
		}
	}()
	err := c.Run()
	clean = true
	if c.Ctx.Err() != nil {
		return nil // terminated
	}
	c.Report(MessageDown{Err: err})
	return nil
}

func (c *Conn) HandleMessage(from gen.PID, message any) error { return nil }

func (c *Conn) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return nil, nil
}

func (c *Conn) Terminate(reason error) { c.cancel() }
