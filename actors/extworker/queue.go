package extworker

// fifo is a FIFO queue; popped slots are released and the backing array is
// compacted when half of it is dead, so memory follows the queue length.
type fifo[T any] struct {
	items []T
	head  int
}

func (f *fifo[T]) len() int { return len(f.items) - f.head }

func (f *fifo[T]) push(x T) { f.items = append(f.items, x) }

// pushFront puts x back at the head (a request that never reached its worker).
func (f *fifo[T]) pushFront(x T) {
	if f.head > 0 {
		f.head--
		f.items[f.head] = x
		return
	}
	f.items = append(f.items, x)
	copy(f.items[1:], f.items)
	f.items[0] = x
}

// peek returns the head without removing it.
func (f *fifo[T]) peek() (T, bool) {
	var zero T
	if f.len() == 0 {
		return zero, false
	}
	return f.items[f.head], true
}

func (f *fifo[T]) pop() (T, bool) {
	var zero T
	if f.len() == 0 {
		return zero, false
	}
	x := f.items[f.head]
	f.items[f.head] = zero
	f.head++
	switch {
	case f.head == len(f.items):
		f.items, f.head = f.items[:0], 0
	case f.head > 32 && f.head*2 > len(f.items):
		n := copy(f.items, f.items[f.head:])
		clear(f.items[n:])
		f.items, f.head = f.items[:n], 0
	}
	return x, true
}

// drain removes and returns every element in order.
func (f *fifo[T]) drain() []T {
	out := append([]T(nil), f.items[f.head:]...)
	clear(f.items)
	f.items, f.head = f.items[:0], 0
	return out
}

// queues holds the two priority queues: high is always served first.
type queues[T any] struct {
	high, low fifo[T]
}

func (q *queues[T]) len() int { return q.high.len() + q.low.len() }

func (q *queues[T]) push(p Priority, x T) {
	if p == Low {
		q.low.push(x)
		return
	}
	q.high.push(x)
}

func (q *queues[T]) pushFront(p Priority, x T) {
	if p == Low {
		q.low.pushFront(x)
		return
	}
	q.high.pushFront(x)
}

func (q *queues[T]) pop() (T, bool) {
	if x, ok := q.high.pop(); ok {
		return x, true
	}
	return q.low.pop()
}
