package mongrel2

// RequestStats asks imperial_mongrel2 (Call) for its handlers' counters;
// the answer is ResponseStats.
type RequestStats struct{}

// ResponseStats lists every handler, by server then handler number.
type ResponseStats struct {
	Handlers []HandlerStats
}

// HandlerStats are one handler's counters since it started.
type HandlerStats struct {
	Server      Server
	N           int    // 1..Processes
	UUID        string // its PUB identity
	Connected   bool   // both sockets are connected to Mongrel2
	Connects    uint64 // successful (re)connections
	Requests    uint64 // requests answered (by the app or with an error)
	Malformed   uint64 // messages dropped as unparseable
	Disconnects uint64 // disconnect notices received
	Uploads     uint64 // requests whose body came from a spooled upload
	BadUploads  uint64 // upload-done messages refused (answered 400)
	InFlight    int    // requests being served now
}
