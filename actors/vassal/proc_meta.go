package vassal

// procMeta owns one OS process of a vassal, from fork to reaping.
//
// Accepts  procWrite (one control byte to the vassal), procConfig (push the
//          config packet), procKill (SIGKILL the process group).
// Replies  nothing.
// Sends    procSpawned, procByte, procClosed, procWriteFailed, procRefused and,
//          last, procExited to its parent, the vassal actor.
// Spawns   the OS process: its own process group (Setpgid), Pdeathsig SIGKILL
//          tied to this meta's OS thread (locked in Start while the process
//          lives, unlocked after: a thread is never left to exit),
//          tyrant credentials, fd 0 = the on-demand socket or /dev/null,
//          fd 3 = control socket, fd 4 = config socket; one goroutine reading
//          the control socket.
// Owns     the emperor ends of the control and config sockets, the process and
//          its group. Terminate (the vassal actor is gone) writes the stop byte
//          and kills the group after Options.StopTimeout; Start kills whatever
//          is left of the group once the leader is reaped.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/wire/uwsgi"
)

type procMeta struct {
	proc  gen.MetaProcess
	o     Options  // fixed after creation
	stdin *os.File // the on-demand listening socket, owned by odMeta; nil → /dev/null

	mu         sync.Mutex // guards the fields below, shared by Start, HandleMessage and Terminate
	pid        int
	ctrl, cfg  *os.File
	done       bool // the process was reaped
	terminated bool // Terminate ran: do not fork, or stop what was forked
	killTimer  *time.Timer
}

func (m *procMeta) Init(p gen.MetaProcess) error {
	m.proc = p
	return nil
}

func (m *procMeta) send(msg any) {
	m.proc.Send(m.proc.Parent(), msg)
}

// resolve picks the first program found, as uWSGI's execvp chain does.
func (m *procMeta) resolve() (string, bool, error) {
	for _, p := range m.o.Programs {
		if p == "" {
			continue
		}
		path, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		imperial := m.o.Imperial != "" && sameFile(path, m.o.Imperial)
		return path, imperial, nil
	}
	return "", false, fmt.Errorf("%w: tried %v", ErrNoProgram, m.o.Programs)
}

func sameFile(a, b string) bool {
	if a == b {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

func socketpair(name string) (ours, theirs *os.File, err error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("vassal: socketpair: %w", err)
	}
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		syscall.Close(fds[0])
		syscall.Close(fds[1])
		return nil, nil, fmt.Errorf("vassal: socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), name), os.NewFile(uintptr(fds[1]), name+"-vassal"), nil
}

func (m *procMeta) Start() error {
	// The fork happens on this thread, and the kernel sends the vassal its
	// Pdeathsig when the forking thread exits. Locked, the thread stays ours
	// (blocked in Wait) for the vassal's whole life; unlocked at the end, it
	// goes back to Go's pool instead of exiting: a locked goroutine that
	// returns kills its thread, and with it every child any other code forked
	// from that thread before (Go never ends threads otherwise).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	program, imperial, err := m.resolve()
	if err != nil {
		m.send(procRefused{reason: err.Error()})
		return nil
	}
	if len(m.o.Config) > MaxConfig {
		m.send(procRefused{reason: fmt.Sprintf("%v (%d bytes)", ErrConfigTooLarge, len(m.o.Config))})
		return nil
	}
	if imperial && m.o.Check != nil {
		file := m.o.File
		if file != "" && m.o.Dir != "" && !filepath.IsAbs(file) {
			file = filepath.Join(m.o.Dir, file)
		}
		if err := m.o.Check(file, m.o.Config); err != nil {
			m.send(procRefused{reason: err.Error()})
			return nil
		}
	}

	ctrl, ctrlV, err := socketpair("emperor-" + m.o.Name)
	if err != nil {
		m.send(procRefused{reason: err.Error()})
		return nil
	}
	extra := []*os.File{ctrlV}
	var cfg, cfgV *os.File
	if m.o.File == "" {
		if cfg, cfgV, err = socketpair("emperor-config-" + m.o.Name); err != nil {
			ctrl.Close()
			ctrlV.Close()
			m.send(procRefused{reason: err.Error()})
			return nil
		}
		extra = append(extra, cfgV)
	}
	closeAll := func() {
		for _, f := range []*os.File{ctrl, ctrlV, cfg, cfgV} {
			if f != nil {
				f.Close()
			}
		}
	}

	cmd := &exec.Cmd{
		Path:       program,
		Args:       append([]string{program}, m.o.argv(imperial)...),
		Dir:        m.o.Dir,
		Env:        m.o.environ(os.Environ(), imperial),
		Stdout:     m.o.Stdout,
		Stderr:     m.o.Stderr,
		ExtraFiles: extra,
		SysProcAttr: &syscall.SysProcAttr{
			Setpgid:   true,
			Pdeathsig: syscall.SIGKILL,
		},
	}
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	if m.stdin != nil {
		cmd.Stdin = m.stdin
	}
	if m.o.UID >= 0 && m.o.GID >= 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(m.o.UID), Gid: uint32(m.o.GID), Groups: []uint32{}}
	}

	m.mu.Lock()
	if m.terminated {
		m.mu.Unlock()
		closeAll()
		return nil
	}
	err = cmd.Start()
	if err == nil {
		m.pid, m.ctrl, m.cfg = cmd.Process.Pid, ctrl, cfg
	}
	m.mu.Unlock()
	ctrlV.Close()
	if cfgV != nil {
		cfgV.Close()
	}
	if err != nil {
		ctrl.Close()
		if cfg != nil {
			cfg.Close()
		}
		m.send(procRefused{reason: fmt.Sprintf("start %s: %v", program, err)})
		return nil
	}
	started := time.Now()
	m.send(procSpawned{pid: cmd.Process.Pid, program: program, imperial: imperial})
	if cfg != nil {
		if err := writeConfig(cfg, m.o.Config); err != nil {
			m.send(procWriteFailed{err: err.Error()})
		}
	}

	readerDone := make(chan struct{})
	go m.readControl(ctrl, readerDone)

	state, werr := cmd.Process.Wait()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // stragglers of the group
	m.mu.Lock()
	m.done = true
	if m.killTimer != nil {
		m.killTimer.Stop()
	}
	m.mu.Unlock()
	ctrl.Close()
	<-readerDone
	if cfg != nil {
		cfg.Close()
	}

	ev := procExited{lived: time.Since(started), code: -1}
	if werr != nil {
		ev.signal = werr.Error()
	} else if ws, ok := state.Sys().(syscall.WaitStatus); ok {
		switch {
		case ws.Exited():
			ev.code = ws.ExitStatus()
		case ws.Signaled():
			ev.signal = ws.Signal().String()
		}
	}
	m.send(ev)
	return nil
}

// readControl forwards the vassal's bytes until the socket closes.
func (m *procMeta) readControl(ctrl *os.File, done chan struct{}) {
	defer close(done)
	var buf [64]byte
	for {
		n, err := ctrl.Read(buf[:])
		for _, b := range buf[:n] {
			m.send(procByte{b: b})
		}
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				reason := "emperor fd closed by the vassal"
				if err != io.EOF {
					reason = err.Error()
				}
				m.send(procClosed{reason: reason})
			}
			return
		}
	}
}

// writeConfig sends one uwsgi packet (modifier1 115) carrying the config.
func writeConfig(f *os.File, config []byte) error {
	buf := uwsgi.AppendHeader(make([]byte, 0, uwsgi.HeaderSize+len(config)),
		uwsgi.Header{Modifier1: uwsgi.ModEmperor, Size: uint16(len(config))})
	_, err := f.Write(append(buf, config...))
	return err
}

func (m *procMeta) HandleMessage(from gen.PID, message any) error {
	m.mu.Lock()
	pid, ctrl, cfg, done := m.pid, m.ctrl, m.cfg, m.done
	m.mu.Unlock()
	if pid == 0 || done {
		return nil
	}
	switch msg := message.(type) {
	case procWrite:
		if _, err := ctrl.Write([]byte{msg.b}); err != nil {
			m.send(procWriteFailed{err: err.Error()})
		}
	case procConfig:
		if cfg == nil {
			return nil
		}
		if len(msg.config) > MaxConfig {
			m.send(procWriteFailed{err: ErrConfigTooLarge.Error()})
			return nil
		}
		if err := writeConfig(cfg, msg.config); err != nil {
			m.send(procWriteFailed{err: err.Error()})
		}
	case procKill:
		syscall.Kill(-pid, syscall.SIGKILL)
	default:
		m.proc.Log().Error("vassal %s: unknown message %T", m.o.Name, message)
	}
	return nil
}

func (m *procMeta) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return nil, nil
}

// Terminate runs when the vassal actor is gone: stop the process gracefully,
// then kill its group after StopTimeout. Start keeps waiting for the process.
func (m *procMeta) Terminate(reason error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.terminated = true
	if m.pid == 0 || m.done || m.killTimer != nil {
		return
	}
	m.ctrl.Write([]byte{m.o.stopByte()})
	pid := m.pid
	m.killTimer = time.AfterFunc(m.o.StopTimeout, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if !m.done {
			syscall.Kill(-pid, syscall.SIGKILL)
		}
	})
}

func (m *procMeta) HandleInspect(from gen.PID, item ...string) map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return map[string]string{"name": m.o.Name, "pid": fmt.Sprint(m.pid), "done": fmt.Sprint(m.done)}
}
