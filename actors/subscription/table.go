package subscription

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	wire "imperial/actors/wire/subscription"
)

// Algo is a load-balancing algorithm of the table (spec §2.6).
type Algo int

// The algorithms uWSGI offers with --subscription-algo.
const (
	AlgoWRR  Algo = iota // weighted round robin (uWSGI's default)
	AlgoLRC              // least reference count
	AlgoWLRC             // least reference count per weight
)

// ParseAlgo reads a --subscription-algo value: wrr, lrc or wlrc.
func ParseAlgo(s string) (Algo, error) {
	switch s {
	case "", "wrr":
		return AlgoWRR, nil
	case "lrc":
		return AlgoLRC, nil
	case "wlrc":
		return AlgoWLRC, nil
	}
	return 0, fmt.Errorf("%w: unknown subscription algo %q (wrr, lrc, wlrc)", ErrOptions, s)
}

func (a Algo) String() string {
	switch a {
	case AlgoWRR:
		return "wrr"
	case AlgoLRC:
		return "lrc"
	case AlgoWLRC:
		return "wlrc"
	}
	return fmt.Sprintf("algo(%d)", int(a))
}

// DefaultTolerance is uWSGI's --subscription-tolerance: a node not announced
// for longer is marked failed on the next lookup of its key.
const DefaultTolerance = 17 * time.Second

// maxDotSplit is how many times a key is retried with its first label cut
// (uWSGI stops after 5).
const maxDotSplit = 5

// Node is one subscribed node of a slot; the field names follow uWSGI's stats
// (spec §2.4, §2.9).
type Node struct {
	Name         string // address the router connects to
	Modifier1    uint8
	Modifier2    uint8
	LastCheck    time.Time // last announce
	Requests     uint64    // successful backend connects
	LastRequests uint64    // connects since the last announce
	TX           uint64    // bytes read from the backend
	RX           uint64    // bytes written to the backend
	Cores        int
	Load         int
	Weight       int // never 0: an announced 0 is stored as 1
	WRR          int // remaining round-robin credit
	Ref          int // sessions using the node now
	FailCnt      int
	DeathMark    bool
	Unix         int64 // "unix" of the signed packet that created the node
}

// Slot is one key and its nodes in announce order.
type Slot struct {
	Key   string
	Hash  uint32 // djb33x(key) % 0xffff, as uWSGI shows it
	Hits  uint64 // lookups
	Nodes []*Node
	seq   uint64 // creation order, for stable stats
}

// Pick is a node chosen for one request.
type Pick struct {
	Key       string // the slot's key (differs from the asked key after dot-split or fallback)
	Address   string
	Modifier1 uint8
	Modifier2 uint8
}

// Table is the subscription store of a router: slots by key, lazily expired.
// It is not safe for concurrent use: one actor owns it. Log, when set,
// receives uWSGI's log lines.
type Table struct {
	Tolerance   time.Duration // 0 means DefaultTolerance
	Algo        Algo
	DotSplit    bool   // on a miss, retry with the first dot-label cut (--subscription-dotsplit)
	FallbackKey string // on a miss, look this key up (--fastrouter-subscription-fallback-key)
	Log         func(format string, args ...any)

	slots map[string]*Slot
	seq   uint64
}

// NewTable returns an empty table.
func NewTable() *Table { return &Table{slots: map[string]*Slot{}} }

func (t *Table) logf(format string, args ...any) {
	if t.Log != nil {
		t.Log(format, args...)
	}
}

func (t *Table) tolerance() time.Duration {
	if t.Tolerance <= 0 {
		return DefaultTolerance
	}
	return t.Tolerance
}

// Hash is uWSGI's djb33x hash of a key, reduced as its stats show it. The key
// bytes are read as C chars (signed), as uWSGI does.
func Hash(key string) uint32 {
	h := uint32(5381)
	for i := 0; i < len(key); i++ {
		h = (h<<5 + h) ^ uint32(int32(int8(key[i])))
	}
	return h % 0xffff
}

// Outcome says what a subscription packet did to the table.
type Outcome int

// Outcomes of Apply.
const (
	Refreshed    Outcome = iota // known node: announce time, cores, load, weight updated
	NewNode                     // new node in an existing slot
	NewPool                     // new slot with its first node
	Unsubscribed                // node marked failed (removed unless in use)
	Unknown                     // unsubscribe for a node the table does not have
	Replayed                    // signed packet older than the node: refused
)

func (o Outcome) String() string {
	switch o {
	case Refreshed:
		return "refreshed"
	case NewNode:
		return "new node"
	case NewPool:
		return "new pool"
	case Unsubscribed:
		return "unsubscribed"
	case Unknown:
		return "unknown node"
	case Replayed:
		return "replayed"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Apply applies one (un)subscription received at now. With signed set, the
// packet's Unix must be newer than the node's first announce (uWSGI's weak
// replay check, spec §2.7).
func (t *Table) Apply(s wire.Subscription, now time.Time, signed bool) Outcome {
	if t.slots == nil {
		t.slots = map[string]*Slot{}
	}
	slot := t.slots[s.Key]
	var node *Node
	if slot != nil {
		for _, n := range slot.Nodes {
			if n.Name == s.Address {
				node = n
				break
			}
		}
	}
	if signed && node != nil && s.Unix <= node.Unix {
		t.logf("invalid (sniffed ?) packet sent for slot: %s node: %s unix_check: %d", s.Key, s.Address, s.Unix)
		return Replayed
	}
	if s.Unsubscribe {
		if node == nil {
			return Unknown
		}
		t.logf("%s => marking %s as failed", s.Key, s.Address)
		node.FailCnt++
		node.DeathMark = true
		t.purge(slot)
		return Unsubscribed
	}
	weight := max(s.Weight, 1)
	if node != nil {
		node.DeathMark = false
		node.LastCheck = now
		node.Cores, node.Load, node.Weight = s.Cores, s.Load, weight
		node.LastRequests = 0
		return Refreshed
	}
	out := NewNode
	if slot == nil {
		t.seq++
		slot = &Slot{Key: s.Key, Hash: Hash(s.Key), seq: t.seq}
		t.slots[s.Key] = slot
		t.logf("new pool: %s (hash key: %d)", s.Key, slot.Hash)
		out = NewPool
	}
	slot.Nodes = append(slot.Nodes, &Node{Name: s.Address, Modifier1: s.Modifier1, Modifier2: s.Modifier2,
		LastCheck: now, Cores: s.Cores, Load: s.Load, Weight: weight, Unix: s.Unix})
	t.logf("%s => new node: %s", s.Key, s.Address)
	return out
}

// purge drops death-marked nodes nobody uses, and the slot when it is empty.
func (t *Table) purge(slot *Slot) {
	slot.Nodes = slices.DeleteFunc(slot.Nodes, func(n *Node) bool { return n.DeathMark && n.Ref == 0 })
	if len(slot.Nodes) == 0 {
		delete(t.slots, slot.Key)
	}
}

// lookup finds the slot for key, trying dot-split keys and the fallback key.
func (t *Table) lookup(key string) *Slot {
	if s := t.slots[key]; s != nil {
		return s
	}
	if t.DotSplit {
		k := key
		for i := 0; i < maxDotSplit; i++ {
			dot := strings.IndexByte(k[min(1, len(k)):], '.')
			if dot < 0 {
				break
			}
			k = k[dot+min(1, len(k)):]
			if s := t.slots[k]; s != nil {
				return s
			}
		}
	}
	if t.FallbackKey != "" {
		return t.slots[t.FallbackKey]
	}
	return nil
}

// Pick chooses a node for a request on key at now, expiring silent nodes of
// the slot first, and counts the node as in use until Release. ok is false
// when no live node serves the key.
func (t *Table) Pick(key string, now time.Time) (Pick, bool) {
	slot := t.lookup(key)
	if slot == nil {
		return Pick{}, false
	}
	slot.Hits++
	tol := t.tolerance()
	for _, n := range slot.Nodes {
		if !n.DeathMark && now.Sub(n.LastCheck) > tol {
			n.DeathMark = true
			n.FailCnt++
			t.logf("%s => marking %s as failed (no announce received in %d seconds)",
				slot.Key, n.Name, int(tol/time.Second))
		}
	}
	t.purge(slot)
	var n *Node
	switch t.Algo {
	case AlgoLRC:
		n = pickLRC(slot.Nodes, false)
	case AlgoWLRC:
		n = pickLRC(slot.Nodes, true)
	default:
		n = pickWRR(slot.Nodes)
	}
	if n == nil {
		return Pick{}, false
	}
	n.Ref++
	return Pick{Key: slot.Key, Address: n.Name, Modifier1: n.Modifier1, Modifier2: n.Modifier2}, true
}

// pickWRR is uWSGI's weighted round robin: the first live node with credit
// wins; when none has any, every live node gets weight/min_weight and the
// last live node is served.
func pickWRR(nodes []*Node) *Node {
	var last *Node
	minWeight := 0
	for _, n := range nodes {
		if n.DeathMark {
			continue
		}
		if n.WRR > 0 {
			n.WRR--
			return n
		}
		last = n
		if minWeight == 0 || n.Weight < minWeight {
			minWeight = n.Weight
		}
	}
	if last == nil {
		return nil
	}
	for _, n := range nodes {
		if !n.DeathMark {
			n.WRR = n.Weight / minWeight
		}
	}
	last.WRR--
	return last
}

// pickLRC takes the live node with the fewest sessions in use (per weight
// with weighted), ties going to the one with fewer recent requests, then to
// list order.
func pickLRC(nodes []*Node, weighted bool) *Node {
	var best *Node
	score := func(n *Node) float64 {
		if weighted {
			return float64(n.Ref) / float64(n.Weight)
		}
		return float64(n.Ref)
	}
	for _, n := range nodes {
		if n.DeathMark {
			continue
		}
		if best == nil || score(n) < score(best) ||
			(score(n) == score(best) && n.LastRequests < best.LastRequests) {
			best = n
		}
	}
	return best
}

// Release ends a session on the node picked for key: tx bytes were read from
// it, rx written to it. With failed set the node refused the connection: it
// is marked failed and removed once unused.
func (t *Table) Release(key, address string, tx, rx uint64, failed bool) {
	slot := t.slots[key]
	if slot == nil {
		return
	}
	for _, n := range slot.Nodes {
		if n.Name != address {
			continue
		}
		if n.Ref > 0 {
			n.Ref--
		}
		n.TX += tx
		n.RX += rx
		if failed {
			if !n.DeathMark {
				t.logf("%s => marking %s as failed", key, address)
			}
			n.FailCnt++
			n.DeathMark = true
		} else {
			n.Requests++
			n.LastRequests++
		}
		t.purge(slot)
		return
	}
}

// Len is the number of slots.
func (t *Table) Len() int { return len(t.slots) }

// Snapshot copies every slot, in hash order (as uWSGI's stats walk its hash
// table), creation order within one hash.
func (t *Table) Snapshot() []SlotStats {
	slots := make([]*Slot, 0, len(t.slots))
	for _, s := range t.slots {
		slots = append(slots, s)
	}
	slices.SortFunc(slots, func(a, b *Slot) int {
		return cmp.Or(cmp.Compare(a.Hash, b.Hash), cmp.Compare(a.seq, b.seq))
	})
	out := make([]SlotStats, 0, len(slots))
	for _, s := range slots {
		ss := SlotStats{Key: s.Key, Hash: s.Hash, Hits: s.Hits, Nodes: make([]NodeStats, 0, len(s.Nodes))}
		for _, n := range s.Nodes {
			ss.Nodes = append(ss.Nodes, NodeStats{Name: n.Name, Modifier1: n.Modifier1, Modifier2: n.Modifier2,
				LastCheck: n.LastCheck.Unix(), Requests: n.Requests, LastRequests: n.LastRequests, TX: n.TX, RX: n.RX,
				Cores: n.Cores, Load: n.Load, Weight: n.Weight, WRR: n.WRR, Ref: n.Ref, FailCnt: n.FailCnt,
				DeathMark: n.DeathMark})
		}
		out = append(out, ss)
	}
	return out
}
