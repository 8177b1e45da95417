package ernie

// The BEAM peer's OS process: a meta process of ernie_beam.
//
// Accepts  nothing.
// Sends    messageBeamExit to ernie_beam from Terminate.
// Owns     the erl process (its own process group, Pdeathsig SIGKILL; the
//          peer also halts on nodedown of the imperial node) and the wait
//          for its exit (Start).

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"

	"ergo.services/ergo/gen"
)

type beamMeta struct {
	gen.MetaProcess
	erl  string
	args []string

	cmd  *exec.Cmd // fixed after Init
	once sync.Once
	pid  int // set in Start before the process can be waited for; read under once
	mu   sync.Mutex
}

func (b *beamMeta) Init(process gen.MetaProcess) error {
	b.MetaProcess = process
	b.cmd = exec.Command(b.erl, b.args...)
	b.cmd.Stdout, b.cmd.Stderr = os.Stderr, os.Stderr
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return nil
}

func (b *beamMeta) Start() error {
	b.mu.Lock()
	err := b.cmd.Start()
	if err == nil {
		b.pid = b.cmd.Process.Pid
	}
	b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("start %s: %w", b.erl, err)
	}
	err = b.cmd.Wait()
	b.kill() // leftovers of the group (epmd is not in it: erl daemonizes it)
	if err == nil {
		return fmt.Errorf("erl exited")
	}
	return fmt.Errorf("erl: %w", err)
}

func (b *beamMeta) kill() {
	b.mu.Lock()
	pid := b.pid
	b.mu.Unlock()
	if pid > 0 {
		b.once.Do(func() { syscall.Kill(-pid, syscall.SIGKILL) })
	}
}

func (b *beamMeta) HandleMessage(from gen.PID, message any) error { return nil }

func (b *beamMeta) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}

func (b *beamMeta) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"erl": b.erl}
}

func (b *beamMeta) Terminate(reason error) {
	b.kill()
	b.Send(b.Parent(), messageBeamExit{reason: reason})
}
