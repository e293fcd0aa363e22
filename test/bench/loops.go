//go:build bench

package main

import (
	"context"
	"fmt"
	"runtime/debug"
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
	f                  *Figure
	srv, cli, p50, p99 []float64
}

func newAcc(who, id, name, unit string) *acc {
	return &acc{f: &Figure{Who: who, ID: id, Name: name, Unit: unit}}
}

func (a *acc) lowerBetter() *acc { a.f.LowerBetter = true; return a }

func (a *acc) sample(v float64, u cpuUse) {
	a.f.Samples = append(a.f.Samples, v)
	if u.ok {
		a.srv = append(a.srv, u.server)
		a.cli = append(a.cli, u.client)
	}
}

func (a *acc) latency(lats []time.Duration) {
	a.p50 = append(a.p50, ms(percentile(lats, 50)))
	a.p99 = append(a.p99, ms(percentile(lats, 99)))
}

func (a *acc) note(format string, args ...any) { a.f.Note = fmt.Sprintf(format, args...) }

// done records the figure (medians of the repetitions) if it has samples.
func (a *acc) done(res *Results) {
	if len(a.f.Samples) == 0 {
		return
	}
	a.f.Value = median(a.f.Samples)
	a.f.ServerCPU, a.f.ClientCPU = median(a.srv), median(a.cli)
	a.f.P50ms, a.f.P99ms = median(a.p50), median(a.p99)
	res.add(a.f)
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
