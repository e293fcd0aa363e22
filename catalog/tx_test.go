package catalog

import (
	"context"
	"fmt"
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
			require.NoError(t, b.checkpoint(true))
			require.Nil(t, b.state.Load().frozen)
			require.Zero(t, b.state.Load().active.n)
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
}
