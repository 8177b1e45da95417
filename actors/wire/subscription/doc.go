// Package subscription is the codec for uWSGI subscription packets: one
// datagram holding a uwsgi packet with modifier1 224, modifier2 0 (subscribe)
// or 1 (unsubscribe), and a vars dict (key, address, modifier1, modifier2,
// cores, load, weight, optional sni_*, notify, unix, sign). See
// shared/specs/uwsgi.md §2.1, §2.2, §2.7.
//
// It also parses the subscriber option spellings: --subscribe-to
// [ADDR=]SERVER:PORT:KEY[,MODIFIER1[,ALGO:KEYFILE]] (the key runs up to the
// first comma, so "host:port:key:5" means key "key:5"), its =N= and @mapfile
// forms, and --subscribe2 key=value lists.
//
// It owns no state and does no I/O or cryptography: signing and checking
// signatures belong to the caller, which gets the signed bytes from
// SignedData and AppendSigned. Every length is checked against a named limit
// (MaxDatagram, MaxKeyLen, MaxAddressLen) before anything is allocated.
//
// It must not import ergo or net; it imports only actors/wire/uwsgi. It is
// imported by actors/subscription (the subscription server), the subscriber
// child, and actors/fastrouter.
package subscription

import "errors"

// Errors returned by this package; they are wrapped with details (and, where
// the cause is a uwsgi framing error, with that error too), test them with
// errors.Is.
var (
	ErrTooLarge       = errors.New("subscription: too large")
	ErrTruncated      = errors.New("subscription: truncated packet")
	ErrTrailing       = errors.New("subscription: bytes after the packet")
	ErrModifier       = errors.New("subscription: not a subscription packet")
	ErrMalformed      = errors.New("subscription: malformed vars")
	ErrMissingKey     = errors.New("subscription: missing key")
	ErrMissingAddress = errors.New("subscription: missing address")
	ErrBadValue       = errors.New("subscription: bad value")
	ErrNotSigned      = errors.New("subscription: sign is not the last record")
	ErrBadOption      = errors.New("subscription: bad subscriber option")
	ErrUnsupported    = errors.New("subscription: option needs ParseSubscribeToSpec/ParseSubscribe2Spec")
)
