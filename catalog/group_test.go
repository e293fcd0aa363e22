package catalog

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func openTest(t *testing.T) *Bolt {
	t.Helper()
	b, err := OpenBolt(filepath.Join(t.TempDir(), "catalog.db"))
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return b
}

// keysOf returns the keys committed to table.
func keysOf(t *testing.T, b *Bolt, table string) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	require.NoError(t, b.View(context.Background(), func(tx Tx) error {
		return tx.Scan(table, nil, func(k, _ []byte) bool { got[string(k)] = true; return true })
	}))
	return got
}

// Concurrent batches all commit, each sees its own result, and a failing
// call neither takes its neighbours down nor leaves any of its writes.
func TestBatchGroupsAndIsolatesFailures(t *testing.T) {
	b := openTest(t)
	ctx := context.Background()
	errOdd := errors.New("odd calls fail")
	const n = 200
	errs := concurrently(n, func(i int) error {
		return b.Batch(ctx, func(tx Tx) error {
			if err := tx.Put("t", []byte(fmt.Sprintf("k%03d", i)), []byte("v")); err != nil {
				return err
			}
			if i%2 == 1 {
				return fmt.Errorf("call %d: %w", i, errOdd)
			}
			if i%50 == 0 {
				panic("boom")
			}
			return nil
		})
	})
	got := keysOf(t, b, "t")
	for i := range n {
		k := fmt.Sprintf("k%03d", i)
		switch {
		case i%2 == 1:
			require.ErrorIs(t, errs[i], errOdd, "call %d", i)
			require.Contains(t, errs[i].Error(), fmt.Sprintf("call %d:", i))
			require.False(t, got[k], "failed call %d left its write", i)
		case i%50 == 0:
			require.ErrorContains(t, errs[i], "panic in a batched transaction: boom")
			require.False(t, got[k], "panicking call %d left its write", i)
		default:
			require.NoError(t, errs[i], "call %d", i)
			require.True(t, got[k], "call %d's write is missing", i)
		}
	}
}

// Calls in one group see each other's writes in order: a counter
// incremented by many concurrent batches ends at their number.
func TestBatchSerialisesCalls(t *testing.T) {
	b := openTest(t)
	ctx := context.Background()
	const n = 300
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, b.Batch(ctx, func(tx Tx) error {
				var c int
				if v := tx.Get("t", []byte("c")); v != nil {
					fmt.Sscan(string(v), &c)
				}
				return tx.Put("t", []byte("c"), []byte(fmt.Sprint(c+1)))
			}))
		}()
	}
	wg.Wait()
	require.NoError(t, b.View(ctx, func(tx Tx) error {
		require.Equal(t, fmt.Sprint(n), string(tx.Get("t", []byte("c"))))
		return nil
	}))
}

// A cancelled context is refused before anything runs.
func TestBatchCancelled(t *testing.T) {
	b := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := b.Batch(ctx, func(Tx) error { ran = true; return nil })
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, ran)
}

// A call's ready runs before its records commit: while it has not
// returned nobody sees them, a failing ready fails its own call alone, and
// a panicking one is an error, not a crash.
func TestBatchReadyGatesTheCommit(t *testing.T) {
	b := openTest(t)
	ctx := context.Background()
	release := make(chan struct{})
	started := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		done <- b.BatchReady(ctx, func() error {
			once.Do(func() { close(started) })
			<-release
			return nil
		}, func(tx Tx) error { return tx.Put("t", []byte("gated"), []byte("v")) })
	}()
	<-started
	require.NoError(t, b.View(ctx, func(tx Tx) error {
		require.Nil(t, tx.Get("t", []byte("gated")), "committed before its ready returned")
		return nil
	}))
	close(release)
	require.NoError(t, <-done)
	require.NoError(t, b.View(ctx, func(tx Tx) error {
		require.NotNil(t, tx.Get("t", []byte("gated")))
		return nil
	}))

	errDisk := errors.New("sync failed")
	const n = 60
	errs := concurrently(n, func(i int) error {
		ready := func() error { return nil }
		switch i % 3 {
		case 1:
			ready = func() error { return fmt.Errorf("call %d: %w", i, errDisk) }
		case 2:
			if i%10 == 2 {
				ready = func() error { panic("boom") }
			}
		}
		return b.BatchReady(ctx, ready, func(tx Tx) error {
			return tx.Put("t", []byte(fmt.Sprintf("k%03d", i)), []byte("v"))
		})
	})
	got := keysOf(t, b, "t")
	for i := range n {
		k := fmt.Sprintf("k%03d", i)
		switch {
		case i%3 == 1:
			require.ErrorIs(t, errs[i], errDisk, "call %d", i)
			require.Contains(t, errs[i].Error(), fmt.Sprintf("call %d:", i))
			require.False(t, got[k], "call %d committed although its data is not durable", i)
		case i%3 == 2 && i%10 == 2:
			require.ErrorContains(t, errs[i], "panic", "call %d", i)
			require.False(t, got[k], "call %d committed after its ready panicked", i)
		default:
			require.NoError(t, errs[i], "call %d", i)
			require.True(t, got[k], "call %d lost", i)
		}
	}
}

// concurrently runs call(0) … call(n-1) at once and returns their errors.
func concurrently(n int, call func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = call(i)
		}()
	}
	wg.Wait()
	return errs
}
