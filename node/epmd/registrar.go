package epmd

// Registrar: gen.Registrar over EPMD (shared/specs/ergo-network.md §6).
//
// Owns: the ALIVE2 connection (the registration), one watcher goroutine that
// re-registers when that connection drops, and the embedded Server with its
// Serve goroutine when Register had to start one. Terminate closes all of
// them and waits for the goroutines.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"ergo.services/ergo/gen"
	"ergo.services/ergo/lib"
)

// EmbeddedMode says when the Registrar serves epmd itself.
type EmbeddedMode int

const (
	// EmbeddedAuto serves an embedded epmd on 127.0.0.1:Port when Host is a
	// loopback address and nothing listens on Host:Port.
	EmbeddedAuto EmbeddedMode = iota
	// EmbeddedNever only ever talks to an external epmd.
	EmbeddedNever
	// EmbeddedAlways serves the embedded epmd on 127.0.0.1:Port and registers
	// there; Register fails if the port is taken.
	EmbeddedAlways
)

// Registrar defaults.
const (
	DefaultHost    = "127.0.0.1"
	DefaultTimeout = 3 * time.Second

	retryMin = 50 * time.Millisecond
	retryMax = 5 * time.Second
)

// Registrar errors.
var (
	// ErrOptions: Options lack a required field or hold a bad value.
	ErrOptions = errors.New("epmd: bad options")
	// ErrVersion: the peer's distribution version range excludes 6.
	ErrVersion = errors.New("epmd: unsupported distribution version")
	// ErrTerminated: the Registrar has been terminated.
	ErrTerminated = errors.New("epmd: registrar terminated")
	// ErrRegistered: Register was called twice.
	ErrRegistered = errors.New("epmd: already registered")
)

// Options configures a Registrar.
type Options struct {
	// Host is the epmd we register with (DefaultHost).
	Host string
	// Port is the epmd port, here and on every peer host: ERL_EPMD_PORT from
	// the environment, else DefaultPort.
	Port int
	// HandshakeVersion and ProtoVersion are filled into every route Resolve
	// returns; ergo looks the handshake and proto up by them. Both required.
	HandshakeVersion gen.Version
	ProtoVersion     gen.Version
	// Embedded says when to serve epmd ourselves (EmbeddedAuto).
	Embedded EmbeddedMode
	// Timeout bounds each epmd request (DefaultTimeout).
	Timeout time.Duration
}

// Registrar is a gen.Registrar speaking EPMD. Create it with New and pass it
// as gen.NetworkOptions.Registrar.
type Registrar struct {
	opts   Options
	optErr error
	ctx    context.Context // cancelled by Terminate
	cancel context.CancelFunc
	once   sync.Once
	wg     sync.WaitGroup

	mu         sync.Mutex
	terminated bool
	registered bool
	log        gen.Log
	nodeHost   string
	self       NodeInfo
	conn       net.Conn // the ALIVE2 registration
	creation   uint32
	server     *Server
	serverAddr string
}

var (
	_ gen.Registrar = (*Registrar)(nil)
	_ gen.Resolver  = (*Registrar)(nil)
)

// New returns a Registrar. Option errors surface from Register and Resolve.
func New(opts Options) *Registrar {
	r := &Registrar{}
	if opts.Host == "" {
		opts.Host = DefaultHost
	}
	if opts.Port == 0 {
		opts.Port = DefaultPort
		if v := os.Getenv(EnvPort); v != "" {
			p, err := strconv.Atoi(v)
			if err != nil || p <= 0 || p > 65535 {
				r.optErr = fmt.Errorf("%w: %s=%q", ErrOptions, EnvPort, v)
			}
			opts.Port = p
		}
	}
	if opts.Port <= 0 || opts.Port > 65535 {
		r.optErr = fmt.Errorf("%w: port %d", ErrOptions, opts.Port)
	}
	if opts.HandshakeVersion.Name == "" || opts.ProtoVersion.Name == "" {
		r.optErr = fmt.Errorf("%w: HandshakeVersion and ProtoVersion are required", ErrOptions)
	}
	if opts.Embedded < EmbeddedAuto || opts.Embedded > EmbeddedAlways {
		r.optErr = fmt.Errorf("%w: embedded mode %d", ErrOptions, opts.Embedded)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	r.opts = opts
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r
}

// Creation returns the creation epmd handed out at the last registration
// (0 before). It is opaque: the node uses its own creation on the wire.
func (r *Registrar) Creation() uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.creation
}

// Register registers the node's alive name with the acceptor port of
// routes.Routes[0] (ALIVE2) and keeps the registration open until Terminate.
// With no routes (hidden mode) it registers nothing.
func (r *Registrar) Register(node gen.NodeRegistrar, routes gen.RegisterRoutes) (gen.StaticRoutes, error) {
	if r.optErr != nil {
		return gen.StaticRoutes{}, r.optErr
	}
	alive, host, ok := splitName(node.Name())
	if !ok {
		return gen.StaticRoutes{}, fmt.Errorf("%w: node name %q", ErrBadName, node.Name())
	}
	r.mu.Lock()
	if r.terminated {
		r.mu.Unlock()
		return gen.StaticRoutes{}, ErrTerminated
	}
	if r.registered {
		r.mu.Unlock()
		return gen.StaticRoutes{}, ErrRegistered
	}
	r.registered = true
	r.log = node.Log()
	r.nodeHost = host
	r.mu.Unlock()

	if len(routes.Routes) == 0 {
		return gen.StaticRoutes{}, nil // hidden: not published
	}
	if err := CheckName(alive); err != nil {
		return gen.StaticRoutes{}, err
	}
	r.self = NodeInfo{
		Port:     routes.Routes[0].Port,
		NodeType: NodeTypeNormal,
		Protocol: ProtocolTCP,
		Highest:  DistVersion,
		Lowest:   DistVersion,
		Name:     alive,
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.Timeout)
	defer cancel()
	conn, resp, err := r.register(ctx)
	if err != nil {
		return gen.StaticRoutes{}, err
	}
	if !r.setConn(conn, resp) {
		conn.Close()
		return gen.StaticRoutes{}, ErrTerminated
	}
	r.log.Debug("epmd: registered %q port %d at %s (creation %d)", alive, r.self.Port, conn.RemoteAddr(), resp.Creation)
	r.wg.Add(1)
	go r.watch(conn)
	return gen.StaticRoutes{}, nil
}

// register sends ALIVE2, starting the embedded server as the mode requires.
func (r *Registrar) register(ctx context.Context) (net.Conn, Alive2Resp, error) {
	switch r.opts.Embedded {
	case EmbeddedAlways:
		if err := r.startServer(); err != nil {
			return nil, Alive2Resp{}, err
		}
		return Alive2(ctx, DefaultHost, r.opts.Port, r.self)
	case EmbeddedNever:
		return Alive2(ctx, r.opts.Host, r.opts.Port, r.self)
	}
	conn, resp, err := Alive2(ctx, r.opts.Host, r.opts.Port, r.self)
	if err == nil || !errors.Is(err, syscall.ECONNREFUSED) || !isLoopback(r.opts.Host) {
		return conn, resp, err
	}
	// Nothing listens: serve epmd ourselves. If someone else bound the port
	// in the meantime, register with them instead.
	if serr := r.startServer(); serr != nil && !errors.Is(serr, syscall.EADDRINUSE) {
		return nil, Alive2Resp{}, fmt.Errorf("%w; embedded epmd: %w", err, serr)
	}
	return Alive2(ctx, DefaultHost, r.opts.Port, r.self)
}

// startServer starts the embedded epmd on 127.0.0.1:Port unless it runs.
func (r *Registrar) startServer() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.terminated {
		return ErrTerminated
	}
	if r.server != nil {
		return nil
	}
	addr := net.JoinHostPort(DefaultHost, strconv.Itoa(r.opts.Port))
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		return err
	}
	log := r.log
	srv := NewServer(ServerOptions{Logf: func(format string, args ...any) {
		if log != nil {
			log.Debug(format, args...)
		}
	}})
	r.server = srv
	r.serverAddr = ln.Addr().String()
	if log != nil {
		log.Info("epmd: nothing listened on %s, serving an embedded epmd there", addr)
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if lib.Recover() {
			defer func() {
				if rec := recover(); rec != nil && log != nil {
					log.Error("epmd: embedded server panic: %v", rec)
				}
			}()
		}
		srv.Serve(ln)
	}()
	return nil
}

func (r *Registrar) setConn(conn net.Conn, resp Alive2Resp) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.terminated {
		return false
	}
	r.conn = conn
	r.creation = resp.Creation
	return true
}

// watch waits for the registration to drop and re-registers with backoff,
// until Terminate.
func (r *Registrar) watch(conn net.Conn) {
	defer r.wg.Done()
	if lib.Recover() {
		defer func() {
			if rec := recover(); rec != nil {
				r.log.Error("epmd: registration watcher panic: %v", rec)
			}
		}()
	}
	var sink [64]byte
	for {
		for {
			if _, err := conn.Read(sink[:]); err != nil {
				break
			}
		}
		conn.Close()
		if r.ctx.Err() != nil {
			return
		}
		r.log.Warning("epmd: registration of %q at %s lost, re-registering", r.self.Name, conn.RemoteAddr())
		backoff := retryMin
		for attempt := 1; ; attempt++ {
			ctx, cancel := context.WithTimeout(r.ctx, r.opts.Timeout)
			c, resp, err := r.register(ctx)
			cancel()
			if err == nil {
				if !r.setConn(c, resp) {
					c.Close()
					return
				}
				r.log.Info("epmd: re-registered %q port %d at %s", r.self.Name, r.self.Port, c.RemoteAddr())
				conn = c
				break
			}
			if r.ctx.Err() != nil {
				return
			}
			logf := r.log.Debug
			if attempt == 1 {
				logf = r.log.Warning // once per outage, not every retry
			}
			logf("epmd: re-register %q: %v (retry in %v)", r.self.Name, err, backoff)
			t := time.NewTimer(backoff)
			select {
			case <-r.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(2*backoff, retryMax)
		}
	}
}

// Terminate closes the registration (epmd unregisters the name), stops the
// embedded server and waits for every goroutine the Registrar started.
func (r *Registrar) Terminate() {
	r.once.Do(func() {
		r.cancel()
		r.mu.Lock()
		r.terminated = true
		conn, srv := r.conn, r.server
		r.conn = nil
		r.mu.Unlock()
		if conn != nil {
			conn.Close()
		}
		if srv != nil {
			srv.Close()
		}
	})
	r.wg.Wait()
}

// Resolver returns the Registrar itself.
func (r *Registrar) Resolver() gen.Resolver { return r }

// Resolve asks epmd on the name's host (PORT_PLEASE2) and returns one route
// carrying Options' handshake and proto versions. A name on our own host is
// looked up at the epmd we registered with.
func (r *Registrar) Resolve(name gen.Atom) ([]gen.Route, error) {
	if r.optErr != nil {
		return nil, r.optErr
	}
	alive, host, ok := splitName(name)
	if !ok {
		return nil, fmt.Errorf("%w: node name %q", ErrBadName, name)
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.Timeout)
	defer cancel()
	info, err := PortPlease2(ctx, r.lookupHost(host), r.opts.Port, alive)
	if err != nil {
		return nil, err
	}
	if info.Lowest > DistVersion || info.Highest < DistVersion {
		return nil, fmt.Errorf("%w: %s speaks %d..%d", ErrVersion, name, info.Lowest, info.Highest)
	}
	if info.Port == 0 {
		return nil, fmt.Errorf("%w: %s registered port 0", ErrMalformed, name)
	}
	return []gen.Route{{
		Host:             host,
		Port:             info.Port,
		HandshakeVersion: r.opts.HandshakeVersion,
		ProtoVersion:     r.opts.ProtoVersion,
	}}, nil
}

// lookupHost picks the epmd to ask about a node on host.
func (r *Registrar) lookupHost(host string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if host != r.nodeHost {
		return host
	}
	if r.server != nil {
		return DefaultHost
	}
	return r.opts.Host
}

// Nodes lists the names registered with our epmd (NAMES), as alive@host
// with our node's host.
func (r *Registrar) Nodes() ([]gen.Atom, error) {
	if r.optErr != nil {
		return nil, r.optErr
	}
	r.mu.Lock()
	host := r.nodeHost
	r.mu.Unlock()
	if host == "" {
		host = r.opts.Host
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.Timeout)
	defer cancel()
	_, entries, err := Names(ctx, r.lookupHost(host), r.opts.Port)
	if err != nil {
		return nil, err
	}
	nodes := make([]gen.Atom, 0, len(entries))
	for _, e := range entries {
		nodes = append(nodes, gen.Atom(e.Name+"@"+host))
	}
	return nodes, nil
}

// Info reports the epmd we use and whether we serve it ourselves.
func (r *Registrar) Info() gen.RegistrarInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	info := gen.RegistrarInfo{
		Server:         net.JoinHostPort(r.opts.Host, strconv.Itoa(r.opts.Port)),
		EmbeddedServer: r.server != nil,
		Version:        r.Version(),
	}
	if r.server != nil {
		info.Server = r.serverAddr
	}
	return info
}

// Version identifies this registrar to ergo.
func (r *Registrar) Version() gen.Version {
	return gen.Version{Name: "EPMD", Release: "6", License: gen.LicenseMIT}
}

// ResolveProxy is unsupported: epmd knows no proxies.
func (r *Registrar) ResolveProxy(gen.Atom) ([]gen.ProxyRoute, error) {
	return nil, gen.ErrUnsupported
}

// ResolveApplication is unsupported: epmd knows no applications.
func (r *Registrar) ResolveApplication(gen.Atom) ([]gen.ApplicationRoute, error) {
	return nil, gen.ErrUnsupported
}

// RegisterProxy is unsupported.
func (r *Registrar) RegisterProxy(gen.Atom) error { return gen.ErrUnsupported }

// UnregisterProxy is unsupported.
func (r *Registrar) UnregisterProxy(gen.Atom) error { return gen.ErrUnsupported }

// RegisterApplicationRoute is unsupported.
func (r *Registrar) RegisterApplicationRoute(gen.ApplicationRoute) error {
	return gen.ErrUnsupported
}

// UnregisterApplicationRoute is unsupported.
func (r *Registrar) UnregisterApplicationRoute(gen.Atom) error { return gen.ErrUnsupported }

// Config is unsupported.
func (r *Registrar) Config(...string) (map[string]any, error) { return nil, gen.ErrUnsupported }

// ConfigItem is unsupported.
func (r *Registrar) ConfigItem(string) (any, error) { return nil, gen.ErrUnsupported }

// Event is unsupported.
func (r *Registrar) Event() (gen.Event, error) { return gen.Event{}, gen.ErrUnsupported }

// splitName splits "alive@host"; both parts must be non-empty.
func splitName(name gen.Atom) (alive, host string, ok bool) {
	alive, host, ok = strings.Cut(string(name), "@")
	if !ok || alive == "" || host == "" || strings.Contains(host, "@") {
		return "", "", false
	}
	return alive, host, true
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
