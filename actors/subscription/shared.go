package subscription

import (
	"sync"
	"time"

	wire "imperial/actors/wire/subscription"
)

// Shared is a node's subscription table as its server and its routers'
// sessions share it: the server applies datagrams and reads stats, a session
// picks a node for each request and releases it, each under one mutex held
// for a map lookup and a few counters.
//
// Why not the server's mailbox: a pick and a release per proxied request
// were two actor messages, each starting a goroutine in ergo (a sleeping
// process gets a fresh one per wake-up) plus a reply channel hop, which cost
// the router more CPU than its whole user-space share of a request. uWSGI's
// router reads its table in place too. The table stays the server's: only
// it adds and removes slots and nodes; sessions only move counters of nodes
// through Pick and Release.
//
// Make one with NewShared and give it to the server (Options.Table) and to
// the routers of the same node (their Options.Table); a router without one,
// or with a server on another node, asks the server by message.
type Shared struct {
	mu sync.Mutex
	t  *Table
}

// NewShared returns an empty shared table.
func NewShared() *Shared { return &Shared{t: NewTable()} }

// reset replaces the table by a fresh one configured like cfg (the server's
// Init: a restarted server starts empty, as it did with a table of its own).
func (s *Shared) reset(cfg *Table) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.t = cfg
}

// Pick is Table.Pick under the lock.
func (s *Shared) Pick(key string, now time.Time) (Pick, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.t.Pick(key, now)
}

// Release is Table.Release under the lock.
func (s *Shared) Release(key, address string, tx, rx uint64, failed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.t.Release(key, address, tx, rx, failed)
}

func (s *Shared) apply(sub wire.Subscription, now time.Time, signed bool) Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.t.Apply(sub, now, signed)
}

func (s *Shared) snapshot() []SlotStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.t.Snapshot()
}
