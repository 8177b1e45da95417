package dist

import (
	"encoding/binary"
	"fmt"
	"os"
	"syscall"
	"time"

	"ergo.services/ergo/gen"

	"imperial/internal/nbio"
	"imperial/node/etf"
)

// outFrame is one queued frame, encoded by the writer: a raw one (a tick), a
// control tuple with an optional payload, or one of the messages every call
// sends, kept in typed fields so that nothing is boxed before it is encoded.
type outFrame struct {
	kind       frameKind
	raw        []byte
	ctl        etf.Tuple
	payload    any
	hasPayload bool

	from, to gen.PID
	ref      etf.Ref
	n        int64
	tag      any
}

type frameKind uint8

const (
	frameCtl        frameKind = iota // ctl [payload]
	frameRaw                         // raw bytes
	frameAliasReply                  // {ALIAS_SEND, from, ref} + {tag, payload}: a bridged gen_server:call's reply
	frameSpawnReply                  // {SPAWN_REPLY, ref, to, n, from}: an erpc job accepted
	frameDown                        // {PAYLOAD_MONITOR_P_EXIT, from, to, ref} + payload: a job's result
)

// maxSpareWrite bounds the write buffer kept between rounds.
const maxSpareWrite = 1 << 20

// write queues a raw, already framed message.
func (c *conn) write(raw []byte) error { return c.queue(outFrame{kind: frameRaw, raw: raw}) }

// queue hands one frame to the socket. Frames leave in call order. The sender
// that finds nobody writing wakes the writer goroutine; frames queued until it
// runs leave with the same syscall, as erts batches a dist entry's output queue
// in a port task that runs after the sending process yields. An actor answering
// a burst of calls thus writes once, and never grows its fresh goroutine stack
// by encoding and writing (ergo starts one per activation). The wake-up is
// cheap because the scheduler governor (rel/sched) keeps idle Ps asleep. While
// the read loop is corked (more input already buffered) frames wait, and the
// answers to a burst leave together when it uncorks. Values are encoded when
// written; like ergo's local delivery, a sender must not mutate a value it has
// sent.
func (c *conn) queue(f outFrame) error {
	c.wmu.Lock()
	if c.wclosed || !c.joinedFlag.Load() {
		c.wmu.Unlock()
		if !c.joinedFlag.Load() {
			return ErrNotJoined
		}
		return gen.ErrNoConnection
	}
	c.wq = append(c.wq, f)
	c.framesOut.Add(1)
	if c.corked || c.flushing {
		c.wmu.Unlock()
		return nil
	}
	c.flushing = true
	c.wmu.Unlock()
	c.wake <- struct{}{}
	return nil
}

// writer writes the queue whenever a sender finds it idle, until the
// connection ends.
func (c *conn) writer() {
	for {
		select {
		case <-c.done:
			return
		case <-c.wake:
			c.flush()
		}
	}
}

// cork holds output back while the read loop has more input buffered.
func (c *conn) cork() {
	c.wmu.Lock()
	c.corked = true
	c.wmu.Unlock()
}

// uncork writes what queued while corked, on the read goroutine.
func (c *conn) uncork() {
	c.wmu.Lock()
	c.corked = false
	if c.flushing || c.wclosed || len(c.wq) == 0 {
		c.wmu.Unlock()
		return
	}
	c.flushing = true
	c.wmu.Unlock()
	c.flush()
}

// flush encodes and writes the queue until it is empty (or the read loop corks
// it); the caller set flushing, which makes it the only writer and the owner
// of the write buffers.
func (c *conn) flush() error {
	for {
		c.wmu.Lock()
		batch := c.wq
		c.wq = c.wspare[:0]
		c.wmu.Unlock()
		buf := c.wbuf[:0]
		for i := range batch {
			buf = c.appendFrame(buf, &batch[i])
			batch[i] = outFrame{} // let the values go
		}
		c.wspare = batch
		var err error
		if len(buf) > 0 {
			// a stuck peer must not hold the queue forever; refresh the deadline
			// only now and then, it costs a timer update
			if now := time.Now(); now.Sub(c.wdeadline) > c.opts.TickTime/8 {
				c.nc.SetWriteDeadline(now.Add(c.opts.TickTime))
				c.wdeadline = now
			}
			var n int
			n, err = c.writeAll(buf)
			c.bytesOut.Add(uint64(n))
		}
		// keep the buffer for the next round unless one huge frame grew it
		if cap(buf) <= maxSpareWrite {
			c.wbuf = buf
		} else {
			c.wbuf = nil
		}
		c.wmu.Lock()
		if err != nil {
			c.flushing = false
			c.wclosed = true
			c.wq = nil
			c.wmu.Unlock()
			c.nc.Close()
			return fmt.Errorf("dist: write to %s: %w", c.peer, err)
		}
		if len(c.wq) == 0 || c.corked {
			c.flushing = false
			c.wmu.Unlock()
			return nil
		}
		c.wmu.Unlock()
	}
}

// appendFrame encodes f behind buf as a length-prefixed pass-through frame. A
// message that cannot be encoded, or is over MaxMessageSize, is logged and left
// out: the peer never sees half a frame.
func (c *conn) appendFrame(buf []byte, f *outFrame) []byte {
	if f.kind == frameRaw {
		return append(buf, f.raw...)
	}
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0, tagPassThrough, tagVersion)
	var err error
	switch f.kind {
	case frameAliasReply:
		buf = append(buf, tagSmallTuple, 3, tagSmallInt, opAliasSend)
		buf = appendRef(appendPid(buf, f.from), f.ref)
		buf = append(buf, tagVersion, tagSmallTuple, 2)
		buf, err = etf.AppendTerm(buf, f.tag, c.enc)
	case frameSpawnReply:
		buf = append(buf, tagSmallTuple, 5, tagSmallInt, opSpawnReply)
		buf = appendPid(appendRef(buf, f.ref), f.to)
		buf = appendPid(append(buf, tagSmallInt, byte(f.n)), f.from)
	case frameDown:
		buf = append(buf, tagSmallTuple, 4, tagSmallInt, opPayloadMonitorPExit)
		buf = appendRef(appendPid(appendPid(buf, f.from), f.to), f.ref)
		buf = append(buf, tagVersion)
	default:
		buf, err = etf.AppendTerm(buf, f.ctl, c.enc)
		if f.hasPayload {
			buf = append(buf, tagVersion)
		}
	}
	if err == nil && (f.hasPayload || f.kind == frameAliasReply || f.kind == frameDown) {
		buf, err = etf.AppendTerm(buf, f.payload, c.enc)
	}
	if size := len(buf) - start - 4; err == nil && size > c.opts.MaxMessageSize {
		err = fmt.Errorf("%w: %d > %d", ErrFrameTooLarge, size, c.opts.MaxMessageSize)
	}
	if err != nil {
		c.log.Error("dist: message to %s dropped: %s (control %v)", c.peer, err, f.ctl)
		return buf[:start]
	}
	binary.BigEndian.PutUint32(buf[start:], uint32(len(buf)-start-4))
	return buf
}

// appendPid writes p as NEW_PID_EXT, what etf writes for it, without boxing.
func appendPid(buf []byte, p gen.PID) []byte {
	buf = appendAtom(append(buf, tagNewPid), string(p.Node))
	buf = binary.BigEndian.AppendUint32(buf, uint32(p.ID))
	buf = binary.BigEndian.AppendUint32(buf, uint32(p.ID>>32))
	return binary.BigEndian.AppendUint32(buf, uint32(p.Creation))
}

// appendRef writes r as NEWER_REFERENCE_EXT.
func appendRef(buf []byte, r etf.Ref) []byte {
	return appendRefIDs(buf, string(r.Node), r.Creation, r.IDs)
}

func appendRefIDs(buf []byte, node string, creation uint32, ids []uint32) []byte {
	buf = binary.BigEndian.AppendUint16(append(buf, tagNewerRef), uint16(len(ids)))
	buf = binary.BigEndian.AppendUint32(appendAtom(buf, node), creation)
	for _, id := range ids {
		buf = binary.BigEndian.AppendUint32(buf, id)
	}
	return buf
}

// appendAtom writes a node name atom (valid UTF-8, at most 255 characters).
func appendAtom(buf []byte, a string) []byte {
	if len(a) <= 255 {
		return append(append(buf, tagSmallAtom8, byte(len(a))), a...)
	}
	return append(binary.BigEndian.AppendUint16(append(buf, tagAtomU8), uint16(len(a))), a...)
}

// writeAll writes buf whole, waiting in the poller (and its write deadline)
// whenever the socket buffer is full; the writes themselves are raw system
// calls (internal/nbio), which do not wake the runtime's sysmon.
func (c *conn) writeAll(buf []byte) (int, error) {
	if c.rc == nil {
		return c.nc.Write(buf)
	}
	done := 0
	var errno syscall.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		for done < len(buf) {
			n, e := nbio.Write(int(fd), buf[done:])
			switch e {
			case 0:
				done += n
			case syscall.EAGAIN:
				return false
			default:
				errno = e
				return true
			}
		}
		return true
	})
	if err == nil && errno != 0 {
		err = os.NewSyscallError("write", errno)
	}
	return done, err
}
