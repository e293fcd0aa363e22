package gateway

import (
	"bytes"
	"context"

	"jcsgw/catalog"
)

func (b bucketRec) public() Bucket { return Bucket{ID: b.ID, Name: b.Name, CreateTime: b.Created} }

// CreateBucket makes a bucket through /v1.
func (s *Service) CreateBucket(ctx context.Context, name string) (Bucket, error) {
	if err := ValidateBucketName(name); err != nil {
		return Bucket{}, err
	}
	return s.createBucket(ctx, name)
}

// CreateS3Bucket makes a bucket through S3, under S3's naming rules.
func (s *Service) CreateS3Bucket(ctx context.Context, name string) (Bucket, error) {
	if err := ValidateS3BucketName(name); err != nil {
		return Bucket{}, err
	}
	return s.createBucket(ctx, name)
}

func (s *Service) createBucket(ctx context.Context, name string) (Bucket, error) {
	var rec bucketRec
	err := s.update(ctx, func(tx catalog.Tx, _ *refs) error {
		if tx.Get(tBucketName, []byte(name)) != nil {
			return errorf(CodeBucketExists, "a bucket named %q already exists", name)
		}
		id, err := tx.NextID("bucket")
		if err != nil {
			return err
		}
		rec = bucketRec{ID: id, Name: name, Created: s.now(), Owner: ownerFor(tx)}
		if err := tx.Put(tBucket, u64(id), enc(rec)); err != nil {
			return err
		}
		return tx.Put(tBucketName, []byte(name), u64(id))
	})
	return rec.public(), err
}

func getBucket(tx catalog.Tx, id int64) (bucketRec, error) {
	v := tx.Get(tBucket, u64(id))
	if v == nil {
		return bucketRec{}, errorf(CodeNoSuchBucket, "bucket %d does not exist", id)
	}
	b, err := dec[bucketRec](v)
	if err != nil {
		return b, err
	}
	return b, checkOwner(tx, b)
}

func getBucketByName(tx catalog.Tx, name string) (bucketRec, error) {
	v := tx.Get(tBucketName, []byte(name))
	if v == nil {
		return bucketRec{}, errorf(CodeNoSuchBucket, "bucket %q does not exist", name)
	}
	return getBucket(tx, getU64(v))
}

// Bucket returns a bucket by ID.
func (s *Service) Bucket(ctx context.Context, id int64) (Bucket, error) {
	var b bucketRec
	err := s.view(ctx, func(tx catalog.Tx) (err error) { b, err = getBucket(tx, id); return })
	return b.public(), err
}

// BucketByName returns a bucket by name.
func (s *Service) BucketByName(ctx context.Context, name string) (Bucket, error) {
	var b bucketRec
	err := s.view(ctx, func(tx catalog.Tx) (err error) { b, err = getBucketByName(tx, name); return })
	return b.public(), err
}

// ListBuckets returns every bucket in name order.
func (s *Service) ListBuckets(ctx context.Context) ([]Bucket, error) {
	out := []Bucket{}
	err := s.view(ctx, func(tx catalog.Tx) error {
		var err error
		return errJoin(tx.Scan(tBucketName, nil, func(k, v []byte) bool {
			var b bucketRec
			if b, err = getBucket(tx, getU64(v)); err != nil {
				if CodeOf(err) == CodeAccessDenied {
					err = nil // another user's: not listed
					return true
				}
				return false
			}
			out = append(out, b.public())
			return true
		}), err)
	})
	return out, err
}

// DeleteBucket removes a bucket with all its packages, objects and uploads
// (the JCS semantics), deleteChunk objects per transaction as
// DeletePackage does; the last transaction takes the bucket.
func (s *Service) DeleteBucket(ctx context.Context, id int64) error {
	return s.inChunks(ctx, func(tx catalog.Tx, r *refs) (bool, error) {
		b, err := getBucket(tx, id)
		if err != nil {
			return false, err
		}
		return s.deleteBucketChunkTx(tx, r, b, deleteChunk)
	})
}

// DeleteBucketIfEmpty removes a bucket that holds no objects (the S3
// semantics); uploads in progress are aborted with it.
func (s *Service) DeleteBucketIfEmpty(ctx context.Context, name string) error {
	return s.update(ctx, func(tx catalog.Tx, r *refs) error {
		b, err := getBucketByName(tx, name)
		if err != nil {
			return err
		}
		prefix := u64(b.ID)
		empty := true
		tx.Scan(tKeyIdx, prefix, func(k, _ []byte) bool {
			empty = !bytes.HasPrefix(k, prefix)
			return false
		})
		if !empty {
			return errorf(CodeBucketNotEmpty, "the bucket %q is not empty", name)
		}
		return s.deleteBucketTx(tx, r, b)
	})
}

func (s *Service) deleteBucketTx(tx catalog.Tx, r *refs, b bucketRec) error {
	_, err := s.deleteBucketChunkTx(tx, r, b, -1)
	return err
}

// deleteBucketChunkTx removes up to budget of b's objects and packages
// (budget < 0: all of them) and, if that leaves none, b itself with its
// uploads; it reports whether b is gone.
func (s *Service) deleteBucketChunkTx(tx catalog.Tx, r *refs, b bucketRec, budget int) (bool, error) {
	var pkgs []int64
	prefix := u64(b.ID)
	tx.Scan(tPkgName, prefix, func(k, v []byte) bool {
		if !bytes.HasPrefix(k, prefix) {
			return false
		}
		pkgs = append(pkgs, getU64(v))
		// Each package takes one of the budget at least.
		return budget < 0 || len(pkgs) <= budget
	})
	for _, id := range pkgs {
		if budget == 0 {
			return false, nil
		}
		p, err := getPackage(tx, id)
		if err != nil {
			return false, err
		}
		n, more, err := s.removePackageObjectsTx(tx, r, p, budget)
		if err != nil || more {
			return false, err
		}
		if err := deletePackageRecordsTx(tx, p); err != nil {
			return false, err
		}
		if budget > 0 {
			budget = max(budget-n-1, 0)
		}
	}
	if err := s.abortBucketUploadsTx(tx, r, b.ID); err != nil {
		return false, err
	}
	if err := tx.Delete(tBucketName, []byte(b.Name)); err != nil {
		return false, err
	}
	return true, tx.Delete(tBucket, u64(b.ID))
}

func errJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
