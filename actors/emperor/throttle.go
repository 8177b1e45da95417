package emperor

import "time"

// blacklist is uWSGI's throttle for vassals that die before they are loyal
// (core/emperor.c uwsgi_emperor_blacklist_*; spec §3.6), with its units made
// consistent: the first entry waits Step/1000 (uWSGI: 1000 taken as µs, 1 ms),
// every further death adds Step (1 s), and a level that reached Max is halved.
// A loyal vassal (byte 17) or --emperor-no-blacklist removes the entry.
//
// It is plain data owned by the emperor actor; items keeps insertion order for
// the stats JSON.
type blacklist struct {
	step, max time.Duration
	items     []*blackItem
}

type blackItem struct {
	name    string
	level   time.Duration // how long after last a spawn is allowed again
	attempt int           // 0 on the first death, +1 on each further one (as uWSGI)
	first   time.Time
	last    time.Time
}

// throttleNote tells the emperor which of uWSGI's log lines a death produced.
type throttleNote int

const (
	noteNone       throttleNote = iota
	noteBadVassal               // "unloyal bad behaving vassal found: X throttling it..."
	noteMaxReached              // "maximum throttle level for vassal X reached !!!"
)

func (b *blacklist) find(name string) (*blackItem, int) {
	for i, it := range b.items {
		if it.name == name {
			return it, i
		}
	}
	return nil, -1
}

// add records one more death of name at now and returns the delay before the
// vassal may be spawned again.
func (b *blacklist) add(name string, now time.Time) (time.Duration, throttleNote) {
	it, _ := b.find(name)
	if it == nil {
		first := b.step / 1000
		b.items = append(b.items, &blackItem{name: name, level: first, first: now, last: now})
		return first, noteNone
	}
	it.last = now
	note := noteNone
	if it.level < b.max {
		it.level += b.step
	} else {
		it.level /= 2
		note = noteMaxReached
	}
	it.attempt++
	if it.attempt == 2 && note == noteNone {
		note = noteBadVassal
	}
	return it.level, note
}

// wait is how long name must still wait before a spawn at now.
func (b *blacklist) wait(name string, now time.Time) time.Duration {
	it, _ := b.find(name)
	if it == nil {
		return 0
	}
	if d := it.last.Add(it.level).Sub(now); d > 0 {
		return d
	}
	return 0
}

// remove forgets name (loyalty proven, or the vassal is gone for good).
func (b *blacklist) remove(name string) {
	if _, i := b.find(name); i >= 0 {
		b.items = append(b.items[:i], b.items[i+1:]...)
	}
}
