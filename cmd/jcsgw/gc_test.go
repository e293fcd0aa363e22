package main

import (
	"context"
	"math"
	"os"
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Setenv(env, "150")
		debug.SetGCPercent(123)
		debug.SetMemoryLimit(math.MaxInt64)
		tuneGC(ctx)
		if got := debug.SetGCPercent(123); got != 123 {
			t.Fatalf("with %s set, tuneGC changed the GC percent to %d", env, got)
		}
		if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
			t.Fatalf("with %s set, tuneGC set a memory limit of %d", env, got)
		}
		os.Unsetenv(env)
	}

	tuneGC(ctx)
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Fatalf("without GOGC, the GC percent is %d, want %d", got, gcPercent)
	}
	if got := debug.SetMemoryLimit(-1); got < memFloor || got == math.MaxInt64 {
		t.Fatalf("without GOMEMLIMIT, the memory limit is %d, want at least %d", got, memFloor)
	}
}

func TestMemLimitFollowsTheLiveHeap(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int64
	}{
		{0, memFloor},
		{10 << 20, memFloor},
		{memFloor / 2, memFloor},
		{200 << 20, 400 << 20},
		{3 << 30, 6 << 30},
	} {
		if got := memLimit(c.live); got != c.want {
			t.Errorf("memLimit(%d) = %d, want %d", c.live, got, c.want)
		}
	}
}

func TestHeapReleaseAfterABurstOnly(t *testing.T) {
	const mib = 1 << 20
	prev := heapSample{live: 40 * mib, held: 150 * mib, allocated: 5000 * mib}
	for _, c := range []struct {
		name string
		cur  heapSample
		want bool
	}{
		{"burst over: 110 MiB spare, 1 MiB allocated", heapSample{live: 40 * mib, held: 150 * mib, allocated: 5001 * mib}, true},
		{"under load: 110 MiB spare, 100 MiB allocated", heapSample{live: 40 * mib, held: 150 * mib, allocated: 5100 * mib}, false},
		{"just under an eighth of the spare allocated", heapSample{live: 40 * mib, held: 120 * mib, allocated: 5000*mib + 10*mib - 1}, true},
		{"an eighth of the spare allocated", heapSample{live: 40 * mib, held: 120 * mib, allocated: 5010 * mib}, false},
		{"little spare", heapSample{live: 40 * mib, held: 40*mib + releaseAt - 1, allocated: 5000 * mib}, false},
	} {
		if got := prev.release(c.cur); got != c.want {
			t.Errorf("%s: release = %v, want %v", c.name, got, c.want)
		}
	}
	if (heapSample{}).release(heapSample{live: mib, held: 500 * mib, allocated: 1}) {
		t.Error("the first sample released")
	}
}

func TestReadHeap(t *testing.T) {
	garbage := make([][]byte, 0, 64)
	for range 64 {
		garbage = append(garbage, make([]byte, 1<<20))
	}
	h := readHeap()
	if h.held < 64<<20 || h.allocated < 64<<20 || h.held < h.live {
		t.Fatalf("heap sample %+v after 64 MiB allocated", h)
	}
	garbage = nil
	debug.FreeOSMemory()
	if after := readHeap(); after.held >= h.held-32<<20 {
		t.Fatalf("the heap held %d bytes, and %d after they were freed and returned", h.held, after.held)
	}
}
