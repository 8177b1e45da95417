package mongodb

import (
	"fmt"
	"math"
	"path/filepath"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"imperial/actors/emperor"
)

// Limits on what a query may return; a larger result is refused, not cut.
const (
	MaxDocs   = 10000 // vassals of one query
	MaxConfig = 65535 // bytes of one config: what the vassal's config socket carries
)

// Fields is the projection of a poll: the only fields a vassal document has.
var Fields = []string{"name", "config", "ts", "uid", "gid", "socket"}

// DocName reads a document's name for messages about it, "" when it has none.
func DocName(doc bson.Raw) string {
	s, _ := doc.Lookup("name").StringValueOK()
	return s
}

// Vassal turns one document into a vassal. cwd is the emperor's directory:
// a document without config names a config file relative to it. ts is a BSON
// date or a number of milliseconds since the epoch (absent: 0); uid and gid
// are numbers (absent: none); an empty socket means a normal vassal.
func Vassal(doc bson.Raw, cwd string) (emperor.VassalConfig, error) {
	v := emperor.VassalConfig{UID: -1, GID: -1}
	name, err := str(doc, "name")
	if err != nil {
		return v, err
	}
	if name == "" {
		return v, ErrName
	}
	if len(name) > emperor.MaxNameLen {
		return v, fmt.Errorf("%w: name %d bytes > %d", ErrTooLarge, len(name), emperor.MaxNameLen)
	}
	v.Name = name
	config, err := str(doc, "config")
	if err != nil {
		return v, err
	}
	switch {
	case len(config) > MaxConfig:
		return v, fmt.Errorf("%w: config %d bytes > %d", ErrTooLarge, len(config), MaxConfig)
	case config != "":
		v.Config = []byte(config)
	case filepath.IsAbs(name):
		v.Path = name
	default:
		v.Path, v.Dir = filepath.Join(cwd, name), cwd
	}
	ms, err := millis(doc, "ts")
	if err != nil {
		return v, err
	}
	v.MTime = time.UnixMilli(ms)
	if v.UID, err = id(doc, "uid"); err != nil {
		return v, err
	}
	if v.GID, err = id(doc, "gid"); err != nil {
		return v, err
	}
	if v.Socket, err = str(doc, "socket"); err != nil {
		return v, err
	}
	return v, nil
}

// str reads a string field; absent or null is "".
func str(doc bson.Raw, key string) (string, error) {
	rv, err := doc.LookupErr(key)
	if err != nil || rv.Type == bson.TypeNull {
		return "", nil
	}
	s, ok := rv.StringValueOK()
	if !ok {
		return "", fmt.Errorf("%w: %s is %s, want a string", ErrField, key, rv.Type)
	}
	return s, nil
}

// millis reads ts: a date, or a number of milliseconds; absent or null is 0.
func millis(doc bson.Raw, key string) (int64, error) {
	rv, err := doc.LookupErr(key)
	if err != nil || rv.Type == bson.TypeNull {
		return 0, nil
	}
	if ms, ok := rv.DateTimeOK(); ok {
		return ms, nil
	}
	n, ok := number(rv)
	if !ok || n > 1<<50 || n < -(1<<50) {
		return 0, fmt.Errorf("%w: %s is %s, want a date or milliseconds", ErrField, key, rv.Type)
	}
	return int64(n), nil
}

// id reads uid or gid: a non-negative number; absent or null is -1 (none).
func id(doc bson.Raw, key string) (int, error) {
	rv, err := doc.LookupErr(key)
	if err != nil || rv.Type == bson.TypeNull {
		return -1, nil
	}
	n, ok := number(rv)
	if !ok || n < 0 || n > math.MaxInt32 || n != math.Trunc(n) {
		return -1, fmt.Errorf("%w: %s is %s %v, want a non-negative integer", ErrField, key, rv.Type, rv)
	}
	return int(n), nil
}

func number(rv bson.RawValue) (float64, bool) {
	if n, ok := rv.Int32OK(); ok {
		return float64(n), true
	}
	if n, ok := rv.Int64OK(); ok {
		return float64(n), true
	}
	if f, ok := rv.DoubleOK(); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return f, true
	}
	return 0, false
}
