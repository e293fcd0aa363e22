package catalog

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A transaction keeps the tables it opened, including ones it created, and
// still sees a table created after it first looked for it in vain.
func TestTxTablesOpenedOnce(t *testing.T) {
	b := openTest(t)
	ctx := context.Background()
	// (The write transaction runs on the group commit's goroutine: it
	// returns its findings rather than failing the test there.)
	require.NoError(t, b.Update(ctx, func(tx Tx) error {
		if v := tx.Get("late", []byte("k")); v != nil {
			return fmt.Errorf("late table: %q before any write", v)
		}
		for i := range 20 { // more tables than the transaction remembers
			if err := tx.Put(fmt.Sprintf("t%d", i), []byte("k"), []byte{byte(i)}); err != nil {
				return err
			}
		}
		if err := tx.Put("late", []byte("k"), []byte("v")); err != nil {
			return err
		}
		if v := tx.Get("late", []byte("k")); string(v) != "v" {
			return fmt.Errorf("late table: %q after the write", v)
		}
		return nil
	}))
	for _, where := range []string{"memtable", "file"} {
		if where == "file" {
			intoFile(t, b)
		}
		require.NoError(t, b.View(ctx, func(tx Tx) error {
			for round := range 2 {
				for i := range 20 {
					require.Equal(t, []byte{byte(i)}, tx.Get(fmt.Sprintf("t%d", i), []byte("k")), "%s, round %d", where, round)
				}
			}
			require.Nil(t, tx.Get("none", []byte("k")))
			return nil
		}))
	}
}

// BenchmarkViewGets is a small GET's catalog work: one read transaction,
// lookups in five tables, one of them read three times.
func BenchmarkViewGets(b *testing.B) {
	benchViewGets(b, 0)
}

// BenchmarkViewGetsPastMemtable: the same lookups while the memtable holds
// 8,000 other keys of those tables, the last moments' writes, as it does
// under load: the keys are all in the file, as most keys are.
func BenchmarkViewGetsPastMemtable(b *testing.B) {
	benchViewGets(b, 8000)
}

func benchViewGets(b *testing.B, recent int) {
	db, err := OpenBolt(filepath.Join(b.TempDir(), "catalog.db"))
	require.NoError(b, err)
	defer db.Close()
	ctx := context.Background()
	tables := []string{"buckets_by_name", "buckets", "packages_by_name", "path_idx", "objects"}
	require.NoError(b, db.Update(ctx, func(tx Tx) error {
		for _, tb := range tables {
			for i := range 1000 {
				if err := tx.Put(tb, fmt.Appendf(nil, "k%05d", i), make([]byte, 64)); err != nil {
					return err
				}
			}
		}
		return nil
	}))
	// In the file, as most of a store is.
	intoFile(b, db)
	if recent > 0 {
		// Kept in memory: no checkpoint runs until the end.
		db.cpmu.Lock()
		defer db.cpmu.Unlock()
	}
	require.NoError(b, db.Update(ctx, func(tx Tx) error {
		for i := range recent {
			if err := tx.Put(tables[i%len(tables)], fmt.Appendf(nil, "r%05d", i), make([]byte, 64)); err != nil {
				return err
			}
		}
		return nil
	}))
	b.ReportAllocs()
	for b.Loop() {
		_ = db.View(ctx, func(tx Tx) error {
			tx.Get(tables[0], []byte("k00500"))
			tx.Get(tables[1], []byte("k00500"))
			tx.Get(tables[2], []byte("k00500"))
			tx.Get(tables[1], []byte("k00501"))
			tx.Get(tables[3], []byte("k00500"))
			tx.Get(tables[4], []byte("k00500"))
			tx.Get(tables[1], []byte("k00500")) // a GET reads the bucket thrice (owner checks)
			return nil
		})
	}
	require.EqualValues(b, recent, db.LogStats().Pending)
}

// A scan in a write transaction whose fn writes to the table it scans goes
// on over the table as it now is: after each key it visits the next live
// key past it, new ones included, in either direction, whether the keys
// sit in the file, in a frozen memtable or in the writer's own.
func TestScanWhileWritingItsTable(t *testing.T) {
	b := openTest(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 8))
	want := map[string]string{}
	key := func() string { return fmt.Sprintf("k%03d", rng.IntN(300)) }
	write := func(tx Tx, k string) error {
		if rng.IntN(3) == 0 {
			delete(want, k)
			return tx.Delete("t", []byte(k))
		}
		v := fmt.Sprint(rng.IntN(1000))
		want[k] = v
		return tx.Put("t", []byte(k), []byte(v))
	}
	// next is the model's first live key after last in a direction.
	next := func(last string, started, reverse bool) (string, bool) {
		var best string
		found := false
		for k := range want {
			after := !started || (k > last && !reverse) || (k < last && reverse)
			if after && (!found || (k < best) != reverse) {
				best, found = k, true
			}
		}
		return best, found
	}
	for round := range 30 {
		// Spread the keys over the layers: the file, a frozen memtable,
		// and the writer's own.
		for layer := range 3 {
			require.NoError(t, b.Update(ctx, func(tx Tx) error {
				for range 40 {
					if err := write(tx, key()); err != nil {
						return err
					}
				}
				return nil
			}))
			switch layer {
			case 0:
				require.NoError(t, b.checkpoint(true))
			case 1:
				b.wmu.Lock()
				err := b.rotate()
				b.wmu.Unlock()
				require.NoError(t, err)
			}
		}
		reverse := round%2 == 1
		require.NoError(t, b.Update(ctx, func(tx Tx) error {
			var failed error
			last, started := "", false
			visit := func(k, v []byte) bool {
				exp, ok := next(last, started, reverse)
				if !ok || exp != string(k) || want[exp] != string(v) {
					failed = fmt.Errorf("round %d: visited %s=%s after %q, want %s=%s (%v)", round, k, v, last, exp, want[exp], ok)
					return false
				}
				last, started = string(k), true
				// Rewrite the key visited and a few anywhere, ahead
				// of the scan and behind it.
				for _, w := range []string{string(k), key(), key(), key()} {
					if failed = write(tx, w); failed != nil {
						return false
					}
				}
				return true
			}
			if reverse {
				tx.ScanReverse("t", nil, visit)
			} else {
				tx.Scan("t", nil, visit)
			}
			if failed != nil {
				return failed
			}
			if _, more := next(last, started, reverse); more {
				return fmt.Errorf("round %d: the scan stopped at %q before the end", round, last)
			}
			return nil
		}))
		require.NoError(t, b.checkpoint(true))
	}
}
