package gateway

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"sort"
	"time"

	"jcsgw/catalog"
)

// FsckOptions choose what fsck does beyond checking.
type FsckOptions struct {
	// Repair fixes what can be fixed: reference counts are rewritten,
	// orphan blobs removed, missing blobs restored from another user space
	// that holds the same content, and objects whose bytes are gone for
	// good removed (they can no longer be read; their keys are reported).
	Repair bool
	// Rehash re-reads every blob and checks it against its name.
	Rehash bool
}

// FsckReport is what fsck found (and, with Repair, fixed).
type FsckReport struct {
	Blobs          int      `json:"blobs"`
	Objects        int      `json:"objects"`
	MissingBlobs   []string `json:"missingBlobs"`   // "space/name"
	CorruptBlobs   []string `json:"corruptBlobs"`   // "space/name"
	OrphanBlobs    []string `json:"orphanBlobs"`    // "space/name"
	WrongRefcounts []string `json:"wrongRefcounts"` // "space/name: catalog N, actual M"
	Restored       []string `json:"restored"`       // blobs copied back from another space
	LostObjects    []string `json:"lostObjects"`    // "bucket/key" whose bytes are gone
	Repaired       bool     `json:"repaired"`
}

// Clean tells whether fsck found nothing wrong.
func (r *FsckReport) Clean() bool {
	return len(r.MissingBlobs)+len(r.CorruptBlobs)+len(r.OrphanBlobs)+len(r.WrongRefcounts) == 0
}

// Fsck verifies the catalog against the shard stores. It must run with
// nothing else writing (jcsgw fsck opens the data dir exclusively).
func (s *Service) Fsck(ctx context.Context, opt FsckOptions) (*FsckReport, error) {
	rep := &FsckReport{MissingBlobs: []string{}, CorruptBlobs: []string{}, OrphanBlobs: []string{},
		WrongRefcounts: []string{}, Restored: []string{}, LostObjects: []string{}}
	// What the catalog says should exist: count every reference.
	want := map[blobRef]int64{}
	users := map[blobRef][]int64{} // blob → objects using it
	stored := map[blobRef]int64{}
	err := s.view(ctx, func(tx catalog.Tx) error {
		tx.Scan(tObj, nil, func(_, v []byte) bool {
			o, err := dec[objRec](v)
			if err != nil {
				return true
			}
			rep.Objects++
			for _, b := range o.Blocks {
				k := blobRef{o.SpaceID, b.Hash}
				want[k]++
				users[k] = append(users[k], o.ID)
			}
			return true
		})
		tx.Scan(tJPart, nil, func(k, v []byte) bool {
			p, err := dec[jpartRec](v)
			if err != nil {
				return true
			}
			if o, err := getObj(tx, getU64(k[:8])); err == nil {
				want[blobRef{o.SpaceID, p.Hash}]++
			}
			return true
		})
		tx.Scan(tUpload, nil, func(_, v []byte) bool {
			u, err := dec[uploadRec](v)
			if err != nil {
				return true
			}
			uploadParts(tx, u.ID, func(p partRec) bool {
				want[blobRef{u.SpaceID, p.Block.Hash}]++
				return true
			})
			return true
		})
		return tx.Scan(tRef, nil, func(k, v []byte) bool {
			stored[blobRef{getU64(k[:8]), string(k[8:])}] = getU64(v)
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	// What the stores hold.
	have := map[blobRef]bool{}
	s.mu.RLock()
	spaces := make(map[int64]ShardStore, len(s.spaces))
	for id, st := range s.spaces {
		spaces[id] = st
	}
	s.mu.RUnlock()
	for id, st := range spaces {
		if _, err := st.SweepTemp(ctx, 0); err != nil {
			return nil, fmt.Errorf("sweep temp files of space %d: %w", id, err)
		}
		err := st.List(ctx, func(name string) error {
			rep.Blobs++
			k := blobRef{id, name}
			have[k] = true
			if opt.Rehash && !blobIntact(ctx, st, name) {
				rep.CorruptBlobs = append(rep.CorruptBlobs, fmt.Sprintf("%d/%s", id, name))
				delete(have, k) // a corrupt blob counts as missing
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list blobs of space %d: %w", id, err)
		}
	}
	var missing []blobRef
	for k, n := range want {
		if !have[k] && k.name != "" {
			missing = append(missing, k)
			if !containsStr(rep.CorruptBlobs, fmt.Sprintf("%d/%s", k.space, k.name)) {
				rep.MissingBlobs = append(rep.MissingBlobs, fmt.Sprintf("%d/%s", k.space, k.name))
			}
		}
		if stored[k] != n {
			rep.WrongRefcounts = append(rep.WrongRefcounts, fmt.Sprintf("%d/%s: catalog %d, actual %d", k.space, k.name, stored[k], n))
		}
	}
	for k, n := range stored {
		if _, ok := want[k]; !ok {
			rep.WrongRefcounts = append(rep.WrongRefcounts, fmt.Sprintf("%d/%s: catalog %d, actual 0", k.space, k.name, n))
		}
	}
	var orphans []blobRef
	for k := range have {
		if want[k] == 0 {
			orphans = append(orphans, k)
			rep.OrphanBlobs = append(rep.OrphanBlobs, fmt.Sprintf("%d/%s", k.space, k.name))
		}
	}
	for _, l := range [][]string{rep.MissingBlobs, rep.CorruptBlobs, rep.OrphanBlobs, rep.WrongRefcounts} {
		sort.Strings(l)
	}
	if !opt.Repair {
		return rep, nil
	}
	rep.Repaired = true
	// Missing blobs: restore from a space that has the same content, or
	// give up the objects that need them.
	var lost []int64
	for _, k := range missing {
		restored := false
		for other := range have {
			if other.name == k.name && other.space != k.space {
				if err := s.copyBlob(ctx, spaces[other.space], spaces[k.space], k.name); err == nil {
					restored = true
					rep.Restored = append(rep.Restored, fmt.Sprintf("%d/%s from space %d", k.space, k.name, other.space))
					break
				}
			}
		}
		if !restored {
			lost = append(lost, users[k]...)
		}
	}
	for _, k := range orphans {
		if st := spaces[k.space]; st != nil {
			if err := st.Remove(ctx, k.name); err != nil {
				return rep, fmt.Errorf("remove orphan %s: %w", k.name, err)
			}
		}
	}
	err = s.cat.Update(ctx, func(tx catalog.Tx) error {
		var r refs
		for _, id := range lost {
			o, err := getObj(tx, id)
			if err != nil {
				continue
			}
			if ob, err := objectOf(tx, o); err == nil {
				if b, err := getBucket(tx, o.BucketID); err == nil {
					rep.LostObjects = append(rep.LostObjects, b.Name+"/"+ob.Key())
				}
			}
			for _, b := range o.Blocks {
				want[blobRef{o.SpaceID, b.Hash}]--
			}
			p, err := getPackage(tx, o.PackageID)
			if err != nil {
				return err
			}
			if err := s.removeObjTx(tx, &r, p, o); err != nil {
				return err
			}
		}
		// Rewrite every count from what the catalog really references.
		var keys [][]byte
		tx.Scan(tRef, nil, func(k, _ []byte) bool { keys = append(keys, append([]byte(nil), k...)); return true })
		for _, k := range keys {
			if err := tx.Delete(tRef, k); err != nil {
				return err
			}
		}
		for k, n := range want {
			if n > 0 {
				if err := tx.Put(tRef, refKey(k.space, k.name), u64(n)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return rep, err
}

func containsStr(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// blobIntact re-hashes a blob and compares it with its name.
func blobIntact(ctx context.Context, st ShardStore, name string) bool {
	rc, err := st.Open(ctx, name, 0, -1)
	if err != nil {
		return false
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return false
	}
	return FullHash(h.Sum(nil)) == name
}

func (s *Service) copyBlob(ctx context.Context, from, to ShardStore, name string) error {
	rc, err := from.Open(ctx, name, 0, -1)
	if err != nil {
		return err
	}
	defer rc.Close()
	w, err := to.Create(ctx)
	if err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(w, h), rc); err != nil {
		w.Abort()
		return err
	}
	if FullHash(h.Sum(nil)) != name {
		w.Abort()
		return fmt.Errorf("the copy in the other space is damaged too")
	}
	return w.Commit(ctx, name)
}

// GCReport is what a collection removed.
type GCReport struct {
	AbortedUploads int `json:"abortedUploads"`
	OrphanBlobs    int `json:"orphanBlobs"`
	TempFiles      int `json:"tempFiles"`
}

// GC aborts S3 multipart uploads started more than age ago and removes
// blobs no object references and stale temp files. It is safe while the
// server runs: a blob is only removed under its stripe lock after its count
// is seen at zero, which a writer placing the same blob cannot interleave.
func (s *Service) GC(ctx context.Context, age time.Duration) (*GCReport, error) {
	rep := &GCReport{}
	cutoff := s.now().Add(-age)
	var old []uploadRec
	err := s.view(ctx, func(tx catalog.Tx) error {
		return tx.Scan(tUpload, nil, func(_, v []byte) bool {
			if u, err := dec[uploadRec](v); err == nil && u.Initiated.Before(cutoff) {
				old = append(old, u)
			}
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	for _, u := range old {
		err := s.update(ctx, func(tx catalog.Tx, r *refs) error {
			if tx.Get(tUpload, []byte(u.ID)) == nil {
				return nil
			}
			return s.dropUploadTx(tx, r, u)
		})
		if err != nil {
			return rep, err
		}
		s.forgetParts(u.ID)
		rep.AbortedUploads++
	}
	s.mu.RLock()
	spaces := make(map[int64]ShardStore, len(s.spaces))
	for id, st := range s.spaces {
		spaces[id] = st
	}
	s.mu.RUnlock()
	for id, st := range spaces {
		// Temp files of writes in flight are young; only old ones are stale.
		n, err := st.SweepTemp(ctx, max(age, time.Hour))
		if err != nil {
			return rep, err
		}
		rep.TempFiles += n
		n, err = s.removeOrphans(ctx, id, st)
		rep.OrphanBlobs += n
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// removeOrphans removes the blobs of a space that no object references:
// those a crash left between placing a blob and committing its object (or
// between dropping its last reference and removing it). It is safe beside
// writers: a candidate goes only under its stripe lock, unpinned and still
// unreferenced (removeIfUnused), which a writer placing the same blob
// cannot interleave. A blob that cannot be removed is logged and left for
// the next sweep; only a failed listing (or ctx) stops it.
func (s *Service) removeOrphans(ctx context.Context, id int64, st ShardStore) (int, error) {
	var candidates []blobRef
	err := s.view(ctx, func(tx catalog.Tx) error {
		return st.List(ctx, func(name string) error {
			if tx.Get(tRef, refKey(id, name)) == nil {
				candidates = append(candidates, blobRef{id, name})
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range candidates {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		removed, err := s.removeIfUnused(ctx, st, c)
		if err != nil {
			s.log.Warn("remove orphan blob", "space", id, "blob", c.name, "err", err)
		}
		if removed {
			n++
		}
	}
	return n, nil
}
