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
