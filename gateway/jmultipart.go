package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math"
	"slices"

	"jcsgw/catalog"
)

// JCS multipart uploads: the object exists from the start with redundancy
// multipartUpload; parts replace by index; completion joins listed indexes.

func jpartKey(objID int64, index int) []byte {
	k := u64(objID)
	return binary.BigEndian.AppendUint32(k, uint32(index))
}

// jparts returns an object's parts in index order.
func jparts(tx catalog.Tx, objID int64) (map[int]jpartRec, []int, error) {
	var parts map[int]jpartRec // nil for the many objects without parts
	var order []int
	prefix := u64(objID)
	var err error
	tx.Scan(tJPart, prefix, func(k, v []byte) bool {
		if !bytes.HasPrefix(k, prefix) {
			return false
		}
		var p jpartRec
		if p, err = dec[jpartRec](v); err != nil {
			return false
		}
		idx := int(binary.BigEndian.Uint32(k[8:]))
		if parts == nil {
			parts = map[int]jpartRec{}
		}
		parts[idx] = p
		order = append(order, idx)
		return true
	})
	return parts, order, err
}

func (s *Service) dropJPartsTx(tx catalog.Tx, r *refs, o objRec) error {
	if o.Redundancy != RedundancyMultipart {
		// Parts exist only while the object is a multipart upload in
		// progress: completing it and replacing it both drop them in the
		// same transaction. Most objects need no look.
		return nil
	}
	parts, order, err := jparts(tx, o.ID)
	if err != nil {
		return err
	}
	if len(order) > 0 {
		// Should the transaction fail, the digest is only lost work.
		s.partHashes.forget(jcsPartsKey(o.ID))
	}
	for _, i := range order {
		if err := r.add(tx, o.SpaceID, parts[i].Hash, -1); err != nil {
			return err
		}
		if err := tx.Delete(tJPart, jpartKey(o.ID, i)); err != nil {
			return err
		}
	}
	return nil
}

// NewMultipartObject creates the object at path in the multipartUpload
// state. An object already at the path is replaced in place.
func (s *Service) NewMultipartObject(ctx context.Context, pkgID int64, path string, spaceID int64) (Object, error) {
	if _, err := s.space(spaceID); err != nil {
		return Object{}, err
	}
	if spaceID == 0 {
		spaceID = DefaultSpaceID
	}
	var out Object
	err := s.update(ctx, func(tx catalog.Tx, r *refs) error {
		p, err := getPackage(tx, pkgID)
		if err != nil {
			return err
		}
		if err := ValidatePath(p.Name, path); err != nil {
			return err
		}
		now := s.now()
		o := objRec{
			PackageID: p.ID, BucketID: p.BucketID, Path: path, FileHash: emptyFullHash,
			ETag: emptyMD5, Redundancy: RedundancyMultipart, Created: now, Updated: now, SpaceID: spaceID,
			Blocks: []Block{},
		}
		old, exists, err := findObj(tx, p.ID, path)
		if err != nil {
			return err
		}
		if err := s.takeSlot(tx, r, &o, old, exists); err != nil {
			return err
		}
		out = o.public(p.Name)
		return writeObjTx(tx, p.Name, o)
	})
	return out, err
}

// compHash is the fileHash of an object in progress: "Comp" + SHA-256 over
// its parts' raw SHA-256 digests in index order.
func compHash(parts map[int]jpartRec, order []int) (string, int64) {
	h := sha256.New()
	var size int64
	for _, i := range order {
		h.Write(parts[i].SHA256)
		size += parts[i].Size
	}
	return "Comp" + FullHash(h.Sum(nil))[len("Full"):], size
}

// UploadObjectPart stores part index of a JCS multipart object, replacing
// any part with the same index.
func (s *Service) UploadObjectPart(ctx context.Context, objID int64, index int, body io.Reader, size int64) error {
	space, err := s.multipartSpace(ctx, objID, index)
	if err != nil {
		return err
	}
	st, err := s.stage(ctx, space, body, size, "")
	if err != nil {
		return err
	}
	return s.commitJPart(ctx, objID, index, st)
}

// UploadObjectPartStaged stores a body staged before the request said
// which object it belongs to (a form whose file part precedes its info).
func (s *Service) UploadObjectPartStaged(ctx context.Context, objID int64, index int, body *Staged) error {
	space, err := s.multipartSpace(ctx, objID, index)
	if err != nil {
		body.Discard()
		return err
	}
	st, err := s.relocate(ctx, body.st, space)
	if err != nil {
		return err
	}
	return s.commitJPart(ctx, objID, index, st)
}

func (s *Service) multipartSpace(ctx context.Context, objID int64, index int) (int64, error) {
	if index < 0 || index > math.MaxInt32 {
		return 0, errorf(CodeBadArgument, "index must be between 0 and %d", math.MaxInt32)
	}
	var space int64
	err := s.view(ctx, func(tx catalog.Tx) error {
		o, err := getObj(tx, objID)
		if err != nil {
			return err
		}
		if o.Redundancy != RedundancyMultipart {
			return errorf(CodeBadArgument, "object %d is not a multipart upload in progress", objID)
		}
		space = o.SpaceID
		return nil
	})
	return space, err
}

func (s *Service) commitJPart(ctx context.Context, objID int64, index int, st *staged) error {
	err := s.commit(ctx, []*staged{st}, func(tx catalog.Tx, r *refs) error {
		o, err := getObj(tx, objID)
		if err != nil {
			return err
		}
		if o.Redundancy != RedundancyMultipart || o.SpaceID != st.space {
			return errorf(CodeBadArgument, "object %d is not a multipart upload in progress", objID)
		}
		k := jpartKey(objID, index)
		if v := tx.Get(tJPart, k); v != nil {
			old, err := dec[jpartRec](v)
			if err != nil {
				return err
			}
			if err := r.add(tx, o.SpaceID, old.Hash, -1); err != nil {
				return err
			}
		}
		if err := r.add(tx, o.SpaceID, st.block.Hash, 1); err != nil {
			return err
		}
		md5sum, _ := hex.DecodeString(st.md5)
		if err := tx.Put(tJPart, k, enc(jpartRec{Block: st.block, SHA256: st.sha, MD5: md5sum})); err != nil {
			return err
		}
		parts, order, err := jparts(tx, objID)
		if err != nil {
			return err
		}
		o.FileHash, o.Size = compHash(parts, order)
		o.Updated = s.now()
		return tx.Put(tObj, u64(o.ID), enc(o))
	})
	if err == nil {
		s.partLanded(jcsPartsKey(objID), func() *partHash { return jcsPartHash(objID, st.space, index) })
	}
	return err
}

// CompleteMultipartObject joins the listed part indexes, in the listed
// order (repeats allowed), into the object's content; unlisted parts are
// dropped. The object becomes an ordinary one with a "Full" fileHash.
func (s *Service) CompleteMultipartObject(ctx context.Context, objID int64, indexes []int) (Object, error) {
	if len(indexes) == 0 {
		return Object{}, errorf(CodeBadArgument, "indexes is empty")
	}
	var o objRec
	var parts map[int]jpartRec
	if err := s.view(ctx, func(tx catalog.Tx) error {
		var err error
		if o, err = getObj(tx, objID); err != nil {
			return err
		}
		if o.Redundancy != RedundancyMultipart {
			return errorf(CodeBadArgument, "object %d is not a multipart upload in progress", objID)
		}
		parts, _, err = jparts(tx, objID)
		return err
	}); err != nil {
		return Object{}, err
	}
	blocks := make([]Block, 0, len(indexes))
	for _, i := range indexes {
		p, ok := parts[i]
		if !ok {
			return Object{}, errorf(CodeBadArgument, "indexes: part %d was not uploaded", i)
		}
		blocks = append(blocks, p.Block)
	}
	var total int64
	for _, b := range blocks {
		total += b.Size
	}
	if s.maxSize > 0 && total > s.maxSize {
		return Object{}, errorf(CodeEntityTooLarge, "the listed parts add up to %d bytes; an object may have at most %d", total, s.maxSize)
	}
	// The fileHash and ETag cover the whole content: what was not digested
	// as the parts landed is read now.
	d, err := s.digestUpload(ctx, jcsPartsKey(objID), o.SpaceID, blocks, true, "")
	if err != nil {
		return Object{}, err
	}
	var out Object
	err = s.update(ctx, func(tx catalog.Tx, r *refs) error {
		cur, err := getObj(tx, objID)
		if err != nil {
			return err
		}
		now, order, err := jparts(tx, objID)
		if err != nil {
			return err
		}
		if cur.Redundancy != RedundancyMultipart || len(now) != len(parts) {
			return errorf(CodeOperationFailed, "object %d changed while it was being completed; try again", objID)
		}
		for i, p := range parts {
			if now[i].Hash != p.Hash {
				return errorf(CodeOperationFailed, "object %d changed while it was being completed; try again", objID)
			}
		}
		if err := r.addBlocks(tx, cur.SpaceID, blocks, 1); err != nil {
			return err
		}
		for _, i := range order {
			if err := r.add(tx, cur.SpaceID, now[i].Hash, -1); err != nil {
				return err
			}
			if err := tx.Delete(tJPart, jpartKey(objID, i)); err != nil {
				return err
			}
		}
		cur.Blocks = slices.Clip(blocks)
		cur.Size, cur.FileHash, cur.ETag = d.n, d.fileHash(), d.md5Hex()
		cur.Redundancy, cur.Updated = RedundancyNone, s.now()
		p, err := getPackage(tx, cur.PackageID)
		if err != nil {
			return err
		}
		out = cur.public(p.Name)
		return writeObjTx(tx, p.Name, cur)
	})
	return out, err
}
