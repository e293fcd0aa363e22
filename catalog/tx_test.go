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
	require.NoError(t, b.Update(ctx, func(tx Tx) error {
		require.Nil(t, tx.Get("late", []byte("k")))
		for i := range 9 { // more tables than the transaction remembers
			require.NoError(t, tx.Put(fmt.Sprintf("t%d", i), []byte("k"), []byte{byte(i)}))
		}
		require.NoError(t, tx.Put("late", []byte("k"), []byte("v")))
		require.Equal(t, []byte("v"), tx.Get("late", []byte("k")))
		return nil
	}))
	require.NoError(t, b.View(ctx, func(tx Tx) error {
		for round := range 2 {
			for i := range 9 {
				require.Equal(t, []byte{byte(i)}, tx.Get(fmt.Sprintf("t%d", i), []byte("k")), "round %d", round)
			}
		}
		require.Nil(t, tx.Get("none", []byte("k")))
		return nil
	}))
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
