package main

import (
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// ownCPU runs fn on the calling goroutine locked to its OS thread and
// returns the CPU time (user and system) that thread spent meanwhile: fn's
// own sequential work (building and signing requests, copying bodies out of
// the socket, decoding replies, and its GC assists). A server can only add
// waiting to that time, so units ÷ own is a rate no server could have beaten
// with this client in that very measurement, whatever the machine's speed
// was at the moment. The transport's reader and writer goroutines run on
// other threads and are not counted: the bound errs on the high side.
// ok is false where the thread's clock cannot be read.
func ownCPU(fn func() error) (own time.Duration, ok bool, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0, err0 := threadCPU()
	err = fn()
	t1, err1 := threadCPU()
	if err0 != nil || err1 != nil || t1 <= t0 {
		return 0, false, err
	}
	return t1 - t0, true, err
}

func threadCPU() (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, fmt.Errorf("thread CPU clock: %w", err)
	}
	return time.Duration(ts.Nano()), nil
}
