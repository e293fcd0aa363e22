package catalog

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A read transaction kept between Views is dropped at the next checkpoint:
// a View after it sees the checkpoint's data from the file, never the kept
// transaction's older file. The checkpoints grow the file far past its first
// mapping, which waits for every read transaction: kept ones must not hold
// it (this test would hang).
func TestKeptReadersFollowCheckpoints(t *testing.T) {
	b := openTest(t)
	ctx := context.Background()
	big := make([]byte, 2000)
	for round := range 30 {
		// Many Views at once, so that several transactions are kept.
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				assert.NoError(t, b.View(ctx, func(tx Tx) error {
					if round > 0 {
						if v := tx.Get("t", []byte("k")); string(v) != fmt.Sprint(round-1) {
							return fmt.Errorf("round %d: k = %q before the write", round, v)
						}
					}
					time.Sleep(time.Millisecond)
					return nil
				}))
			}()
		}
		wg.Wait()
		require.NoError(t, b.Batch(ctx, func(tx Tx) error {
			for i := range 50 { // about 100 KB a round: the file grows
				if err := tx.Put("fill", fmt.Appendf(nil, "%d/%d", round, i), big); err != nil {
					return err
				}
			}
			return tx.Put("t", []byte("k"), fmt.Append(nil, round))
		}))
		intoFile(t, b) // the value is in the file alone
		require.NoError(t, b.View(ctx, func(tx Tx) error {
			require.Equal(t, fmt.Sprint(round), string(tx.Get("t", []byte("k"))), "round %d", round)
			return nil
		}))
	}
}

// Readers and checkpoints at once: every View sees a value at least as new
// as the last one any View saw before it began.
func TestKeptReadersUnderCheckpoints(t *testing.T) {
	b := openTest(t)
	ctx := context.Background()
	b.checkpointAt = 50 // checkpoints every few dozen writes
	var seen atomic.Int64
	seen.Store(-1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				floor := seen.Load()
				assert.NoError(t, b.View(ctx, func(tx Tx) error {
					v := tx.Get("t", []byte("k"))
					if v == nil {
						if floor >= 0 {
							return fmt.Errorf("k gone after %d was seen", floor)
						}
						return nil
					}
					var n int64
					fmt.Sscan(string(v), &n)
					if n < floor {
						return fmt.Errorf("k = %d after %d was seen", n, floor)
					}
					for {
						old := seen.Load()
						if n <= old || seen.CompareAndSwap(old, n) {
							return nil
						}
					}
				}))
			}
		}()
	}
	for i := range 3000 {
		require.NoError(t, b.Batch(ctx, func(tx Tx) error {
			if err := tx.Put("fill", fmt.Append(nil, i), []byte("x")); err != nil { // entries the checkpoints count
				return err
			}
			return tx.Put("t", []byte("k"), fmt.Append(nil, i))
		}))
	}
	close(stop)
	wg.Wait()
	require.Greater(t, b.LogStats().Checkpoints, int64(10))
}

// Blocks nest: a transaction begun while a second write is still under way
// is not kept when the first one ends (the checkpointer's and a test's
// checkpoint overlap; a kept one would hold the mmap lock the second
// write's commit may wait for).
func TestReadersBlocksNest(t *testing.T) {
	b := openTest(t)
	r := &b.readers
	r.block()
	r.block()
	t1, err := r.take(b)
	require.NoError(t, err)
	r.unblock()
	r.give(t1)
	require.Empty(t, r.idle, "kept while a write was under way")
	r.unblock()
	t2, err := r.take(b)
	require.NoError(t, err)
	r.give(t2)
	require.Len(t, r.idle, 1, "not kept once every write ended")
}
