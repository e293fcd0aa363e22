package catalog

import (
	"fmt"
	"sync"
)

// maxIdleReaders bounds the read transactions kept between uses.
const maxIdleReaders = 64

// readers keeps bbolt read transactions, with the tables and cursors each
// opened, from one use to the next while the file does not change: the
// readers' Views and the group commit's groups take one and give it back.
// Beginning one and opening its tables anew for every View (the buckets',
// the key index's, the objects': a Bucket, a cursor and a copy of its
// header each) was about a twentieth of a small GET's CPU and a quarter of
// its allocations.
//
// A kept transaction sees the file as it was when it began, so it is kept
// only until the next write to the file (a checkpoint): block, before the
// write, drops the idle ones and has the ones in use dropped when they come
// back, and every one begun until unblock, after the write, is dropped too.
// A reader that loads the state first and then takes a transaction thus
// gets one at least as new as the file that state was made against. Idle
// transactions must not outlive a write anyway: each holds bbolt's mmap
// lock, which a write that grows the file waits for.
type readers struct {
	mu      sync.Mutex
	idle    []*boltTx
	gen     uint64 // bumped by block and unblock
	blocked int    // blocks not yet unblocked: writes in progress
}

// take returns a read transaction of b's file.
func (r *readers) take(b *Bolt) (*boltTx, error) {
	r.mu.Lock()
	if n := len(r.idle); n > 0 {
		t := r.idle[n-1]
		r.idle[n-1] = nil
		r.idle = r.idle[:n-1]
		r.mu.Unlock()
		return t, nil
	}
	gen := r.gen
	r.mu.Unlock()
	tx, err := b.db.Begin(false)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return &boltTx{tx: tx, gen: gen}, nil
}

// give takes t back: kept if the file has not changed since it began (as
// far as gen tells), rolled back otherwise.
func (r *readers) give(t *boltTx) {
	r.mu.Lock()
	if r.blocked == 0 && t.gen == r.gen && len(r.idle) < maxIdleReaders {
		r.idle = append(r.idle, t)
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	t.tx.Rollback()
}

// block comes before a write to the file: it drops the idle transactions,
// and those in use and those begun until the last unblock are dropped on
// their return. Blocks nest (checkpoints hold cpmu, so today they do not
// overlap; close's last block never ends): the first of two writes to end
// must not let transactions be kept while the other's commit may still
// wait for them.
func (r *readers) block() {
	r.mu.Lock()
	r.blocked++
	r.gen++
	idle := r.idle
	r.idle = nil
	r.mu.Unlock()
	for _, t := range idle {
		t.tx.Rollback()
	}
}

// unblock comes after the write: once every block has its unblock,
// transactions begun from then on are kept.
func (r *readers) unblock() {
	r.mu.Lock()
	r.blocked--
	r.gen++
	r.mu.Unlock()
}
