package main

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))

	t.Setenv("GOGC", "150")
	debug.SetGCPercent(123)
	tuneGC()
	if got := debug.SetGCPercent(123); got != 123 {
		t.Fatalf("with GOGC set, tuneGC changed the GC percent to %d", got)
	}

	os.Unsetenv("GOGC")
	tuneGC()
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Fatalf("without GOGC, the GC percent is %d, want %d", got, gcPercent)
	}
}
