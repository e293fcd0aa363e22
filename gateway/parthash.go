package gateway

import (
	"context"
	"sync"

	"jcsgw/catalog"
)

// partHashes digests the parts of S3 multipart uploads in progress, in
// part-number order starting at 1, as they land. CompleteUpload must hash
// the whole object for its fileHash (and a full-object CRC); with the
// first parts already digested it reads only the rest, so the hashing runs
// while the client is still sending instead of after its last byte.
//
// It is a cache and never a source of truth: an upload it does not know,
// whose digested parts are not the first ones listed at completion, or
// whose parts were replaced after being digested, is hashed whole as
// before. Nothing here survives a restart.
type partHashes struct {
	mu sync.Mutex
	m  map[string]*partHash
}

// maxPartHashes bounds the uploads digested ahead at once; further uploads
// are hashed at completion.
const maxPartHashes = 256

// partHash is one upload's digest of its parts 1..len(blocks).
type partHash struct {
	space int64
	algo  string // full-object checksum algorithm, "" for none

	mu      sync.Mutex
	idle    *sync.Cond // signalled when running turns false
	d       *digester  // written only by the running goroutine
	blocks  []Block    // the parts digested, in order
	running bool       // a goroutine is digesting ahead
	kicked  bool       // a part landed while running
	taken   bool       // completion or abort took it: stop
	failed  bool       // a read failed: the digest is unusable
}

// landed tells the cache that a part of uploadID is stored, and starts a
// goroutine digesting the consecutive parts not yet digested.
func (s *Service) partLanded(uploadID string, space int64, fullAlgo string) {
	h := s.partHashes.get(uploadID, space, fullAlgo)
	if h == nil {
		return
	}
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
	go s.digestAhead(uploadID, h)
}

func (c *partHashes) get(id string, space int64, algo string) *partHash {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.m[id]; ok {
		return h
	}
	if c.m == nil {
		c.m = map[string]*partHash{}
	}
	if len(c.m) >= maxPartHashes {
		return nil
	}
	d := newDigester(algo)
	d.md5 = nil // the ETag comes from the parts' own MD5s
	h := &partHash{space: space, algo: algo, d: d}
	h.idle = sync.NewCond(&h.mu)
	c.m[id] = h
	return h
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
func (s *Service) digestAhead(uploadID string, h *partHash) {
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
		next := len(h.blocks) + 1
		h.mu.Unlock()

		var p partRec
		found, gone := false, false
		err = s.view(ctx, func(tx catalog.Tx) error {
			v := tx.Get(tUPart, upartKey(uploadID, next))
			if v == nil {
				gone = tx.Get(tUpload, []byte(uploadID)) == nil
				return nil
			}
			var derr error
			p, derr = dec[partRec](v)
			found = derr == nil
			return derr
		})
		if err != nil {
			continue
		}
		if gone {
			// Aborted or completed by a path that did not take it (a
			// bucket deletion): let the entry go.
			s.partHashes.drop(uploadID, h)
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
		err = s.digestInto(ctx, h.space, []Block{p.Block}, h.d)
		if err == nil {
			h.mu.Lock()
			h.blocks = append(h.blocks, p.Block)
			h.mu.Unlock()
		}
	}
}

// forgetParts drops an upload's digest, if any (the upload is gone).
func (s *Service) forgetParts(uploadID string) { s.partHashes.take(uploadID) }

// digestUpload digests an upload's listed blocks for completion: from the
// parts already digested when they are the first ones listed, whole
// otherwise.
func (s *Service) digestUpload(ctx context.Context, uploadID string, space int64, blocks []Block, fullAlgo string) (*digester, error) {
	h := s.partHashes.take(uploadID)
	if h == nil || h.failed || h.space != space || h.algo != fullAlgo || !samePrefix(h.blocks, blocks) {
		return s.digestBlocks(ctx, space, blocks, false, fullAlgo)
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
