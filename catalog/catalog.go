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
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
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
	// LogStats reports the write-ahead log's work since the store opened.
	LogStats() LogStats
	Close() error
}

// LogStats counts the log's work: for monitoring the size of groups (Calls
// ÷ Groups) and whether the checkpoints keep up.
type LogStats struct {
	Groups             int64 // records written, each with one fdatasync
	Calls              int64 // transactions they made durable
	Checkpoints        int64 // bbolt commits that took the memtables in
	CheckpointFailures int64
	Pending            int64 // entries in memory that the file has not taken yet
	// SyncTime is the time the group commit spent writing and syncing
	// records, from the write's start to the sync's return, so it counts
	// the wait for a CPU after the sync too (÷ Groups: a group's wait for
	// durability). CheckpointTime is the checkpoints' time, bbolt commits
	// included.
	SyncTime, CheckpointTime time.Duration
}

// Bolt is the bbolt-backed Store. A write is durable once its group's
// record is in the write-ahead log (see wal.go); readers see it from then
// on through the memtables, and a checkpoint later moves it into the bbolt
// file, many groups per bbolt commit.
type Bolt struct {
	db *bolt.DB

	// state is what a transaction combines with a bbolt read transaction.
	// It is loaded without a lock; smu orders the writers of it (the
	// group commit publishing, a rotation, a checkpoint finishing), and
	// applied is signalled when a checkpoint has taken the frozen memtable.
	state   atomic.Pointer[state]
	smu     sync.Mutex
	applied *sync.Cond
	cpErr   error      // the last checkpoint failed (under smu)
	cpmu    sync.Mutex // held by a checkpoint

	// wmu is held by whoever uses w or log: the group commit and a
	// rotation.
	wmu    sync.Mutex
	w      *memtable // the writer's copy of state.active
	log    *wal
	wlog   writeLog
	failed error // a log write failed: no later write can be trusted to it

	groups, calls, checkpoints, checkpointFailures atomic.Int64
	syncNanos, checkpointNanos                     atomic.Int64

	// checkpointAt and maxPending are checkpointEntries and maxEntries
	// (tests make them small).
	checkpointAt, maxPending int

	group     groupCommit
	readers   readers
	closeOnce sync.Once
	closeErr  error
	kick      chan struct{}
	stop      chan struct{}
	done      chan struct{}
}

// state: the memtables readers consult, newest first, before the file.
type state struct {
	active *memtable // the log's current epoch
	frozen *memtable // the epoch before, until a checkpoint has applied it
	epoch  uint64    // frozen's epoch
}

const (
	// A checkpoint runs this often while anything waits in memory, and at
	// once when the writer holds checkpointEntries entries; at 16 times
	// that the writer waits for one.
	checkpointEvery   = 100 * time.Millisecond
	checkpointEntries = 8192
	maxEntries        = 16 * checkpointEntries
)

var _ Store = (*Bolt)(nil)

// OpenBolt opens (creating if needed) the catalog file at path, and applies
// what its log holds that the file has not taken yet.
func OpenBolt(path string) (*Bolt, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	_, statErr := os.Stat(path)
	fresh := errors.Is(statErr, os.ErrNotExist)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("catalog: %s is locked by another process: is a jcsgw server running on this data dir?", path)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: open %s: %w", path, err)
	}
	log, err := openWAL(path, fresh)
	if err != nil {
		db.Close()
		return nil, err
	}
	epoch, err := recoverLog(db, log)
	if err == nil {
		err = log.start(epoch + 1)
	}
	if err != nil {
		log.close()
		db.Close()
		return nil, err
	}
	b := &Bolt{db: db, w: newMemtable(), log: log, checkpointAt: checkpointEntries, maxPending: maxEntries,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	b.applied = sync.NewCond(&b.smu)
	b.state.Store(&state{active: newMemtable()})
	b.group.b = b
	go b.checkpointer()
	return b, nil
}

// recoverLog applies the records of the epochs after the last one the file
// took, and returns the newest epoch the file now holds.
func recoverLog(db *bolt.DB, log *wal) (uint64, error) {
	var applied uint64
	if err := db.View(func(tx *bolt.Tx) error {
		if m := tx.Bucket([]byte(metaTable)); m != nil {
			if v := m.Get([]byte(metaApplied)); len(v) == 8 {
				applied = binary.LittleEndian.Uint64(v)
			}
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("catalog: %w", err)
	}
	last := applied
	err := db.Update(func(tx *bolt.Tx) error {
		// Epoch e+1 starts only once e has a record, so the epochs to
		// replay are consecutive, and at most two are not in the file.
		for e := applied + 1; e <= applied+2; e++ {
			n, err := log.replay(e, func(p []byte) error {
				return decodeOps(p, func(o op) error { return applyOp(tx, o) })
			})
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			last = e
		}
		if last == applied {
			return nil
		}
		return setApplied(tx, last)
	})
	if err != nil {
		return 0, fmt.Errorf("catalog: replay the log: %w", err)
	}
	return last, nil
}

func setApplied(tx *bolt.Tx, epoch uint64) error {
	m, err := tx.CreateBucketIfNotExists([]byte(metaTable))
	if err != nil {
		return err
	}
	return m.Put([]byte(metaApplied), binary.LittleEndian.AppendUint64(nil, epoch))
}

func applyOp(tx *bolt.Tx, o op) error {
	switch o.kind {
	case opSeq:
		b, err := tx.CreateBucketIfNotExists([]byte(seqTable(o.table)))
		if err != nil {
			return err
		}
		return b.SetSequence(o.seq)
	case opDel:
		if b := tx.Bucket([]byte(o.table)); b != nil {
			return b.Delete(o.key)
		}
		return nil
	default:
		b, err := tx.CreateBucketIfNotExists([]byte(o.table))
		if err != nil {
			return err
		}
		return b.Put(o.key, o.val)
	}
}

func seqTable(sequence string) string { return "_seq_" + sequence }

// begin loads the state, then takes a read transaction of the file, in
// that order, so that a memtable a checkpoint has just emptied into the
// file is seen either in memory or in the file (see readers); the caller
// gives the transaction back.
func (b *Bolt) begin() (*state, *boltTx, error) {
	st := b.state.Load()
	t, err := b.readers.take(b)
	if err != nil {
		return nil, nil, err
	}
	return st, t, nil
}

func (b *Bolt) View(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st, ft, err := b.begin()
	if err != nil {
		return err
	}
	defer b.readers.give(ft)
	return fn(&memTx{file: ft, layers: [2]*memtable{st.active, st.frozen}})
}

// Update runs fn alone in its group, once.
func (b *Bolt) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.group.do(nil, fn, true)
}

func (b *Bolt) Batch(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.group.do(nil, fn, false)
}

func (b *Bolt) BatchReady(ctx context.Context, ready func() error, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.group.do(ready, fn, false)
}

func (b *Bolt) Size() int64 {
	var n int64
	_ = b.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

func (b *Bolt) LogStats() LogStats {
	st := b.state.Load()
	pending := st.active.n
	if st.frozen != nil {
		pending += st.frozen.n
	}
	return LogStats{Groups: b.groups.Load(), Calls: b.calls.Load(), Checkpoints: b.checkpoints.Load(),
		CheckpointFailures: b.checkpointFailures.Load(), Pending: int64(pending),
		SyncTime: time.Duration(b.syncNanos.Load()), CheckpointTime: time.Duration(b.checkpointNanos.Load())}
}

// Close moves everything the log holds into the file and closes both.
func (b *Bolt) Close() error {
	b.closeOnce.Do(func() { b.closeErr = b.close() })
	return b.closeErr
}

func (b *Bolt) close() error {
	close(b.stop)
	<-b.done
	b.wmu.Lock()
	defer b.wmu.Unlock()
	err := b.checkpoint(false)
	if err == nil && b.w.n+len(b.w.seqs) > 0 && b.failed == nil {
		if err = b.rotate(); err == nil {
			err = b.checkpoint(false)
		}
	}
	if e := b.log.close(); err == nil {
		err = e
	}
	b.readers.block() // for good
	if e := b.db.Close(); err == nil {
		err = e
	}
	return err
}

// checkpointer applies the frozen memtable to the file, rotating first when
// nothing is frozen and the writer holds something: every checkpointEvery,
// and when the writer asks.
func (b *Bolt) checkpointer() {
	defer close(b.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		case <-b.kick:
		}
		_ = b.checkpoint(true)
	}
}

// checkpoint applies the frozen memtable, if any, in one bbolt commit that
// also records its epoch as applied; with rotate, it first freezes the
// writer's memtable when nothing is frozen and the writer is idle (so it
// must then be called without wmu). A failed commit leaves the memtable
// frozen, to be tried again: the log still holds it.
func (b *Bolt) checkpoint(rotate bool) error {
	// One at a time: the checkpointer's, close's and (in tests) a direct
	// call could overlap, and the later of two that applied the same
	// frozen memtable would then drop the next one, frozen meanwhile and
	// never applied.
	b.cpmu.Lock()
	defer b.cpmu.Unlock()
	// Only if the writer is idle: a busy writer rotates by itself, and
	// one waiting for this checkpoint holds wmu (blocking on it here
	// would leave both waiting).
	if rotate && b.state.Load().frozen == nil && b.wmu.TryLock() {
		if b.state.Load().frozen == nil && b.w.n+len(b.w.seqs) > 0 && b.failed == nil {
			_ = b.rotate()
		}
		b.wmu.Unlock()
	}
	st := b.state.Load()
	if st.frozen == nil {
		return nil
	}
	b.readers.block()
	start := time.Now()
	err := b.db.Update(func(tx *bolt.Tx) error {
		if err := applyMemtable(tx, st.frozen); err != nil {
			return err
		}
		return setApplied(tx, st.epoch)
	})
	b.checkpointNanos.Add(int64(time.Since(start)))
	b.readers.unblock()
	b.smu.Lock()
	defer b.smu.Unlock()
	defer b.applied.Broadcast()
	if err != nil {
		b.checkpointFailures.Add(1)
		b.cpErr = fmt.Errorf("catalog: checkpoint: %w", err)
		return b.cpErr
	}
	b.checkpoints.Add(1)
	b.cpErr = nil
	if cur := b.state.Load(); cur.frozen == st.frozen {
		b.state.Store(&state{active: cur.active})
	}
	return nil
}

// rotate freezes the writer's memtable (equal to the published active one
// between groups) and starts the next epoch of the log. It waits for the
// frozen one, if any, to be applied first: the next epoch reuses its file;
// if the last try to apply it failed, it returns that error instead. The
// caller holds wmu.
func (b *Bolt) rotate() error {
	b.smu.Lock()
	for b.state.Load().frozen != nil {
		if b.cpErr != nil {
			// Say why rather than wait for a disk that may not
			// recover; the checkpointer keeps trying.
			err := b.cpErr
			b.smu.Unlock()
			return err
		}
		b.applied.Wait()
	}
	b.smu.Unlock()
	st := b.state.Load()
	epoch := b.log.epoch
	if err := b.log.start(epoch + 1); err != nil {
		b.failed = err
		return err
	}
	b.w = newMemtable()
	b.smu.Lock()
	b.state.Store(&state{active: newMemtable(), frozen: st.active, epoch: epoch})
	b.smu.Unlock()
	return nil
}

// publish makes the writer's memtable what readers see.
func (b *Bolt) publish() {
	snap := b.w.snapshot()
	b.smu.Lock()
	cur := b.state.Load()
	b.state.Store(&state{active: snap, frozen: cur.frozen, epoch: cur.epoch})
	b.smu.Unlock()
}

// applyMemtable writes m into the file, each entry as the op a replay of
// the log would apply.
func applyMemtable(tx *bolt.Tx, m *memtable) error {
	for name, t := range m.tables {
		if err := applyTable(tx, name, t); err != nil {
			return err
		}
	}
	for name, n := range m.seqs {
		if err := applyOp(tx, op{kind: opSeq, table: name, seq: n}); err != nil {
			return err
		}
	}
	return nil
}

// applyTable writes a table's entries as applyOp would, with one Bucket and
// one cursor for its deletions: bbolt's Delete makes a cursor per call,
// whose path grows from nothing, and a DELETE's checkpoint deletes four
// keys or more.
func applyTable(tx *bolt.Tx, name string, t *tree) error {
	b := tx.Bucket([]byte(name))
	var c *bolt.Cursor
	var err error
	t.Scan(func(e *entry) bool {
		switch {
		case !e.del:
			if b == nil {
				if b, err = tx.CreateBucketIfNotExists([]byte(name)); err != nil {
					return false
				}
			}
			err = b.Put(e.key, e.val)
		case b != nil:
			if c == nil {
				c = b.Cursor()
			}
			// The cursor is placed again for every key: a write
			// invalidates its position.
			if k, _ := c.Seek(e.key); bytes.Equal(k, e.key) {
				err = c.Delete()
			}
		}
		return err == nil
	})
	return err
}

// boltTx reads the file. It remembers the tables it has opened: bbolt
// caches them itself only in write transactions, and a read-only one
// otherwise seeks the root and allocates a Bucket for every Get (a small GET
// makes four or five).
type boltTx struct {
	tx     *bolt.Tx
	opened [16]openedTable
	next   int
	gen    uint64 // readers' generation when it began
}

type openedTable struct {
	name string
	b    *bolt.Bucket
	// c serves the table's lookups: bbolt's Get makes a cursor per call,
	// whose path grows from nothing, three allocations a lookup.
	c *bolt.Cursor
}

func (t *boltTx) openTable(table string) *openedTable {
	for i := range t.opened {
		if o := &t.opened[i]; o.b != nil && o.name == table {
			return o
		}
	}
	b := t.tx.Bucket([]byte(table))
	if b == nil {
		return nil
	}
	// Round robin; only tables that exist are kept.
	o := &t.opened[t.next]
	*o = openedTable{name: table, b: b}
	t.next = (t.next + 1) % len(t.opened)
	return o
}

func (t *boltTx) bucket(table string) *bolt.Bucket {
	if o := t.openTable(table); o != nil {
		return o.b
	}
	return nil
}

func (t *boltTx) get(table string, key []byte) []byte {
	o := t.openTable(table)
	if o == nil {
		return nil
	}
	if o.c == nil {
		o.c = o.b.Cursor()
	}
	// As Bucket.Get: the value of exactly key, nil for a nested bucket.
	if k, v := o.c.Seek(key); bytes.Equal(k, key) {
		return v
	}
	return nil
}

func (t *boltTx) sequence(name string) uint64 {
	if b := t.bucket(seqTable(name)); b != nil {
		return b.Sequence()
	}
	return 0
}

// fileCursor is the file as a source of a merged scan.
type fileCursor struct {
	c       *bolt.Cursor
	k, v    []byte
	reverse bool
}

// newFileCursor positions like newTreeCursor.
func newFileCursor(b *bolt.Bucket, bound []byte, reverse bool) *fileCursor {
	c := &fileCursor{c: b.Cursor(), reverse: reverse}
	switch {
	case !reverse:
		c.k, c.v = c.c.Seek(bound)
	case bound == nil:
		c.k, c.v = c.c.Last()
	default:
		c.k, c.v = c.c.Seek(bound)
		if c.k == nil {
			c.k, c.v = c.c.Last()
		}
		for c.k != nil && bytes.Compare(c.k, bound) >= 0 {
			c.k, c.v = c.c.Prev()
		}
	}
	return c
}

func (c *fileCursor) ok() bool    { return c.k != nil }
func (c *fileCursor) item() entry { return entry{key: c.k, val: c.v} }
func (c *fileCursor) next() {
	if c.reverse {
		c.k, c.v = c.c.Prev()
	} else {
		c.k, c.v = c.c.Next()
	}
}

// memTx is a transaction: the memtables of its state over the file. In a
// write transaction the first layer is the writer's own memtable, which
// its writes change (logged in wl, to be undone if its call fails).
type memTx struct {
	file   *boltTx
	layers [2]*memtable
	wl     *writeLog // nil: read-only
	writes int       // sets so far: a scan of the writer's tree re-seeks after any of them
	probe  entry     // the key of a lookup in the memtables
}

// writeLog is what a group's calls did to the writer's memtable: the ops
// for the log record, and how to undo each.
type writeLog struct {
	ops  []op
	undo []undo
}

type undo struct {
	table    string
	key      []byte
	prev     *entry
	replaced bool
	seq      bool // a sequence: table is its name, prev.val unused
	prevSeq  uint64
	hadSeq   bool
}

// rollback undoes the writes after the first n of wl.undo, and drops their
// ops (o of which remain).
func (wl *writeLog) rollback(m *memtable, n, o int) {
	for i := len(wl.undo) - 1; i >= n; i-- {
		u := wl.undo[i]
		switch {
		case u.seq && u.hadSeq:
			m.seqs[u.table] = u.prevSeq
		case u.seq:
			delete(m.seqs, u.table)
		case u.replaced:
			m.set(u.table, u.prev)
		default:
			m.unset(u.table, u.key)
		}
	}
	clear(wl.undo[n:])
	wl.undo = wl.undo[:n]
	clear(wl.ops[o:])
	wl.ops = wl.ops[:o]
}

// reset forgets the writes: they stand.
func (wl *writeLog) reset() {
	clear(wl.undo)
	wl.undo = wl.undo[:0]
	clear(wl.ops)
	wl.ops = wl.ops[:0]
}

func (t *memTx) Get(table string, key []byte) []byte {
	t.probe.key = key
	for _, m := range t.layers {
		if e, ok := m.get(table, &t.probe); ok {
			if e.del {
				return nil
			}
			return e.val
		}
	}
	return t.file.get(table, key)
}

func (t *memTx) Put(table string, key, value []byte) error {
	if t.wl == nil {
		return errors.New("catalog: put in a read-only transaction")
	}
	k := bytes.Clone(key)
	v := append(make([]byte, 0, len(value)), value...)
	t.set(table, &entry{key: k, val: v})
	t.wl.ops = append(t.wl.ops, op{kind: opPut, table: table, key: k, val: v})
	return nil
}

func (t *memTx) Delete(table string, key []byte) error {
	if t.wl == nil {
		return errors.New("catalog: delete in a read-only transaction")
	}
	// A deletion is recorded without looking for the key first: the
	// caller has nearly always just read it, and a needless one costs an
	// entry, where the lookup would cost a search of the file.
	k := bytes.Clone(key)
	t.set(table, &entry{key: k, del: true})
	t.wl.ops = append(t.wl.ops, op{kind: opDel, table: table, key: k})
	return nil
}

func (t *memTx) set(table string, e *entry) {
	prev, replaced := t.layers[0].set(table, e)
	t.writes++
	t.wl.undo = append(t.wl.undo, undo{table: table, key: e.key, prev: prev, replaced: replaced})
}

func (t *memTx) Scan(table string, from []byte, fn func(k, v []byte) bool) error {
	return t.scan(table, from, false, fn)
}

func (t *memTx) ScanReverse(table string, before []byte, fn func(k, v []byte) bool) error {
	return t.scan(table, before, true, fn)
}

func (t *memTx) scan(table string, bound []byte, reverse bool, fn func(k, v []byte) bool) error {
	if !t.layers[0].has(table) && !t.layers[1].has(table) {
		// Most scans: nothing of the table waits in memory.
		if b := t.file.bucket(table); b != nil {
			for c := newFileCursor(b, bound, reverse); c.ok(); c.next() {
				if !fn(c.k, c.v) {
					break
				}
			}
		}
		return nil
	}
	var srcs [3]cursor
	n := 0
	var own *treeCursor // the writer's tree, which fn may change
	for i, m := range t.layers {
		if !m.has(table) {
			continue
		}
		c := newTreeCursor(m.tables[table], bound, reverse)
		if i == 0 && t.wl != nil {
			own = c
		}
		srcs[n] = c
		n++
	}
	if b := t.file.bucket(table); b != nil {
		srcs[n] = newFileCursor(b, bound, reverse)
		n++
	}
	if own != nil {
		// A write invalidates the tree's iterator: after fn has written,
		// the cursor is placed again past the key fn was given, so the scan
		// goes on over the tree as it now is. (Scanning a copy instead
		// would make every later write to the tree duplicate the nodes on
		// its path, a few KiB each, even when fn writes nothing.)
		seen, inner := t.writes, fn
		fn = func(k, v []byte) bool {
			if !inner(k, v) {
				return false
			}
			if t.writes != seen {
				seen = t.writes
				own.seekPast(k)
			}
			return true
		}
	}
	mergeScan(srcs[:n], reverse, fn)
	return nil
}

// IDs stay below 2^31: real JCS clients decode them as int32.
const maxID = 1<<31 - 1

func (t *memTx) NextID(sequence string) (int64, error) {
	if t.wl == nil {
		return 0, errors.New("catalog: sequence in a read-only transaction")
	}
	w := t.layers[0]
	cur, had := w.seqs[sequence]
	if !had {
		var ok bool
		if cur, ok = t.layers[1].seq(sequence); !ok {
			cur = t.file.sequence(sequence)
		}
	}
	n := cur + 1
	if n > maxID {
		return 0, fmt.Errorf("catalog: sequence %s exhausted", sequence)
	}
	w.seqs[sequence] = n
	t.wl.undo = append(t.wl.undo, undo{table: sequence, seq: true, prevSeq: cur, hadSeq: had})
	t.wl.ops = append(t.wl.ops, op{kind: opSeq, table: sequence, seq: n})
	return int64(n), nil
}
