package pg

// pollMeta owns one connection to PostgreSQL.
//
// Accepts  nothing (Terminate ends it).
// Replies  nothing.
// Sends    to its parent: netwatch.MessageSet after every poll,
//          netwatch.MessageUp after the first one, netwatch.MessageDown
//          (its last message) when the connection fails or cannot be made.
// Spawns   nothing.
// Owns     the pgx connection (dialled in Start, closed when Start returns)
//          and the context Terminate cancels to interrupt it.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ergo.services/ergo/gen"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"imperial/actors/emperor"
	"imperial/actors/monitor/netwatch"
)

type pollMeta struct {
	netwatch.Conn
	o   Options
	cfg *pgx.ConnConfig
}

func newPollMeta(o Options) (*pollMeta, error) {
	cfg, err := connConfig(o.Spec.ConnInfo)
	if err != nil {
		return nil, err
	}
	m := &pollMeta{Conn: netwatch.NewConn(), o: o, cfg: cfg}
	m.Run = m.run
	return m, nil
}

func (m *pollMeta) run() error {
	conn, err := pgx.ConnectConfig(m.Ctx, m.cfg)
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(ctx)
	}()
	if ch := m.o.Spec.Listen; ch != "" {
		if _, err := conn.Exec(m.Ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("LISTEN %s: %w", ch, err)
		}
	}
	up := false
	for {
		vassals, problems, err := Poll(m.Ctx, conn.PgConn(), m.o.Spec.Query)
		if err != nil {
			return err
		}
		if !up {
			m.Report(netwatch.MessageUp{})
			up = true
		}
		m.Report(netwatch.MessageSet{Vassals: vassals, Problems: problems})
		if err := m.wait(conn); err != nil {
			return err
		}
	}
}

// wait returns after the poll interval, or as soon as a NOTIFY arrives.
func (m *pollMeta) wait(conn *pgx.Conn) error {
	if m.o.Spec.Listen == "" {
		t := time.NewTimer(m.o.Interval)
		defer t.Stop()
		select {
		case <-m.Ctx.Done():
			return m.Ctx.Err()
		case <-t.C:
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(m.Ctx, m.o.Interval)
	defer cancel()
	_, err := conn.WaitForNotification(ctx)
	if err != nil && m.Ctx.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil // the interval passed without a notification
	}
	return err
}

// Poll runs the query once on conn (simple protocol: every value in text
// format) and turns the first result that has columns into vassals. Rows that
// cannot be read become problems; a duplicate name keeps its first row.
func Poll(ctx context.Context, conn *pgconn.PgConn, query string) ([]emperor.VassalConfig, []netwatch.Problem, error) {
	var (
		vassals  []emperor.VassalConfig
		problems []netwatch.Problem
		got      bool
		shapeErr error
		seen     = make(map[string]bool)
	)
	mrr := conn.Exec(ctx, query)
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		fds := rr.FieldDescriptions()
		if got || len(fds) == 0 {
			rr.Close()
			continue
		}
		got = true
		cols := make([]Column, len(fds))
		for i, fd := range fds {
			cols[i] = Column{Name: fd.Name, OID: fd.DataTypeOID}
		}
		if shapeErr = CheckColumns(cols); shapeErr != nil {
			rr.Close()
			continue
		}
		n := 0
		for rr.NextRow() {
			if n++; n > MaxRows {
				shapeErr = fmt.Errorf("%w: more than %d rows", ErrTooLarge, MaxRows)
				break
			}
			vals := rr.Values()
			v, err := Row(cols, vals)
			if err != nil {
				problems = append(problems, netwatch.Problem{Name: Name(vals), Err: err})
				continue
			}
			if seen[v.Name] {
				problems = append(problems, netwatch.Problem{Name: v.Name, Err: errors.New("duplicate name: the first row counts")})
				continue
			}
			seen[v.Name] = true
			vassals = append(vassals, v)
		}
		rr.Close()
	}
	if err := mrr.Close(); err != nil {
		return nil, nil, err
	}
	if shapeErr != nil {
		return nil, nil, shapeErr
	}
	if !got {
		return nil, nil, fmt.Errorf("%w: the query returned no rows description", ErrColumns)
	}
	return vassals, problems, nil
}

func (m *pollMeta) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"source": m.o.Source, "listen": m.o.Spec.Listen, "interval": m.o.Interval.String()}
}
