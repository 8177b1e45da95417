// Package proctest holds the real-process tests of actors/vassal: a real ergo
// node, real OS processes (the test binary re-executed as a fake vassal),
// real sockets. They live in their own test binary because ergo's
// testing/unit harness (used by actors/vassal's state-machine tests) releases
// each mailbox message twice into ergo's shared pool, which corrupts the
// mailboxes of a real node running in the same binary.
//
// Test-only: nothing imports it.
package proctest
