package mongrel2

import (
	"context"
	"sync"
)

// connKey names a client connection: Mongrel2's connection id is unique
// within one server (one --zeromq), not across servers.
type connKey struct {
	server int
	id     string
}

// connTable holds the requests in flight per client connection, shared by
// every handler of an instance: Mongrel2 may deliver a request to one
// handler and the disconnect notice for its connection to another. A
// disconnect cancels the requests' contexts, so apps (and the wait for an
// external worker) stop early and nothing more is sent to the dead
// connection.
type connTable struct {
	mu   sync.Mutex
	seq  uint64
	live map[connKey]map[uint64]context.CancelFunc
}

func newConnTable() *connTable {
	return &connTable{live: make(map[connKey]map[uint64]context.CancelFunc)}
}

// add records a request and returns its token for remove.
func (t *connTable) add(k connKey, cancel context.CancelFunc) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	m := t.live[k]
	if m == nil {
		m = make(map[uint64]context.CancelFunc, 1)
		t.live[k] = m
	}
	m[t.seq] = cancel
	return t.seq
}

func (t *connTable) remove(k connKey, tok uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if m := t.live[k]; m != nil {
		delete(m, tok)
		if len(m) == 0 {
			delete(t.live, k)
		}
	}
}

// disconnect cancels every request of a connection; it returns how many.
func (t *connTable) disconnect(k connKey) int {
	t.mu.Lock()
	m := t.live[k]
	delete(t.live, k)
	t.mu.Unlock()
	for _, cancel := range m {
		cancel()
	}
	return len(m)
}
