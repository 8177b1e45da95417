//go:build peers

package mongodb_test

import (
	"testing"
	"time"

	"imperial/actors/monitor/mongodb"
	"imperial/actors/monitor/netwatch/nwtest"
	"imperial/rel/peers"
)

// Against a real MongoDB wire-protocol server (FerretDB) with pymongo writing:
// documents spawn, a newer ts reloads, deleted documents go, broken documents
// are logged with their name and disturb nothing, and a server killed and
// restarted keeps the vassals (nothing is sent while it is down).
func TestMongoDB(t *testing.T) {
	db := peers.StartFerretDB(t)
	db.Pymongo(t, `
now = datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc)
coll.insert_one({"name": "a.ini", "config": "[uwsgi]\nsocket = :3031\n", "ts": now, "uid": 1000, "gid": 1000, "socket": ""})
`)
	e := nwtest.Start(t)
	cwd := t.TempDir()
	o, err := mongodb.FromSpec("mongodb://"+db.Addr()+",uwsgi.emperor.vassals", db.Addr()+",uwsgi.emperor.vassals", e.Name, 100*time.Millisecond, cwd)
	if err != nil {
		t.Fatal(err)
	}
	o.Timeout, o.MaxBackoff = 2*time.Second, 300*time.Millisecond
	e.Spawn(t, mongodb.Factory, o)

	s := e.Expect(t, 15*time.Second, "a.ini")
	a := nwtest.Find(t, s, "a.ini")
	want := time.Date(2024, 1, 2, 3, 4, 5, 678000000, time.UTC)
	if string(a.Config) != "[uwsgi]\nsocket = :3031\n" || !a.MTime.Equal(want) || a.UID != 1000 || a.GID != 1000 || a.Socket != "" {
		t.Errorf("a.ini = %+v", a)
	}

	// add a config-less document: the file of that name in the emperor's directory
	db.Pymongo(t, `coll.insert_one({"name": "b.ini", "ts": datetime.datetime.now(datetime.timezone.utc)})`)
	s = e.Expect(t, 5*time.Second, "a.ini,b.ini")
	if b := nwtest.Find(t, s, "b.ini"); b.Path != cwd+"/b.ini" || b.Dir != cwd || b.Config != nil {
		t.Errorf("b.ini = %+v", b)
	}

	// change: a ts one millisecond newer reloads
	db.Pymongo(t, `coll.update_one({"name": "a.ini"}, {"$set": {"config": "[uwsgi]\nsocket = :3032\n", "ts": datetime.datetime(2024, 1, 2, 3, 4, 5, 679000)}})`)
	s = e.Expect(t, 5*time.Second, "a.ini,b.ini")
	a2 := nwtest.Find(t, s, "a.ini")
	if a2.MTime.Sub(a.MTime) != time.Millisecond || string(a2.Config) != "[uwsgi]\nsocket = :3032\n" {
		t.Errorf("changed a.ini: %v → %v, %q", a.MTime, a2.MTime, a2.Config)
	}

	// broken documents: logged by name; a.ini stays as it was; b.ini's change goes through
	db.Pymongo(t, `
coll.update_one({"name": "a.ini"}, {"$set": {"ts": "yesterday"}})
coll.insert_one({"name": "broken.ini", "config": "[uwsgi]\n", "uid": -5})
coll.update_one({"name": "b.ini"}, {"$set": {"config": "[uwsgi]\n"}})
`)
	s = e.Expect(t, 5*time.Second, "a.ini,b.ini")
	if a3 := nwtest.Find(t, s, "a.ini"); !a3.MTime.Equal(a2.MTime) {
		t.Errorf("a.ini with a broken document changed: %+v", a3)
	}
	if b := nwtest.Find(t, s, "b.ini"); string(b.Config) != "[uwsgi]\n" || b.Path != "" {
		t.Errorf("b.ini = %+v", b)
	}
	e.WaitLog(t, 5*time.Second, "[emperor-mongodb]", "vassal a.ini", "ts is string")
	e.WaitLog(t, 5*time.Second, "[emperor-mongodb]", "vassal broken.ini", "uid")

	// remove
	db.Pymongo(t, `coll.delete_many({"name": {"$in": ["b.ini", "broken.ini"]}})`)
	e.Expect(t, 5*time.Second, "a.ini")

	// the server dies: vassals stay, nothing is sent; back: nothing changed, nothing sent
	db.Kill()
	e.WaitLog(t, 10*time.Second, "[emperor-mongodb]", "backend unavailable")
	db.Start(t)
	e.WaitLog(t, 20*time.Second, "[emperor-mongodb]", "backend is back")
	e.None(t)
	db.Pymongo(t, `coll.insert_one({"name": "c.ini", "config": "[uwsgi]\n", "socket": "/tmp/c.sock"})`)
	s = e.Expect(t, 5*time.Second, "a.ini,c.ini")
	if c := nwtest.Find(t, s, "c.ini"); c.Socket != "/tmp/c.sock" || c.MTime.UnixMilli() != 0 {
		t.Errorf("c.ini = %+v", c)
	}
}

// The filter of the spec selects documents.
func TestMongoDBFilter(t *testing.T) {
	db := peers.StartFerretDB(t)
	db.Pymongo(t, `
db["vassals"].insert_many([
    {"name": "web1.ini", "config": "[uwsgi]\n", "group": "web"},
    {"name": "job1.ini", "config": "[uwsgi]\n", "group": "jobs"},
])`)
	e := nwtest.Start(t)
	arg := db.Addr() + `,uwsgi.vassals,{"group": "web"}`
	o, err := mongodb.FromSpec("mongodb://"+arg, arg, e.Name, 100*time.Millisecond, "")
	if err != nil {
		t.Fatal(err)
	}
	e.Spawn(t, mongodb.Factory, o)
	e.Expect(t, 15*time.Second, "web1.ini")
	db.Pymongo(t, `db["vassals"].update_one({"name": "job1.ini"}, {"$set": {"group": "web"}})`)
	e.Expect(t, 5*time.Second, "job1.ini,web1.ini")
}
