package gateway

import (
	"context"
	"strconv"
	"sync"

	"jcsgw/catalog"
)

// partHashes digests the parts of multipart uploads in progress (S3
// uploads, and JCS multipart objects) in ascending part number as they
// land. Completion must hash the whole object for its fileHash (and the
// ETag or a full-object CRC); with the first parts already digested it
// reads only the rest, so the hashing runs while the client is still
// sending instead of after its last byte.
//
// It is a cache and never a source of truth: an upload it does not know,
// whose digested parts are not the first ones listed at completion, or
// whose parts were replaced after being digested, is hashed whole as
// before. Nothing here survives a restart.
type partHashes struct {
	mu    sync.Mutex
	m     map[string]*partHash
	clock uint64 // counts gets; an entry's used is the count at its last get
}

// maxPartHashes bounds the uploads digested ahead at once. When a new one
// finds the cache full, the entry whose last part landed longest ago
// makes room (its upload is hashed whole at completion): uploads that are
// neither completed nor aborted must not keep digest-ahead from every
// upload that follows.
const maxPartHashes = 256

// partHash is one upload's digest of its parts first, first+1, … (as
// many as it has blocks).
type partHash struct {
	space int64
	algo  string // full-object checksum algorithm, "" for none
	src   partSource
	first int
	used  uint64 // partHashes.clock when its last part landed (under partHashes.mu)

	mu      sync.Mutex
	idle    *sync.Cond // signalled when running turns false
	d       *digester  // written only by the running goroutine
	blocks  []Block    // the parts digested, in order
	running bool       // a goroutine is digesting ahead
	kicked  bool       // a part landed while running
	taken   bool       // completion or abort took it: stop
	failed  bool       // a read failed: the digest is unusable
}

// partSource finds part n of an upload in the catalog; gone tells that the
// upload itself is no longer in progress.
type partSource func(tx catalog.Tx, n int) (b Block, found, gone bool, err error)

// s3PartHash starts the digest of an S3 upload: parts 1, 2, …, without MD5
// (the ETag comes from the parts' own MD5s).
func s3PartHash(uploadID string, space int64, fullAlgo string) *partHash {
	d := newDigester(fullAlgo)
	d.md5 = nil
	return &partHash{space: space, algo: fullAlgo, d: d, first: 1,
		src: func(tx catalog.Tx, n int) (Block, bool, bool, error) {
			v := tx.Get(tUPart, upartKey(uploadID, n))
			if v == nil {
				return Block{}, false, tx.Get(tUpload, []byte(uploadID)) == nil, nil
			}
			p, err := dec[partRec](v)
			return p.Block, err == nil, false, err
		}}
}

// jcsPartsKey is a JCS multipart object's key in partHashes (S3 upload IDs
// never contain a slash).
func jcsPartsKey(objID int64) string { return "jcs/" + strconv.FormatInt(objID, 10) }

// jcsPartHash starts the digest of a JCS multipart object whose part
// index landed first. JCS indexes are the client's to choose and to order
// at completion; the digest follows ascending indexes from 0 or 1 (the
// common numberings) and is only used when the completion lists them so.
// The object becomes an ordinary one, so its ETag is the MD5 of it all.
func jcsPartHash(objID, space int64, index int) *partHash {
	return &partHash{space: space, d: newDigester(""), first: min(max(index, 0), 1),
		src: func(tx catalog.Tx, n int) (Block, bool, bool, error) {
			v := tx.Get(tJPart, jpartKey(objID, n))
			if v == nil {
				o, err := getObj(tx, objID)
				return Block{}, false, err != nil || o.Redundancy != RedundancyMultipart, nil
			}
			p, err := dec[jpartRec](v)
			return p.Block, err == nil, false, err
		}}
}

// partLanded tells the cache that a part of upload key is stored, and
// starts a goroutine digesting the consecutive parts not yet digested;
// start makes the upload's entry if it has none.
func (s *Service) partLanded(key string, start func() *partHash) {
	h := s.partHashes.get(key, start)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.taken || h.failed {
		return
	}
	if h.running {
		h.kicked = true
		return
	}
	h.running = true
	go s.digestAhead(key, h)
}

func (c *partHashes) get(id string, start func() *partHash) *partHash {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clock++
	if h, ok := c.m[id]; ok {
		h.used = c.clock
		return h
	}
	if c.m == nil {
		c.m = map[string]*partHash{}
	}
	if len(c.m) >= maxPartHashes {
		c.evictLocked()
	}
	h := start()
	h.idle = sync.NewCond(&h.mu)
	h.used = c.clock
	c.m[id] = h
	return h
}

// evictLocked drops the least recently used entry; its goroutine, if any,
// stops at its next part.
func (c *partHashes) evictLocked() {
	var oldID string
	var old *partHash
	for id, h := range c.m {
		if old == nil || h.used < old.used {
			oldID, old = id, h
		}
	}
	if old == nil {
		return
	}
	delete(c.m, oldID)
	old.stop()
}

// stop tells h's goroutine, if any, to stop at its next part.
func (h *partHash) stop() {
	h.mu.Lock()
	h.taken = true
	h.mu.Unlock()
}

// drop removes h from the cache if it is still id's entry.
func (c *partHashes) drop(id string, h *partHash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[id] == h {
		delete(c.m, id)
	}
}

// take removes an upload's digest from the cache, waiting for its
// goroutine to finish the part it is on; nil if there is none.
func (c *partHashes) take(id string) *partHash {
	c.mu.Lock()
	h := c.m[id]
	delete(c.m, id)
	c.mu.Unlock()
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.taken = true
	for h.running {
		h.idle.Wait()
	}
	return h
}

// digestAhead digests the next consecutive parts for as long as they are
// there.
func (s *Service) digestAhead(key string, h *partHash) {
	ctx := context.Background()
	var err error
	for {
		h.mu.Lock()
		if err != nil {
			h.failed = true
		}
		if h.taken || h.failed {
			h.running = false
			h.idle.Broadcast()
			h.mu.Unlock()
			return
		}
		h.kicked = false
		next := h.first + len(h.blocks)
		h.mu.Unlock()

		var b Block
		found, gone := false, false
		err = s.view(ctx, func(tx catalog.Tx) (err error) {
			b, found, gone, err = h.src(tx, next)
			return err
		})
		if err != nil {
			continue
		}
		if gone {
			// Aborted or completed by a path that did not take it (a
			// bucket deletion): let the entry go.
			s.partHashes.drop(key, h)
		}
		if !found {
			h.mu.Lock()
			if h.kicked && !h.taken {
				h.mu.Unlock()
				continue
			}
			h.running = false
			h.idle.Broadcast()
			h.mu.Unlock()
			return
		}
		err = s.digestInto(ctx, h.space, []Block{b}, h.d)
		if err == nil {
			h.mu.Lock()
			h.blocks = append(h.blocks, b)
			h.mu.Unlock()
		}
	}
}

// forgetParts drops an upload's digest, if any (the upload is gone).
func (s *Service) forgetParts(uploadID string) { s.partHashes.take(uploadID) }

// forget drops id's digest without waiting for its goroutine, which stops
// at its next part: for callers inside a catalog transaction.
func (c *partHashes) forget(id string) {
	c.mu.Lock()
	h := c.m[id]
	delete(c.m, id)
	c.mu.Unlock()
	if h != nil {
		h.stop()
	}
}

// digestUpload digests an upload's listed blocks for completion: from the
// parts already digested when they are the first ones listed, whole
// otherwise.
func (s *Service) digestUpload(ctx context.Context, key string, space int64, blocks []Block, withMD5 bool, fullAlgo string) (*digester, error) {
	h := s.partHashes.take(key)
	if h == nil || h.failed || h.space != space || h.algo != fullAlgo || (h.d.md5 != nil) != withMD5 || !samePrefix(h.blocks, blocks) {
		return s.digestBlocks(ctx, space, blocks, withMD5, fullAlgo)
	}
	if err := s.digestInto(ctx, space, blocks[len(h.blocks):], h.d); err != nil {
		return nil, err
	}
	return h.d, nil
}

// samePrefix tells whether done are the first blocks of all.
func samePrefix(done, all []Block) bool {
	if len(done) > len(all) {
		return false
	}
	for i, b := range done {
		if all[i] != b {
			return false
		}
	}
	return true
}
