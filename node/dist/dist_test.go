package dist

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"ergo.services/ergo/gen"

	"imperial/node/etf"
	"imperial/node/handshake"
)

// fakeCore records what the connection routes into ergo.
type fakeCore struct {
	gen.Core // unimplemented methods panic: a call the test did not expect fails it
	mu       sync.Mutex
	calls    []string
	unknown  map[gen.Atom]bool // names that do not exist
}

func (f *fakeCore) rec(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
	return nil
}

func (f *fakeCore) Name() gen.Atom  { return "imp@127.0.0.1" }
func (f *fakeCore) Creation() int64 { return 7 }
func (f *fakeCore) RouteSendPID(from, to gen.PID, o gen.MessageOptions, m any) error {
	return f.rec("send_pid")
}
func (f *fakeCore) RouteSendProcessID(from gen.PID, to gen.ProcessID, o gen.MessageOptions, m any) error {
	if f.unknown[to.Name] {
		return gen.ErrProcessUnknown
	}
	return f.rec("send_name " + string(to.Name))
}
func (f *fakeCore) RouteCallProcessID(from gen.PID, to gen.ProcessID, o gen.MessageOptions, m any) error {
	if f.unknown[to.Name] {
		return gen.ErrProcessUnknown
	}
	return f.rec("call_name " + string(to.Name))
}
func (f *fakeCore) RouteCallPID(from, to gen.PID, o gen.MessageOptions, m any) error {
	return f.rec("call_pid")
}
func (f *fakeCore) RouteLinkPID(pid, target gen.PID) error { return f.rec("link") }
func (f *fakeCore) RouteSendExit(from, to gen.PID, reason error) error {
	return f.rec("exit " + string(ReasonToTerm(reason).(etf.Atom)))
}
func (f *fakeCore) RouteMonitorProcessID(pid gen.PID, t gen.ProcessID) error {
	if f.unknown[t.Name] {
		return gen.ErrProcessUnknown
	}
	return f.rec("monitor_name " + string(t.Name))
}
func (f *fakeCore) RouteMonitorPID(pid, t gen.PID) error { return f.rec("monitor_pid") }
func (f *fakeCore) RouteTerminatePID(t gen.PID, reason error) error {
	return f.rec("terminate_pid")
}
func (f *fakeCore) RouteTerminateProcessID(t gen.ProcessID, reason error) error {
	return f.rec("terminate_name")
}
func (f *fakeCore) RouteSendResponse(from, to gen.PID, o gen.MessageOptions, m any) error {
	return f.rec("response")
}
func (f *fakeCore) RouteSendResponseError(from, to gen.PID, o gen.MessageOptions, err error) error {
	return f.rec("response_error")
}

type nopLog struct{ gen.Log }

func (nopLog) Level() gen.LogLevel    { return gen.LogLevelDisabled }
func (nopLog) Debug(string, ...any)   {}
func (nopLog) Warning(string, ...any) {}
func (nopLog) Error(string, ...any)   {}
func (nopLog) Info(string, ...any)    {}

const peer = "erl@127.0.0.1"

// testConn is a joined connection whose peer side the test reads.
func testConn(t testing.TB, core *fakeCore) (*conn, net.Conn) {
	t.Helper()
	ours, theirs := net.Pipe()
	p := New(Options{RPCName: "imperial_rpc"})
	c := newConn(p.opts, core, gen.HandshakeResult{Peer: peer}, handshake.Negotiated{
		Flags: handshake.DefaultFlags, PeerCreation: 9, Peer: peer}, nopLog{})
	if err := c.Join(ours, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Terminate(nil); theirs.Close() })
	return c, theirs
}

// readFrame reads one non-tick frame the connection wrote and decodes its control tuple.
func readFrame(t testing.TB, r io.Reader) (etf.Tuple, any) {
	t.Helper()
	for {
		var h [4]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			t.Fatal(err)
		}
		n := binary.BigEndian.Uint32(h[:])
		if n == 0 {
			continue
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatal(err)
		}
		if b[0] != tagPassThrough {
			t.Fatalf("frame tag %d, want 'p'", b[0])
		}
		ctl, k, err := etf.Decode(b[1:], etf.DecodeOptions{Pid: decodePid})
		if err != nil {
			t.Fatal(err)
		}
		var payload any
		if 1+k < len(b) {
			payload, _, err = etf.Decode(b[1+k:], etf.DecodeOptions{Pid: decodePid})
			if err != nil {
				t.Fatal(err)
			}
		}
		return ctl.(etf.Tuple), payload
	}
}

var (
	erlPid = etf.Pid{Node: peer, ID: 80, Serial: 0, Creation: 9}
	ourPid = etf.Pid{Node: "imp@127.0.0.1", ID: 1005, Serial: 0, Creation: 7}
	aRef   = etf.Ref{Node: peer, Creation: 9, IDs: []uint32{1, 2, 3}}
)

func pframe(t testing.TB, ctl etf.Tuple, payload any) []byte {
	t.Helper()
	b := []byte{tagPassThrough}
	c, err := etf.Encode(ctl, etf.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, c...)
	if payload != nil {
		p, err := etf.Encode(payload, etf.EncodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, p...)
	}
	return b
}

// TestFrameForms: the pass-through form, the header form with atom cache
// references, and fragments all reach dispatch with the same control message.
func TestFrameForms(t *testing.T) {
	ctl := etf.Tuple{int64(opRegSend), erlPid, etf.Atom(""), etf.Atom("net_kernel")}
	payload := etf.Tuple{etf.Atom("hello"), make([]byte, 300)}
	var got []etf.Tuple
	f := &frameReader{frags: map[uint64]*fragSeq{}, c: &conn{opts: Options{MaxMessageSize: 1 << 20}}}
	f.dispatch = func(c etf.Tuple, p any, has bool) error {
		if !has || !etf.Equal(p, payload) {
			t.Errorf("payload %v", p)
		}
		got = append(got, c)
		return nil
	}
	if err := f.frame(pframe(t, ctl, payload)); err != nil {
		t.Fatal(err)
	}

	// header form: 131 68, one new cache entry ("net_kernel" at slot 3), referenced as 82 0
	hdr := []byte{tagVersion, tagHeader, 1, 0x08, 3, 10}
	hdr = append(hdr, "net_kernel"...)
	body, _ := etf.AppendTerm(nil, etf.Tuple{int64(opRegSend), erlPid, etf.Atom("")}, etf.EncodeOptions{})
	body[1] = 4                // arity 3 → 4
	body = append(body, 82, 0) // ATOM_CACHE_REF 0
	pl, _ := etf.AppendTerm(nil, payload, etf.EncodeOptions{})
	frame := append(append(hdr, body...), pl...)
	if err := f.frame(frame); err != nil {
		t.Fatal(err)
	}
	// the cached atom is reused by a later header that only references it
	hdr2 := []byte{tagVersion, tagHeader, 1, 0x00, 3}
	if err := f.frame(append(append(hdr2, body...), pl...)); err != nil {
		t.Fatal(err)
	}

	// fragments: the start carries the header and control, continuations the payload
	whole := append(append([]byte{1, 0}, body...), pl...) // header N=1 flags: reuse slot 3 (already cached)
	whole[0], whole[1] = 1, 0x00
	whole = append([]byte{1, 0x00, 3}, append(body, pl...)...)
	cut1, cut2 := 40, 200
	start := append([]byte{tagVersion, tagFragStart}, be64(77)...)
	start = append(append(start, be64(3)...), whole[:cut1]...)
	mid := append(append([]byte{tagVersion, tagFragCont}, be64(77)...), be64(2)...)
	mid = append(mid, whole[cut1:cut2]...)
	end := append(append([]byte{tagVersion, tagFragCont}, be64(77)...), be64(1)...)
	end = append(end, whole[cut2:]...)
	for _, fr := range [][]byte{start, mid, end} {
		if err := f.frame(fr); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 4 {
		t.Fatalf("dispatched %d messages, want 4", len(got))
	}
	for i, g := range got {
		if !etf.Equal(g, ctl) {
			t.Errorf("form %d: control %v, want %v", i, g, ctl)
		}
	}
}

func be64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

// TestMalformedFrames: each bad frame is an error (the connection closes), never a panic.
func TestMalformedFrames(t *testing.T) {
	f := &frameReader{frags: map[uint64]*fragSeq{}, c: &conn{opts: Options{MaxMessageSize: 1 << 20}}}
	f.dispatch = func(etf.Tuple, any, bool) error { return nil }
	cases := map[string][]byte{
		"unknown tag":         {0x42, 1, 2},
		"short header":        {tagVersion},
		"p without term":      {tagPassThrough},
		"p garbage":           {tagPassThrough, 131, 255, 0},
		"control not a tuple": append([]byte{tagPassThrough}, mustEncode(t, etf.Atom("x"))...),
		"empty tuple":         append([]byte{tagPassThrough}, mustEncode(t, etf.Tuple{})...),
		"trailing bytes":      append(pframe(t, etf.Tuple{int64(2)}, etf.Atom("m")), 1, 2),
		"header cut":          {tagVersion, tagHeader, 2, 0x88},
		"uncached atom ref":   {tagVersion, tagHeader, 0, 104, 1, 82, 0},
		"fragment id 0":       append(append([]byte{tagVersion, tagFragStart}, be64(1)...), be64(0)...),
		"orphan continuation": append(append([]byte{tagVersion, tagFragCont}, be64(5)...), be64(1)...),
		"short fragment":      {tagVersion, tagFragStart, 0, 0},
	}
	for name, b := range cases {
		if err := f.frame(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func mustEncode(t testing.TB, v any) []byte {
	b, err := etf.Encode(v, etf.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDispatch: control messages reach the right ergo route, and bad ones close.
func TestDispatch(t *testing.T) {
	core := &fakeCore{unknown: map[gen.Atom]bool{"nosuch": true}}
	c, theirs := testConn(t, core)
	ours := PIDFromETF(ourPid)
	from := PIDFromETF(erlPid)
	send := func(ctl etf.Tuple, payload any, has bool) error { return c.dispatch(ctl, payload, has) }

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(send(etf.Tuple{int64(opSendSender), from, ours}, etf.Atom("hi"), true))
	must(send(etf.Tuple{int64(opRegSend), from, etf.Atom(""), etf.Atom("named")}, etf.Atom("hi"), true))
	must(send(etf.Tuple{int64(opRegSend), from, etf.Atom(""), etf.Atom("named")},
		etf.Tuple{etf.Atom("$gen_call"), etf.Tuple{from, etf.ImproperList{Elems: []any{etf.Atom("alias")}, Tail: aRef}}, etf.Atom("req")}, true))
	must(send(etf.Tuple{int64(opPayloadExit2), from, ours}, etf.Atom("normal"), true)) // dropped: normal
	must(send(etf.Tuple{int64(opPayloadExit2), from, ours}, etf.Atom("kill"), true))
	must(send(etf.Tuple{int64(opMonitorP), from, etf.Atom("named"), aRef}, nil, false))
	must(send(etf.Tuple{int64(opMonitorP), from, etf.Atom("named"), etf.Ref{Node: peer, Creation: 9, IDs: []uint32{9, 9, 9}}}, nil, false))

	go func() {
		// an unknown name monitored gets a noproc DOWN at once
		send(etf.Tuple{int64(opMonitorP), from, etf.Atom("nosuch"), aRef}, nil, false)
	}()
	ctl, payload := readFrame(t, theirs)
	if ctl[0] != int64(opPayloadMonitorPExit) || ctl[1] != etf.Atom("nosuch") || payload != etf.Atom("noproc") {
		t.Fatalf("monitor of a missing name answered %v %v", ctl, payload)
	}

	want := []string{"send_pid", "send_name named", "call_name named", "exit killed", "monitor_name named"}
	core.mu.Lock()
	got := append([]string(nil), core.calls...)
	core.mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("routes %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("routes %v, want %v", got, want)
		}
	}

	bad := []etf.Tuple{
		{int64(99)},
		{int64(opSend), etf.Atom("")},
		{etf.Atom("op")},
		{int64(opLink), from},
		{int64(opMonitorP), from, int64(5), aRef},
	}
	for _, b := range bad {
		if err := send(b, nil, false); !errors.Is(err, ErrMalformed) {
			t.Errorf("%v: %v, want ErrMalformed", b, err)
		}
	}
}

// FuzzFrame: no frame makes the reader panic; the fake dispatcher only counts.
func FuzzFrame(f *testing.F) {
	f.Add(pframe(f, etf.Tuple{int64(opRegSend), erlPid, etf.Atom(""), etf.Atom("rex")}, etf.Atom("x")))
	f.Add([]byte{tagVersion, tagHeader, 1, 0x08, 3, 1, 'a', 104, 1, 82, 0})
	f.Add(append(append([]byte{tagVersion, tagFragStart}, be64(1)...), be64(2)...))
	f.Add([]byte{tagVersion, tagHeader, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		fr := &frameReader{frags: map[uint64]*fragSeq{}, c: &conn{opts: Options{MaxMessageSize: 1 << 16}}}
		fr.dispatch = func(etf.Tuple, any, bool) error { return nil }
		fr.frame(b)
		fr.frame(b) // a second pass sees the cache and fragment state the first left
	})
}
