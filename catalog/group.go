package catalog

import (
	"fmt"
	"slices"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// maxGroup bounds how many calls share one transaction, so that one commit
// stays small enough to be quick.
const maxGroup = 512

// groupCommit runs concurrent Batch calls together in one write transaction
// and one commit (two fsyncs for all of them). Unlike bbolt's own Batch, it
// never waits on a timer: while one group commits, the next gathers, and it
// starts the moment the disk is free, so a group is as large as the load
// makes it and a lone writer pays no delay at all.
type groupCommit struct {
	db *bolt.DB

	mu      sync.Mutex
	pending []*groupCall
	running bool
}

type groupCall struct {
	ready func() error // nil: nothing to wait for
	fn    func(Tx) error
	err   chan error
}

func (g *groupCommit) do(ready func() error, fn func(Tx) error) error {
	c := &groupCall{ready: ready, fn: fn, err: make(chan error, 1)}
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
		g.mu.Lock()
		calls := g.pending
		if len(calls) > maxGroup {
			calls = calls[:maxGroup:maxGroup]
			g.pending = g.pending[maxGroup:]
		} else {
			g.pending = nil
		}
		if len(calls) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		g.run(calls)
	}
}

// run commits calls in one transaction. Their readies run on another
// goroutine meanwhile (the first one's data sync covers the rest), and the
// transaction waits for them before it commits. A call that fails, in fn
// or in ready, would roll back its neighbours' work too, so it is taken
// out and answered alone, and the rest are tried again without it.
func (g *groupCommit) run(calls []*groupCall) {
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
		failed, notReady := -1, false
		err := g.db.Update(func(tx *bolt.Tx) error {
			for i, c := range calls {
				if err := safeCall(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			<-readyDone
			for _, err := range readyErr {
				if err != nil {
					notReady = true
					return err
				}
			}
			return nil
		})
		<-readyDone
		if notReady {
			// Those whose data is not durable fail; the others go again
			// (their readies answer at once now).
			rest := calls[:0:0]
			for i, c := range calls {
				if readyErr[i] != nil {
					c.err <- readyErr[i]
				} else {
					rest = append(rest, c)
				}
			}
			calls = rest
			continue
		}
		if failed < 0 {
			for _, c := range calls {
				c.err <- err
			}
			return
		}
		c := calls[failed]
		calls = append(calls[:failed:failed], calls[failed+1:]...)
		if len(calls) == 0 && failed == 0 {
			// It was alone already: its error stands.
			c.err <- err
			return
		}
		c.err <- g.db.Update(func(tx *bolt.Tx) error {
			if err := safeCall(c.fn, tx); err != nil {
				return err
			}
			if c.ready != nil {
				return safeReady(c.ready)
			}
			return nil
		})
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
func safeCall(fn func(Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("catalog: panic in a batched transaction: %v", p)
		}
	}()
	return fn(&boltTx{tx: tx})
}
