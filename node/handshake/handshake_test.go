package handshake

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ergo.services/ergo/gen"
)

type testNode struct {
	name     gen.Atom
	creation int64
}

func (n testNode) Name() gen.Atom       { return n.name }
func (n testNode) Creation() int64      { return n.creation }
func (n testNode) Version() gen.Version { return gen.Version{Name: "test"} }

var (
	nodeA = testNode{"a@127.0.0.1", 0x6b01b760} // initiator
	nodeB = testNode{"b@127.0.0.1", 0xFFFFFFF0} // acceptor; creation above 2^31 on purpose
)

// testConn records deadlines and can cut every Read to maxRead bytes, so that the handshake's own
// buffering sees messages split at every point.
type testConn struct {
	net.Conn
	maxRead int

	mu        sync.Mutex
	deadlines int
	last      time.Time
}

func (c *testConn) Read(b []byte) (int, error) {
	if c.maxRead > 0 && len(b) > c.maxRead {
		b = b[:c.maxRead]
	}
	return c.Conn.Read(b)
}

func (c *testConn) SetDeadline(d time.Time) error {
	c.mu.Lock()
	c.deadlines++
	c.last = d
	c.mu.Unlock()
	return c.Conn.SetDeadline(d)
}

// deadlineState returns how often a deadline was set and whether the last call cleared it.
func (c *testConn) deadlineState() (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadlines, c.last.IsZero()
}

// listen returns a loopback listener closed at cleanup.
func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// dial connects to l and returns both ends, closed at cleanup.
func dial(t *testing.T, l net.Listener) (client, server net.Conn) {
	t.Helper()
	acc := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			c = nil
		}
		acc <- c
	}()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-acc
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func tcpPair(t *testing.T) (client, server net.Conn) { return dial(t, listen(t)) }

func pipePair(t *testing.T) (client, server net.Conn) {
	client, server = net.Pipe()
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

type outcome struct {
	res gen.HandshakeResult
	err error
}

// run drives Accept on server and Start on client at once; a side that fails closes its conn, as ergo
// does, so that the other side ends too.
func run(acc *Handshake, accOpts gen.HandshakeOptions, ini *Handshake, iniOpts gen.HandshakeOptions,
	client, server net.Conn) (accept, start outcome) {
	done := make(chan outcome, 1)
	go func() {
		res, err := acc.Accept(nodeB, server, accOpts)
		if err != nil {
			server.Close()
		}
		done <- outcome{res, err}
	}()
	res, err := ini.Start(nodeA, client, iniOpts)
	if err != nil {
		client.Close()
	}
	return <-done, outcome{res, err}
}

func negotiated(t *testing.T, r gen.HandshakeResult) Negotiated {
	t.Helper()
	n, ok := r.Custom.(Negotiated)
	if !ok {
		t.Fatalf("Custom is %T, want Negotiated", r.Custom)
	}
	return n
}

func TestAcceptStart(t *testing.T) {
	cookie := gen.HandshakeOptions{Cookie: "x"}
	perPeer := func(want gen.Atom) func(gen.Atom) string {
		return func(peer gen.Atom) string {
			if peer == want {
				return "per-peer"
			}
			return "wrong"
		}
	}
	type check func(t *testing.T, accept, start outcome)
	for _, tc := range []struct {
		name             string
		pipe             bool
		maxRead          int
		acc, ini         Options
		accHO, iniHO     gen.HandshakeOptions
		acceptErr, start error
		check            check
	}{
		{name: "visible", accHO: cookie, iniHO: cookie, check: func(t *testing.T, a, s outcome) {
			na, ns := negotiated(t, a.res), negotiated(t, s.res)
			if na != (Negotiated{Flags: DefaultFlags, PeerFlags: DefaultFlags, PeerCreation: uint32(nodeA.creation), Peer: nodeA.name}) {
				t.Errorf("accept negotiated %+v", na)
			}
			if ns != (Negotiated{Flags: DefaultFlags, PeerFlags: DefaultFlags, PeerCreation: uint32(nodeB.creation), Peer: nodeB.name}) {
				t.Errorf("start negotiated %+v", ns)
			}
			if a.res.Peer != nodeA.name || s.res.Peer != nodeB.name ||
				a.res.PeerCreation != nodeA.creation || s.res.PeerCreation != nodeB.creation {
				t.Errorf("peers %q/%d and %q/%d", a.res.Peer, a.res.PeerCreation, s.res.Peer, s.res.PeerCreation)
			}
			if a.res.HandshakeVersion != Version() || s.res.HandshakeVersion != Version() ||
				Version().String() == "" || Version().Name != "ErlDist" || Version().Release != "6" {
				t.Errorf("versions %v %v", a.res.HandshakeVersion, s.res.HandshakeVersion)
			}
			if a.res.ConnectionID == "" || a.res.ConnectionID == s.res.ConnectionID {
				t.Errorf("connection ids %q %q", a.res.ConnectionID, s.res.ConnectionID)
			}
			if len(a.res.Tail) != 0 || len(s.res.Tail) != 0 {
				t.Errorf("tails %x %x", a.res.Tail, s.res.Tail)
			}
		}},
		{name: "over net.Pipe", pipe: true, accHO: cookie, iniHO: cookie},
		{name: "one byte per read", maxRead: 1, accHO: cookie, iniHO: cookie},
		{name: "hidden initiator", ini: Options{Hidden: true}, accHO: cookie, iniHO: cookie, check: func(t *testing.T, a, s outcome) {
			na, ns := negotiated(t, a.res), negotiated(t, s.res)
			if na.PeerFlags != HiddenFlags || na.Flags != HiddenFlags || ns.Flags != HiddenFlags || ns.PeerFlags != DefaultFlags {
				t.Errorf("accept %+v, start %+v", na, ns)
			}
		}},
		{name: "digest-only initiator", ini: Options{Flags: FlagMandatory25Digest | FlagPublished}, accHO: cookie, iniHO: cookie,
			check: func(t *testing.T, a, s outcome) {
				want := Mandatory25 | FlagMandatory25Digest | FlagPublished
				if na := negotiated(t, a.res); na.Flags != want {
					t.Errorf("accept flags %v", FlagNames(na.Flags))
				}
				if ns := negotiated(t, s.res); ns.Flags != want {
					t.Errorf("start flags %v", FlagNames(ns.Flags))
				}
			}},
		{name: "per-peer cookies", acc: Options{Cookie: perPeer(nodeA.name)}, ini: Options{Cookie: perPeer(nodeB.name)},
			accHO: gen.HandshakeOptions{Cookie: "ignored"}, iniHO: gen.HandshakeOptions{Cookie: "also ignored"}},
		{name: "wrong cookie", accHO: cookie, iniHO: gen.HandshakeOptions{Cookie: "y"},
			acceptErr: ErrBadDigest, start: io.ErrUnexpectedEOF},
		{name: "wrong per-peer cookie", acc: Options{Cookie: perPeer("c@127.0.0.1")}, iniHO: gen.HandshakeOptions{Cookie: "per-peer"},
			acceptErr: ErrBadDigest, start: io.ErrUnexpectedEOF},
		{name: "initiator lacks BIG_CREATION", ini: Options{Flags: DefaultFlags &^ (FlagBigCreation | FlagMandatory25Digest)},
			accHO: cookie, iniHO: cookie, acceptErr: ErrMissingFlags, start: ErrRefused,
			check: func(t *testing.T, a, s outcome) {
				if !strings.Contains(a.err.Error(), "[BIG_CREATION]") {
					t.Errorf("accept error %q does not name the flag", a.err)
				}
			}},
		{name: "acceptor lacks UTF8_ATOMS", acc: Options{Flags: DefaultFlags &^ (FlagUTF8Atoms | FlagMandatory25Digest)},
			accHO: cookie, iniHO: cookie, acceptErr: io.ErrUnexpectedEOF, start: ErrMissingFlags,
			check: func(t *testing.T, a, s outcome) {
				if !strings.Contains(s.err.Error(), "[UTF8_ATOMS]") {
					t.Errorf("start error %q does not name the flag", s.err)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var client, server net.Conn
			if tc.pipe {
				client, server = pipePair(t)
			} else {
				client, server = tcpPair(t)
			}
			tcl, tsv := &testConn{Conn: client, maxRead: tc.maxRead}, &testConn{Conn: server, maxRead: tc.maxRead}
			a, s := run(New(tc.acc), tc.accHO, New(tc.ini), tc.iniHO, tcl, tsv)
			if !errors.Is(a.err, tc.acceptErr) || (a.err == nil) != (tc.acceptErr == nil) {
				t.Fatalf("Accept: %v, want %v", a.err, tc.acceptErr)
			}
			if !errors.Is(s.err, tc.start) || (s.err == nil) != (tc.start == nil) {
				t.Fatalf("Start: %v, want %v", s.err, tc.start)
			}
			for side, c := range map[string]*testConn{"client": tcl, "server": tsv} {
				least := 2 // set, cleared
				if tc.acceptErr == nil {
					least = 5 // a fresh deadline for every step (a buffered message needs none), then cleared
				}
				if n, cleared := c.deadlineState(); n < least || !cleared {
					t.Errorf("%s: %d deadlines, last cleared %v", side, n, cleared)
				}
			}
			if tc.check != nil {
				tc.check(t, a, s)
			}
		})
	}
}

func TestAcceptAlive(t *testing.T) {
	for _, tc := range []struct {
		name        string
		iniCookie   string
		raw         Status // "" = our Start answers
		acceptErr   error
		disconnects int32
	}{
		{name: "true", iniCookie: "x", acceptErr: nil, disconnects: 1},
		{name: "true, wrong cookie", iniCookie: "y", acceptErr: ErrBadDigest, disconnects: 0},
		{name: "false", raw: StatusFalse, acceptErr: ErrRefused, disconnects: 0},
		{name: "garbage answer", raw: "maybe", acceptErr: ErrBadStatus, disconnects: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var disconnects atomic.Int32
			var asked gen.Atom
			acc := New(Options{Alive: func(peer gen.Atom) (func(), bool) {
				asked = peer
				return func() { disconnects.Add(1) }, true
			}})
			client, server := tcpPair(t)
			var a outcome
			if tc.raw == "" {
				a, _ = run(acc, gen.HandshakeOptions{Cookie: "x"}, New(Options{}), gen.HandshakeOptions{Cookie: tc.iniCookie}, client, server)
			} else {
				done := make(chan error, 1)
				go func() { _, err := rawInitiator{cookie: "x", aliveAnswer: tc.raw}.run(client); done <- err }()
				a.res, a.err = acc.Accept(nodeB, server, gen.HandshakeOptions{Cookie: "x"})
				server.Close()
				if err := <-done; err == nil {
					t.Error("raw initiator completed")
				}
			}
			if !errors.Is(a.err, tc.acceptErr) || (a.err == nil) != (tc.acceptErr == nil) {
				t.Fatalf("Accept: %v, want %v", a.err, tc.acceptErr)
			}
			if asked != nodeA.name {
				t.Errorf("Alive asked about %q", asked)
			}
			if n := disconnects.Load(); n != tc.disconnects {
				t.Errorf("disconnect called %d times, want %d", n, tc.disconnects)
			}
		})
	}
}

// rawInitiator is a scripted initiator built on the codecs, to send what Start never would.
type rawInitiator struct {
	name        string // "" = nodeA
	flags       uint64 // 0 = DefaultFlags
	cookie      string
	aliveAnswer Status // answer to alive; "" = true
	reflect     bool   // reply with the acceptor's own challenge
	after       []byte // written in the same Write as the reply
}

// run returns the status it got and an error unless it received a valid ack.
func (r rawInitiator) run(conn net.Conn) (Status, error) {
	s := &stream{conn: conn, timeout: 5 * time.Second}
	if r.name == "" {
		r.name = string(nodeA.name)
	}
	if r.flags == 0 {
		r.flags = DefaultFlags
	}
	b, err := AppendSendName(nil, SendName{Flags: r.flags, Creation: 1, Name: r.name})
	if err != nil {
		return "", err
	}
	if err := s.write(b); err != nil {
		return "", err
	}
	st, err := next(s, "status", ParseStatus)
	if err != nil {
		return "", err
	}
	switch st {
	case StatusOK:
	case StatusAlive:
		answer := r.aliveAnswer
		if answer == "" {
			answer = StatusTrue
		}
		b, _ := AppendStatus(nil, answer)
		if err := s.write(b); err != nil {
			return st, err
		}
	default:
		return st, fmt.Errorf("status %q", st)
	}
	ch, err := next(s, "challenge", ParseChallenge)
	if err != nil {
		return st, err
	}
	mine := ch.Challenge + 1
	if r.reflect {
		mine = ch.Challenge
	}
	b = AppendReply(nil, Reply{Challenge: mine, Digest: Digest(r.cookie, ch.Challenge)})
	if err := s.write(append(b, r.after...)); err != nil {
		return st, err
	}
	ack, err := next(s, "ack", ParseAck)
	if err != nil {
		return st, err
	}
	if ack.Digest != Digest(r.cookie, mine) {
		return st, errors.New("bad ack digest")
	}
	return st, nil
}

func TestAcceptRaw(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ini       rawInitiator
		acceptErr error
		status    Status // what the raw initiator must have seen; "" = nothing
	}{
		{"name without @", rawInitiator{name: "noat", cookie: "x"}, ErrBadName, ""},
		{"name with two @", rawInitiator{name: "a@b@c", cookie: "x"}, ErrBadName, ""},
		{"empty host", rawInitiator{name: "a@", cookie: "x"}, ErrBadName, ""},
		{"missing flags named", rawInitiator{flags: FlagHandshake23, cookie: "x"}, ErrMissingFlags, StatusNotAllowed},
		{"reflected challenge", rawInitiator{reflect: true, cookie: "x"}, ErrBadDigest, StatusOK},
		{"wrong cookie", rawInitiator{cookie: "y"}, ErrBadDigest, StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, server := tcpPair(t)
			type rawResult struct {
				st  Status
				err error
			}
			done := make(chan rawResult, 1)
			go func() { st, err := tc.ini.run(client); done <- rawResult{st, err} }()
			_, err := New(Options{}).Accept(nodeB, server, gen.HandshakeOptions{Cookie: "x"})
			server.Close()
			r := <-done
			if !errors.Is(err, tc.acceptErr) {
				t.Fatalf("Accept: %v, want %v", err, tc.acceptErr)
			}
			if r.err == nil || r.st != tc.status {
				t.Errorf("raw initiator: status %q, %v; want status %q and an error", r.st, r.err, tc.status)
			}
		})
	}
}

func TestAcceptProbeAndTimeout(t *testing.T) {
	t.Run("port probe", func(t *testing.T) {
		client, server := tcpPair(t)
		client.Close()
		_, err := New(Options{}).Accept(nodeB, server, gen.HandshakeOptions{})
		if err != io.EOF {
			t.Fatalf("Accept: %v, want bare io.EOF", err)
		}
	})
	t.Run("half a send_name", func(t *testing.T) {
		client, server := tcpPair(t)
		client.Write(unhex(t, wireSendName)[:10])
		client.Close()
		_, err := New(Options{}).Accept(nodeB, server, gen.HandshakeOptions{})
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("Accept: %v, want io.ErrUnexpectedEOF", err)
		}
	})
	t.Run("silent peer", func(t *testing.T) {
		_, server := tcpPair(t)
		tc := &testConn{Conn: server}
		_, err := New(Options{SetupTimeout: 20 * time.Millisecond}).Accept(nodeB, tc, gen.HandshakeOptions{})
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Accept: %v, want a deadline error", err)
		}
		if _, cleared := tc.deadlineState(); !cleared {
			t.Error("deadline left set")
		}
	})
	t.Run("garbage", func(t *testing.T) {
		client, server := tcpPair(t)
		client.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
		_, err := New(Options{}).Accept(nodeB, server, gen.HandshakeOptions{})
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Accept: %v, want ErrTooLarge", err)
		}
	})
}

// TestTail checks that bytes read past the last handshake message are never lost: Tail followed by what
// is still in the socket must equal what the peer sent after it, however the reads fall.
func TestTail(t *testing.T) {
	frames := unhex(t, "00000000 0000000b 70 836803610161026103 00000000 00000002 7000")
	for _, maxRead := range []int{0, 1, 7, 21, 40} {
		t.Run(fmt.Sprintf("start, reads of %d", maxRead), func(t *testing.T) {
			client, server := tcpPair(t)
			done := make(chan error, 1)
			go func() {
				err := rawAcceptor{cookie: "x", after: frames}.run(server)
				server.Close()
				done <- err
			}()
			res, err := New(Options{}).Start(nodeA, &testConn{Conn: client, maxRead: maxRead}, gen.HandshakeOptions{Cookie: "x"})
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			if err := <-done; err != nil {
				t.Fatalf("raw acceptor: %v", err)
			}
			rest, err := io.ReadAll(client)
			if err != nil {
				t.Fatal(err)
			}
			if got := append(res.Tail, rest...); !bytes.Equal(got, frames) {
				t.Errorf("tail %x + rest %x, want %x", res.Tail, rest, frames)
			}
			if maxRead == 0 && len(res.Tail) != len(frames) {
				t.Errorf("one big read left %d bytes in Tail, want all %d", len(res.Tail), len(frames))
			}
		})
		t.Run(fmt.Sprintf("accept, reads of %d", maxRead), func(t *testing.T) {
			client, server := tcpPair(t)
			done := make(chan error, 1)
			go func() {
				_, err := rawInitiator{cookie: "x", after: frames}.run(client)
				client.Close()
				done <- err
			}()
			res, err := New(Options{}).Accept(nodeB, &testConn{Conn: server, maxRead: maxRead}, gen.HandshakeOptions{Cookie: "x"})
			if err != nil {
				t.Fatalf("Accept: %v", err)
			}
			if err := <-done; err != nil {
				t.Fatalf("raw initiator: %v", err)
			}
			rest, err := io.ReadAll(server)
			if err != nil {
				t.Fatal(err)
			}
			if got := append(res.Tail, rest...); !bytes.Equal(got, frames) {
				t.Errorf("tail %x + rest %x, want %x", res.Tail, rest, frames)
			}
		})
	}
}

// rawAcceptor is a scripted acceptor built on the codecs.
type rawAcceptor struct {
	name      string // "" = nodeB
	flags     uint64 // 0 = DefaultFlags
	cookie    string
	status    Status        // "" = ok
	gotReply  chan struct{} // closed once the reply arrived (nil: not signalled)
	beforeAck chan struct{} // waited for before the ack (nil: no wait)
	noAck     bool          // end without an ack
	badAck    bool          // ack with a wrong digest
	after     []byte        // written in the same Write as the ack
}

// run returns nil once it sent its ack after a valid reply (or, for a refusing status, once it sent it).
func (r rawAcceptor) run(conn net.Conn) error {
	s := &stream{conn: conn, timeout: 5 * time.Second}
	if r.name == "" {
		r.name = string(nodeB.name)
	}
	if r.flags == 0 {
		r.flags = DefaultFlags
	}
	if r.status == "" {
		r.status = StatusOK
	}
	if _, err := next(s, "send_name", ParseSendName); err != nil {
		return err
	}
	b, _ := AppendStatus(nil, r.status)
	if err := s.write(b); err != nil {
		return err
	}
	switch r.status {
	case StatusOK, StatusOKSimultaneous:
	case StatusAlive:
		st, err := next(s, "alive answer", ParseStatus)
		if err != nil {
			return err
		}
		if st != StatusTrue {
			return fmt.Errorf("alive answered %q", st)
		}
	default:
		return nil
	}
	const mine = 0xFFFFFFFF
	b, err := AppendChallenge(nil, Challenge{Flags: r.flags, Challenge: mine, Creation: uint32(nodeB.creation), Name: r.name})
	if err != nil {
		return err
	}
	if err := s.write(b); err != nil {
		return err
	}
	reply, err := next(s, "reply", ParseReply)
	if err != nil {
		return err
	}
	if r.gotReply != nil {
		close(r.gotReply)
	}
	if reply.Digest != Digest(r.cookie, mine) {
		return errors.New("bad reply digest")
	}
	if r.beforeAck != nil {
		<-r.beforeAck
	}
	if r.noAck {
		return nil
	}
	d := Digest(r.cookie, reply.Challenge)
	if r.badAck {
		d[0]++
	}
	return s.write(append(AppendAck(nil, Ack{Digest: d}), r.after...))
}

func TestStartRaw(t *testing.T) {
	for _, tc := range []struct {
		name  string
		acc   rawAcceptor
		start error
	}{
		{"ok_simultaneous", rawAcceptor{status: StatusOKSimultaneous, cookie: "x"}, nil},
		{"alive answered true", rawAcceptor{status: StatusAlive, cookie: "x"}, nil},
		{"digest-only acceptor", rawAcceptor{flags: FlagMandatory25Digest, cookie: "x"}, nil},
		{"nok", rawAcceptor{status: StatusNok}, ErrRefused},
		{"not_allowed", rawAcceptor{status: StatusNotAllowed}, ErrRefused},
		{"named:", rawAcceptor{status: "named:\x00\x01a\x00\x00\x00\x01"}, ErrBadStatus},
		{"bad ack", rawAcceptor{badAck: true, cookie: "x"}, ErrBadDigest},
		{"wrong cookie", rawAcceptor{cookie: "y"}, io.ErrUnexpectedEOF},
		{"challenge name without @", rawAcceptor{name: "b", cookie: "x"}, ErrBadName},
		{"acceptor lacks MAP_TAG", rawAcceptor{flags: DefaultFlags &^ (FlagMapTag | FlagMandatory25Digest), cookie: "x"}, ErrMissingFlags},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, server := tcpPair(t)
			done := make(chan error, 1)
			go func() {
				err := tc.acc.run(server)
				server.Close()
				done <- err
			}()
			_, err := New(Options{}).Start(nodeA, client, gen.HandshakeOptions{Cookie: "x"})
			client.Close()
			<-done
			if !errors.Is(err, tc.start) || (err == nil) != (tc.start == nil) {
				t.Fatalf("Start: %v, want %v", err, tc.start)
			}
		})
	}
}

// TestSingleFlight runs two Starts that reach the same peer; the second must wait for the first and then
// give up if the first completed, or carry on if it failed (ergo-network.md P3).
func TestSingleFlight(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sameAddr  bool // both dial one listener (claim by address) or two (claim by node name)
		firstOK   bool
		secondErr error
	}{
		{"same address, first completes", true, true, ErrConcurrentStart},
		{"same address, first fails", true, false, nil},
		{"same node, first completes", false, true, ErrConcurrentStart},
		{"same node, first fails", false, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l1 := listen(t)
			l2 := l1
			if !tc.sameAddr {
				l2 = listen(t)
			}
			c1, s1 := dial(t, l1)
			c2, s2 := dial(t, l2)

			waiting := make(chan string, 2)
			h := New(Options{})
			h.onWait = func(key string) { waiting <- key }

			gotReply, release := make(chan struct{}), make(chan struct{})
			acc1 := make(chan error, 1)
			go func() {
				err := rawAcceptor{cookie: "x", gotReply: gotReply, beforeAck: release, noAck: !tc.firstOK}.run(s1)
				s1.Close()
				acc1 <- err
			}()
			acc2 := make(chan error, 1)
			go func() {
				err := rawAcceptor{cookie: "x"}.run(s2)
				s2.Close()
				acc2 <- err
			}()

			first := make(chan error, 1)
			go func() { _, err := h.Start(nodeA, c1, gen.HandshakeOptions{Cookie: "x"}); first <- err }()
			<-gotReply // the first Start holds both claims now
			second := make(chan error, 1)
			go func() {
				_, err := h.Start(nodeA, c2, gen.HandshakeOptions{Cookie: "x"})
				c2.Close()
				second <- err
			}()
			key := <-waiting
			if want := "node " + string(nodeB.name); tc.sameAddr {
				if !strings.HasPrefix(key, "addr 127.0.0.1:") {
					t.Errorf("waited for %q, want the address", key)
				}
			} else if key != want {
				t.Errorf("waited for %q, want %q", key, want)
			}
			close(release)
			if err := <-first; (err == nil) != tc.firstOK {
				t.Fatalf("first Start: %v", err)
			}
			c1.Close()
			err := <-second
			if !errors.Is(err, tc.secondErr) || (err == nil) != (tc.secondErr == nil) {
				t.Fatalf("second Start: %v, want %v", err, tc.secondErr)
			}
			<-acc1
			acc2err := <-acc2
			if tc.sameAddr && tc.firstOK && !errors.Is(acc2err, io.EOF) {
				t.Errorf("second acceptor: %v, want io.EOF (the latecomer sent nothing)", acc2err)
			}
			h.mu.Lock()
			left := len(h.flights)
			h.mu.Unlock()
			if left != 0 {
				t.Errorf("%d claims left", left)
			}
		})
	}
}

func TestOptionsAndStubs(t *testing.T) {
	if f := New(Options{}).Flags(); f != DefaultFlags {
		t.Errorf("default flags %#x", f)
	}
	if f := New(Options{Hidden: true}).Flags(); f != HiddenFlags {
		t.Errorf("hidden flags %#x", f)
	}
	if f := New(Options{Flags: DefaultFlags | FlagFragments, Hidden: true}).Flags(); f != HiddenFlags|FlagFragments {
		t.Errorf("explicit hidden flags %#x", f)
	}
	h := New(Options{})
	if h.timeout != DefaultSetupTimeout {
		t.Errorf("timeout %v", h.timeout)
	}
	if nf := h.NetworkFlags(); !nf.Enable || !nf.EnableRemoteSpawn || nf.EnableFragmentation {
		t.Errorf("network flags %+v", nf)
	}
	if _, err := h.Join(nodeA, nil, "id", gen.HandshakeOptions{}); !errors.Is(err, gen.ErrUnsupported) {
		t.Errorf("Join: %v", err)
	}
	if h.Version() != (gen.Version{Name: "ErlDist", Release: "6", License: gen.LicenseMIT}) {
		t.Errorf("Version %+v", h.Version())
	}
}
