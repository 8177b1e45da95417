// Package sched sizes the Go scheduler (GOMAXPROCS) to imperial's load, as
// BEAM's scheduler compaction (+scl, on by default) keeps only as many
// schedulers awake as the load needs.
//
// Why: every message handed from one goroutine to another (a socket's reader
// to an actor, an actor to a waiting caller) makes the Go runtime wake a thread
// for an idle P, which spins, finds nothing and parks again. With one caller
// that is a futex wake, a spin and a nanosleep per call, a quarter of the CPU a
// call costs; on a small machine those threads also take the cores from the
// peers imperial talks to. One P does the same work without them. So imperial
// runs on as few Ps as its load fills, and adds one when its Ps are saturated
// while the machine still has an idle core.
package sched

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Interval is how often the load is sampled.
const Interval = 100 * time.Millisecond

// Thresholds, in cores.
const (
	// saturated: the process used this share of its Ps over a sample.
	saturated = 0.95
	// freeCore: the machine had at least this much idle CPU over the sample,
	// so another P would get a core instead of contending for one.
	freeCore = 0.5
	// fitsBelow: the load would fill p-1 Ps to less than this share, for
	// compactAfter samples in a row, so one P goes to sleep. Far enough below
	// saturated that the count does not swing between two values.
	fitsBelow    = 0.7
	compactAfter = 10
)

// Sample is the load over one interval, in cores (CPU seconds per second).
type Sample struct {
	Used float64 // by this process, not counting its polling
	Idle float64 // left idle on the machine
	// Stall is the share of the interval in which some thread of the machine
	// waited for a CPU (Linux PSI, /proc/pressure/cpu "some"); -1 when the
	// kernel does not report it.
	Stall float64
}

// Thresholds of Sample.spare, with hysteresis so that it does not flap. The
// stall thresholds are measured (2 cores, erl calling imperial): one caller
// stalls 10-15 % without polling (every wake-up waits a little for a core) and
// 1-5 % with it; 16 callers stall 20-60 %, where polling slows the caller.
const (
	spareStall    = 0.20 // on below this stall
	busyStall     = 0.30 // off above it
	spareIdleBusy = 0.25 // without PSI: off below this idle (on at freeCore)
)

// spare tells whether the machine has CPU to spare, given whether it had at
// the last sample. Stall is the direct measure: polling costs nobody anything
// while no thread waits for a CPU. Idle time is coarse (10 ms ticks) and
// moves with the polling itself, so it is only the fallback.
func (s Sample) spare(was bool) bool {
	if s.Stall >= 0 {
		return s.Stall < spareStall || (was && s.Stall < busyStall)
	}
	return s.Idle >= freeCore || (was && s.Idle >= spareIdleBusy)
}

// Governor decides the P count from samples. Its zero value is not usable:
// build it with New.
type Governor struct {
	max   int
	procs int
	low   int // consecutive samples the load fitted in procs-1
}

// New returns a governor that starts at one P and never goes above limit.
func New(limit int) *Governor {
	return &Governor{max: max(1, limit), procs: 1}
}

// Procs is the current P count.
func (g *Governor) Procs() int { return g.procs }

// Next takes one sample and returns the P count to run with.
func (g *Governor) Next(s Sample) int {
	p := float64(g.procs)
	switch {
	case g.procs < g.max && s.Used >= saturated*p && s.Idle >= freeCore:
		g.procs++
		g.low = 0
	case g.procs > 1 && s.Used < fitsBelow*(p-1):
		g.low++
		if g.low >= compactAfter {
			g.procs--
			g.low = 0
		}
	default:
		g.low = 0
	}
	return g.procs
}

// Pinned reports whether the user fixed the P count with GOMAXPROCS, which
// then always wins.
func Pinned() bool { return os.Getenv("GOMAXPROCS") != "" }

// Options are Run's.
type Options struct {
	// Limit is the most Ps to use (at least 1).
	Limit int
	// Pinned: keep GOMAXPROCS as it is and only report Spare.
	Pinned bool
	// Polling, when set, is the process's cumulative time spent polling for
	// input instead of sleeping: CPU that any goroutine of ours may take, so
	// it does not count as load. It still counts as busy for the machine: the
	// kernel does not know it is worth less than a peer's work.
	Polling func() time.Duration
	// Spare, when set, is told after each sample whether the machine had an
	// idle core, the condition for polling to cost nothing but power.
	Spare func(bool)
}

// Run samples the load every Interval and sets GOMAXPROCS until ctx ends,
// starting the process on one P (unless Pinned). Its caller owns the goroutine
// it runs in.
func Run(ctx context.Context, o Options) error {
	g := New(o.Limit)
	if !o.Pinned {
		runtime.GOMAXPROCS(g.Procs())
	}
	if (g.max == 1 || o.Pinned) && o.Spare == nil {
		return nil
	}
	polling := o.Polling
	if polling == nil {
		polling = func() time.Duration { return 0 }
	}
	prev, err := readLoad(polling)
	if err != nil {
		return g.giveUp(o, err)
	}
	t := time.NewTicker(Interval)
	defer t.Stop()
	spare, stall := false, -1.0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		cur, err := readLoad(polling)
		if err != nil {
			return g.giveUp(o, err)
		}
		s := cur.since(prev)
		prev = cur
		if o.Spare != nil {
			// smooth the stall over a few samples: single ones swing by 20 %
			if stall >= 0 && s.Stall >= 0 {
				s.Stall = (stall + s.Stall) / 2
			}
			stall = s.Stall
			spare = s.spare(spare)
			o.Spare(spare)
		}
		if n := g.Procs(); !o.Pinned && g.Next(s) != n {
			runtime.GOMAXPROCS(g.Procs())
		}
	}
}

// giveUp leaves the process on every P it may use when the load cannot be
// read (no /proc, say): one P would be a cap, not a measured choice.
func (g *Governor) giveUp(o Options, err error) error {
	if !o.Pinned {
		runtime.GOMAXPROCS(g.max)
	}
	return err
}

// load is a reading of the process's CPU time and the machine's idle time.
type load struct {
	at      time.Time
	used    time.Duration // user+system time of this process
	idle    time.Duration // idle+iowait time of all cores
	polling time.Duration // of used, spent polling for input
	stall   time.Duration // PSI "some" total, or -1
}

func (l load) since(prev load) Sample {
	wall := l.at.Sub(prev.at).Seconds()
	if wall <= 0 {
		return Sample{}
	}
	poll := (l.polling - prev.polling).Seconds() / wall
	stall := -1.0
	if l.stall >= 0 && prev.stall >= 0 {
		stall = (l.stall - prev.stall).Seconds() / wall
	}
	return Sample{
		Used:  (l.used-prev.used).Seconds()/wall - poll,
		Idle:  (l.idle - prev.idle).Seconds() / wall,
		Stall: stall,
	}
}

func readLoad(polling func() time.Duration) (load, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return load{}, fmt.Errorf("sched: getrusage: %w", err)
	}
	idle, err := machineIdle()
	if err != nil {
		return load{}, err
	}
	return load{
		at:      time.Now(),
		used:    time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		idle:    idle,
		polling: polling(),
		stall:   cpuStall(),
	}, nil
}

// cpuStall reads the total time some thread waited for a CPU from
// /proc/pressure/cpu, or -1 without PSI.
func cpuStall() time.Duration {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return -1
	}
	return parseStall(string(b))
}

// parseStall reads "some avg10=.. avg60=.. avg300=.. total=<µs>".
func parseStall(text string) time.Duration {
	line, _, _ := strings.Cut(text, "\n")
	if !strings.HasPrefix(line, "some ") {
		return -1
	}
	_, total, ok := strings.Cut(line, "total=")
	if !ok {
		return -1
	}
	us, err := strconv.ParseUint(strings.TrimSpace(total), 10, 63)
	if err != nil {
		return -1
	}
	return time.Duration(us) * time.Microsecond
}

// clockTick is USER_HZ, the unit of /proc/stat: 100 on every Linux ABI Go
// supports.
const clockTick = 100

var errProcStat = errors.New("sched: /proc/stat has no cpu line")

// machineIdle reads the idle and iowait time of all cores from /proc/stat.
func machineIdle() (time.Duration, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("sched: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("sched: /proc/stat: %w", err)
	}
	return parseIdle(line)
}

// parseIdle reads "cpu  user nice system idle iowait ..." (ticks).
func parseIdle(line string) (time.Duration, error) {
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, errProcStat
	}
	var ticks uint64
	for _, s := range f[4:6] {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: %q", errProcStat, line)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTick, nil
}
