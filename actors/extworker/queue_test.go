package extworker

import (
	"slices"
	"testing"
)

func TestQueuesOrder(t *testing.T) {
	var q queues[int]
	q.push(Low, 1)
	q.push(High, 2)
	q.push(Low, 3)
	q.push(High, 4)
	q.pushFront(High, 0)
	q.pushFront(Low, -1)
	var got []int
	for {
		x, ok := q.pop()
		if !ok {
			break
		}
		got = append(got, x)
	}
	if want := []int{0, 2, 4, -1, 1, 3}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	if q.len() != 0 {
		t.Fatalf("len %d after draining", q.len())
	}
}

func TestFifoCompacts(t *testing.T) {
	var f fifo[int]
	next := 0
	for round := range 1000 {
		for range 3 {
			f.push(round)
		}
		for range 2 {
			x, ok := f.pop()
			if !ok || x != next/3 {
				t.Fatalf("round %d: pop %d %v, want %d", round, x, ok, next/3)
			}
			next++
		}
	}
	if f.len() != 1000 {
		t.Fatalf("len %d, want 1000", f.len())
	}
	if cap(f.items) > 4*1000 {
		t.Fatalf("backing array grew to %d for 1000 live items", cap(f.items))
	}
	if got := f.drain(); len(got) != 1000 || got[0] != next/3 {
		t.Fatalf("drain: %d items, first %d", len(got), got[0])
	}
}
