//go:build peers

package pg_test

import (
	"strings"
	"testing"
	"time"

	"imperial/actors/monitor/netwatch/nwtest"
	"imperial/actors/monitor/pg"
	"imperial/rel/peers"
)

const schema = `
CREATE TABLE vassals (name text PRIMARY KEY, config text, ts timestamptz NOT NULL DEFAULT now(),
                      uid int, gid int, socket text);
INSERT INTO vassals (name, config, uid, gid, socket) VALUES ('a.ini', E'[uwsgi]\nsocket = :3031\n', 1000, 1000, '');
`

// Against a real PostgreSQL: rows spawn, a newer ts reloads, deleted rows go,
// a NOTIFY is picked up at once (the poll interval is an hour), broken rows
// are logged with their name and disturb nothing, and a crashed and restarted
// server keeps the vassals (nothing is sent while it is down).
func TestPostgresListen(t *testing.T) {
	db := peers.StartPostgres(t)
	db.Psql(t, schema)
	e := nwtest.Start(t)
	spec, err := pg.ParseSpec(db.ConnInfo() + " listen=vassals interval=1h;" +
		"SELECT name, config, EXTRACT(epoch FROM ts), uid, gid, socket FROM vassals")
	if err != nil {
		t.Fatal(err)
	}
	e.Spawn(t, pg.Factory, pg.Options{Spec: spec, Emperor: e.Name, MaxBackoff: 300 * time.Millisecond})

	s := e.Expect(t, 10*time.Second, "a.ini")
	a := nwtest.Find(t, s, "a.ini")
	if string(a.Config) != "[uwsgi]\nsocket = :3031\n" || a.UID != 1000 || a.GID != 1000 || a.Socket != "" || a.Path != "" {
		t.Errorf("a.ini = %+v (an empty socket column is a normal vassal)", a)
	}
	if strings.Contains(s.Source, "password") || !strings.HasPrefix(s.Source, "pg://") {
		t.Errorf("source %q", s.Source)
	}

	// add: INSERT + NOTIFY
	start := time.Now()
	db.Psql(t, `INSERT INTO vassals (name, config) VALUES ('b.xml', '<uwsgi/>'); NOTIFY vassals;`)
	s = e.Expect(t, 5*time.Second, "a.ini,b.xml")
	t.Logf("insert → snapshot %s (psql included)", time.Since(start))
	if b := nwtest.Find(t, s, "b.xml"); b.UID != -1 || b.GID != -1 || string(b.Config) != "<uwsgi/>" {
		t.Errorf("b.xml = %+v", b)
	}

	// change: a newer ts, within the same second too
	db.Psql(t, `UPDATE vassals SET config = E'[uwsgi]\nsocket = :3032\n', ts = ts + interval '1 millisecond' WHERE name = 'a.ini'; NOTIFY vassals;`)
	s = e.Expect(t, 5*time.Second, "a.ini,b.xml")
	a2 := nwtest.Find(t, s, "a.ini")
	if !a2.MTime.After(a.MTime) || a2.MTime.Sub(a.MTime) != time.Millisecond || !strings.Contains(string(a2.Config), ":3032") {
		t.Errorf("changed a.ini: mtime %v → %v, config %q", a.MTime, a2.MTime, a2.Config)
	}

	// a broken row (NULL config) for a.ini and a new broken row: logged with
	// their names; a.ini stays as it was; b.xml's change still goes through
	db.Psql(t, `UPDATE vassals SET config = NULL WHERE name = 'a.ini';
		INSERT INTO vassals (name, config) VALUES ('broken.ini', NULL);
		UPDATE vassals SET ts = ts + interval '1 second' WHERE name = 'b.xml'; NOTIFY vassals;`)
	s = e.Expect(t, 5*time.Second, "a.ini,b.xml")
	if a3 := nwtest.Find(t, s, "a.ini"); !a3.MTime.Equal(a2.MTime) || string(a3.Config) != string(a2.Config) {
		t.Errorf("a.ini with a broken row changed: %+v", a3)
	}
	e.WaitLog(t, 5*time.Second, "[emperor-pg]", "vassal a.ini", pg.ErrConfig.Error())
	e.WaitLog(t, 5*time.Second, "[emperor-pg]", "vassal broken.ini", pg.ErrConfig.Error())
	db.Psql(t, `UPDATE vassals SET config = E'[uwsgi]\n', ts = now() WHERE name = 'a.ini'; DELETE FROM vassals WHERE name = 'broken.ini'; NOTIFY vassals;`)
	s = e.Expect(t, 5*time.Second, "a.ini,b.xml")
	if string(nwtest.Find(t, s, "a.ini").Config) != "[uwsgi]\n" {
		t.Errorf("fixed a.ini not picked up")
	}

	// remove
	db.Psql(t, `DELETE FROM vassals WHERE name = 'b.xml'; NOTIFY vassals;`)
	s = e.Expect(t, 5*time.Second, "a.ini")

	// the server crashes: vassals stay, nothing is sent; it comes back: the
	// source reconnects, polls (same rows: nothing to send) and listens again
	db.Kill()
	e.WaitLog(t, 10*time.Second, "[emperor-pg]", "backend unavailable")
	db.Start(t)
	e.WaitLog(t, 20*time.Second, "[emperor-pg]", "backend is back")
	e.None(t)
	db.Psql(t, `INSERT INTO vassals (name, config, socket) VALUES ('c.ini', E'[uwsgi]\n', '/tmp/c.sock'); NOTIFY vassals;`)
	s = e.Expect(t, 5*time.Second, "a.ini,c.ini")
	if c := nwtest.Find(t, s, "c.ini"); c.Socket != "/tmp/c.sock" {
		t.Errorf("c.ini socket %q", c.Socket)
	}
}

// Without LISTEN the query is polled; uWSGI's default query and its
// 3-column result work; a bad query is an unavailable source, not an empty one.
func TestPostgresPoll(t *testing.T) {
	db := peers.StartPostgres(t)
	db.Psql(t, schema)
	e := nwtest.Start(t)
	o, err := pg.FromSpec("pg://"+db.ConnInfo(), db.ConnInfo(), e.Name, 100*time.Millisecond, "")
	if err != nil {
		t.Fatal(err)
	}
	o.MaxBackoff = 200 * time.Millisecond
	e.Spawn(t, pg.Factory, o)
	e.Expect(t, 10*time.Second, "a.ini")
	db.Psql(t, `INSERT INTO vassals (name, config) VALUES ('p.ini', E'[uwsgi]\n')`)
	e.Expect(t, 5*time.Second, "a.ini,p.ini")
	// the table goes away: the query fails, the vassals stay
	db.Psql(t, `ALTER TABLE vassals RENAME TO gone`)
	e.WaitLog(t, 5*time.Second, "[emperor-pg]", "backend unavailable", "vassals")
	db.Psql(t, `ALTER TABLE gone RENAME TO vassals; DELETE FROM vassals WHERE name = 'a.ini'`)
	e.Expect(t, 10*time.Second, "p.ini")
}
