package catalog

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"
)

// maxGroup bounds how many calls share one log record.
const maxGroup = 512

// groupCommit runs concurrent Batch calls together, one after the other in
// the writer's memtable, and makes them durable with one log record and one
// fdatasync. It never waits on a timer: while one group syncs, the next
// gathers, and it starts the moment the log is free, so a group is as large
// as the load makes it and a lone writer pays no delay at all.
type groupCommit struct {
	b *Bolt

	mu      sync.Mutex
	pending []*groupCall
	running bool
}

type groupCall struct {
	ready func() error // nil: nothing to wait for
	fn    func(Tx) error
	alone bool // Update: a group of its own, so that fn runs once
	err   chan error
}

func (g *groupCommit) do(ready func() error, fn func(Tx) error, alone bool) error {
	c := &groupCall{ready: ready, fn: fn, alone: alone, err: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	if !g.running {
		g.running = true
		go g.loop()
	}
	g.mu.Unlock()
	return <-c.err
}

// loop commits groups until no call is waiting.
func (g *groupCommit) loop() {
	for {
		// Let the request goroutines that are ready to run get their
		// calls in first: on a busy machine the group grows and one sync
		// serves more of them; on an idle one this returns at once.
		runtime.Gosched()
		g.mu.Lock()
		n := 0
		for n < len(g.pending) && n < maxGroup {
			if g.pending[n].alone {
				if n == 0 {
					n = 1
				}
				break
			}
			n++
		}
		if n == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		calls := slices.Clone(g.pending[:n])
		clear(g.pending[:n])
		g.pending = g.pending[n:]
		g.mu.Unlock()
		g.b.commit(calls)
	}
}

// commit runs calls in the writer's memtable and logs what they did. Their
// readies run on another goroutine meanwhile (the first one's data sync
// covers the rest), and the record is written only once they have all
// returned. A call that fails in fn is undone and gets its error; one whose
// ready fails is undone with the calls after it, which may have read its
// writes, and those run again.
func (b *Bolt) commit(calls []*groupCall) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	// Hand the memtable to the checkpointer once it is large and nothing
	// is frozen; once it is at the limit, wait for the checkpoint running
	// (the checkpoints fall behind) and hand it over then.
	if b.failed == nil && (b.w.n >= b.maxPending || (b.w.n >= b.checkpointAt && b.state.Load().frozen == nil)) {
		if err := b.rotate(); err != nil {
			for _, c := range calls {
				c.err <- err
			}
			return
		}
		b.kickCheckpoint()
	}
	if b.failed != nil {
		for _, c := range calls {
			c.err <- fmt.Errorf("catalog: the log failed earlier: %w", b.failed)
		}
		return
	}
	st, ft, err := b.begin()
	if err != nil {
		for _, c := range calls {
			c.err <- err
		}
		return
	}
	defer b.readers.give(ft)
	wl := &b.wlog
	tx := &memTx{file: ft, layers: [2]*memtable{b.w, st.frozen}, wl: wl}
	var stand []*groupCall // their writes are in wl
	for len(calls) > 0 {
		readyErr := make([]error, len(calls))
		readyDone := make(chan struct{})
		if slices.ContainsFunc(calls, func(c *groupCall) bool { return c.ready != nil }) {
			go func() {
				defer close(readyDone)
				for i, c := range calls {
					if c.ready != nil {
						readyErr[i] = safeReady(c.ready)
					}
				}
			}()
		} else {
			close(readyDone) // most groups: metadata only, nothing to wait for
		}
		fnErr := make([]error, len(calls))
		marks := make([][2]int, len(calls))
		for i, c := range calls {
			marks[i] = [2]int{len(wl.undo), len(wl.ops)}
			if fnErr[i] = safeCall(c.fn, tx); fnErr[i] != nil {
				wl.rollback(b.w, marks[i][0], marks[i][1])
			}
		}
		<-readyDone
		first := len(calls)
		for i := range calls {
			if fnErr[i] == nil && readyErr[i] != nil {
				first = i
				break
			}
		}
		for i, c := range calls[:first] {
			if fnErr[i] != nil {
				c.err <- fnErr[i]
			} else {
				stand = append(stand, c)
			}
		}
		if first == len(calls) {
			break
		}
		wl.rollback(b.w, marks[first][0], marks[first][1])
		rest := calls[:0:0]
		for i, c := range calls[first:] {
			if err := readyErr[first+i]; err != nil {
				c.err <- err
			} else {
				rest = append(rest, c)
			}
		}
		calls = rest
	}
	if len(wl.ops) > 0 {
		start := time.Now()
		err := b.log.append(wl.ops)
		b.syncNanos.Add(int64(time.Since(start)))
		if err != nil {
			wl.rollback(b.w, 0, 0)
			b.failed = err
			for _, c := range stand {
				c.err <- err
			}
			return
		}
		b.publish()
		b.groups.Add(1)
		b.calls.Add(int64(len(stand)))
	}
	wl.reset() // they stand
	for _, c := range stand {
		c.err <- nil
	}
	if b.w.n >= b.checkpointAt {
		b.kickCheckpoint()
	}
}

func (b *Bolt) kickCheckpoint() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// safeReady is safeCall for a ready function.
func safeReady(ready func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("catalog: panic in a batched call's ready: %v", p)
		}
	}()
	return ready()
}

// safeCall turns a panic in fn into an error of fn's call alone, rather than
// the death of the goroutine that commits everyone's work.
func safeCall(fn func(Tx) error, tx *memTx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("catalog: panic in a batched transaction: %v", p)
		}
	}()
	return fn(tx)
}
