package mongodb

// pollMeta owns one MongoDB client.
//
// Accepts  nothing (Terminate ends it).
// Replies  nothing.
// Sends    to its parent: netwatch.MessageSet after every poll,
//          netwatch.MessageUp after the first one, netwatch.MessageDown
//          (its last message) when a poll fails.
// Spawns   nothing.
// Owns     the driver client (created in Start, disconnected when Start
//          returns; the driver runs its own monitoring goroutines) and the
//          context Terminate cancels to interrupt it.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ergo.services/ergo/gen"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"imperial/actors/emperor"
	"imperial/actors/monitor/netwatch"
)

type pollMeta struct {
	netwatch.Conn
	o Options
}

func newPollMeta(o Options) *pollMeta {
	m := &pollMeta{Conn: netwatch.NewConn(), o: o}
	m.Run = m.run
	return m
}

func (m *pollMeta) run() error {
	client, err := mongo.Connect(options.Client().
		ApplyURI(m.o.Spec.URI()).
		SetAppName("imperial-emperor").
		SetConnectTimeout(m.o.Timeout).
		SetServerSelectionTimeout(m.o.Timeout).
		SetTimeout(m.o.Timeout))
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		client.Disconnect(ctx)
	}()
	coll := client.Database(m.o.Spec.DB).Collection(m.o.Spec.Collection)
	up := false
	for {
		vassals, problems, err := Poll(m.Ctx, coll, m.o.Spec.Filter, m.o.Cwd)
		if err != nil {
			return err
		}
		if !up {
			m.Report(netwatch.MessageUp{})
			up = true
		}
		m.Report(netwatch.MessageSet{Vassals: vassals, Problems: problems})
		t := time.NewTimer(m.o.Interval)
		select {
		case <-m.Ctx.Done():
			t.Stop()
			return m.Ctx.Err()
		case <-t.C:
		}
	}
}

// Poll reads every document the filter selects and turns them into vassals.
// Documents that cannot be read become problems; a duplicate name keeps its
// first document.
func Poll(ctx context.Context, coll *mongo.Collection, filter bson.D, cwd string) ([]emperor.VassalConfig, []netwatch.Problem, error) {
	if filter == nil {
		filter = bson.D{}
	}
	proj := bson.D{{Key: "_id", Value: 0}}
	for _, f := range Fields {
		proj = append(proj, bson.E{Key: f, Value: 1})
	}
	cur, err := coll.Find(ctx, filter, options.Find().SetProjection(proj).SetLimit(MaxDocs+1))
	if err != nil {
		return nil, nil, err
	}
	defer cur.Close(context.Background())
	var (
		vassals  []emperor.VassalConfig
		problems []netwatch.Problem
		seen     = make(map[string]bool)
		n        int
	)
	for cur.Next(ctx) {
		if n++; n > MaxDocs {
			return nil, nil, fmt.Errorf("%w: more than %d documents", ErrTooLarge, MaxDocs)
		}
		v, err := Vassal(cur.Current, cwd)
		if err != nil {
			problems = append(problems, netwatch.Problem{Name: DocName(cur.Current), Err: err})
			continue
		}
		if seen[v.Name] {
			problems = append(problems, netwatch.Problem{Name: v.Name, Err: errors.New("duplicate name: the first document counts")})
			continue
		}
		seen[v.Name] = true
		vassals = append(vassals, v)
	}
	if err := cur.Err(); err != nil {
		return nil, nil, err
	}
	return vassals, problems, nil
}

func (m *pollMeta) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"source": m.o.Source, "interval": m.o.Interval.String()}
}
