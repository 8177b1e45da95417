package subscription

import (
	"ergo.services/ergo/gen"
)

// MessagePick asks the server for a node serving Key. The server answers
// with a MessageNode carrying the same Seq on Reply: the asking session's own
// buffered channel (sessions are local meta processes; the server never
// blocks on it, and releases the node itself when the session cannot take
// the answer). When Failed is set, the node of that address (picked for
// FailedKey by the previous answer) refused the connection: it is released
// and marked failed before the new pick. Use Picker rather than sending
// this by hand.
type MessagePick struct {
	Key       string
	Seq       uint64
	Reply     chan<- MessageNode
	Failed    string
	FailedKey string
}

// MessageNode answers MessagePick. Found is false when no live node serves
// the key; otherwise the session must send MessageDone for it.
type MessageNode struct {
	Seq       uint64
	Found     bool
	Key       string // the slot's key, to name in MessageDone
	Address   string
	Modifier1 uint8
	Modifier2 uint8
}

// MessageDone ends a session on a picked node: TX bytes were read from the
// node, RX written to it. Failed reports a connection the node refused
// without asking for another node.
type MessageDone struct {
	Key     string
	Address string
	TX, RX  uint64
	Failed  bool
}

// RequestStats asks for a copy of the table (Call); the answer is
// ResponseStats.
type RequestStats struct{}

// ResponseStats is the table in stats order.
type ResponseStats struct {
	Slots []SlotStats
}

// MessageStatsQuery is RequestStats for meta processes, which cannot Call:
// the server sends ResponseStats to ReplyTo.
type MessageStatsQuery struct {
	ReplyTo gen.Alias
}

// SlotStats is one slot as uWSGI's stats server shows it.
type SlotStats struct {
	Key   string
	Hash  uint32
	Hits  uint64
	Nodes []NodeStats
}

// NodeStats is one node as uWSGI's stats server shows it.
type NodeStats struct {
	Name         string
	Modifier1    uint8
	Modifier2    uint8
	LastCheck    int64 // unix seconds
	Requests     uint64
	LastRequests uint64
	TX, RX       uint64
	Cores        int
	Load         int
	Weight       int
	WRR          int
	Ref          int
	FailCnt      int
	DeathMark    bool
}

// MessageSubscription is one subscription datagram, as received from the
// network (Raw, kept whole for signature checks and cluster forwarding).
// Local is false for datagrams forwarded by another node's server: those are
// applied but not forwarded again.
type MessageSubscription struct {
	Raw   []byte
	From  string // sender address, for logs
	Local bool
}

// messageAnnounce is the announcer's tick.
type messageAnnounce struct{}
