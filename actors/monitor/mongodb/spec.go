package mongodb

import (
	"fmt"
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Defaults of uWSGI's mongodb:// monitor.
const (
	DefaultAddr       = "127.0.0.1:27017"
	DefaultDB         = "uwsgi"
	DefaultCollection = "emperor.vassals"
)

// Spec is a parsed `mongodb://` argument.
type Spec struct {
	Addr       string // host:port (or user:password@host:port, or a host list)
	DB         string
	Collection string
	Filter     bson.D // the FILTER part, MongoDB extended JSON; empty: every document
}

// ParseSpec reads "ADDR,DB.COLLECTION,FILTER": each part may be empty (its
// default); the filter is the rest after the second comma, so it may contain
// commas itself.
func ParseSpec(arg string) (Spec, error) {
	s := Spec{Addr: DefaultAddr, DB: DefaultDB, Collection: DefaultCollection}
	parts := strings.SplitN(arg, ",", 3)
	if a := strings.TrimSpace(parts[0]); a != "" {
		if strings.ContainsAny(a, "/?# ") {
			return Spec{}, fmt.Errorf("%w: address %q: want host:port", ErrSpec, Redact(a))
		}
		s.Addr = a
	}
	if len(parts) > 1 {
		if c := strings.TrimSpace(parts[1]); c != "" {
			db, coll, ok := strings.Cut(c, ".")
			if !ok || db == "" || coll == "" {
				return Spec{}, fmt.Errorf("%w: collection %q: want DB.COLLECTION", ErrSpec, c)
			}
			s.DB, s.Collection = db, coll
		}
	}
	if len(parts) > 2 {
		if f := strings.TrimSpace(parts[2]); f != "" {
			var d bson.D
			if err := bson.UnmarshalExtJSON([]byte(f), false, &d); err != nil {
				return Spec{}, fmt.Errorf("%w: filter %q: %v", ErrSpec, f, err)
			}
			s.Filter = d
		}
	}
	return s, nil
}

// URI is the driver's connection string for the spec's address.
func (s Spec) URI() string { return "mongodb://" + s.Addr + "/" }

var userInfo = regexp.MustCompile(`([^:/@,]*:)[^@/,]*@`)

// Redact hides a password in a spec's user info.
func Redact(spec string) string { return userInfo.ReplaceAllString(spec, "${1}xxxxx@") }
