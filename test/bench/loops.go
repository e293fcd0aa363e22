package main

import (
	"context"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// parallel runs f(0..n-1) on n goroutines and returns the first error; a
// panic in f becomes an error instead of killing the run.
func parallel(n int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := func() (err error) {
				defer func() {
					if p := recover(); p != nil {
						err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
					}
				}()
				return f(i)
			}()
			if err != nil {
				once.Do(func() { first = err })
			}
		}()
	}
	wg.Wait()
	return first
}

// loopResult is what a fixed-time loop did.
type loopResult struct {
	ops     int
	elapsed time.Duration
	lats    []time.Duration
}

func (r loopResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ops) / r.elapsed.Seconds()
}

// errExhausted ends one worker of a fixed-time loop early (it has no more
// work, e.g. nothing left to delete).
var errExhausted = fmt.Errorf("worker exhausted")

// fixedTime runs op on conc workers until dur has passed or maxOps ops were
// started, whichever comes first. op gets the worker number and that worker's
// op count. The first error stops every worker. Requests are bounded by ctx,
// which the caller gives a deadline a little past dur.
func fixedTime(ctx context.Context, conc int, dur time.Duration, maxOps int64, op func(ctx context.Context, worker, i int) error) (loopResult, error) {
	ctx, cancel := context.WithTimeout(ctx, dur+30*time.Second)
	defer cancel()
	var (
		started atomic.Int64
		failed  atomic.Bool
		mu      sync.Mutex
		res     loopResult
	)
	t0 := time.Now()
	end := t0.Add(dur)
	err := parallel(conc, func(w int) error {
		lats := make([]time.Duration, 0, 4096)
		defer func() {
			mu.Lock()
			res.lats = append(res.lats, lats...)
			res.ops += len(lats)
			mu.Unlock()
		}()
		for i := 0; ; i++ {
			if failed.Load() || time.Now().After(end) || started.Add(1) > maxOps {
				return nil
			}
			s := time.Now()
			err := op(ctx, w, i)
			if err == errExhausted {
				return nil
			}
			if err != nil {
				failed.Store(true)
				return err
			}
			lats = append(lats, time.Since(s))
		}
	})
	res.elapsed = time.Since(t0)
	return res, err
}

// acc accumulates one figure's repetitions.
type acc struct {
	f                          *Figure
	srv, cli, others, p50, p99 []float64
	steal                      []float64
	own                        []float64 // ownRate's samples
	// gathering: done leaves the figure to takeTurns (see bench.accs);
	// turn is the repetition its samples now belong to.
	gathering bool
	turn      int
}

func newAcc(who, id, name, unit string) *acc {
	return &acc{f: &Figure{Who: who, ID: id, Name: name, Unit: unit}}
}

// newAcc is newAcc for a workload that may run in turns: while servers take
// turns, a figure already begun is continued.
func (b *bench) newAcc(who, id, name, unit string) *acc {
	if who == whoLimit {
		id, name = ceilingFigure(id, name)
	}
	if !b.oneRep {
		return newAcc(who, id, name, unit)
	}
	for _, a := range b.accs {
		if a.f.Who == who && a.f.ID == id {
			a.turn = b.rep
			return a
		}
	}
	a := newAcc(who, id, name, unit)
	a.gathering, a.turn = true, b.rep
	a.f.Turns = true
	b.accs = append(b.accs, a)
	return a
}

func (a *acc) lowerBetter() *acc { a.f.LowerBetter = true; return a }

func (a *acc) sample(v float64, u cpuUse) {
	a.f.Samples = append(a.f.Samples, v)
	if a.f.Turns {
		a.f.SampleTurns = append(a.f.SampleTurns, a.turn)
	}
	if u.ok {
		a.srv = append(a.srv, u.server)
		a.cli = append(a.cli, u.client)
		a.others = append(a.others, u.others)
		a.steal = append(a.steal, u.steal)
	}
}

// ownRate records what the client's own work allowed in the last sample:
// units ÷ the CPU time of the goroutine that drove it (ownCPU).
func (a *acc) ownRate(units float64, own time.Duration, ok bool) {
	if ok && own > 0 {
		a.own = append(a.own, units/own.Seconds())
	}
}

func (a *acc) latency(lats []time.Duration) {
	a.p50 = append(a.p50, ms(percentile(lats, 50)))
	a.p99 = append(a.p99, ms(percentile(lats, 99)))
}

// note adds to the figure's note (once per distinct text).
func (a *acc) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	if slices.Contains(strings.Split(a.f.Note, "; "), n) {
		return
	}
	if a.f.Note != "" {
		a.f.Note += "; "
	}
	a.f.Note += n
}

// repetitions yields 0..Reps-1 while the workload has run for less than
// RepCap (the first always runs), so that a slow server cannot stretch the
// run past its time bound; it notes on accs when it stops early.
func (b *bench) repetitions(accs ...*acc) iter.Seq[int] {
	return func(yield func(int) bool) {
		if b.oneRep {
			yield(b.rep)
			return
		}
		t0 := time.Now()
		for rep := range b.cfg.Reps {
			if rep > 0 && time.Since(t0) > b.cfg.RepCap {
				for _, a := range accs {
					a.note("%d of %d repetitions (time cap %v)", rep, b.cfg.Reps, b.cfg.RepCap)
				}
				return
			}
			if !yield(rep) {
				return
			}
		}
	}
}

// done records the figure (medians of the repetitions) if it has samples.
func (a *acc) done(res *Results) {
	if a.gathering {
		return
	}
	if f := a.finish(); f != nil {
		res.add(f)
	}
}

// finish fills in the figure from the repetitions' medians; nil if it has
// no samples.
func (a *acc) finish() *Figure {
	if len(a.f.Samples) == 0 {
		return nil
	}
	a.f.Value = median(a.f.Samples)
	a.f.ServerCPU, a.f.ClientCPU, a.f.OthersCPU, a.f.StealCPU = median(a.srv), median(a.cli), median(a.others), median(a.steal)
	a.f.P50ms, a.f.P99ms = median(a.p50), median(a.p99)
	if len(a.own) > 0 {
		a.f.ClientOwn = median(a.own)
	}
	return a.f
}

// seeds makes every generated body distinct within a run.
var seedCounter atomic.Uint64

func nextSeed() uint64 { return seedCounter.Add(1) }

func sizeLabel(n int64) string {
	switch {
	case n >= gib && n%gib == 0:
		return fmt.Sprintf("%d GiB", n/gib)
	case n >= mib && n%mib == 0:
		return fmt.Sprintf("%d MiB", n/mib)
	case n >= kib && n%kib == 0:
		return fmt.Sprintf("%d KiB", n/kib)
	}
	return fmt.Sprintf("%d B", n)
}

// removeAll is os.RemoveAll with the files unlinked by several workers
// first: the peer leaves hundreds of thousands of small files, and one
// unlink at a time is slow on a disk mounted with discard.
func removeAll(dir string) error {
	files := make(chan string, 1024)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range files {
				os.Remove(f)
			}
		}()
	}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files <- path
		}
		return nil
	})
	close(files)
	wg.Wait()
	return os.RemoveAll(dir)
}

// readsPerRep is how many times each repetition reads its large object
// back. One read takes a fraction of a second and swings more with the
// machine's other work than a write does, so its median gets more samples;
// limit (c) and both servers are read the same way.
const readsPerRep = 3

// sampleReads times read readsPerRep times into acc. oneStream: read is
// one goroutine's sequential work, whose own CPU time bounds it (ownCPU).
func sampleReads(acc *acc, size int64, meter func() *cpuMeter, oneStream bool, read func() error) error {
	for range readsPerRep {
		m, t0 := meter(), time.Now()
		var own time.Duration
		var ok bool
		var err error
		if oneStream {
			own, ok, err = ownCPU(read)
		} else {
			err = read()
		}
		if err != nil {
			return err
		}
		acc.sample(mbps(size, time.Since(t0)), m.stop())
		acc.ownRate(float64(size)/1e6, own, ok)
	}
	return nil
}
