package emperor

import (
	"encoding/json"
	"os"
	"time"
)

// statsVersion is what the stats JSON reports as "version".
const statsVersion = "imperial"

// The emperor stats document, field for field in uWSGI's order (spec §3.8).
type statsDoc struct {
	Version       string         `json:"version"`
	PID           int            `json:"pid"`
	UID           int            `json:"uid"`
	GID           int            `json:"gid"`
	Cwd           string         `json:"cwd"`
	Emperor       []string       `json:"emperor"`
	EmperorTyrant int            `json:"emperor_tyrant"`
	ThrottleLevel int            `json:"throttle_level"`
	Vassals       []statsVassal  `json:"vassals"`
	Blacklist     []statsBlacked `json:"blacklist"`
}

type statsVassal struct {
	ID            string `json:"id"`
	PID           int    `json:"pid"`
	Born          int64  `json:"born"`
	LastMod       int64  `json:"last_mod"`
	LastHeartbeat int64  `json:"last_heartbeat"`
	Loyal         int    `json:"loyal"`
	Ready         int    `json:"ready"`
	Accepting     int    `json:"accepting"`
	LastLoyal     int64  `json:"last_loyal"`
	LastReady     int64  `json:"last_ready"`
	LastAccepting int64  `json:"last_accepting"`
	FirstRun      int64  `json:"first_run"`
	LastRun       int64  `json:"last_run"`
	Cursed        int64  `json:"cursed"`
	Zerg          int    `json:"zerg"`
	OnDemand      string `json:"on_demand"`
	UID           int    `json:"uid"`
	GID           int    `json:"gid"`
	Monitor       string `json:"monitor"`
	Respawns      int    `json:"respawns"`
	// imperial additions, after uWSGI's keys
	State string `json:"state"`
}

type statsBlacked struct {
	ID            string `json:"id"`
	ThrottleLevel int64  `json:"throttle_level"` // milliseconds
	Attempt       int    `json:"attempt"`
	FirstAttempt  int64  `json:"first_attempt"`
	LastAttempt   int64  `json:"last_attempt"`
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nonNegative(n int) int {
	if n < 0 {
		return 0
	}
	return n
}

// renderStats builds the stats JSON from the table; vassals in table order.
func (e *emperor) renderStats() []byte {
	doc := statsDoc{
		Version:       statsVersion,
		PID:           os.Getpid(),
		UID:           os.Getuid(),
		GID:           os.Getgid(),
		Cwd:           e.opts.Cwd,
		Emperor:       append([]string{}, e.opts.Sources...),
		EmperorTyrant: flag(e.opts.Tyrant),
		Vassals:       []statsVassal{},
		Blacklist:     []statsBlacked{},
	}
	for _, info := range e.table().Vassals {
		cur := e.vassals[info.Name]
		pid := cur.osPid
		if pid == 0 {
			pid = -1
		}
		doc.Vassals = append(doc.Vassals, statsVassal{
			ID: info.Name, PID: pid, Born: unix(cur.born), LastMod: unix(cur.cfg.MTime),
			Loyal: flag(cur.loyal), Ready: flag(cur.ready), Accepting: flag(cur.accepting),
			LastLoyal: unix(cur.lastLoyal), LastReady: unix(cur.lastReady), LastAccepting: unix(cur.lastAccepting),
			FirstRun: unix(cur.firstRun), LastRun: unix(cur.lastRun), Cursed: unix(cur.cursedAt),
			OnDemand: cur.cfg.Socket, UID: nonNegative(cur.cfg.UID), GID: nonNegative(cur.cfg.GID),
			Monitor: cur.source, Respawns: cur.respawns, State: cur.state.String(),
		})
	}
	for _, it := range e.black.items {
		doc.Blacklist = append(doc.Blacklist, statsBlacked{ID: it.name, ThrottleLevel: it.level.Milliseconds(),
			Attempt: it.attempt, FirstAttempt: unix(it.first), LastAttempt: unix(it.last)})
	}
	data, err := json.Marshal(doc)
	if err != nil { // cannot happen: plain strings and numbers
		return []byte("{}")
	}
	return data
}
