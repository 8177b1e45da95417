package ernie

import "strconv"

// IdleStat is one "workers.idle.<module>=" line: Native, or the number of
// idle workers of an external entry.
type IdleStat struct {
	Module string
	Native bool
	Idle   int
}

// Stats is what the '__admin__' stats call reports (ernie-bert.md §5.2).
type Stats struct {
	// Total is the number of requests handed to a handler; Completed the
	// number that finished (their difference is in flight).
	Total, Completed uint64
	// Idle holds one entry per config entry, in config order.
	Idle []IdleStat
	// QueueHigh and QueueLow are the requests waiting for a worker.
	QueueHigh, QueueLow int
}

// Text returns Ernie's six-line (or more, one workers line per entry)
// stats body, each line ending in a newline.
func (s Stats) Text() string {
	b := make([]byte, 0, 128+32*len(s.Idle))
	b = append(b, "connections.total="...)
	b = strconv.AppendUint(b, s.Total, 10)
	b = append(b, "\nconnections.completed="...)
	b = strconv.AppendUint(b, s.Completed, 10)
	b = append(b, '\n')
	for _, i := range s.Idle {
		b = append(b, "workers.idle."...)
		b = append(b, i.Module...)
		b = append(b, '=')
		if i.Native {
			b = append(b, "native"...)
		} else {
			b = strconv.AppendInt(b, int64(i.Idle), 10)
		}
		b = append(b, '\n')
	}
	b = append(b, "queue.high="...)
	b = strconv.AppendInt(b, int64(s.QueueHigh), 10)
	b = append(b, "\nqueue.low="...)
	b = strconv.AppendInt(b, int64(s.QueueLow), 10)
	b = append(b, '\n')
	return string(b)
}
