//go:build peers

package handshake_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ergo.services/ergo/gen"

	"imperial/node/handshake"
	"imperial/rel/peers"
)

// These tests run a real OTP erl against Handshake. They start their own epmd on a free port (ERL_EPMD_PORT)
// and talk to it with raw ALIVE2 / PORT_PLEASE2 requests, so they depend on no other imperial package.

type peerNode struct {
	name     gen.Atom
	creation int64
}

func (n peerNode) Name() gen.Atom       { return n.name }
func (n peerNode) Creation() int64      { return n.creation }
func (n peerNode) Version() gen.Version { return gen.Version{Name: "imperial-test"} }

func lookPath(t *testing.T, prog string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err != nil {
		t.Fatalf("%s not found: run rel/scripts/install-peers.sh", prog)
	}
	return p
}

// startProcess starts cmd in its own process group and kills the group at cleanup.
func startProcess(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
}

// startEpmd runs a private epmd and returns its port once it answers.
func startEpmd(t *testing.T) int {
	t.Helper()
	port := peers.FreePort(t)
	cmd := exec.Command(lookPath(t, "epmd"), "-port", strconv.Itoa(port))
	cmd.Env = append(cmd.Environ(), "ERL_EPMD_PORT="+strconv.Itoa(port))
	startProcess(t, cmd)
	peers.WaitFor(t, 5*time.Second, func() error {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
		}
		return err
	})
	return port
}

// alive2 registers name at listenPort with the epmd on epmdPort and returns the creation. The registration
// lasts as long as the returned conn (closed at cleanup).
func alive2(t *testing.T, epmdPort int, name string, listenPort int) uint32 {
	t.Helper()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(epmdPort))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	req := []byte{'x'}
	req = binary.BigEndian.AppendUint16(req, uint16(listenPort))
	req = append(req, 'M', 0, 0, 6, 0, 6)
	req = binary.BigEndian.AppendUint16(req, uint16(len(name)))
	req = append(req, name...)
	req = append(req, 0, 0)
	if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(req))), req...)); err != nil {
		t.Fatal(err)
	}
	var resp [6]byte
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, resp[:]); err != nil {
		t.Fatalf("ALIVE2: %v", err)
	}
	c.SetReadDeadline(time.Time{})
	if resp[0] != 'v' || resp[1] != 0 {
		t.Fatalf("ALIVE2 response %x", resp)
	}
	return binary.BigEndian.Uint32(resp[2:])
}

// portPlease2 asks the epmd on epmdPort where name listens.
func portPlease2(epmdPort int, name string) (int, error) {
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(epmdPort))
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	req := append(binary.BigEndian.AppendUint16(nil, uint16(1+len(name))), 'z')
	if _, err := c.Write(append(req, name...)); err != nil {
		return 0, err
	}
	resp, err := io.ReadAll(c)
	if err != nil {
		return 0, err
	}
	if len(resp) < 4 || resp[0] != 'w' || resp[1] != 0 {
		return 0, fmt.Errorf("PORT2_RESP %x", resp)
	}
	return int(binary.BigEndian.Uint16(resp[2:])), nil
}

// serveFrames stands in for node/dist after a handshake: it reads 4-byte frames (Tail first) until the
// socket closes and answers every tick with a tick.
func serveFrames(conn net.Conn, tail []byte) {
	defer conn.Close()
	r := io.MultiReader(strings.NewReader(string(tail)), conn)
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n == 0 {
			if _, err := conn.Write(hdr[:]); err != nil {
				return
			}
			continue
		}
		if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
			return
		}
	}
}

func erlEnv(t *testing.T, cmd *exec.Cmd, epmdPort int) {
	cmd.Env = append(cmd.Environ(), "ERL_EPMD_PORT="+strconv.Itoa(epmdPort), "HOME="+t.TempDir())
}

// TestErlDialsUs: erl's net_kernel:connect_node reaches our Accept through epmd.
func TestErlDialsUs(t *testing.T) {
	erl := lookPath(t, "erl")
	epmdPort := startEpmd(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	creation := alive2(t, epmdPort, "imp", l.Addr().(*net.TCPAddr).Port)
	node := peerNode{"imp@127.0.0.1", int64(creation)}

	for _, tc := range []struct {
		name, erlCookie string
		alive           bool // pretend c is still connected: erl must answer true to our alive
		want            string
		acceptErr       error
		disconnects     int32
	}{
		{"right cookie", "x", false, "true", nil, 0},
		{"wrong cookie", "wrong", false, "false", handshake.ErrBadDigest, 0},
		{"restarted peer", "x", true, "true", nil, 1},
		{"restarted peer, wrong cookie", "wrong", true, "false", handshake.ErrBadDigest, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var disconnects atomic.Int32
			opts := handshake.Options{}
			if tc.alive {
				opts.Alive = func(peer gen.Atom) (func(), bool) {
					return func() { disconnects.Add(1) }, peer == "c@127.0.0.1"
				}
			}
			h := handshake.New(opts)
			accepted := make(chan error, 1)
			go func() {
				conn, err := l.Accept()
				if err != nil {
					accepted <- err
					return
				}
				res, err := h.Accept(node, conn, gen.HandshakeOptions{Cookie: "x"})
				if err != nil {
					conn.Close()
					accepted <- err
					return
				}
				if n, ok := res.Custom.(handshake.Negotiated); !ok || n.Peer != "c@127.0.0.1" || res.Peer != n.Peer ||
					n.Flags&handshake.Mandatory26 != handshake.Mandatory26 || n.PeerCreation == 0 {
					accepted <- fmt.Errorf("result %+v", res)
				} else {
					accepted <- nil
				}
				serveFrames(conn, res.Tail)
			}()

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, erl, "-noshell", "-name", "c@127.0.0.1", "-setcookie", tc.erlCookie,
				"-eval", `io:format("~p~n",[net_kernel:connect_node('imp@127.0.0.1')]), halt().`)
			erlEnv(t, cmd, epmdPort)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("erl: %v\n%s", err, out)
			}
			t.Logf("erl output: %s", out)
			if err := <-accepted; !errors.Is(err, tc.acceptErr) || (err == nil) != (tc.acceptErr == nil) {
				t.Fatalf("Accept: %v, want %v", err, tc.acceptErr)
			}
			lines := strings.Fields(string(out))
			if len(lines) == 0 || lines[len(lines)-1] != tc.want {
				t.Fatalf("erl printed %q, want %s last", out, tc.want)
			}
			if n := disconnects.Load(); n != tc.disconnects {
				t.Errorf("disconnect called %d times, want %d", n, tc.disconnects)
			}
		})
	}
}

// TestWeDialErl: our Start against an erl node found through epmd; erl reports nodeup for us.
func TestWeDialErl(t *testing.T) {
	erl := lookPath(t, "erl")
	epmdPort := startEpmd(t)
	cmd := exec.Command(erl, "-noshell", "-name", "e@127.0.0.1", "-setcookie", "x", "-eval",
		`ok = net_kernel:monitor_nodes(true), io:format("ready~n"),
		 (fun L() -> receive {nodeup, N} -> io:format("nodeup ~p~n", [N]), L(); _ -> L() end end)().`)
	erlEnv(t, cmd, epmdPort)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	startProcess(t, cmd)
	lines := make(chan string, 16)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	expect := func(want string) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("erl exited before printing %q", want)
				}
				if l == want {
					return
				}
			case <-timeout:
				t.Fatalf("erl did not print %q", want)
			}
		}
	}
	expect("ready")
	var port int
	peers.WaitFor(t, 10*time.Second, func() (err error) { port, err = portPlease2(epmdPort, "e"); return err })

	node := peerNode{"imp@127.0.0.1", 0x7A000001}
	for _, tc := range []struct {
		name, cookie string
		err          error
	}{
		{"wrong cookie", "wrong", io.ErrUnexpectedEOF}, // erl closes without 'a' ("Invalid challenge reply")
		{"right cookie", "x", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err != nil {
				t.Fatal(err)
			}
			h := handshake.New(handshake.Options{})
			res, err := h.Start(node, conn, gen.HandshakeOptions{Cookie: tc.cookie})
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				conn.Close()
				t.Fatalf("Start: %v, want %v", err, tc.err)
			}
			if err != nil {
				conn.Close()
				return
			}
			t.Cleanup(func() { conn.Close() })
			n, ok := res.Custom.(handshake.Negotiated)
			if !ok || res.Peer != "e@127.0.0.1" || n.Peer != res.Peer || n.Flags&handshake.Mandatory26 != handshake.Mandatory26 ||
				n.Flags&handshake.FlagPublished == 0 || n.PeerCreation == 0 {
				t.Fatalf("result %+v", res)
			}
			go serveFrames(conn, res.Tail)
			expect("nodeup 'imp@127.0.0.1'")
		})
	}
}
