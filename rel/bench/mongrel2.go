package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/security/null"
)

// benchMongrel2: requests per second and p99 through a real Mongrel2 1.12
// (keep-alive HTTP clients → Mongrel2 → ZeroMQ handler) with four handlers
// behind the same server, each on its own route and handler sockets:
//
//	native   imperial --zeromq … --app hello           (Go app)
//	native-tnet  the same imperial, on a handler whose protocol is tnetstring
//	wsgi     imperial --zeromq … --wsgi-file hello.py  (the Python WSGI adapter)
//	pyzmq    the minimal pyzmq handler of uwsgi.md §4.6 (one process)
//	ceiling  a do-nothing Go handler written for this benchmark (zmq4, one
//	         PULL and one PUB, a fixed answer): what Mongrel2 allows
//
// Real uWSGI's mongrel2 plugin cannot be the anchor: with libzmq 4 it never
// delivers a body (spec §4.5). Rounds are interleaved; medians are printed.
func benchMongrel2(cfg config) error {
	for _, bin := range []string{"mongrel2", "m2sh", "unshare", "/usr/bin/python3"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s not found: run rel/scripts/install-peers.sh", bin)
		}
	}
	dir, err := os.MkdirTemp("", "imperial-bench-m2")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	names := []string{"native", "native-tnet", "native-p4", "wsgi", "pyzmq", "ceiling"}
	m2, err := m2Start(dir, names)
	if err != nil {
		return err
	}
	defer stop(m2.cmd)
	spec := func(name string) string { return m2.send[name] + "," + m2.recv[name] }

	hello := filepath.Join(dir, "hello.py")
	os.WriteFile(hello, []byte(m2HelloWSGI), 0o644)
	handler := filepath.Join(dir, "handler.py")
	os.WriteFile(handler, []byte(m2PyZMQHandler), 0o644)
	procs := []*exec.Cmd{
		start(cfg.binary, "--zeromq", spec("native"), "--zeromq", spec("native-tnet"), "--app", "hello", "--log-level", "warning"),
		start(cfg.binary, "--zeromq", spec("native-p4"), "-p", "4", "--app", "hello", "--log-level", "warning"),
		start(cfg.binary, "--zeromq", spec("wsgi"), "--threads", "2", "--wsgi-file", hello, "--log-level", "warning"),
		start("/usr/bin/python3", handler, m2.send["pyzmq"], m2.recv["pyzmq"]),
	}
	for _, p := range procs {
		defer stop(p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ceilingErr := make(chan error, 1)
	go func() { ceilingErr <- m2Ceiling(ctx, m2.send["ceiling"], m2.recv["ceiling"]) }()

	const clients = 50
	for _, n := range names {
		if err := m2Warm(m2.addr, "/"+n+"/", 20*time.Second); err != nil {
			return fmt.Errorf("%s: %w\n%s", n, err, m2.errorLog())
		}
	}
	const rounds = 3
	results := map[string][]loadResult{}
	for r := 0; r < rounds; r++ {
		for _, n := range names {
			results[n] = append(results[n], m2Load(m2.addr, "/"+n+"/", clients, cfg.duration))
		}
	}
	select {
	case err := <-ceilingErr:
		return fmt.Errorf("ceiling handler: %w", err)
	default:
	}
	med := map[string]loadResult{}
	for _, n := range names {
		rs := results[n]
		slices.SortFunc(rs, func(a, b loadResult) int { return cmp.Compare(a.rate(), b.rate()) })
		med[n] = rs[len(rs)/2]
	}
	fmt.Printf("   curl-like keep-alive clients ×%d → Mongrel2 1.12 → handler; median of %d interleaved rounds of %s\n",
		clients, rounds, cfg.duration)
	for _, n := range names {
		fmt.Printf("   %-11s %s\n", n, med[n])
	}
	ratio := func(a, b string) float64 {
		if med[b].rate() == 0 {
			return 0
		}
		return med[a].rate() / med[b].rate()
	}
	fmt.Printf("   native/ceiling %.2f (goal ≥ 0.80)   native/pyzmq %.2f (goal ≥ 2)   native-tnet/ceiling %.2f\n",
		ratio("native", "ceiling"), ratio("native", "pyzmq"), ratio("native-tnet", "ceiling"))
	fmt.Printf("   wsgi/pyzmq %.2f   wsgi/ceiling %.2f\n", ratio("wsgi", "pyzmq"), ratio("wsgi", "ceiling"))
	return nil
}

// m2HelloWSGI is the WSGI app of the wsgi cell.
const m2HelloWSGI = `def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '5')])
    return [b'hello']
`

// m2PyZMQHandler is the minimal pyzmq handler of uwsgi.md §4.6 (answering
// "hello", like the others, and ignoring disconnect notices).
const m2PyZMQHandler = `import sys, zmq, json
ctx = zmq.Context(); pull = ctx.socket(zmq.PULL); pull.connect(sys.argv[1])
pub = ctx.socket(zmq.PUB); pub.connect(sys.argv[2])
while True:
    sender, cid, path, rest = pull.recv().split(b' ', 3)
    hlen, rest = rest.split(b':', 1); hdr = rest[:int(hlen)]; rest = rest[int(hlen) + 1:]
    blen, rest = rest.split(b':', 1); body = rest[:int(blen)]
    if hdr.startswith(b'{') and json.loads(hdr).get('METHOD') == 'JSON': continue
    page = b'hello'
    resp = b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n' % len(page) + page
    pub.send(sender + b' %d:' % len(cid) + cid + b', ' + resp)
`

// m2Ceiling is the do-nothing Go handler: it answers every request that is
// not a disconnect notice with a fixed response, doing no more parsing than
// finding the sender and connection id. Its transport is as lean as Go
// allows: zmq4 for the ZMTP handshake, then buffered reads and one write
// per message.
func m2Ceiling(ctx context.Context, send, recv string) error {
	pub, pbr, err := m2DialZMTP(ctx, recv, zmq4.Pub)
	if err != nil {
		return err
	}
	defer pub.Close()
	go func() {
		for {
			if _, _, err := m2ReadFrame(pbr); err != nil {
				return
			}
		}
	}()
	pull, br, err := m2DialZMTP(ctx, send, zmq4.Pull)
	if err != nil {
		return err
	}
	defer pull.Close()
	context.AfterFunc(ctx, func() { pull.Close(); pub.Close() })
	answer := []byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
	for {
		f, flags, err := m2ReadFrame(br)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if flags&0x04 != 0 {
			continue // a ZMTP command
		}
		sp1 := bytes.IndexByte(f, ' ')
		if sp1 < 0 {
			continue
		}
		sp2 := bytes.IndexByte(f[sp1+1:], ' ')
		if sp2 < 0 {
			continue
		}
		id := f[sp1+1 : sp1+1+sp2]
		if bytes.Contains(f, []byte(`"METHOD":"JSON"`)) || bytes.Contains(f, []byte("6:METHOD,4:JSON,")) {
			continue
		}
		out := make([]byte, 0, sp1+len(id)+16+len(answer))
		out = append(out, f[:sp1]...)
		out = append(out, ' ')
		out = strconv.AppendInt(out, int64(len(id)), 10)
		out = append(out, ':')
		out = append(out, id...)
		out = append(out, ',', ' ')
		out = append(out, answer...)
		hdr := []byte{0, byte(len(out))}
		if len(out) > 255 {
			hdr = binary.BigEndian.AppendUint64([]byte{2}, uint64(len(out)))
		}
		bufs := net.Buffers{hdr, out}
		if _, err := bufs.WriteTo(pub); err != nil {
			return err
		}
	}
}

type m2BufConn struct {
	net.Conn
	r *bufio.Reader
}

func (b m2BufConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// m2DialZMTP connects to a tcp:// endpoint, retrying for 20 s, and does the
// ZMTP handshake with zmq4.
func m2DialZMTP(ctx context.Context, ep string, typ zmq4.SocketType) (net.Conn, *bufio.Reader, error) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		nc, err := net.Dial("tcp", strings.TrimPrefix(ep, "tcp://"))
		if err == nil {
			br := bufio.NewReaderSize(nc, 64<<10)
			if _, err = zmq4.Open(m2BufConn{nc, br}, null.Security(), typ, zmq4.SocketIdentity(m2UUID()), false, nil); err == nil {
				return nc, br, nil
			}
			nc.Close()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, nil, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// m2ReadFrame reads one ZMTP frame (Mongrel2 sends single-frame messages).
func m2ReadFrame(br *bufio.Reader) ([]byte, byte, error) {
	flags, err := br.ReadByte()
	if err != nil {
		return nil, 0, err
	}
	var size uint64
	if flags&0x02 != 0 {
		var b [8]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return nil, 0, err
		}
		size = binary.BigEndian.Uint64(b[:])
	} else {
		b, err := br.ReadByte()
		if err != nil {
			return nil, 0, err
		}
		size = uint64(b)
	}
	if size > 64<<20 {
		return nil, 0, fmt.Errorf("frame of %d bytes", size)
	}
	body := make([]byte, size)
	_, err = io.ReadFull(br, body)
	return body, flags, err
}

// m2Server is a running Mongrel2 with one handler per name.
type m2Server struct {
	cmd        *exec.Cmd
	dir, addr  string
	send, recv map[string]string
}

func (m *m2Server) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(m.dir, "logs", "error.log"))
	return string(b)
}

// m2Start writes a Mongrel2 config with a route /NAME/ per handler, loads it
// with m2sh and starts Mongrel2 in its own PID namespace (as root it
// daemonizes; killing the namespace's init stops it).
func m2Start(dir string, names []string) (*m2Server, error) {
	for _, d := range []string{"logs", "run", "tmp"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	m := &m2Server{dir: dir, addr: m2FreeAddr(), send: map[string]string{}, recv: map[string]string{}}
	var hs, routes []string
	for i, n := range names {
		m.send[n], m.recv[n] = "tcp://"+m2FreeAddr(), "tcp://"+m2FreeAddr()
		proto := "json"
		if strings.HasSuffix(n, "-tnet") {
			proto = "tnetstring"
		}
		hs = append(hs, fmt.Sprintf("h%d = Handler(send_spec='%s', send_ident='%s', recv_spec='%s', recv_ident='', protocol='%s')",
			i, m.send[n], m2UUID(), m.recv[n], proto))
		routes = append(routes, fmt.Sprintf("'/%s/': h%d", n, i))
	}
	_, port, _ := strings.Cut(m.addr, ":")
	srv := m2UUID()
	conf := strings.Join(hs, "\n") + fmt.Sprintf(`
main = Server(uuid="%s", access_log="/logs/access.log", error_log="/logs/error.log", chroot="./",
    default_host="localhost", name="bench", pid_file="/run/mongrel2.pid", port=%s, bind_addr="127.0.0.1",
    hosts=[Host(name="localhost", routes={%s})])
settings = {"upload.temp_store": "/tmp/upload.XXXXXX"}
servers = [main]
`, srv, port, strings.Join(routes, ", "))
	if err := os.WriteFile(filepath.Join(dir, "mongrel2.conf"), []byte(conf), 0o644); err != nil {
		return nil, err
	}
	load := exec.Command("m2sh", "load", "-config", "mongrel2.conf", "-db", "config.sqlite")
	load.Dir, load.Env = dir, append(os.Environ(), "LOGNAME=root")
	if out, err := load.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("m2sh load: %v\n%s", err, out)
	}
	m.cmd = exec.Command("unshare", "--pid", "--fork", "--kill-child", "sh", "-c",
		"mongrel2 config.sqlite "+srv+" && exec sleep 2147483647")
	m.cmd.Dir = dir
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, a := range append([]string{m.addr}, m.send[names[0]][len("tcp://"):]) {
		for {
			c, err := net.Dial("tcp", a)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				stop(m.cmd)
				return nil, fmt.Errorf("mongrel2 does not listen on %s\n%s", a, m.errorLog())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return m, nil
}

func m2FreeAddr() string {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:0"
	}
	defer l.Close()
	return l.Addr().String()
}

func m2UUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// m2Warm waits until path answers 200 (the handler is connected).
func m2Warm(addr, path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			br := bufio.NewReader(c)
			err = m2Do(c, br, path)
			c.Close()
			if err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var errM2Status = errors.New("answer is not 200")

// m2Do sends one keep-alive GET and reads its answer (Content-Length framed).
func m2Do(c net.Conn, br *bufio.Reader, path string) error {
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: bench\r\n\r\n"); err != nil {
		return err
	}
	line, err := br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.Contains(line, []byte(" 200 ")) {
		return fmt.Errorf("%w: %q", errM2Status, line)
	}
	length := -1
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(h) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(h, []byte(":")); ok && strings.EqualFold(string(k), "Content-Length") {
			length, _ = strconv.Atoi(strings.TrimSpace(string(v)))
		}
	}
	if length < 0 {
		return errors.New("no Content-Length")
	}
	_, err = br.Discard(length)
	return err
}

// m2Load runs clients closed loops on keep-alive connections for d.
func m2Load(addr, path string, clients int, d time.Duration) loadResult {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		lat      []time.Duration
		errs     atomic.Int64
		firstErr atomic.Value
		stopped  atomic.Bool
	)
	start := time.Now()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, 1<<15)
			var c net.Conn
			var br *bufio.Reader
			for !stopped.Load() {
				if c == nil {
					var err error
					if c, err = net.DialTimeout("tcp", addr, 5*time.Second); err != nil {
						errs.Add(1)
						firstErr.CompareAndSwap(nil, err)
						c = nil
						time.Sleep(10 * time.Millisecond)
						continue
					}
					br = bufio.NewReader(c)
				}
				c.SetDeadline(time.Now().Add(10 * time.Second))
				t0 := time.Now()
				if err := m2Do(c, br, path); err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err)
					c.Close()
					c = nil
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			if c != nil {
				c.Close()
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	time.Sleep(d)
	stopped.Store(true)
	wg.Wait()
	slices.Sort(lat)
	r := loadResult{requests: len(lat), errors: int(errs.Load()), elapsed: time.Since(start)}
	if len(lat) > 0 {
		r.p50, r.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	if e, ok := firstErr.Load().(error); ok {
		r.firstErr = e
	}
	return r
}
