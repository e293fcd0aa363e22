package gateway

import (
	"context"
	"io"
	"maps"
	"sync"

	"jcsgw/catalog"
)

// S3 keys over the JCS model: key "P/rest" is path "rest" of package P, a
// key without "/" is in the root package "", and "P/" is P's folder marker.

// objectByKeyTx finds the S3 object at key. ok is false when there is none.
func objectByKeyTx(tx catalog.Tx, b bucketRec, key string) (Object, objRec, bool, error) {
	return objectByKeyWith(tx, b, key, getObj)
}

func objectByKeyWith(tx catalog.Tx, b bucketRec, key string, read func(catalog.Tx, int64) (objRec, error)) (Object, objRec, bool, error) {
	pkgName, path := SplitKey(key)
	if path != "" {
		// The key index holds exactly the visible objects, under their S3
		// keys (as listings read it): two lookups where going through the
		// package and its paths takes four.
		v := tx.Get(tKeyIdx, keyIdxKey(b.ID, pkgName, path))
		if len(v) < 8 {
			return Object{}, objRec{}, false, nil
		}
		o, err := read(tx, getU64(v[:8])) // the entry starts with the object's ID
		if CodeOf(err) == CodeNoSuchKey || (err == nil && !o.visible()) {
			return Object{}, objRec{}, false, nil
		}
		if err != nil {
			return Object{}, objRec{}, false, err
		}
		return o.public(pkgName), o, true, nil
	}
	p, ok, err := findPackage(tx, b.ID, pkgName)
	if err != nil || !ok || !p.Explicit || pkgName == "" {
		return Object{}, objRec{}, false, err
	}
	return markerObject(p), objRec{}, true, nil
}

func noSuchKey(bucket, key string) error {
	return errorf(CodeNoSuchKey, "the key %q does not exist in bucket %q", key, bucket)
}

// ObjectByKey returns the S3 object at key.
func (s *Service) ObjectByKey(ctx context.Context, bucket, key string) (Object, error) {
	var out Object
	err := s.view(ctx, func(tx catalog.Tx) error {
		b, err := getBucketByName(tx, bucket)
		if err != nil {
			return err
		}
		o, _, ok, err := objectByKeyTx(tx, b, key)
		if err != nil {
			return err
		}
		if !ok {
			return noSuchKey(bucket, key)
		}
		out = o
		return nil
	})
	return out, err
}

// ObjectToRead finds the S3 object at key for a GET or HEAD, asks window
// which bytes of it to read, and readies those for Open: of an object of
// many parts, only the blocks the window touches are taken from its record
// (copying and parsing a 1,000-part object's whole list cost a range GET
// 80-100 µs). The object is then for that window only (and for its
// metadata). An error from window is returned with the object.
func (s *Service) ObjectToRead(ctx context.Context, bucket, key string, window Window) (o Object, off, n int64, err error) {
	err = s.view(ctx, func(tx catalog.Tx) error {
		b, err := getBucketByName(tx, bucket)
		if err != nil {
			return err
		}
		var rec objRec
		var ok bool
		o, rec, ok, err = objectByKeyWith(tx, b, key, window.get)
		if err != nil {
			return err
		}
		if !ok {
			return noSuchKey(bucket, key)
		}
		off, n, err = window.ready(&o, rec)
		return err
	})
	return o, off, n, err
}

// packageForWrite returns the package an S3 write of a key lands in,
// creating it (implicit) if needed.
func (s *Service) packageForWrite(tx catalog.Tx, b bucketRec, name string) (pkgRec, error) {
	p, ok, err := findPackage(tx, b.ID, name)
	if err != nil || ok {
		return p, err
	}
	return s.newPackageTx(tx, b.ID, name, false)
}

// smallPutBody is the largest body PutKey reads before it has looked up the
// bucket: the local store holds one this small in memory until it is placed.
const smallPutBody = 64 << 10

// PutKey writes the S3 object at key.
func (s *Service) PutKey(ctx context.Context, bucket, key string, in PutInput) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return Object{}, err
	}
	pkgName, path := SplitKey(key)
	// The bucket is looked up before the body is read, so that a missing
	// one is said at once rather than after an upload. A small body costs
	// nothing to read first: its transaction looks the bucket up anyway,
	// and it is looked up here only should the body be refused, to keep
	// that error second. (A read transaction of its own was about 3 % of a
	// small PUT's CPU.)
	small := path != "" && in.Size >= 0 && in.Size <= smallPutBody
	bucketFirst := func(ctx context.Context) error {
		_, err := s.BucketByName(ctx, bucket)
		return err
	}
	if !small {
		if err := bucketFirst(ctx); err != nil {
			return Object{}, err
		}
	}
	if path == "" {
		return s.putMarker(ctx, bucket, pkgName, in)
	}
	st, err := s.stage(ctx, in.SpaceID, in.Body, in.Size, in.ChecksumAlgorithm)
	if err == nil {
		if err = checkDigests(st, &in); err != nil {
			st.discard()
		}
	}
	if err != nil {
		if small {
			// The request may be gone already (a cut-off body): its
			// answer is still told apart.
			if berr := bucketFirst(context.WithoutCancel(ctx)); berr != nil {
				return Object{}, berr
			}
		}
		return Object{}, err
	}
	var out Object
	err = s.commit(ctx, []*staged{st}, func(tx catalog.Tx, r *refs) error {
		b, err := getBucketByName(tx, bucket)
		if err != nil {
			return err
		}
		p, err := s.packageForWrite(tx, b, pkgName)
		if err != nil {
			return err
		}
		o, err := s.putTx(tx, r, p, path, st, &in)
		out = o.public(p.Name)
		return err
	})
	return out, err
}

// putMarker handles a PUT of "P/": it makes package P explicit. The marker
// holds no bytes, so a body is refused rather than silently dropped.
func (s *Service) putMarker(ctx context.Context, bucket, pkgName string, in PutInput) (Object, error) {
	if in.Body != nil {
		var one [1]byte
		if n, _ := io.ReadFull(in.Body, one[:]); n > 0 {
			return Object{}, errorf(CodeInvalidRequest, "the key %q is the folder marker of package %q and must be empty; "+
				"put the data under a longer key", pkgName+"/", pkgName)
		}
	}
	if err := ValidatePackageName(pkgName); err != nil {
		return Object{}, err
	}
	var out Object
	err := s.update(ctx, func(tx catalog.Tx, _ *refs) error {
		b, err := getBucketByName(tx, bucket)
		if err != nil {
			return err
		}
		p, ok, err := findPackage(tx, b.ID, pkgName)
		if err != nil {
			return err
		}
		if err := checkWriteConditions(objRec{ETag: emptyMD5}, ok && p.Explicit, in.IfMatch, in.IfNoneMatch); err != nil {
			return err
		}
		if !ok {
			if p, err = s.newPackageTx(tx, b.ID, pkgName, true); err != nil {
				return err
			}
		} else if !p.Explicit {
			p.Explicit = true
			if err := s.putPackageTx(tx, p); err != nil {
				return err
			}
		}
		out = markerObject(p)
		return nil
	})
	return out, err
}

// DeleteKey removes the S3 object at key; an absent key is not an error.
// Deleting "P/" removes P's mark, and P itself if it is empty.
func (s *Service) DeleteKey(ctx context.Context, bucket, key string) error {
	return s.update(ctx, func(tx catalog.Tx, r *refs) error {
		b, err := getBucketByName(tx, bucket)
		if err != nil {
			return err
		}
		return s.deleteKeyTx(tx, r, b, key)
	})
}

// deleteKeysChunk is how many keys of a DeleteKeys share a transaction: a
// hundred deletions hold the writer about a millisecond, and the chunks of
// one call, run at once, share the log's syncs.
const deleteKeysChunk = 100

// DeleteKeys removes the S3 objects at keys, as DeleteKey each, and
// returns each key's error (nil for a key deleted or absent). Where
// DeleteKey makes one key durable per call, this commits a chunk of keys
// per transaction, so a bulk delete (S3's DeleteObjects, up to 1,000 keys)
// costs a few log syncs rather than one per key or per handful.
func (s *Service) DeleteKeys(ctx context.Context, bucket string, keys []string) []error {
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for from := 0; from < len(keys); from += deleteKeysChunk {
		chunk := keys[from:min(from+deleteKeysChunk, len(keys))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.update(ctx, func(tx catalog.Tx, r *refs) error {
				b, err := getBucketByName(tx, bucket)
				if err != nil {
					return err
				}
				for _, key := range chunk {
					if err := s.deleteKeyTx(tx, r, b, key); err != nil {
						return err
					}
				}
				return nil
			})
			if err == nil {
				return
			}
			// One key's failure undid the chunk: key by key again, so
			// that the others are deleted and each error is its own.
			for i, key := range chunk {
				errs[from+i] = s.DeleteKey(ctx, bucket, key)
			}
		}()
	}
	wg.Wait()
	return errs
}

func (s *Service) deleteKeyTx(tx catalog.Tx, r *refs, b bucketRec, key string) error {
	pkgName, path := SplitKey(key)
	p, ok, err := findPackage(tx, b.ID, pkgName)
	if err != nil || !ok {
		return err
	}
	if path == "" {
		if !p.Explicit || pkgName == "" {
			return nil
		}
		p.Explicit = false
		if err := s.putPackageTx(tx, p); err != nil {
			return err
		}
		return s.dropIfUnused(tx, r, p, "")
	}
	o, ok, err := findObj(tx, p.ID, path)
	if err != nil || !ok || !o.visible() {
		return err
	}
	if err := s.removeObjTx(tx, r, p, o); err != nil {
		return err
	}
	return s.dropIfUnused(tx, r, p, path)
}

// SetTags replaces an object's tag set; nil removes every tag.
func (s *Service) SetTags(ctx context.Context, bucket, key string, tags map[string]string) error {
	return s.update(ctx, func(tx catalog.Tx, r *refs) error {
		b, err := getBucketByName(tx, bucket)
		if err != nil {
			return err
		}
		_, o, ok, err := objectByKeyTx(tx, b, key)
		if err != nil {
			return err
		}
		if !ok {
			return noSuchKey(bucket, key)
		}
		if o.ID == 0 {
			return errorf(CodeInvalidRequest, "a package's folder marker cannot carry tags")
		}
		o.Tags = maps.Clone(tags)
		return tx.Put(tObj, u64(o.ID), enc(o))
	})
}

// CopyKey copies an S3 object. The copy shares the source's blobs when both
// live in the same user space, so no bytes move.
func (s *Service) CopyKey(ctx context.Context, in CopyInput) (Object, error) {
	if err := ValidateKey(in.DstKey); err != nil {
		return Object{}, err
	}
	if in.ChecksumAlgorithm != "" && !ValidChecksumAlgorithm(in.ChecksumAlgorithm) {
		return Object{}, errorf(CodeBadArgument, "unknown checksum algorithm %q", in.ChecksumAlgorithm)
	}
	src, err := s.ObjectByKey(ctx, in.SrcBucket, in.SrcKey)
	if err != nil {
		return Object{}, err
	}
	if err := CheckConditions(src, in.SrcConditions); err != nil {
		if CodeOf(err) == CodeNotModified {
			// For a copy source, a failed If-None-Match/If-Modified-Since is a 412.
			return Object{}, errorf(CodePreconditionFailed, "%s", MessageOf(err))
		}
		return Object{}, err
	}
	if in.SrcBucket == in.DstBucket && in.SrcKey == in.DstKey && !in.ReplaceMeta && !in.ReplaceTags && in.ChecksumAlgorithm == "" {
		return Object{}, errorf(CodeInvalidRequest, "this copy request is illegal because it is trying to copy an object to itself "+
			"without changing the object's metadata, storage class, website redirect location or encryption attributes")
	}
	dstPkg, dstPath := SplitKey(in.DstKey)
	if dstPath == "" {
		if src.Size != 0 {
			return Object{}, errorf(CodeInvalidRequest, "the key %q is a package's folder marker and must be empty", in.DstKey)
		}
		return s.putMarker(ctx, in.DstBucket, dstPkg, PutInput{IfMatch: in.IfMatch, IfNoneMatch: in.IfNoneMatch})
	}
	ck := src.Checksum
	if in.ChecksumAlgorithm != "" && (ck == nil || ck.Algorithm != in.ChecksumAlgorithm || ck.Type != ChecksumFullObject) {
		v, err := s.checksumOf(ctx, src, in.ChecksumAlgorithm)
		if err != nil {
			return Object{}, err
		}
		ck = &Checksum{Algorithm: in.ChecksumAlgorithm, Value: v, Type: ChecksumFullObject}
	}
	var out Object
	err = s.update(ctx, func(tx catalog.Tx, r *refs) error {
		sb, err := getBucketByName(tx, in.SrcBucket)
		if err != nil {
			return err
		}
		cur, _, ok, err := objectByKeyTx(tx, sb, in.SrcKey)
		if err != nil {
			return err
		}
		if !ok || cur.ETag != src.ETag || cur.UpdateTime != src.UpdateTime {
			return errorf(CodeOperationFailed, "the source object changed during the copy; try again")
		}
		db, err := getBucketByName(tx, in.DstBucket)
		if err != nil {
			return err
		}
		p, err := s.packageForWrite(tx, db, dstPkg)
		if err != nil {
			return err
		}
		old, exists, err := findObj(tx, p.ID, dstPath)
		if err != nil {
			return err
		}
		if err := checkWriteConditions(old, exists && old.visible(), in.IfMatch, in.IfNoneMatch); err != nil {
			return err
		}
		now := s.now()
		o := objRec{
			PackageID: p.ID, BucketID: db.ID, Path: dstPath, Size: src.Size, FileHash: src.FileHash,
			ETag: src.ETag, Redundancy: RedundancyNone, Created: now, Updated: now,
			SpaceID: src.SpaceID, Meta: src.Meta, Tags: maps.Clone(src.Tags), Checksum: ck,
			Parts: src.PartsCount, Blocks: append([]Block(nil), src.Blocks...), PartSizes: src.PartSizes,
		}
		if o.SpaceID == 0 {
			o.SpaceID = DefaultSpaceID
		}
		if in.ReplaceMeta {
			o.Meta = in.Meta
		}
		if in.ReplaceTags {
			o.Tags = maps.Clone(in.Tags)
		}
		// Reference the new copy before releasing the old: when the copy
		// replaces its own source, the shared blobs must never reach zero.
		if err := r.addBlocks(tx, o.SpaceID, o.Blocks, 1); err != nil {
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

// checksumOf computes an S3 checksum of an object's content.
func (s *Service) checksumOf(ctx context.Context, o Object, algo string) (string, error) {
	d, err := s.digestBlocks(ctx, o.SpaceID, o.Blocks, false, algo)
	if err != nil {
		return "", err
	}
	return d.checksum(), nil
}
