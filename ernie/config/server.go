package config

import "fmt"

// Defaults of Ernie's command-line options (ernie-bert.md §5.1).
const (
	// DefaultPort is the BERT-RPC port (-p, --port); admin commands use it too.
	DefaultPort = 8000
	// DefaultLogLevel is the server log level (-l, --log-level).
	DefaultLogLevel = 2
	// MaxLogLevel is the most verbose level (4 = debug; 0 = fatal).
	MaxLogLevel = 4
)

// Server holds the server-wide settings Ernie takes on its command line
// rather than from the config file. Start from Defaults(): the zero value
// has no port, and log level 0 is a real level.
type Server struct {
	// ConfigFile is the handler config (-c, --config); required to start.
	ConfigFile string
	// Port is the listening TCP port (-p); Ernie binds all interfaces.
	Port int
	// LogLevel is 0 (fatal) .. 4 (debug) (-l); Ernie's default is 2.
	LogLevel int
	// AccessLog is the access log path (-a); empty disables it.
	AccessLog string
	// PidFile receives the server's OS pid, without newline (-P).
	PidFile string
}

// Defaults returns a Server with Ernie's defaults.
func Defaults() Server {
	return Server{Port: DefaultPort, LogLevel: DefaultLogLevel}
}

// Validate checks ranges and that a config file is named. The message for
// a missing config file is Ernie's.
func (s Server) Validate() error {
	switch {
	case s.ConfigFile == "":
		return fmt.Errorf("%w: A config file must be specified: ernie -c /path/to/config.yml", ErrMissingKey)
	case s.Port < 1 || s.Port > 65535:
		return fmt.Errorf("%w: port %d out of range 1..65535", ErrBadValue, s.Port)
	case s.LogLevel < 0 || s.LogLevel > MaxLogLevel:
		return fmt.Errorf("%w: log level %d out of range 0..%d", ErrBadValue, s.LogLevel, MaxLogLevel)
	}
	return nil
}
