package mongodb_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"imperial/actors/monitor/mongodb"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		arg, addr, db, coll, filter string
		err                         error
	}{
		{arg: "", addr: "127.0.0.1:27017", db: "uwsgi", coll: "emperor.vassals"},
		{arg: "127.0.0.1:27018", addr: "127.0.0.1:27018", db: "uwsgi", coll: "emperor.vassals"},
		{arg: "h:1,db.coll", addr: "h:1", db: "db", coll: "coll"},
		{arg: "h:1,db.a.b,{\"group\": \"web\", \"n\": {\"$gt\": 1}}", addr: "h:1", db: "db", coll: "a.b", filter: `{"group":"web","n":{"$gt":{"$numberInt":"1"}}}`},
		{arg: ",,{}", addr: "127.0.0.1:27017", db: "uwsgi", coll: "emperor.vassals", filter: "{}"},
		{arg: "u:p@h:1,d.c", addr: "u:p@h:1", db: "d", coll: "c"},
		{arg: "h:1,nodot", err: mongodb.ErrSpec},
		{arg: "h:1,.c", err: mongodb.ErrSpec},
		{arg: "h:1,d.c,{bad json", err: mongodb.ErrSpec},
		{arg: "h:1/db", err: mongodb.ErrSpec},
	}
	for _, tt := range tests {
		s, err := mongodb.ParseSpec(tt.arg)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("ParseSpec(%q) err %v, want %v", tt.arg, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", tt.arg, err)
			continue
		}
		filter := ""
		if s.Filter != nil {
			filter = fmt.Sprint(s.Filter)
		}
		if s.Addr != tt.addr || s.DB != tt.db || s.Collection != tt.coll || filter != tt.filter {
			t.Errorf("ParseSpec(%q) = %+v (filter %s)", tt.arg, s, filter)
		}
	}
	if got := mongodb.Redact("mongodb://u:secret@h:1,d.c"); got != "mongodb://u:xxxxx@h:1,d.c" {
		t.Errorf("Redact: %q", got)
	}
}

// doc builds a document from key, value pairs.
func doc(kv ...any) bson.D {
	d := bson.D{}
	for i := 0; i+1 < len(kv); i += 2 {
		d = append(d, bson.E{Key: kv[i].(string), Value: kv[i+1]})
	}
	return d
}

func raw(t testing.TB, d bson.D) bson.Raw {
	b, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVassal(t *testing.T) {
	ms := int64(1700000000123)
	date := bson.DateTime(ms)
	tests := []struct {
		name string
		doc  bson.D
		want string // name path dir uid gid socket unixmilli config
		err  error
	}{
		{"full", doc("name", "a.ini", "config", "[uwsgi]\n", "ts", date, "uid", int32(1000), "gid", int64(100), "socket", "/tmp/s"),
			"a.ini|||1000|100|/tmp/s|1700000000123|[uwsgi]\n", nil},
		{"ts as milliseconds", doc("name", "a.ini", "config", "c", "ts", ms), "a.ini|||-1|-1||1700000000123|c", nil},
		{"ts as double", doc("name", "a.ini", "config", "c", "ts", float64(1500)), "a.ini|||-1|-1||1500|c", nil},
		{"no ts is 0", doc("name", "a.ini", "config", "c"), "a.ini|||-1|-1||0|c", nil},
		{"null fields", doc("name", "a.ini", "config", "c", "ts", nil, "uid", nil, "socket", nil), "a.ini|||-1|-1||0|c", nil},
		{"no config: a file in cwd", doc("name", "a.ini", "ts", date), "a.ini|/srv/a.ini|/srv|-1|-1||1700000000123|", nil},
		{"empty config, absolute name", doc("name", "/etc/a.ini", "config", ""), "/etc/a.ini|/etc/a.ini||-1|-1||0|", nil},
		{"empty socket is normal", doc("name", "a.ini", "config", "c", "socket", ""), "a.ini|||-1|-1||0|c", nil},
		{"extra fields ignored", doc("_id", 1, "name", "a.ini", "config", "c", "x", bson.D{}), "a.ini|||-1|-1||0|c", nil},

		{"no name", doc("config", "c"), "", mongodb.ErrName},
		{"empty name", doc("name", "", "config", "c"), "", mongodb.ErrName},
		{"name not a string", doc("name", 12, "config", "c"), "", mongodb.ErrField},
		{"config not a string", doc("name", "a.ini", "config", bson.D{}), "", mongodb.ErrField},
		{"config too large", doc("name", "a.ini", "config", strings.Repeat("x", mongodb.MaxConfig+1)), "", mongodb.ErrTooLarge},
		{"name too large", doc("name", strings.Repeat("n", 300), "config", "c"), "", mongodb.ErrTooLarge},
		{"ts a string", doc("name", "a.ini", "config", "c", "ts", "yesterday"), "", mongodb.ErrField},
		{"ts NaN", doc("name", "a.ini", "config", "c", "ts", math.NaN()), "", mongodb.ErrField},
		{"negative uid", doc("name", "a.ini", "config", "c", "uid", -1), "", mongodb.ErrField},
		{"fractional gid", doc("name", "a.ini", "config", "c", "gid", 1.5), "", mongodb.ErrField},
		{"uid a string", doc("name", "a.ini", "config", "c", "uid", "1000"), "", mongodb.ErrField},
		{"socket not a string", doc("name", "a.ini", "config", "c", "socket", true), "", mongodb.ErrField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := mongodb.Vassal(raw(t, tt.doc), "/srv")
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("%s|%s|%s|%d|%d|%s|%d|%s", v.Name, v.Path, v.Dir, v.UID, v.GID, v.Socket, v.MTime.UnixMilli(), v.Config)
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if !v.MTime.Equal(time.UnixMilli(v.MTime.UnixMilli())) {
				t.Errorf("mtime %v is not whole milliseconds", v.MTime)
			}
		})
	}
}

func TestDocName(t *testing.T) {
	if got := mongodb.DocName(raw(t, doc("name", "a.ini", "ts", "bad"))); got != "a.ini" {
		t.Errorf("DocName = %q", got)
	}
	if got := mongodb.DocName(raw(t, doc("name", 1))); got != "" {
		t.Errorf("DocName = %q", got)
	}
}
