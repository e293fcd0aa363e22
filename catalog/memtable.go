package catalog

import (
	"bytes"
	"hash/maphash"
	"maps"
	"sync/atomic"

	"github.com/tidwall/btree"
)

// entry is a key's newest state in memory: a value, or its deletion (which
// must hide what the bbolt file still holds until a checkpoint removes it).
type entry struct {
	key, val []byte
	del      bool
}

func entryLess(a, b *entry) bool { return bytes.Compare(a.key, b.key) < 0 }

// tree holds pointers: every group publishes a copy, so the group after it
// duplicates each node it writes to, and a node of pointers is a seventh of
// one of entries to copy (and to pass to the comparisons). An entry is never
// changed once in a tree: the published copies share it.
type tree = btree.BTreeG[*entry]

// newTree makes a table's tree. Degree 16 (up to 31 entries a node, against
// the library's 63): the nodes a write copies are small, and the path to
// them short (three allocations a node; a durable DELETE made 98 with
// degree 8, 92 with 16, 88 with 32, for the same bytes and CPU).
func newTree() *tree {
	return btree.NewBTreeGOptions(entryLess, btree.Options{NoLocks: true, Degree: 16})
}

// memtable holds the writes the log has made durable and the bbolt file has
// not yet taken: tables of entries and sequence values. A published
// memtable is never changed again, so readers use it without a lock; the
// writer changes its own copy (the trees are copy-on-write, so a copy costs
// a pointer, and only the nodes a write touches are duplicated).
type memtable struct {
	tables map[string]*tree
	seqs   map[string]uint64
	n      int     // entries, for the checkpoint trigger
	filter *filter // of every key set; nil until the first
}

func newMemtable() *memtable {
	return &memtable{tables: map[string]*tree{}, seqs: map[string]uint64{}}
}

// snapshot returns a copy that later writes to m do not change.
func (m *memtable) snapshot() *memtable {
	s := &memtable{tables: make(map[string]*tree, len(m.tables)), seqs: maps.Clone(m.seqs), n: m.n, filter: m.filter}
	for name, t := range m.tables {
		s.tables[name] = t.Copy()
	}
	return s
}

// get reports the entry for probe's key, if this memtable has one. The
// probe is the caller's, so that a lookup allocates nothing.
func (m *memtable) get(table string, probe *entry) (*entry, bool) {
	if m == nil {
		return nil, false
	}
	t := m.tables[table]
	if t == nil || !m.filter.mayHave(table, probe.key) {
		return nil, false
	}
	return t.Get(probe)
}

// set stores e (which the memtable owns from now on) and returns what it
// replaced.
func (m *memtable) set(table string, e *entry) (prev *entry, replaced bool) {
	t := m.tables[table]
	if t == nil {
		t = newTree()
		m.tables[table] = t
	}
	if m.filter == nil {
		m.filter = newFilter()
	}
	m.filter.add(table, e.key)
	prev, replaced = t.Set(e)
	if !replaced {
		m.n++
	}
	return prev, replaced
}

// filter says "not here" of most keys a memtable does not hold, so that
// looking one up skips a descent of the tree: most lookups are of keys only
// the file holds, since the memtables hold the last moments' writes (a
// DELETE looks up eight keys, all in the file, and each missed in one or
// two trees). It is a Bloom filter with its three bits in one word. It only
// ever gains bits: the writer's memtable and the copies it publishes share
// it, and a bit a published copy does not need costs that copy a needless
// descent, no wrong answer. The words are atomic because readers use the
// copies while the writer adds.
type filter struct {
	seed  maphash.Seed
	words [filterWords]atomic.Uint64
}

// filterWords: 128 KiB, under 1 % false answers up to 64 Ki entries (a
// checkpoint takes the memtable at 8 Ki), about 4 % at maxEntries.
const filterWords = 1 << 14

func newFilter() *filter { return &filter{seed: maphash.MakeSeed()} }

// at returns the word of table's key and its three bits.
func (f *filter) at(table string, key []byte) (*atomic.Uint64, uint64) {
	h := maphash.Bytes(f.seed, key) ^ maphash.String(f.seed, table)
	return &f.words[h%filterWords], 1<<(h>>16&63) | 1<<(h>>22&63) | 1<<(h>>28&63)
}

func (f *filter) add(table string, key []byte) {
	w, bits := f.at(table, key)
	w.Or(bits)
}

// mayHave is false only if key was never added for table (or f is nil:
// nothing was).
func (f *filter) mayHave(table string, key []byte) bool {
	if f == nil {
		return false
	}
	w, bits := f.at(table, key)
	return w.Load()&bits == bits
}

// unset removes key's entry (undoing a set that added it).
func (m *memtable) unset(table string, key []byte) {
	if t := m.tables[table]; t != nil {
		if _, ok := t.Delete(&entry{key: key}); ok {
			m.n--
		}
	}
}

// has reports whether the memtable holds anything for table.
func (m *memtable) has(table string) bool {
	if m == nil {
		return false
	}
	t := m.tables[table]
	return t != nil && t.Len() > 0
}

// cursor is one ordered source of a merged scan: a memtable's tree or the
// bbolt file. ok is false once it has run out.
type cursor interface {
	ok() bool
	item() entry
	next()
}

type treeCursor struct {
	t       *tree
	probe   entry // the key of a seek
	it      btree.IterG[*entry]
	valid   bool
	reverse bool
}

// newTreeCursor positions a cursor on t at the first key >= from, or, in
// reverse, at the last key < before (the last key of all if before is nil).
func newTreeCursor(t *tree, bound []byte, reverse bool) *treeCursor {
	c := &treeCursor{t: t, reverse: reverse}
	c.seek(bound)
	return c
}

// seek places the cursor as newTreeCursor describes, on a fresh iterator.
func (c *treeCursor) seek(bound []byte) {
	c.it = c.t.Iter()
	switch {
	case !c.reverse:
		c.probe.key = bound
		c.valid = c.it.Seek(&c.probe)
	case bound == nil:
		c.valid = c.it.Last()
	default:
		c.probe.key = bound
		if c.valid = c.it.Seek(&c.probe); c.valid {
			c.valid = c.it.Prev()
		} else {
			c.valid = c.it.Last()
		}
	}
}

// seekPast places the cursor on the first key after k in its direction, in
// the tree as it is now.
func (c *treeCursor) seekPast(k []byte) {
	c.seek(k)
	if !c.reverse && c.valid && bytes.Equal(c.it.Item().key, k) {
		c.next()
	}
}

func (c *treeCursor) ok() bool    { return c.valid }
func (c *treeCursor) item() entry { return *c.it.Item() }
func (c *treeCursor) next() {
	if c.reverse {
		c.valid = c.it.Prev()
	} else {
		c.valid = c.it.Next()
	}
}

// mergeScan visits the keys of srcs in order (descending if reverse), the
// first source holding a key deciding its state, and skips deleted keys.
func mergeScan(srcs []cursor, reverse bool, fn func(k, v []byte) bool) {
	for {
		best := -1
		var bk []byte
		for i, s := range srcs {
			if !s.ok() {
				continue
			}
			k := s.item().key
			if best < 0 {
				best, bk = i, k
				continue
			}
			c := bytes.Compare(k, bk)
			if reverse {
				c = -c
			}
			if c < 0 {
				best, bk = i, k
			}
		}
		if best < 0 {
			return
		}
		e := srcs[best].item()
		for _, s := range srcs {
			if s.ok() && bytes.Equal(s.item().key, bk) {
				s.next()
			}
		}
		if !e.del && !fn(e.key, e.val) {
			return
		}
	}
}

// seq reports a sequence's value, if this memtable has one.
func (m *memtable) seq(name string) (uint64, bool) {
	if m == nil {
		return 0, false
	}
	n, ok := m.seqs[name]
	return n, ok
}
