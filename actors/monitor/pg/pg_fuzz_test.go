package pg_test

import (
	"errors"
	"testing"

	"imperial/actors/monitor/pg"
)

// FuzzRow feeds arbitrary column values: Row never panics, and either errs
// with one of its sentinels or returns a vassal within the limits.
func FuzzRow(f *testing.F) {
	f.Add("a.ini", "[uwsgi]\n", "1700000000.123456", "1000", "100", "/tmp/s", uint32(1700))
	f.Add("a.ini", "c", "2023-11-14 22:13:20.5+00", "", "", "", uint32(1184))
	f.Add("", "", "", "x", "-1", "", uint32(25))
	f.Add("a.ini", "c", "1e308", "99999999999", "1", "", uint32(701))
	f.Add("a.ini", "c", "-.5", " 1 ", "2", " ", uint32(1114))
	f.Fuzz(func(t *testing.T, name, config, ts, uid, gid, socket string, oid uint32) {
		v, err := pg.Row(cols(pg.Column{Name: "ts", OID: oid}, 6), vals(name, config, ts, uid, gid, socket))
		if err != nil {
			for _, s := range []error{pg.ErrName, pg.ErrConfig, pg.ErrTooLarge, pg.ErrTS, pg.ErrID} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error without a sentinel: %v", err)
		}
		if v.Name != name || len(v.Config) > pg.MaxConfig || v.UID < -1 || v.GID < -1 {
			t.Fatalf("bad vassal %+v", v)
		}
	})
}
