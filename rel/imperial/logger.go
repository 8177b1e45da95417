package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"ergo.services/ergo/gen"
)

// slogLogger writes ergo's log through log/slog. Routine network and lifecycle
// chatter that ergo logs at info and warning (every connection, every port probe,
// every application start) is demoted to debug (ergo-network P18).
type slogLogger struct {
	log *slog.Logger
	min slog.Level
}

var _ gen.LoggerBehavior = (*slogLogger)(nil)

func newLogger(out io.Writer, level slog.Level) *slogLogger {
	h := slog.NewTextHandler(out, &slog.HandlerOptions{Level: level})
	return &slogLogger{log: slog.New(h), min: level}
}

// routine are format prefixes ergo uses for events that are not news.
var routine = []string{
	"new connection with", "connection with", "unable to handshake with", "acceptor ",
	"application ", "Supervisor: ", "metrics disabled",
}

func slogLevel(l gen.LogLevel) slog.Level {
	switch {
	case l <= gen.LogLevelDebug:
		return slog.LevelDebug
	case l == gen.LogLevelInfo:
		return slog.LevelInfo
	case l == gen.LogLevelWarning:
		return slog.LevelWarn
	}
	return slog.LevelError
}

func (s *slogLogger) Log(m gen.MessageLog) {
	level := slogLevel(m.Level)
	if level < slog.LevelError {
		for _, p := range routine {
			if strings.HasPrefix(m.Format, p) {
				level = slog.LevelDebug
				break
			}
		}
	}
	if level < s.min {
		return
	}
	attrs := make([]slog.Attr, 0, 4+len(m.Fields))
	switch src := m.Source.(type) {
	case gen.MessageLogProcess:
		attrs = append(attrs, slog.String("pid", src.PID.String()))
		if src.Name != "" {
			attrs = append(attrs, slog.String("name", string(src.Name)))
		}
	case gen.MessageLogMeta:
		attrs = append(attrs, slog.String("meta", src.Meta.String()), slog.String("parent", src.Parent.String()))
	case gen.MessageLogNetwork:
		attrs = append(attrs, slog.String("peer", string(src.Peer)))
	}
	for _, f := range m.Fields {
		attrs = append(attrs, slog.Any(f.Name, f.Value))
	}
	s.log.LogAttrs(context.Background(), level, fmt.Sprintf(m.Format, m.Args...), attrs...)
}

func (s *slogLogger) Terminate() {}

// parseLevel reads the log-level option: debug, info, warning or error.
func parseLevel(v string) (slog.Level, gen.LogLevel, error) {
	switch strings.ToLower(v) {
	case "", "info":
		return slog.LevelInfo, gen.LogLevelInfo, nil
	case "debug", "trace":
		return slog.LevelDebug, gen.LogLevelDebug, nil
	case "warning", "warn":
		return slog.LevelWarn, gen.LogLevelWarning, nil
	case "error":
		return slog.LevelError, gen.LogLevelError, nil
	}
	return 0, 0, fmt.Errorf("log-level %q: want debug, info, warning or error", v)
}
