package catalog

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// crash stops b the way a killed process does: no checkpoint, no final
// write; what is durable is what the log and the file hold.
func (b *Bolt) crash(t *testing.T) {
	t.Helper()
	b.closeOnce.Do(func() {
		close(b.stop)
		<-b.done
		require.NoError(t, b.log.close())
		b.readers.block()
		require.NoError(t, b.db.Close())
	})
}

// openAt opens the catalog at path; the caller closes it (or crashes it).
func openAt(t *testing.T, path string) *Bolt {
	t.Helper()
	b, err := OpenBolt(path)
	require.NoError(t, err)
	return b
}

// intoFile checkpoints until everything written so far is in the file and
// the memtables are empty. One call may not do it: the checkpointer runs
// beside the test, and a checkpoint that finds it rotating applies nothing.
func intoFile(t testing.TB, b *Bolt) {
	t.Helper()
	for range 200 {
		require.NoError(t, b.checkpoint(true))
		if st := b.state.Load(); st.frozen == nil && st.active.n == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the memtables did not empty into the file")
}

func put(t *testing.T, b *Bolt, table, k, v string) {
	t.Helper()
	require.NoError(t, b.Batch(context.Background(), func(tx Tx) error { return tx.Put(table, []byte(k), []byte(v)) }))
}

func del(t *testing.T, b *Bolt, table, k string) {
	t.Helper()
	require.NoError(t, b.Batch(context.Background(), func(tx Tx) error { return tx.Delete(table, []byte(k)) }))
}

// dump is every key and value of table, in order, as one read transaction
// sees them.
func dump(t *testing.T, b *Bolt, table string) []string {
	t.Helper()
	var out []string
	require.NoError(t, b.View(context.Background(), func(tx Tx) error {
		return tx.Scan(table, nil, func(k, v []byte) bool { out = append(out, string(k)+"="+string(v)); return true })
	}))
	return out
}

// An acknowledged write survives a crash whether or not a checkpoint had
// taken it: from the file, from the log's current epoch, and from the
// epoch frozen for a checkpoint that never ran.
func TestLogSurvivesCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	b := openAt(t, path)
	put(t, b, "t", "in-file", "1")
	put(t, b, "t", "gone", "x")
	intoFile(t, b) // both into the file
	del(t, b, "t", "gone")
	put(t, b, "t", "frozen", "2")
	var id int64
	require.NoError(t, b.Batch(context.Background(), func(tx Tx) error { var err error; id, err = tx.NextID("s"); return err }))
	// Freeze that epoch but do not apply it; then write to the next.
	b.wmu.Lock()
	require.NoError(t, b.rotate())
	b.wmu.Unlock()
	put(t, b, "t", "active", "3")
	put(t, b, "t", "in-file", "1b")
	b.crash(t)

	b = openAt(t, path)
	defer b.Close()
	require.Equal(t, []string{"active=3", "frozen=2", "in-file=1b"}, dump(t, b, "t"))
	var next int64
	require.NoError(t, b.Batch(context.Background(), func(tx Tx) error { var err error; next, err = tx.NextID("s"); return err }))
	require.Equal(t, id+1, next)
}

// A record cut short, or bytes that are no record, end the replay: the
// writes before them stand, nothing after them is invented.
func TestLogTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	b := openAt(t, path)
	put(t, b, "t", "a", "1")
	put(t, b, "t", "b", "2")
	epoch, end := b.log.epoch, b.log.off
	b.crash(t)

	f, err := os.OpenFile(walPath(path, int(epoch%2)), os.O_RDWR, 0)
	require.NoError(t, err)
	// The second record, with its last byte changed: a torn write.
	fi, err := f.Stat()
	require.NoError(t, err)
	require.Greater(t, fi.Size(), end)
	last := make([]byte, 1)
	_, err = f.ReadAt(last, end-1)
	require.NoError(t, err)
	last[0] ^= 0xff
	_, err = f.WriteAt(last, end-1)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	b = openAt(t, path)
	require.Equal(t, []string{"a=1"}, dump(t, b, "t"))
	// The next epoch writes over what is left; a crash then recovers it.
	put(t, b, "t", "c", "3")
	b.crash(t)
	b = openAt(t, path)
	defer b.Close()
	require.Equal(t, []string{"a=1", "c=3"}, dump(t, b, "t"))
}

// Close leaves nothing in the log: the file alone holds every write.
func TestCloseCheckpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	b := openAt(t, path)
	for i := range 100 {
		put(t, b, "t", fmt.Sprintf("k%03d", i), "v")
	}
	require.NoError(t, b.Close())
	for i := range 2 {
		require.NoError(t, os.Remove(walPath(path, i)))
	}
	b = openAt(t, path)
	defer b.Close()
	require.Len(t, dump(t, b, "t"), 100)
}

// Reads through memtables and the file agree with a plain map, whatever
// mix of them holds the keys: random puts and deletes, checkpoints and
// rotations at random points, scans both ways from random bounds, in read
// and write transactions, and across a crash.
func TestMemtablesMatchAMap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	b := openAt(t, path)
	defer func() { b.Close() }()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string]string{}
	key := func() string { return fmt.Sprintf("k%02d", rng.IntN(60)) }
	// check compares tx with want; it returns an error rather than
	// failing the test, since in a write transaction it runs on the
	// group commit's goroutine.
	check := func(tx Tx) error {
		keys := make([]string, 0, len(want))
		for k := range want {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for range 5 {
			bound := key()
			var got, exp []string
			tx.Scan("t", []byte(bound), func(k, v []byte) bool { got = append(got, string(k)+"="+string(v)); return true })
			for _, k := range keys {
				if k >= bound {
					exp = append(exp, k+"="+want[k])
				}
			}
			if !slices.Equal(exp, got) {
				return fmt.Errorf("scan from %s: got %v, want %v", bound, got, exp)
			}
			got, exp = nil, nil
			tx.ScanReverse("t", []byte(bound), func(k, v []byte) bool { got = append(got, string(k)+"="+string(v)); return true })
			for _, k := range slices.Backward(keys) {
				if k < bound {
					exp = append(exp, k+"="+want[k])
				}
			}
			if !slices.Equal(exp, got) {
				return fmt.Errorf("reverse scan before %s: got %v, want %v", bound, got, exp)
			}
			k := key()
			v := tx.Get("t", []byte(k))
			if w, ok := want[k]; (ok && w != string(v)) || (!ok && v != nil) {
				return fmt.Errorf("get %s: got %q, want %q (present %v)", k, v, w, ok)
			}
		}
		var all []string
		tx.ScanReverse("t", nil, func(k, _ []byte) bool { all = append(all, string(k)); return true })
		slices.Reverse(keys)
		if !slices.Equal(keys, all) {
			return fmt.Errorf("reverse scan of all: got %v, want %v", all, keys)
		}
		return nil
	}
	for round := range 400 {
		switch r := rng.IntN(20); {
		case r < 1:
			require.NoError(t, b.checkpoint(true))
		case r < 2:
			b.wmu.Lock()
			if b.state.Load().frozen == nil && b.w.n > 0 {
				require.NoError(t, b.rotate())
			}
			b.wmu.Unlock()
		case r < 3:
			b.crash(t)
			b = openAt(t, path)
		}
		// A batch of a few writes, checked inside the write transaction
		// too (it sees its own writes, and scans while writing).
		require.NoError(t, b.Batch(ctx, func(tx Tx) error {
			for range 1 + rng.IntN(4) {
				k := key()
				if rng.IntN(3) == 0 {
					delete(want, k)
					require.NoError(t, tx.Delete("t", []byte(k)))
				} else {
					v := fmt.Sprint(round)
					want[k] = v
					require.NoError(t, tx.Put("t", []byte(k), []byte(v)))
				}
			}
			if err := check(tx); err != nil {
				return fmt.Errorf("in the write transaction: %w", err)
			}
			return tx.Scan("t", nil, func(k, _ []byte) bool {
				// Writing while scanning does not upset the scan.
				return tx.Put("u", bytes.Clone(k), nil) == nil
			})
		}), "round %d", round)
		require.NoError(t, b.View(ctx, check), "round %d", round)
	}
}

// A failing call inside a group takes back exactly its own writes, also
// where it overwrote or deleted a neighbour's, and the calls after it see
// the state without them.
func TestGroupUndo(t *testing.T) {
	b := openTest(t)
	ctx := context.Background()
	put(t, b, "t", "a", "0")
	put(t, b, "t", "b", "0")
	errs := make(chan error, 4)
	// The writer is busy with a first call while the others gather, so
	// that they form one group.
	started, release := make(chan struct{}), make(chan struct{})
	go func() {
		errs <- b.Batch(ctx, func(Tx) error { close(started); <-release; return nil })
	}()
	<-started
	go func() { errs <- b.Batch(ctx, func(tx Tx) error { return tx.Put("t", []byte("a"), []byte("1")) }) }()
	waitPending(b, 1)
	go func() {
		errs <- b.Batch(ctx, func(tx Tx) error {
			tx.Put("t", []byte("a"), []byte("2"))
			tx.Delete("t", []byte("b"))
			tx.Put("t", []byte("c"), []byte("2"))
			tx.NextID("s")
			return fmt.Errorf("no")
		})
	}()
	waitPending(b, 2)
	go func() {
		errs <- b.Batch(ctx, func(tx Tx) error {
			n, _ := tx.NextID("s")
			return tx.Put("t", []byte("d"), []byte(fmt.Sprintf("%d %s %s", n, tx.Get("t", []byte("a")), tx.Get("t", []byte("b")))))
		})
	}()
	waitPending(b, 3)
	close(release)
	var failed int
	for range 4 {
		if <-errs != nil {
			failed++
		}
	}
	require.Equal(t, 1, failed)
	require.Equal(t, []string{"a=1", "b=0", "d=1 1 0"}, dump(t, b, "t"))
}

// waitPending waits until n calls wait for the group commit.
func waitPending(b *Bolt, n int) {
	for {
		g := &b.group
		g.mu.Lock()
		ok := len(g.pending) == n
		g.mu.Unlock()
		if ok {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// A new catalog file does not take the records of logs left beside it by
// another one.
func TestFreshCatalogIgnoresOldLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	b := openAt(t, path)
	put(t, b, "t", "old", "1")
	b.crash(t)
	require.NoError(t, os.Remove(path))
	b = openAt(t, path)
	defer b.Close()
	require.Empty(t, dump(t, b, "t"))
}

// The log's counters: every successful call counted once, in fewer or as
// many syncs; a checkpoint counted and nothing left pending after it.
func TestLogStats(t *testing.T) {
	b := openTest(t)
	const n = 50
	errs := concurrently(n, func(i int) error {
		return b.Batch(context.Background(), func(tx Tx) error {
			if i%10 == 9 {
				return fmt.Errorf("no")
			}
			return tx.Put("t", []byte(fmt.Sprint(i)), nil)
		})
	})
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
		}
	}
	require.Equal(t, 5, failed)
	st := b.LogStats()
	require.EqualValues(t, n-failed, st.Calls)
	require.GreaterOrEqual(t, st.Groups, int64(1))
	require.LessOrEqual(t, st.Groups, st.Calls)
	require.LessOrEqual(t, st.Pending, int64(n-failed)) // the ticker may have checkpointed some
	// Every group wrote and synced a record: each took some time, and a
	// sync of the temp dir takes far more than a nanosecond.
	require.Greater(t, st.SyncTime, time.Duration(st.Groups))
	intoFile(t, b)
	st = b.LogStats()
	require.GreaterOrEqual(t, st.Checkpoints, int64(1))
	require.Greater(t, st.CheckpointTime, time.Duration(st.Checkpoints))
	require.Zero(t, st.Pending)
	require.Zero(t, st.CheckpointFailures)
}

// With the memtables at their limit the writer waits for the checkpoint
// and goes on: many concurrent writers against a tiny limit all commit,
// through many checkpoints, and a crash after them loses nothing.
func TestWriterWaitsForCheckpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	b := openAt(t, path)
	b.checkpointAt, b.maxPending = 4, 8
	const rounds, per = 40, 8
	const n = rounds * per
	for r := range rounds {
		errs := concurrently(per, func(i int) error {
			return b.Batch(context.Background(), func(tx Tx) error {
				for j := range 3 {
					if err := tx.Put("t", []byte(fmt.Sprintf("k%03d-%d", r*per+i, j)), []byte{byte(i)}); err != nil {
						return err
					}
				}
				_, err := tx.NextID("s")
				return err
			})
		})
		for i, err := range errs {
			require.NoError(t, err, "round %d, call %d", r, i)
		}
	}
	st := b.LogStats()
	require.Greater(t, st.Checkpoints, int64(10), "the limit made the writer wait for checkpoints")
	require.LessOrEqual(t, st.Pending, int64(2*(8+3*maxGroup)))
	b.crash(t)
	b = openAt(t, path)
	defer b.Close()
	require.Equal(t, 3*n, len(dump(t, b, "t")), "keys after the crash")
	var next int64
	require.NoError(t, b.Batch(context.Background(), func(tx Tx) error { var err error; next, err = tx.NextID("s"); return err }))
	require.EqualValues(t, n+1, next)
}
