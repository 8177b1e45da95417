package mongodb_test

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"imperial/actors/monitor/mongodb"
)

// FuzzVassal feeds arbitrary bytes as a document (the driver validates what
// a server sends; Vassal must not panic on what passes validation).
func FuzzVassal(f *testing.F) {
	for _, d := range []bson.D{
		doc("name", "a.ini", "config", "[uwsgi]\n", "ts", bson.DateTime(1700000000123), "uid", int32(1), "gid", int64(2), "socket", "/s"),
		doc("name", "a.ini", "ts", 1.5, "uid", -1),
		doc("name", 3, "config", doc("x", 1)),
	} {
		b, err := bson.Marshal(d)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{5, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		doc := bson.Raw(b)
		if doc.Validate() != nil {
			return
		}
		v, err := mongodb.Vassal(doc, "/srv")
		if err != nil {
			for _, s := range []error{mongodb.ErrName, mongodb.ErrField, mongodb.ErrTooLarge} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error without a sentinel: %v", err)
		}
		if v.Name == "" || len(v.Config) > mongodb.MaxConfig || (len(v.Config) == 0) == (v.Path == "") {
			t.Fatalf("bad vassal %+v", v)
		}
	})
}
