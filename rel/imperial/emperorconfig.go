package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"imperial/actors/wire/uwsgi"
	"imperial/apps/config"
)

// emperorScheme marks a config the emperor pushes over the config socket
// (`--ini emperor://app.ini`, uwsgi.md §3.4–§3.5) instead of a file.
const emperorScheme = "emperor://"

// configKeys are the options whose value names a config to load.
var configKeys = map[string]bool{"ini": true, "xml": true, "xmlconfig": true, "yaml": true, "yml": true,
	"json": true, "js": true, "config": true, "include": true}

// takeEmperorConfigs removes the emperor:// configs from opts and returns them
// loaded: the config text comes as one uwsgi packet (modifier1 115, the config
// as its body) on the fd in UWSGI_EMPEROR_FD_CONFIG.
func takeEmperorConfigs(l config.Loader, opts []config.Option) (rest, loaded []config.Option, err error) {
	for _, o := range opts {
		if !configKeys[o.Key] || !strings.HasPrefix(o.Value, emperorScheme) {
			rest = append(rest, o)
			continue
		}
		name := strings.TrimPrefix(o.Value, emperorScheme)
		src, err := readEmperorConfig()
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %s: %s: %w", o.File, o.Line, o.Key, o.Value, err)
		}
		path := name
		if o.Key != "config" && o.Key != "include" && !strings.HasSuffix(name, "."+o.Key) {
			path = name + "." + o.Key // the flag names the format when the name does not
		}
		got, err := l.LoadBytes(path, src)
		if err != nil {
			return nil, nil, err
		}
		loaded = append(loaded, got...)
	}
	return rest, loaded, nil
}

// errNoConfigFD: emperor:// outside a vassal.
var errNoConfigFD = errors.New("no UWSGI_EMPEROR_FD_CONFIG: emperor:// configs come only from an emperor")

func readEmperorConfig() ([]byte, error) {
	v := os.Getenv("UWSGI_EMPEROR_FD_CONFIG")
	fd, err := strconv.Atoi(v)
	if v == "" || err != nil || fd < 0 {
		return nil, errNoConfigFD
	}
	f := os.NewFile(uintptr(fd), "emperor-config")
	f.SetReadDeadline(time.Now().Add(5 * time.Second)) // as uWSGI's loader
	var hdr [4]byte
	if _, err := readFull(f, hdr[:]); err != nil {
		return nil, fmt.Errorf("config socket: %w", err)
	}
	h, _, err := uwsgi.ParseHeader(hdr[:])
	if err != nil {
		return nil, fmt.Errorf("config socket: %w", err)
	}
	if h.Modifier1 != 115 {
		return nil, fmt.Errorf("config socket: modifier1 %d, want 115", h.Modifier1)
	}
	body := make([]byte, h.Size)
	if _, err := readFull(f, body); err != nil {
		return nil, fmt.Errorf("config socket: %w", err)
	}
	return body, nil
}

func readFull(f *os.File, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := f.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
