// Package extworker runs a pool of external worker processes, the way
// Ernie runs its external handlers and uWSGI-style services run theirs:
// Count OS processes started with /bin/sh -c Command, each reading requests
// on fd 3 and writing replies on fd 4, every message framed as a 4-byte
// big-endian length and that many bytes ({packet,4}); strictly one
// outstanding request per worker; one reply per request. The bytes are
// opaque to the pool: Ernie sends BERT, another user may send anything.
//
// # Using a pool
//
// Spawn the pool actor with Factory and one Options (usually as a
// supervisor child with a registered name; set gen.ProcessOptions
// MailboxSize to MailboxSize). Then:
//
//   - Send MessageRequest{ID, ReplyTo, Payload, Priority, Tag}: the pool
//     answers with exactly one MessageReply{ID, ...} sent to ReplyTo (a
//     gen.PID, gen.Alias — a meta process can be a requester — or a name),
//     carrying the worker's reply bytes or an error. A zero ReplyTo
//     (nil) means nobody wants the reply. ReplyTo may also be a channel
//     of MessageReply with room for the reply: the worker's reader then
//     puts it there directly (no mailbox, no goroutine start).
//   - Or Call with RequestRun{Payload, Priority} from a process: the
//     response is ResponseRun{Reply} (use the ergo Call timeout generously,
//     the request may wait in the queue).
//   - Send MessageReload to replace every worker: idle workers stop at
//     once, busy ones after their current reply, and Count new workers
//     start immediately, so no request fails or waits for the reload.
//   - Call RequestStats → ResponseStats (idle, busy, queue lengths, pids).
//
// Guarantees:
//
//   - a request never waits while a worker is idle; requests wait in two
//     FIFO queues, high before low, bounded by MaxQueue in total (beyond
//     that the reply is ErrQueueFull at once); while every worker is busy,
//     the head of the queue may be handed to a busy worker as its next
//     request, written to it as soon as it replies, and is taken back
//     whenever another worker could serve it first or a higher request
//     arrives (pool.go, "Jobs given next");
//   - a worker that dies or closes its pipes while serving a request gives
//     that request an ErrWorkerExited reply at once and is replaced;
//   - with Timeout set, a request running longer kills its worker
//     (ErrTimeout) and the worker is replaced;
//   - a worker that keeps dying within Options.MinUptime of its start is restarted
//     with a growing delay (up to MaxBackoff); after MaxFailures such
//     failures in a row with no worker alive, queued and new requests get
//     ErrUnavailable until a worker survives MinUptime.
//
// Each worker is owned by one meta process (worker_meta.go): it starts the
// process (own process group, SIGKILL on imperial's death through
// Pdeathsig), writes requests, reads replies, and on exit or termination
// kills the whole group. Workers inherit imperial's stdout and stderr
// unless Options say otherwise; fds 0 is /dev/null.
//
// Imports: ergo (gen, act), imperial/bertrpc/berp (framing) and the
// standard library. Nothing Ernie-specific. Imported by actors/ernie and by
// any actor that needs a pool of external workers.
package extworker
