package dist

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"ergo.services/ergo/gen"

	"imperial/node/etf"
	"imperial/node/handshake"
)

// conn is one Erlang distribution connection: gen.Connection and gen.RemoteNode.
//
// Goroutines: the read loop runs in ergo's Serve goroutine; Join starts the ticker
// and the writer, which Terminate stops. Senders queue frames under wmu; the
// writer encodes and writes them (writer.go): whole and in call order.
type conn struct {
	opts Options
	core gen.Core
	log  gen.Log

	self         gen.Atom
	selfCreation int64
	peer         gen.Atom
	peerCreation int64
	peerPID      gen.PID // stands for the peer node as a consumer of ergo links/monitors
	flags        uint64  // negotiated
	created      time.Time
	magic        uint32 // distinguishes this connection's refs from every other's

	enc etf.EncodeOptions
	dec etf.DecodeOptions

	joined     chan struct{}
	done       chan struct{}
	termOnce   sync.Once
	nc         net.Conn
	rc         syscall.RawConn // nc's descriptor, for raw writes; nil if it has none
	tail       []byte
	joinedFlag atomic.Bool

	// output (writer.go): senders append to wq under wmu
	wmu      sync.Mutex
	wq       []outFrame
	flushing bool          // the writer goroutine owns a round (writer.go)
	wake     chan struct{} // starts the writer's round
	// owned by the sender holding flushing
	wbuf      []byte
	wspare    []outFrame
	wdeadline time.Time // when the write deadline was last moved
	corked    bool
	wclosed   bool

	framesIn, framesOut, bytesIn, bytesOut atomic.Uint64

	seq atomic.Uint64 // refs, pseudo pids, unlink ids
	rr  atomic.Uint64 // round robin over Options.RPCWorkers

	mu sync.Mutex // guards the tables below
	t  tables
}

func newConn(opts Options, core gen.Core, result gen.HandshakeResult, neg handshake.Negotiated, log gen.Log) *conn {
	var m [4]byte
	rand.Read(m[:])
	c := &conn{
		opts:         opts,
		core:         core,
		log:          log,
		self:         core.Name(),
		selfCreation: core.Creation(),
		peer:         result.Peer,
		peerCreation: int64(neg.PeerCreation),
		flags:        neg.Flags,
		created:      time.Now(),
		magic:        binary.BigEndian.Uint32(m[:]) | 1,
		joined:       make(chan struct{}),
		done:         make(chan struct{}),
		wake:         make(chan struct{}, 1),
	}
	c.peerPID = gen.PID{Node: c.peer, ID: 0, Creation: c.peerCreation}
	c.enc = etf.EncodeOptions{Hook: encodeHook, Append: appendHook}
	c.dec = etf.DecodeOptions{Limits: opts.Limits, Pid: decodePid}
	c.t.init()
	return c
}

func (c *conn) has(flag uint64) bool { return c.flags&flag != 0 }

// rpcTarget picks the process that runs the next RPC job.
func (c *conn) rpcTarget() gen.Atom {
	if w := c.opts.RPCWorkers; len(w) > 0 {
		return w[c.rr.Add(1)%uint64(len(w))]
	}
	return c.opts.RPCName
}

// Join adopts the connection's only socket; Erlang has one socket per node pair.
func (c *conn) Join(nc net.Conn, _ string, _ gen.NetworkDial, tail []byte) error {
	if !c.joinedFlag.CompareAndSwap(false, true) {
		return ErrAlreadyJoined
	}
	c.nc = nc
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			c.rc = rc
		}
	}
	c.tail = tail
	close(c.joined)
	go c.ticker()
	go c.writer()
	return nil
}

// Terminate closes the socket and fails whatever waits on this peer. ergo calls
// it twice on the normal path, so it is idempotent.
func (c *conn) Terminate(reason error) {
	c.termOnce.Do(func() {
		c.wmu.Lock()
		c.wclosed = true
		c.wmu.Unlock()
		close(c.done)
		if c.joinedFlag.Load() {
			<-c.joined
			c.nc.Close()
		}
		c.failPending()
	})
}

// ticker keeps the connection alive and drops a silent peer (spec §2.7).
func (c *conn) ticker() {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("dist: ticker for %s panicked: %v", c.peer, r)
			c.nc.Close()
		}
	}()
	interval := c.opts.TickTime / 4
	t := time.NewTicker(interval)
	defer t.Stop()
	lastOut, lastIn := c.framesOut.Load(), c.bytesIn.Load()
	silent := 0
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		c.sweep(time.Now())
		if out := c.framesOut.Load(); out == lastOut {
			c.write(tickFrame[:])
		}
		lastOut = c.framesOut.Load()
		if in := c.bytesIn.Load(); in == lastIn {
			silent++
			if silent > 4 {
				c.log.Warning("dist: %s not responding, removing connection (net_tick_timeout)", c.peer)
				c.nc.Close()
				return
			}
		} else {
			silent, lastIn = 0, in
		}
	}
}

var tickFrame = [4]byte{}

// reuseFrameMax is the largest frame read into the read loop's shared buffer.
const reuseFrameMax = 64 << 10

// pendingMaxAge bounds how long a request waits in the tables: an inbound call
// whose actor never answered (and whose caller never demonitored), an outbound
// call whose ergo caller timed out long ago.
const pendingMaxAge = 10 * time.Minute

// sweep drops table entries older than pendingMaxAge.
func (c *conn) sweep(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ref, in := range c.t.inbound {
		if now.Sub(in.at) > pendingMaxAge {
			c.t.delInbound(ref)
		}
	}
	for k, oc := range c.t.outCalls {
		if now.Sub(oc.at) > pendingMaxAge {
			delete(c.t.outCalls, k)
		}
	}
}

// readLoop decodes frames in arrival order and routes them (ergo-network §3).
func (c *conn) readLoop() error {
	r := newSpinReader(c.nc)
	if len(c.tail) > 0 {
		r = io.MultiReader(bytesReader(c.tail), r)
		c.tail = nil
	}
	br := bufio.NewReaderSize(countingReader{r, &c.bytesIn}, 64<<10)
	var hdr [4]byte
	var frame []byte
	fr := newFrameReader(c)
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n == 0 {
			// a tick: answer it, so that peers with a short net_ticktime hear us
			c.write(tickFrame[:])
			continue
		}
		if int64(n) > int64(c.opts.MaxMessageSize) {
			c.log.Warning("dist: frame of %d bytes from %s exceeds %d, closing", n, c.peer, c.opts.MaxMessageSize)
			return fmt.Errorf("%w: %d > %d", ErrFrameTooLarge, n, c.opts.MaxMessageSize)
		}
		// the decoder copies whatever it keeps (binaries, atoms, funs), so
		// small frames share one buffer
		var body []byte
		if n <= reuseFrameMax {
			if cap(frame) < int(n) {
				frame = make([]byte, reuseFrameMax)
			}
			body = frame[:n]
		} else {
			body = make([]byte, n)
		}
		if _, err := io.ReadFull(br, body); err != nil {
			return err
		}
		c.framesIn.Add(1)
		c.cork()
		err := fr.frame(body)
		if err != nil || !nextFrameBuffered(br) {
			if err == nil && br.Buffered() == 0 {
				// let the actors just sent to run first: their answers join
				// the corked queue and leave with one write (an rpc:call's
				// SPAWN_REPLY and DOWN together), before the next read
				runtime.Gosched()
			}
			c.uncork() // the next read may block: nothing may wait behind it
		}
		if err != nil {
			c.log.Warning("dist: closing connection with %s: %s", c.peer, err)
			return err
		}
	}
}

// nextFrameBuffered tells whether a whole frame is already buffered, so reading
// it cannot block.
func nextFrameBuffered(br *bufio.Reader) bool {
	if br.Buffered() < 4 {
		return false
	}
	h, _ := br.Peek(4)
	return br.Buffered() >= 4+int(binary.BigEndian.Uint32(h))
}

type countingReader struct {
	r io.Reader
	n *atomic.Uint64
}

func (cr countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n.Add(uint64(n))
	return n, err
}

type sliceReader struct{ b []byte }

func bytesReader(b []byte) *sliceReader { return &sliceReader{b} }

func (s *sliceReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

// gen.RemoteNode

func (c *conn) Node() gen.RemoteNode    { return c }
func (c *conn) Name() gen.Atom          { return c.peer }
func (c *conn) Uptime() int64           { return int64(time.Since(c.created).Seconds()) }
func (c *conn) ConnectionUptime() int64 { return int64(time.Since(c.created).Seconds()) }
func (c *conn) Version() gen.Version    { return gen.Version{Name: "OTP"} }
func (c *conn) Creation() int64         { return c.peerCreation }
func (c *conn) Disconnect()             { c.Terminate(gen.TerminateReasonNormal) }
func (c *conn) Spawn(gen.Atom, gen.ProcessOptions, ...any) (gen.PID, error) {
	return gen.PID{}, gen.ErrUnsupported
}
func (c *conn) SpawnRegister(gen.Atom, gen.Atom, gen.ProcessOptions, ...any) (gen.PID, error) {
	return gen.PID{}, gen.ErrUnsupported
}
func (c *conn) ApplicationStart(gen.Atom, gen.ApplicationOptions) error { return gen.ErrUnsupported }
func (c *conn) ApplicationStartTemporary(gen.Atom, gen.ApplicationOptions) error {
	return gen.ErrUnsupported
}
func (c *conn) ApplicationStartTransient(gen.Atom, gen.ApplicationOptions) error {
	return gen.ErrUnsupported
}
func (c *conn) ApplicationStartPermanent(gen.Atom, gen.ApplicationOptions) error {
	return gen.ErrUnsupported
}

func (c *conn) Info() gen.RemoteNodeInfo {
	return gen.RemoteNodeInfo{
		Node:             c.peer,
		Uptime:           c.Uptime(),
		ConnectionUptime: c.ConnectionUptime(),
		Version:          c.Version(),
		HandshakeVersion: handshake.Version(),
		ProtoVersion:     Version,
		MaxMessageSize:   c.opts.MaxMessageSize,
		MessagesIn:       c.framesIn.Load(),
		MessagesOut:      c.framesOut.Load(),
		BytesIn:          c.bytesIn.Load(),
		BytesOut:         c.bytesOut.Load(),
		PoolSize:         1,
	}
}
