package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// syncLog is the least a server that answers a change only once it is
// durable must do for it: append a line naming the change to a log and
// fdatasync the log before the answer. It does that as cheaply as it can be
// done: in groups (while one group syncs, the next gathers; one write and
// one fdatasync a group, as jcsgw's catalog log), into a file written with
// zeros ahead, so that no append changes the file's size and no sync writes
// an inode. What it logs is never read: it is a ring.
type syncLog struct {
	f    *os.File
	size int64

	mu      sync.Mutex
	buf     []byte
	waiting []chan error
	running bool
	off     int64 // the flusher's alone
}

// syncLogSize is the ring's size: more than a figure's changes write to it.
const syncLogSize = 64 << 20

func openSyncLog(path string) (*syncLog, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	zero := make([]byte, 1<<20)
	for at := int64(0); at < syncLogSize; at += int64(len(zero)) {
		if _, err := f.WriteAt(zero, at); err != nil {
			f.Close()
			return nil, fmt.Errorf("sync log: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("sync log: %w", err)
	}
	return &syncLog{f: f, size: syncLogSize}, nil
}

// record returns once line is durable in the log.
func (l *syncLog) record(line string) error {
	done := make(chan error, 1)
	l.mu.Lock()
	l.buf = append(append(l.buf, line...), '\n')
	l.waiting = append(l.waiting, done)
	if !l.running {
		l.running = true
		go l.flush()
	}
	l.mu.Unlock()
	return <-done
}

// flush writes and syncs groups until no change waits.
func (l *syncLog) flush() {
	var spare []byte
	for {
		// As jcsgw's group commit: let the request goroutines ready to
		// run join the group first.
		runtime.Gosched()
		l.mu.Lock()
		if len(l.waiting) == 0 {
			l.running = false
			l.mu.Unlock()
			return
		}
		buf, waiting := l.buf, l.waiting
		l.buf, l.waiting = spare[:0], nil
		l.mu.Unlock()
		if l.off+int64(len(buf)) > l.size {
			l.off = 0
		}
		_, err := l.f.WriteAt(buf, l.off)
		if err == nil {
			err = unix.Fdatasync(int(l.f.Fd()))
		}
		l.off += int64(len(buf))
		for _, w := range waiting {
			w <- err
		}
		spare = buf
	}
}
