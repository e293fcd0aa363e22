// Package catalog keeps jcsgw's metadata in one bbolt file.
//
// The gateway sees it only through Store and Tx: tables of ordered keys with
// get/put/delete/range scans and named sequences, inside ACID transactions.
// That is all a PostgreSQL-backed catalog would have to offer too, so bbolt
// stays an embedded default rather than an assumption of the domain.
package catalog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Tx is one transaction. Values returned by Get and handed to Scan callbacks
// are only valid until the transaction ends; copy them to keep them.
type Tx interface {
	// Get returns the value under key in table, or nil if absent.
	Get(table string, key []byte) []byte
	Put(table string, key, value []byte) error
	Delete(table string, key []byte) error
	// Scan visits keys >= from in ascending order until fn returns false.
	Scan(table string, from []byte, fn func(key, value []byte) bool) error
	// ScanReverse visits keys < before (or all keys, if before is nil) in
	// descending order until fn returns false.
	ScanReverse(table string, before []byte, fn func(key, value []byte) bool) error
	// NextID returns the next value of the named sequence, starting at 1.
	NextID(sequence string) (int64, error)
}

// Store is the catalog: read transactions run concurrently, write
// transactions one at a time.
type Store interface {
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in its own write transaction and commits it durably.
	Update(ctx context.Context, fn func(Tx) error) error
	// Batch is Update for many small concurrent writers: their transactions
	// may be committed together with one fsync (group commit), so fn may run
	// more than once and must only act through the Tx.
	Batch(ctx context.Context, fn func(Tx) error) error
	// BatchReady is Batch for a write whose data elsewhere must be durable
	// before its records commit. ready is run by the committing goroutine
	// while the group's transaction is built, so that one data sync and
	// one catalog commit serve the whole group; the transaction commits
	// only once the ready of every call in it has returned nil, and a call
	// whose ready fails gets that error and commits nothing. ready may be
	// called more than once and must then return its first result; a nil
	// ready makes it Batch.
	BatchReady(ctx context.Context, ready func() error, fn func(Tx) error) error
	// Size reports the catalog file's size in bytes.
	Size() int64
	Close() error
}

// Bolt is the bbolt-backed Store.
type Bolt struct {
	db    *bolt.DB
	group groupCommit
}

var _ Store = (*Bolt)(nil)

// OpenBolt opens (creating if needed) the catalog file at path.
func OpenBolt(path string) (*Bolt, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("catalog: %s is locked by another process: is a jcsgw server running on this data dir?", path)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: open %s: %w", path, err)
	}
	b := &Bolt{db: db}
	b.group.db = db
	return b, nil
}

func (b *Bolt) View(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.View(func(tx *bolt.Tx) error { return fn(&boltTx{tx: tx}) })
}

func (b *Bolt) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.Update(func(tx *bolt.Tx) error { return fn(&boltTx{tx: tx}) })
}

func (b *Bolt) Batch(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.group.do(nil, fn)
}

func (b *Bolt) BatchReady(ctx context.Context, ready func() error, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.group.do(ready, fn)
}

func (b *Bolt) Size() int64 {
	var n int64
	_ = b.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

func (b *Bolt) Close() error { return b.db.Close() }

// boltTx remembers the tables it has opened: bbolt caches them itself only
// in write transactions, and a read-only one otherwise seeks the root and
// allocates a Bucket for every Get (a small GET makes four or five).
type boltTx struct {
	tx     *bolt.Tx
	opened [6]openedTable
	next   int
}

type openedTable struct {
	name string
	b    *bolt.Bucket
}

func (t *boltTx) bucket(table string, create bool) (*bolt.Bucket, error) {
	for i := range t.opened {
		if o := &t.opened[i]; o.b != nil && o.name == table {
			return o.b, nil
		}
	}
	if b := t.tx.Bucket([]byte(table)); b != nil {
		t.remember(table, b)
		return b, nil
	}
	if !create || !t.tx.Writable() {
		return nil, nil
	}
	b, err := t.tx.CreateBucket([]byte(table))
	if err != nil {
		return nil, fmt.Errorf("catalog: create table %s: %w", table, err)
	}
	t.remember(table, b)
	return b, nil
}

// remember keeps the last few tables opened, round robin. Only tables that
// exist are kept: one missing now may be created later in the transaction.
func (t *boltTx) remember(table string, b *bolt.Bucket) {
	t.opened[t.next] = openedTable{table, b}
	t.next = (t.next + 1) % len(t.opened)
}

func (t *boltTx) Get(table string, key []byte) []byte {
	b, _ := t.bucket(table, false)
	if b == nil {
		return nil
	}
	return b.Get(key)
}

func (t *boltTx) Put(table string, key, value []byte) error {
	b, err := t.bucket(table, true)
	if err != nil {
		return err
	}
	if b == nil {
		return errors.New("catalog: put in a read-only transaction")
	}
	return b.Put(key, value)
}

func (t *boltTx) Delete(table string, key []byte) error {
	b, _ := t.bucket(table, false)
	if b == nil {
		return nil
	}
	return b.Delete(key)
}

func (t *boltTx) Scan(table string, from []byte, fn func(k, v []byte) bool) error {
	b, _ := t.bucket(table, false)
	if b == nil {
		return nil
	}
	c := b.Cursor()
	for k, v := c.Seek(from); k != nil; k, v = c.Next() {
		if !fn(k, v) {
			return nil
		}
	}
	return nil
}

func (t *boltTx) ScanReverse(table string, before []byte, fn func(k, v []byte) bool) error {
	b, _ := t.bucket(table, false)
	if b == nil {
		return nil
	}
	c := b.Cursor()
	var k, v []byte
	if before == nil {
		k, v = c.Last()
	} else {
		k, v = c.Seek(before)
		if k == nil {
			k, v = c.Last()
		}
		for k != nil && bytes.Compare(k, before) >= 0 {
			k, v = c.Prev()
		}
	}
	for ; k != nil; k, v = c.Prev() {
		if !fn(k, v) {
			return nil
		}
	}
	return nil
}

// IDs stay below 2^31: real JCS clients decode them as int32.
const maxID = 1<<31 - 1

func (t *boltTx) NextID(sequence string) (int64, error) {
	b, err := t.bucket("_seq_"+sequence, true)
	if err != nil {
		return 0, err
	}
	if b == nil {
		return 0, errors.New("catalog: sequence in a read-only transaction")
	}
	n, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	if n > maxID {
		return 0, fmt.Errorf("catalog: sequence %s exhausted", sequence)
	}
	return int64(n), nil
}
