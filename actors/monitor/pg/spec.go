package pg

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultQuery is uWSGI's query when the spec has none.
const DefaultQuery = "SELECT name,config,EXTRACT(epoch FROM ts) FROM vassals"

// Keywords imperial reads from the conninfo (and removes before connecting):
// they are not libpq's, and PostgreSQL would refuse them as run-time parameters.
const (
	KeyListen   = "listen"   // LISTEN on this channel; a NOTIFY triggers a poll
	KeyInterval = "interval" // poll period: a Go duration ("500ms") or seconds ("2")
)

// Spec is a parsed `pg://` argument.
type Spec struct {
	ConnInfo string        // the libpq conninfo as given (keyword=value or postgres:// URL)
	Query    string        // DefaultQuery when the spec has none
	Listen   string        // channel to LISTEN on; "" polls only
	Interval time.Duration // 0: the emperor's --emperor-freq
}

// ParseSpec splits "CONNINFO;QUERY" at the first ';' as uWSGI does, checks the
// conninfo with pgx's parser, and reads imperial's listen= and interval=.
func ParseSpec(arg string) (Spec, error) {
	conn, query, _ := strings.Cut(arg, ";")
	s := Spec{ConnInfo: strings.TrimSpace(conn), Query: strings.TrimSpace(query)}
	if s.Query == "" {
		s.Query = DefaultQuery
	}
	cfg, err := pgx.ParseConfig(s.ConnInfo)
	if err != nil {
		return Spec{}, fmt.Errorf("%w: conninfo: %v", ErrSpec, redactErr(err, s.ConnInfo))
	}
	s.Listen = cfg.RuntimeParams[KeyListen]
	if iv, ok := cfg.RuntimeParams[KeyInterval]; ok {
		d, err := parseInterval(iv)
		if err != nil {
			return Spec{}, fmt.Errorf("%w: %s=%q: %v", ErrSpec, KeyInterval, iv, err)
		}
		s.Interval = d
	}
	return s, nil
}

func parseInterval(s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n <= 0 || n > 86400 {
			return 0, fmt.Errorf("seconds out of range (0, 86400]")
		}
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 || d > 24*time.Hour {
		return 0, fmt.Errorf("out of range (0, 24h]")
	}
	return d, nil
}

// connConfig parses the conninfo for a connection: imperial's keywords are
// removed, timestamps come back in ISO style and UTC (row.go reads them), and
// a connection attempt gives up after 10 s unless connect_timeout says otherwise.
func connConfig(conninfo string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(conninfo)
	if err != nil {
		return nil, fmt.Errorf("%w: conninfo: %v", ErrSpec, redactErr(err, conninfo))
	}
	delete(cfg.RuntimeParams, KeyListen)
	delete(cfg.RuntimeParams, KeyInterval)
	cfg.RuntimeParams["datestyle"] = "ISO, YMD"
	cfg.RuntimeParams["timezone"] = "UTC"
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	return cfg, nil
}

var (
	kvPassword  = regexp.MustCompile(`((?:^|[\s;/])password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s']*)`)
	urlPassword = regexp.MustCompile(`(://[^:/@?#\s]*:)[^@/?#\s]*@`)
	qPassword   = regexp.MustCompile(`([?&]password=)[^&#\s]*`)
)

// Redact hides passwords in a spec (keyword=value, URL user info, URL query),
// for logs and for MessageSnapshot.Source.
func Redact(spec string) string {
	spec = kvPassword.ReplaceAllString(spec, "${1}xxxxx")
	spec = urlPassword.ReplaceAllString(spec, "${1}xxxxx@")
	return qPassword.ReplaceAllString(spec, "${1}xxxxx")
}

// redactErr keeps a parser error from echoing the password back.
func redactErr(err error, conninfo string) string {
	text := err.Error()
	if conninfo != "" {
		text = strings.ReplaceAll(text, conninfo, Redact(conninfo))
	}
	return Redact(text)
}
