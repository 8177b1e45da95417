package vassal

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// Options describe one vassal. The emperor builds them from a VassalConfig and
// its own options.
type Options struct {
	Name string // the vassal's name ("app.ini"): argv names it, logs and events carry it

	// File is the config file as argv names it (relative to Dir, as uWSGI's
	// dir monitor passes the bare name, or a path); empty for a config-based
	// vassal, which gets "emperor://Name" and its Config over the config fd.
	File   string
	Config []byte
	// Flag is the loader flag without dashes: ini, xml, yaml, json or config.
	Flag string
	Dir  string // working directory; empty keeps the emperor's

	// Programs are tried in order (LookPath); the first found runs the vassal:
	// --emperor-wrapper-override entries, then the wrapper or imperial itself,
	// then --emperor-wrapper-fallback entries.
	Programs []string
	// Imperial is imperial's own binary. When it is the program chosen, Check
	// runs first and ImperialArgs/ImperialEnv are added.
	Imperial     string
	Check        func(file string, config []byte) error
	ImperialArgs []string // before the loader flag, e.g. --erlang app@127.0.0.1
	ImperialEnv  []string // e.g. IMPERIAL_EMPEROR_NODE=emperor@127.0.0.1
	Args         []string // more arguments after the config (--inherit ...); rarely used
	Env          []string // added to the emperor's environment

	UID, GID int // tyrant mode: run as this uid/gid (setgid, setgroups(0), setuid); -1 keeps the emperor's

	// Socket makes the vassal on-demand: the socket ("host:port" for TCP, else a
	// unix path made 0666) is bound when the vassal starts and the process is
	// spawned at the first connection with the listening socket as its fd 0.
	Socket string

	GracefulStop bool          // stop with byte 2 (graceful) instead of 0
	StopTimeout  time.Duration // stop/curse → group SIGKILL after this (default 30 s)
	Heartbeat    time.Duration // after a first heartbeat (26), kill if none for this long (default 30 s)

	// Stdout and Stderr of the process; nil inherits the emperor's.
	Stdout, Stderr *os.File
}

const (
	defaultStopTimeout = 30 * time.Second
	defaultHeartbeat   = 30 * time.Second
	// MaxConfig is the largest config the config socket carries (u16 datasize).
	MaxConfig = 65535
)

func (o *Options) check() error {
	switch {
	case o.Name == "":
		return fmt.Errorf("%w: empty name", ErrOptions)
	case len(o.Programs) == 0:
		return fmt.Errorf("%w: %s: no program", ErrOptions, o.Name)
	case o.File == "" && o.Config == nil:
		return fmt.Errorf("%w: %s: neither File nor Config", ErrOptions, o.Name)
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = defaultStopTimeout
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = defaultHeartbeat
	}
	if o.Flag == "" {
		o.Flag = "config"
	}
	return nil
}

// stopByte is the byte that asks the vassal to stop.
func (o *Options) stopByte() byte {
	if o.GracefulStop {
		return byteGracefulStop
	}
	return byteStop
}

// Bytes of the emperor ↔ vassal protocol (spec §3.5).
const (
	byteStop          = 0  // emperor → vassal: stop
	byteReload        = 1  // emperor → vassal: graceful reload
	byteGracefulStop  = 2  // emperor → vassal: graceful stop
	byteReady         = 1  // vassal → emperor: master ready (first start only)
	byteConfigWanted  = 2  // vassal → emperor: push my config again
	byteAccepting     = 5  // vassal → emperor: a worker accepts requests
	byteLoyal         = 17 // vassal → emperor: served a request / sub-emperor
	byteVoluntaryStop = 22 // vassal → emperor: idle, wants to stop (die-on-idle)
	byteHeartbeat     = 26 // vassal → emperor: heartbeat
	byteBroodlord     = 30 // vassal → emperor: broodlord SOS (not supported)
)

// Environment variables of the protocol. The vassal's end of the control
// socket is always fd 3 and the config socket fd 4 (ExtraFiles).
const (
	EnvEmperorFD       = "UWSGI_EMPEROR_FD"
	EnvEmperorFDConfig = "UWSGI_EMPEROR_FD_CONFIG"
	// EnvEmperorNode names the emperor's Erlang node for an imperial vassal,
	// which connects to it.
	EnvEmperorNode = "IMPERIAL_EMPEROR_NODE"
	// EnvEmperorCookie carries the emperor node's cookie to an imperial vassal.
	EnvEmperorCookie = "IMPERIAL_EMPEROR_COOKIE"
	fdControl        = 3
	fdConfig         = 4
)

// argv returns the arguments after the program: the loader flag and the
// config (spec §3.4: "--ini app.ini", or "--ini emperor://app.ini" for a
// config-based vassal), then Args; imperial vassals get ImperialArgs first.
func (o *Options) argv(imperial bool) []string {
	var a []string
	if imperial {
		a = append(a, o.ImperialArgs...)
	}
	target := o.File
	if target == "" {
		target = "emperor://" + o.Name
	}
	a = append(a, "--"+o.Flag, target)
	return append(a, o.Args...)
}

// environ builds the vassal's environment from the emperor's (base): uWSGI
// unsets UWSGI_RELOADS and NOTIFY_SOCKET, renames UWSGI_VASSAL_X=v to
// UWSGI_X=v, and sets the emperor fds.
func (o *Options) environ(base []string, imperial bool) []string {
	env := make([]string, 0, len(base)+len(o.Env)+4)
	var renamed []string
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "UWSGI_RELOADS", k == "NOTIFY_SOCKET", k == EnvEmperorFD, k == EnvEmperorFDConfig, k == EnvEmperorNode, k == EnvEmperorCookie:
			continue
		case strings.HasPrefix(k, "UWSGI_VASSAL_"):
			renamed = append(renamed, "UWSGI_"+strings.TrimPrefix(kv, "UWSGI_VASSAL_"))
			continue
		}
		env = append(env, kv)
	}
	env = append(env, renamed...)
	env = append(env, o.Env...)
	env = append(env, fmt.Sprintf("%s=%d", EnvEmperorFD, fdControl))
	if o.File == "" {
		env = append(env, fmt.Sprintf("%s=%d", EnvEmperorFDConfig, fdConfig))
	}
	if imperial {
		env = append(env, o.ImperialEnv...)
	}
	return env
}
