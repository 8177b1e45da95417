package worker

import (
	"ergo.services/ergo/gen"
)

// MessageReload asks the worker for uWSGI's graceful reload: external worker
// processes are replaced once their current request is answered (native apps
// have nothing to reload).
type MessageReload struct{}

// messageRPC asks an RPC executor to run Func(Args...) from the registry;
// the answer is messageRPCResult to ReplyTo.
type messageRPC struct {
	ID      uint64
	ReplyTo gen.Alias
	Func    string
	Args    [][]byte
}

// messageRPCResult is the bytes of a result; OK is false when the function
// is unknown or failed (uWSGI then closes without an answer).
type messageRPCResult struct {
	ID     uint64
	Result []byte
	OK     bool
}
