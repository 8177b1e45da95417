package fastrouter

// stats: the --fastrouter-stats server.
//
// Accepts  subscription.ResponseStats (the server's answer to its query).
// Sends    subscription.MessageStatsQuery to the subscription server, one per
//          connection.
// Owns     the listening socket and, one at a time, a client socket: Start
//          accepts, writes one JSON document and closes; Terminate closes
//          the listener.

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"strconv"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/subscription"
)

var _ gen.MetaBehavior = (*stats)(nil)

type stats struct {
	gen.MetaProcess
	l       net.Listener
	sh      *shared
	replies chan subscription.ResponseStats
}

func (s *stats) Init(process gen.MetaProcess) error {
	s.MetaProcess = process
	s.replies = make(chan subscription.ResponseStats, 1)
	return nil
}

func (s *stats) Start() error {
	for {
		c, err := s.l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			s.Log().Error("stats accept: %s", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.serve(c)
	}
}

func (s *stats) serve(c net.Conn) {
	defer c.Close()
	var slots []subscription.SlotStats
	if err := s.Send(s.sh.client.Server, subscription.MessageStatsQuery{ReplyTo: s.ID()}); err == nil {
		select {
		case r := <-s.replies:
			slots = r.Slots
		case <-time.After(5 * time.Second):
			s.Log().Warning("stats: subscription server did not answer")
		}
	}
	cwd, _ := os.Getwd()
	doc := RenderStats(StatsInfo{
		Version: s.sh.version, PID: os.Getpid(), UID: os.Getuid(), GID: os.Getgid(), Cwd: cwd,
		ActiveSessions: s.sh.active.Load(), Sockets: append(append([]string{}, s.sh.addrs...), s.sh.subs...),
	}, slots)
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.Write(doc)
}

// StatsInfo is the router part of the stats document.
type StatsInfo struct {
	Version        string
	PID, UID, GID  int
	Cwd            string
	ActiveSessions int64
	Sockets        []string // every socket the router owns
}

// RenderStats writes uWSGI's FastRouter stats JSON (spec §2.9): the same
// keys in the same order.
func RenderStats(info StatsInfo, slots []subscription.SlotStats) []byte {
	var b bytes.Buffer
	str := func(s string) {
		q, _ := json.Marshal(s)
		b.Write(q)
	}
	num := func(n int64) { b.WriteString(strconv.FormatInt(n, 10)) }
	b.WriteString("{ \"version\":")
	str(info.Version)
	b.WriteString(",\n\"pid\":")
	num(int64(info.PID))
	b.WriteString(",\n\"uid\":")
	num(int64(info.UID))
	b.WriteString(",\n\"gid\":")
	num(int64(info.GID))
	b.WriteString(",\n\"cwd\":")
	str(info.Cwd)
	b.WriteString(",\n\"active_sessions\":")
	num(info.ActiveSessions)
	b.WriteString(",\n\"fastrouter\":[")
	for i, s := range info.Sockets {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n\t")
		str(s)
	}
	b.WriteString("\n],\n\"subscriptions\":[")
	for i, sl := range slots {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n\t{ \"key\":")
		str(sl.Key)
		b.WriteString(",\n\t\t\"hash\":")
		num(int64(sl.Hash))
		b.WriteString(",\n\t\t\"hits\":")
		num(int64(sl.Hits))
		b.WriteString(",\n\t\t\"sni_enabled\":0,\n\t\t\"nodes\":[")
		for j, n := range sl.Nodes {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString("\n\t\t\t{\"name\":")
			str(n.Name)
			for _, f := range []struct {
				k string
				v int64
			}{
				{"modifier1", int64(n.Modifier1)}, {"modifier2", int64(n.Modifier2)}, {"last_check", n.LastCheck},
				{"pid", 0}, {"uid", 0}, {"gid", 0}, {"requests", int64(n.Requests)},
				{"last_requests", int64(n.LastRequests)}, {"tx", int64(n.TX)}, {"rx", int64(n.RX)},
				{"cores", int64(n.Cores)}, {"load", int64(n.Load)}, {"weight", int64(n.Weight)},
				{"wrr", int64(n.WRR)}, {"ref", int64(n.Ref)}, {"failcnt", int64(n.FailCnt)},
				{"death_mark", b2i(n.DeathMark)},
			} {
				b.WriteString(",\"" + f.k + "\":")
				num(f.v)
			}
			b.WriteByte('}')
		}
		b.WriteString("\n\t\t]\n\t}")
	}
	b.WriteString("\n],\n\"cheap\":0\n}\n")
	return b.Bytes()
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (s *stats) HandleMessage(from gen.PID, message any) error {
	switch m := message.(type) {
	case subscription.ResponseStats:
		select {
		case s.replies <- m:
		default:
		}
	default:
		s.Log().Warning("unexpected message from %s: %T", from, message)
	}
	return nil
}

func (s *stats) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}

func (s *stats) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"listener": s.l.Addr().String()}
}

func (s *stats) Terminate(reason error) { s.l.Close() }
