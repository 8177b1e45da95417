package netwatch

import "imperial/actors/emperor"

// Messages a source's meta process sends to its netwatch actor (its parent).
// A meta process lives for one connection to the backend: it sends MessageUp
// once the backend answers, then sets or events, and MessageDown as its last
// message. Slices sent belong to the actor.
type (
	// MessageUp: the backend answers (connected, subscribed, first poll done).
	MessageUp struct{}

	// MessageDown: the connection is lost or could not be made; the meta
	// process ends after sending it and the actor reconnects with backoff.
	MessageDown struct{ Err error }

	// MessageSet is a polling source's complete set of vassals (pg, mongodb).
	// Problems are rows or documents that could not become a vassal; a problem
	// naming a vassal of the previous set keeps that vassal as it was.
	MessageSet struct {
		Vassals  []emperor.VassalConfig
		Problems []Problem
	}

	// MessageTouch adds a vassal or reloads it with this config (amqp, zmq).
	// A zero MTime means "now": the actor stamps it, strictly later than the
	// vassal's previous stamp, so every touch reloads.
	MessageTouch struct{ Vassal emperor.VassalConfig }

	// MessageDestroy removes a vassal (amqp, zmq); an unknown name is logged.
	MessageDestroy struct{ Name string }

	// MessageProblem is one bad message or row of an event source, logged.
	MessageProblem struct{ Problem Problem }
)

// Problem is one input that could not become a vassal: Name is the vassal it
// was meant for ("" when not even the name could be read).
type Problem struct {
	Name string
	Err  error
}

// messageConnect is the actor's reconnect tick.
type messageConnect struct{}
