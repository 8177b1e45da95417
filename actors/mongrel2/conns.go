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
	live map[connKey]connReqs
}

// connReqs are the requests in flight on one connection: usually one (a
// keep-alive client waits for each answer), held without a map of its own.
type connReqs struct {
	tok    uint64 // 0: none
	cancel context.CancelFunc
	more   map[uint64]context.CancelFunc
}

func newConnTable() *connTable {
	return &connTable{live: make(map[connKey]connReqs)}
}

// add records a request and returns its token for remove.
func (t *connTable) add(k connKey, cancel context.CancelFunc) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	c := t.live[k]
	if c.tok == 0 {
		c.tok, c.cancel = t.seq, cancel
	} else {
		if c.more == nil {
			c.more = make(map[uint64]context.CancelFunc, 1)
		}
		c.more[t.seq] = cancel
	}
	t.live[k] = c
	return t.seq
}

func (t *connTable) remove(k connKey, tok uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.live[k]
	if !ok {
		return
	}
	if c.tok == tok {
		c.tok, c.cancel = 0, nil
	} else {
		delete(c.more, tok)
	}
	if c.tok == 0 && len(c.more) == 0 {
		delete(t.live, k)
		return
	}
	t.live[k] = c
}

// disconnect cancels every request of a connection; it returns how many.
func (t *connTable) disconnect(k connKey) int {
	t.mu.Lock()
	c := t.live[k]
	delete(t.live, k)
	t.mu.Unlock()
	n := 0
	if c.tok != 0 {
		c.cancel()
		n++
	}
	for _, cancel := range c.more {
		cancel()
		n++
	}
	return n
}
