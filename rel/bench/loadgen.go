package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"imperial/actors/wire/uwsgi"
)

// uwsgiRequest is the request every uwsgi-protocol benchmark sends: nine
// vars as nginx would send them for GET / with Host key.
func uwsgiRequest(key string) []byte {
	vs := uwsgi.Vars{}.
		Add("QUERY_STRING", "").
		Add("REQUEST_METHOD", "GET").
		Add("REQUEST_URI", "/").
		Add("PATH_INFO", "/").
		Add("SERVER_PROTOCOL", "HTTP/1.1").
		Add("REMOTE_ADDR", "127.0.0.1").
		Add("SERVER_NAME", "bench").
		Add("SERVER_PORT", "80").
		Add("HTTP_HOST", key)
	pkt, err := uwsgi.AppendPacket(nil, 0, 0, vs)
	if err != nil {
		panic(err) // constant input
	}
	return pkt
}

// loadResult is one closed-loop run.
type loadResult struct {
	requests int
	errors   int
	elapsed  time.Duration
	cpu      time.Duration // of the measured processes (interleaved), or 0
	p50, p99 time.Duration
	firstErr error
	lat      []time.Duration // sorted
}

// merge adds the slices of one system's interleaved run together.
func merge(rs []loadResult) loadResult {
	var m loadResult
	for _, r := range rs {
		m.requests += r.requests
		m.errors += r.errors
		m.elapsed += r.elapsed
		m.cpu += r.cpu
		m.lat = append(m.lat, r.lat...)
		if m.firstErr == nil {
			m.firstErr = r.firstErr
		}
	}
	slices.Sort(m.lat)
	if len(m.lat) > 0 {
		m.p50 = m.lat[len(m.lat)/2]
		m.p99 = m.lat[len(m.lat)*99/100]
	}
	return m
}

// interleaved runs the same load against each address in turn, in slices of
// one second until each got total, so that whatever else runs on the machine
// weighs on all of them alike; it returns one merged result per address.
// pids[i], when given, are the processes serving addrs[i]: their CPU time
// (with their children's) during its slices is the result's cpu.
func interleaved(addrs []string, pids [][]int, pkt []byte, clients int, total time.Duration) []loadResult {
	const slice = time.Second
	runs := make([][]loadResult, len(addrs))
	for done := time.Duration(0); done < total; done += slice {
		for i, a := range addrs {
			var ps []int
			if i < len(pids) {
				ps = pids[i]
			}
			c0 := routerCPU(ps)
			r := uwsgiLoad(a, pkt, clients, min(slice, total-done))
			r.cpu = routerCPU(ps) - c0
			runs[i] = append(runs[i], r)
		}
	}
	out := make([]loadResult, len(addrs))
	for i := range runs {
		out[i] = merge(runs[i])
	}
	return out
}

func (r loadResult) rate() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// cpuPerReq is the measured processes' CPU µs per answered request.
func (r loadResult) cpuPerReq() float64 {
	if r.requests == 0 {
		return 0
	}
	return float64(r.cpu.Microseconds()) / float64(r.requests)
}

// routerCPU is the user+system time of the processes and, recursively, their
// children (uWSGI's router and workers are children of its master), from
// /proc; processes that are gone count 0.
func routerCPU(pids []int) time.Duration {
	var total time.Duration
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// fields after the parenthesised command: state is field 3, utime 14, stime 15
		if i := bytes.LastIndexByte(raw, ')'); i >= 0 {
			f := strings.Fields(string(raw[i+1:]))
			if len(f) > 12 {
				u, _ := strconv.ParseInt(f[11], 10, 64)
				s, _ := strconv.ParseInt(f[12], 10, 64)
				total += time.Duration(u+s) * time.Second / clockTicks
			}
		}
		var kids []int
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		for _, t := range tasks {
			raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
			for _, k := range strings.Fields(string(raw)) {
				if n, err := strconv.Atoi(k); err == nil {
					kids = append(kids, n)
				}
			}
		}
		total += routerCPU(kids)
	}
	return total
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times (100 on Linux).
const clockTicks = 100

func (r loadResult) String() string {
	s := fmt.Sprintf("%8.0f req/s  p50 %6.2f ms  p99 %6.2f ms", r.rate(),
		float64(r.p50.Microseconds())/1000, float64(r.p99.Microseconds())/1000)
	if r.errors > 0 {
		s += fmt.Sprintf("  errors %d (%v)", r.errors, r.firstErr)
	}
	return s
}

var errStatus = errors.New("answer is not 200")

// uwsgiLoad runs clients closed loops against addr for d: each request on a
// new connection (the uwsgi protocol has one request per connection), the
// answer read to EOF and counted when its status line says 200.
//
// The generator shares the cores with what it measures, so a request costs
// it no more than the protocol needs: no deadline per connection (a timer
// each, about a tenth of its CPU per request) but one watchdog, which
// closes the connections still open loadGrace after d, and cancels dials.
func uwsgiLoad(addr string, pkt []byte, clients int, d time.Duration) loadResult {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		lat      []time.Duration
		errs     atomic.Int64
		firstErr atomic.Value
		stop     atomic.Bool
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := make([]atomic.Pointer[net.TCPConn], clients) // each client's connection
	ok200 := []byte(" 200 ")
	start := time.Now()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			mine := make([]time.Duration, 0, 1<<16)
			for !stop.Load() {
				t0 := time.Now()
				err := request(ctx, addr, pkt, buf, ok200, &open[i])
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(loadGrace):
		cancel()
		for i := range open {
			if c := open[i].Load(); c != nil {
				c.Close()
			}
		}
		<-finished
	}
	elapsed := time.Since(start)
	slices.Sort(lat)
	r := loadResult{requests: len(lat), errors: int(errs.Load()), elapsed: elapsed, lat: lat}
	if len(lat) > 0 {
		r.p50 = lat[len(lat)/2]
		r.p99 = lat[len(lat)*99/100]
	}
	if e, ok := firstErr.Load().(error); ok {
		r.firstErr = e
	}
	return r
}

// loadGrace is how long uwsgiLoad waits for the requests in flight at the
// end of a run before closing their connections.
const loadGrace = 10 * time.Second

// oneRequest is a request with its own deadline, for the waits before a run.
func oneRequest(addr string, pkt, buf, ok200 []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var open atomic.Pointer[net.TCPConn]
	stop := context.AfterFunc(ctx, func() {
		if c := open.Load(); c != nil {
			c.Close()
		}
	})
	defer stop()
	return request(ctx, addr, pkt, buf, ok200, &open)
}

var dialer net.Dialer

// request sends pkt on a new connection, published in open while it is in
// use, and checks the answer's status line.
func request(ctx context.Context, addr string, pkt, buf, ok200 []byte, open *atomic.Pointer[net.TCPConn]) error {
	nc, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	c := nc.(*net.TCPConn)
	open.Store(c)
	defer func() { open.Store(nil); c.Close() }()
	if ctx.Err() != nil { // the watchdog looked before open held c
		return ctx.Err()
	}
	if _, err := c.Write(pkt); err != nil {
		return err
	}
	n := 0
	for {
		r, err := c.Read(buf[n:])
		n += r
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return err
			}
			break
		}
		if n == len(buf) {
			n = min(n, 64) // keep the status line, drop the rest
		}
	}
	line, _, _ := bytes.Cut(buf[:n], []byte("\r\n"))
	if !bytes.Contains(line, ok200) {
		return fmt.Errorf("%w: %q", errStatus, line)
	}
	return nil
}
