// Package gateway is jcsgw's domain: buckets, packages, objects, uploads
// and user spaces, with every rule both fronts share. The fronts translate
// HTTP to calls of Service and back; nothing else decides anything.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"sync"
	"time"

	"jcsgw/backends"
	"jcsgw/catalog"
)

// ShardStore keeps a user space's content-addressed blobs.
type ShardStore interface {
	// Create starts a blob; its writer commits it under a name once the
	// bytes are complete, or aborts it.
	Create(ctx context.Context) (backends.BlobWriter, error)
	// Open reads n bytes of a blob from off (n < 0: to the end).
	Open(ctx context.Context, name string, off, n int64) (io.ReadCloser, error)
	Remove(ctx context.Context, name string) error
	List(ctx context.Context, fn func(name string) error) error
	SweepTemp(ctx context.Context, age time.Duration) (int, error)
}

// DefaultSpaceID is the built-in user space.
const DefaultSpaceID int64 = 1

// Config assembles a Service.
type Config struct {
	Catalog catalog.Store
	// Default is the shard store of the built-in user space.
	Default ShardStore
	Logger  *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OpenSpace builds the drivers of user spaces; DefaultSpace describes
	// the built-in one, which is recorded in the catalog on first start.
	OpenSpace    SpaceOpener
	DefaultSpace UserSpace
	// SyncWorkers bounds how many sync tasks run at once (0 = 4).
	SyncWorkers int
	// MaxObjectSize bounds what a JCS multipart completion may assemble
	// (0 = no bound): only the gateway sees the parts' sizes.
	MaxObjectSize int64
	// ServerKey (32 bytes) seals users' access-key secrets in the catalog;
	// without it, users cannot have keys.
	ServerKey []byte
	// SweepOrphansLater has New return before the start-up sweep of
	// orphan blobs (see recover), which then runs beside the first
	// requests: it lists every blob of every space, seconds for millions
	// of them and longer for a remote store. Without it (maintenance
	// commands, which want the store settled), New waits for the sweep.
	SweepOrphansLater bool
}

// Service is the gateway. It is safe for concurrent use.
type Service struct {
	cat    catalog.Store
	log    *slog.Logger
	nowFn  func() time.Time
	opener SpaceOpener
	mu     sync.RWMutex
	spaces map[int64]ShardStore
	// swept is closed once the start-up sweep of orphan blobs is done;
	// stopSweep cancels it (Close).
	swept     chan struct{}
	stopSweep context.CancelFunc
	// storages are the user spaces' file trees, for import, export and sync.
	storages map[int64]Storage
	sync     *syncer
	ready    readiness
	ring     *keyring
	maxSize  int64
	keys     keyCache
	// stripes hold, per blob name, the pins of writers between placing a
	// blob and committing its reference (see pin), against removal.
	stripes [256]blobStripe
	// partHashes digests multipart uploads' parts ahead of completion.
	partHashes partHashes
	md5        md5Lanes
}

// New opens the service over its catalog and stores, and repairs what a
// crash may have left: temp files and blobs that no object references.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Catalog == nil || cfg.Default == nil {
		return nil, errors.New("gateway: a catalog and a default store are required")
	}
	s := &Service{
		cat:      cfg.Catalog,
		log:      cfg.Logger,
		nowFn:    cfg.Now,
		spaces:   map[int64]ShardStore{DefaultSpaceID: cfg.Default},
		storages: map[int64]Storage{},
		opener:   cfg.OpenSpace,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.nowFn == nil {
		s.nowFn = time.Now
	}
	s.maxSize = cfg.MaxObjectSize
	if cfg.ServerKey != nil {
		ring, err := newKeyring(cfg.ServerKey)
		if err != nil {
			return nil, err
		}
		s.ring = ring
	}
	def := cfg.DefaultSpace
	if def.Name == "" {
		def.Name = "default"
	}
	if def.Storage.Type == "" {
		def.Storage.Type = "Local"
	}
	if def.ShardStore == nil {
		def.ShardStore = &ShardStoreConfig{}
	}
	if err := s.loadSpaces(ctx, def); err != nil {
		return nil, err
	}
	if err := s.recover(ctx, cfg.SweepOrphansLater); err != nil {
		return nil, err
	}
	workers := cfg.SyncWorkers
	if workers <= 0 {
		workers = 4
	}
	s.sync = newSyncer(s, workers)
	if err := s.sync.resume(ctx); err != nil {
		s.stopSweeping()
		return nil, err
	}
	return s, nil
}

// Close stops background work: sync tasks stop at a file boundary, the
// start-up sweep of orphan blobs where it is.
func (s *Service) Close() {
	s.stopSweeping()
	if s.sync != nil {
		s.sync.close()
	}
	s.md5.close()
}

// stopSweeping cancels the start-up sweep running in the background, if
// any, and waits for it.
func (s *Service) stopSweeping() {
	if s.stopSweep != nil {
		s.stopSweep()
		<-s.swept
	}
}

// Swept is closed once the start-up sweep of orphan blobs is done (at once
// unless Config.SweepOrphansLater).
func (s *Service) Swept() <-chan struct{} { return s.swept }

func (s *Service) now() time.Time { return s.nowFn().Round(time.Microsecond) }

func (s *Service) space(id int64) (ShardStore, error) {
	if id == 0 {
		id = DefaultSpaceID
	}
	s.mu.RLock()
	st, ok := s.spaces[id]
	s.mu.RUnlock()
	if !ok {
		return nil, errorf(CodeBadArgument, "user space %d does not exist or is not usable for storing data", id)
	}
	return st, nil
}

// recover runs before serving: nothing is in flight, so every temp file is
// stale and every blob without a reference is an orphan of a crash between
// placing the blob and committing its object. The temp files go at once;
// with later, the orphans go in the background (removeOrphans is safe
// beside writers), so that a large store does not hold up the start.
func (s *Service) recover(ctx context.Context, later bool) error {
	s.mu.RLock()
	spaces := maps.Clone(s.spaces)
	s.mu.RUnlock()
	for id, st := range spaces {
		if n, err := st.SweepTemp(ctx, 0); err != nil {
			return fmt.Errorf("gateway: sweep temp files of space %d: %w", id, err)
		} else if n > 0 {
			s.log.Info("removed stale temp files", "space", id, "count", n)
		}
	}
	s.swept = make(chan struct{})
	sweep := func(ctx context.Context) error {
		defer close(s.swept)
		for id, st := range spaces {
			n, err := s.removeOrphans(ctx, id, st)
			if n > 0 {
				s.log.Info("removed orphan blobs", "space", id, "count", n)
			}
			if err != nil {
				return fmt.Errorf("gateway: reconcile space %d: %w", id, err)
			}
		}
		return nil
	}
	if !later {
		return sweep(ctx)
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stopSweep = cancel
	go func() {
		if err := sweep(bg); err != nil && bg.Err() == nil {
			s.log.Warn("start-up sweep of orphan blobs", "err", err)
		}
	}()
	return nil
}

func refKey(space int64, name string) []byte { return cat(u64(space), []byte(name)) }

// blobRef names one blob of one space.
type blobRef struct {
	space int64
	name  string
}

// refs collects reference changes made inside a transaction so that blobs
// whose count reached zero can be removed after it commits.
type refs struct {
	zeros []blobRef
}

func (r *refs) add(tx catalog.Tx, space int64, name string, delta int64) error {
	k := refKey(space, name)
	n := getU64(tx.Get(tRef, k)) + delta
	if n < 0 {
		return fmt.Errorf("gateway: reference count of %s below zero", name)
	}
	if n == 0 {
		r.zeros = append(r.zeros, blobRef{space, name})
		return tx.Delete(tRef, k)
	}
	return tx.Put(tRef, k, u64(n))
}

func (r *refs) addBlocks(tx catalog.Tx, space int64, blocks []Block, delta int64) error {
	for _, b := range blocks {
		if err := r.add(tx, space, b.Hash, delta); err != nil {
			return err
		}
	}
	return nil
}

func stripeOf(name string) int {
	var h byte
	for i := 0; i < len(name); i++ {
		h = h*31 + name[i]
	}
	return int(h)
}

// blobStripe guards the pins of the blob names that hash to it.
type blobStripe struct {
	mu   sync.Mutex
	pins map[blobRef]int
}

// pin marks blobs as being placed or read by a writer that has not yet
// committed its reference: a blob found unreferenced is not removed while
// it is pinned. Pins are counts, so identical content written by many at
// once is placed and committed by all of them in parallel.
func (s *Service) pin(blobs []blobRef) {
	for _, b := range blobs {
		st := &s.stripes[stripeOf(b.name)]
		st.mu.Lock()
		if st.pins == nil {
			st.pins = map[blobRef]int{}
		}
		st.pins[b]++
		st.mu.Unlock()
	}
}

func (s *Service) unpin(blobs []blobRef) {
	for _, b := range blobs {
		st := &s.stripes[stripeOf(b.name)]
		st.mu.Lock()
		if st.pins[b]--; st.pins[b] <= 0 {
			delete(st.pins, b)
		}
		st.mu.Unlock()
	}
}

// removeIfUnused removes a blob that is neither referenced nor pinned. The
// check and the removal happen under the blob's stripe, which a writer takes
// to pin it: either the writer's pin comes first and the blob stays, or the
// removal does and the writer places the blob again.
func (s *Service) removeIfUnused(ctx context.Context, store ShardStore, b blobRef) (removed bool, err error) {
	st := &s.stripes[stripeOf(b.name)]
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pins[b] > 0 {
		return false, nil
	}
	if live, err := s.referenced(ctx, b); err != nil || live {
		return false, err
	}
	if err := store.Remove(ctx, b.name); err != nil {
		return false, err
	}
	return true, nil
}

// dropUnreferenced removes blobs whose count is zero, checking again under
// the blob's stripe so that a writer that just re-added the content keeps it.
func (s *Service) dropUnreferenced(ctx context.Context, blobs []blobRef) {
	ctx = context.WithoutCancel(ctx)
	for _, b := range blobs {
		st, err := s.space(b.space)
		if err != nil {
			continue
		}
		if _, err := s.removeIfUnused(ctx, st, b); err != nil {
			s.log.Warn("remove unreferenced blob", "space", b.space, "blob", b.name, "err", err)
		}
	}
}

// staged is a body written to a temp blob, hashed, not yet placed.
type staged struct {
	space int64
	w     backends.BlobWriter
	block Block
	md5   string
	sha   []byte
	ck    string
	algo  string
	done  bool
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// stage streams body into a temp blob of the space while hashing it.
func (s *Service) stage(ctx context.Context, spaceID int64, body io.Reader, size int64, algo string) (*staged, error) {
	if spaceID == 0 {
		spaceID = DefaultSpaceID
	}
	st, err := s.space(spaceID)
	if err != nil {
		return nil, err
	}
	w, err := st.Create(ctx)
	if err != nil {
		return nil, wrapErr(CodeOperationFailed, err, "cannot store data")
	}
	d := newDigester(algo)
	var release func()
	d.md5, d.md5Serial, release = s.md5.get(size)
	defer release()
	n, err := copyHashed(w, body, d, size)
	if err == nil && size >= 0 && n != size {
		err = errorf(CodeIncompleteBody, "the body has %d bytes but %d were announced", n, size)
	}
	if err != nil {
		w.Abort()
		var ge *Error
		if errors.As(err, &ge) {
			return nil, err
		}
		return nil, wrapErr(CodeIncompleteBody, err, "the body could not be read to its end")
	}
	if err := ctx.Err(); err != nil {
		w.Abort()
		return nil, err
	}
	sum := d.sha.Sum(nil)
	return &staged{
		space: spaceID, w: w,
		block: Block{Hash: FullHash(sum), Size: n},
		md5:   d.md5Hex(), sha: sum, ck: d.checksum(), algo: d.algo,
	}, nil
}

func (st *staged) discard() {
	if st != nil && !st.done {
		st.done = true
		st.w.Abort()
	}
}

// commit places staged blobs and runs fn in one catalog transaction while
// they are pinned; fn must add a reference for every blob it keeps.
// Blobs left without a reference (fn failed, or did not keep one) and blobs
// whose count fn brought to zero are removed afterwards.
func (s *Service) commit(ctx context.Context, blobs []*staged, fn func(tx catalog.Tx, r *refs) error) error {
	pins := make([]blobRef, 0, len(blobs))
	for _, b := range blobs {
		pins = append(pins, blobRef{b.space, b.block.Hash})
	}
	s.pin(pins)
	var placeErr error
	var durable []func() error
	for _, b := range blobs {
		if b.done {
			continue
		}
		b.done = true
		if b.block.Size == 0 {
			// Empty content the space already holds: a committed
			// reference proves the blob durable and the pin keeps it, so
			// it is not written again. Empty objects are common (folder
			// markers, touched files) and each would otherwise wait for
			// a sync of its own. Other content is placed again, which
			// heals a blob lost since it was referenced; so is empty
			// content when the lookup fails.
			if live, err := s.referenced(ctx, blobRef{b.space, b.block.Hash}); err == nil && live {
				b.w.Abort()
				continue
			}
		}
		var err error
		if p, ok := b.w.(placer); ok {
			var d func() error
			if d, err = p.Place(ctx, b.block.Hash); err == nil {
				durable = append(durable, d)
			}
		} else {
			err = b.w.Commit(ctx, b.block.Hash)
		}
		if err != nil && placeErr == nil {
			placeErr = wrapErr(CodeOperationFailed, err, "cannot store data")
		}
	}
	// The blobs become durable inside the catalog's group commit, just
	// before the records that reference them, with one sync for the group.
	// Nothing to wait for (no blob, or large ones already durable): nil,
	// so that the catalog starts no goroutine for it.
	var ready func() error
	if len(durable) > 0 {
		ready = func() error {
			for _, d := range durable {
				if err := d(); err != nil {
					return wrapErr(CodeOperationFailed, err, "cannot store data")
				}
			}
			return nil
		}
	}
	var r refs
	err := placeErr
	if err == nil {
		err = s.cat.BatchReady(ctx, ready, func(tx catalog.Tx) error {
			r = refs{}
			return fn(withCaller(ctx, tx), &r)
		})
	}
	for _, d := range durable {
		d() // each runs once: this releases any the catalog did not run
	}
	s.unpin(pins)
	if err != nil {
		// Nothing of fn stands; the placed blobs may now be unreferenced
		// (dropUnreferenced re-checks, so a blob shared with others stays).
		r.zeros = r.zeros[:0]
		for _, b := range blobs {
			r.zeros = append(r.zeros, blobRef{b.space, b.block.Hash})
		}
	}
	s.dropUnreferenced(ctx, r.zeros)
	return err
}

// referenced reports whether the catalog holds a reference to a blob.
func (s *Service) referenced(ctx context.Context, b blobRef) (bool, error) {
	var ok bool
	err := s.cat.View(ctx, func(tx catalog.Tx) error {
		ok = tx.Get(tRef, refKey(b.space, b.name)) != nil
		return nil
	})
	return ok, err
}

// placer is a blob writer that can put its blob in place at once and make
// it durable later (backends.Local's small blobs). The durable function
// runs once; its later calls return the first result.
type placer interface {
	Place(ctx context.Context, name string) (durable func() error, err error)
}

// update runs fn in a write transaction and then removes the blobs whose
// last reference it dropped.
func (s *Service) update(ctx context.Context, fn func(tx catalog.Tx, r *refs) error) error {
	var r refs
	err := s.cat.Batch(ctx, func(tx catalog.Tx) error {
		r = refs{}
		return fn(withCaller(ctx, tx), &r)
	})
	if err != nil {
		return err
	}
	s.dropUnreferenced(ctx, r.zeros)
	return nil
}

func (s *Service) view(ctx context.Context, fn func(tx catalog.Tx) error) error {
	return s.cat.View(ctx, func(tx catalog.Tx) error { return fn(withCaller(ctx, tx)) })
}

// relocate moves a staged body to another user space: it is placed where it
// was staged, streamed into a new temp blob of the target, and the source
// blob is dropped again unless something else references it.
func (s *Service) relocate(ctx context.Context, st *staged, space int64) (*staged, error) {
	if space == 0 {
		space = DefaultSpaceID
	}
	if st.space == space {
		return st, nil
	}
	src, err := s.space(st.space)
	if err != nil {
		st.discard()
		return nil, err
	}
	// Pinned from placement to the end of the copy, so that nobody removes
	// the source while it is read; dropped afterwards unless referenced.
	pin := []blobRef{{st.space, st.block.Hash}}
	s.pin(pin)
	defer s.dropUnreferenced(ctx, pin)
	defer s.unpin(pin)
	st.done = true
	err = st.w.Commit(ctx, st.block.Hash)
	if err != nil {
		return nil, wrapErr(CodeOperationFailed, err, "cannot store data")
	}
	rc, err := src.Open(ctx, st.block.Hash, 0, -1)
	if err != nil {
		return nil, wrapErr(CodeOperationFailed, err, "cannot read staged data")
	}
	defer rc.Close()
	return s.stage(ctx, space, rc, st.block.Size, st.algo)
}
