package pg

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"imperial/actors/emperor"
)

// Limits on what a query may return; a larger result is refused, not cut.
const (
	MaxRows    = 10000 // vassals of one query
	MaxConfig  = 65535 // bytes of one config: what the vassal's config socket carries
	MaxColumns = 6
	MinColumns = 3
)

// Type OIDs row.go reads as timestamps (PostgreSQL's pg_type).
const (
	oidDate        = 1082
	oidTimestamp   = 1114
	oidTimestamptz = 1184
)

// Column is one result column: its name and type OID.
type Column struct {
	Name string
	OID  uint32
}

// CheckColumns checks the shape of a result: 3 to 6 columns.
func CheckColumns(cols []Column) error {
	if len(cols) < MinColumns || len(cols) > MaxColumns {
		return fmt.Errorf("%w: got %d", ErrColumns, len(cols))
	}
	return nil
}

// Name reads a row's vassal name (column 1) for messages about the row, ""
// when it has none.
func Name(vals [][]byte) string {
	if len(vals) == 0 {
		return ""
	}
	return string(vals[0])
}

// Row turns one result row into a vassal. vals are the columns in text
// format (nil for NULL), as the simple query protocol returns them; they may
// be reused by the caller after Row returns (Row copies what it keeps).
// Columns: name, config, ts, then optionally uid, gid (decimal; NULL or empty:
// none) and socket (NULL or empty: a normal vassal). ts is unix seconds with
// an optional fraction (EXTRACT(epoch FROM ts)), or a date/timestamp column.
func Row(cols []Column, vals [][]byte) (emperor.VassalConfig, error) {
	v := emperor.VassalConfig{UID: -1, GID: -1}
	if err := CheckColumns(cols); err != nil {
		return v, err
	}
	if len(vals) != len(cols) {
		return v, fmt.Errorf("%w: row has %d values for %d columns", ErrColumns, len(vals), len(cols))
	}
	if len(vals[0]) == 0 {
		return v, ErrName
	}
	if len(vals[0]) > emperor.MaxNameLen {
		return v, fmt.Errorf("%w: name %d bytes > %d", ErrTooLarge, len(vals[0]), emperor.MaxNameLen)
	}
	v.Name = string(vals[0])
	if len(vals[1]) == 0 {
		return v, ErrConfig
	}
	if len(vals[1]) > MaxConfig {
		return v, fmt.Errorf("%w: config %d bytes > %d", ErrTooLarge, len(vals[1]), MaxConfig)
	}
	v.Config = append([]byte(nil), vals[1]...)
	ts, err := ParseTS(cols[2].OID, vals[2])
	if err != nil {
		return v, err
	}
	v.MTime = ts
	if len(vals) > 3 {
		if v.UID, err = parseID("uid", vals[3]); err != nil {
			return v, err
		}
	}
	if len(vals) > 4 {
		if v.GID, err = parseID("gid", vals[4]); err != nil {
			return v, err
		}
	}
	if len(vals) > 5 {
		if len(vals[5]) > 4096 {
			return v, fmt.Errorf("%w: socket %d bytes > 4096", ErrTooLarge, len(vals[5]))
		}
		v.Socket = strings.TrimSpace(string(vals[5]))
	}
	return v, nil
}

func parseID(what string, b []byte) (int, error) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 0 {
		return -1, fmt.Errorf("%w: %s %q", ErrID, what, s)
	}
	return int(n), nil
}

// ParseTS reads a ts column: a date or timestamp (ISO style, as the
// connection asks for), or a number of seconds since the epoch with an
// optional fraction, kept to the nanosecond.
func ParseTS(oid uint32, b []byte) (time.Time, error) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return time.Time{}, fmt.Errorf("%w: NULL or empty", ErrTS)
	}
	switch oid {
	case oidDate, oidTimestamp, oidTimestamptz:
		for _, layout := range []string{
			"2006-01-02 15:04:05.999999999Z07:00:00",
			"2006-01-02 15:04:05.999999999Z07:00",
			"2006-01-02 15:04:05.999999999Z07",
			"2006-01-02 15:04:05.999999999",
			"2006-01-02",
		} {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("%w: %q is not an ISO timestamp", ErrTS, s)
	}
	return parseEpoch(s)
}

// parseEpoch reads "1700000000", "1700000000.123456" exactly, and anything
// else strconv.ParseFloat reads ("1.7e+09") to float precision.
func parseEpoch(s string) (time.Time, error) {
	ip, fp, hasFrac := strings.Cut(s, ".")
	neg := strings.HasPrefix(ip, "-")
	sec, err := strconv.ParseInt(ip, 10, 64)
	if err == nil && (!hasFrac || allDigits(fp)) {
		const maxSec = 1 << 40 // far beyond year 30000; keeps UnixNano arithmetic sane
		if sec > maxSec || sec < -maxSec {
			return time.Time{}, fmt.Errorf("%w: %q out of range", ErrTS, s)
		}
		if len(fp) > 9 {
			fp = fp[:9]
		}
		nsec := int64(0)
		if fp != "" {
			n, _ := strconv.ParseInt(fp+strings.Repeat("0", 9-len(fp)), 10, 64)
			nsec = n
		}
		if neg {
			nsec = -nsec
		}
		return time.Unix(sec, nsec), nil
	}
	f, ferr := strconv.ParseFloat(s, 64)
	if ferr != nil || f != f || f > 1<<40 || f < -(1<<40) {
		return time.Time{}, fmt.Errorf("%w: %q is not a number of seconds", ErrTS, s)
	}
	whole := int64(f)
	return time.Unix(whole, int64((f-float64(whole))*1e9)), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
