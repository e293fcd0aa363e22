package gateway

import (
	"bytes"
	"context"

	"jcsgw/catalog"
)

func (p pkgRec) public() Package {
	return Package{ID: p.ID, Name: p.Name, BucketID: p.BucketID, CreateTime: p.Created, Explicit: p.Explicit}
}

func pkgNameKey(bucketID int64, name string) []byte { return cat(u64(bucketID), []byte(name)) }

// markerKey is the key-index entry of package name's "name/" marker.
func markerKey(bucketID int64, name string) []byte {
	return cat(u64(bucketID), []byte(name), []byte{'/'})
}

func getPackage(tx catalog.Tx, id int64) (pkgRec, error) {
	v := tx.Get(tPkg, u64(id))
	if v == nil {
		return pkgRec{}, errorf(CodeNoSuchPackage, "package %d does not exist", id)
	}
	p, err := dec[pkgRec](v)
	if err != nil {
		return p, err
	}
	return p, checkBucketOf(tx, p.BucketID)
}

func findPackage(tx catalog.Tx, bucketID int64, name string) (pkgRec, bool, error) {
	v := tx.Get(tPkgName, pkgNameKey(bucketID, name))
	if v == nil {
		return pkgRec{}, false, nil
	}
	p, err := getPackage(tx, getU64(v))
	return p, err == nil, err
}

// CreatePackage makes an explicit package through /v1.
func (s *Service) CreatePackage(ctx context.Context, bucketID int64, name string) (Package, error) {
	if err := ValidatePackageName(name); err != nil {
		return Package{}, err
	}
	var p pkgRec
	err := s.update(ctx, func(tx catalog.Tx, _ *refs) error {
		if _, err := getBucket(tx, bucketID); err != nil {
			return err
		}
		if _, ok, err := findPackage(tx, bucketID, name); err != nil {
			return err
		} else if ok {
			return errorf(CodePackageExists, "a package named %q already exists in bucket %d", name, bucketID)
		}
		var err error
		p, err = s.newPackageTx(tx, bucketID, name, true)
		return err
	})
	return p.public(), err
}

func (s *Service) newPackageTx(tx catalog.Tx, bucketID int64, name string, explicit bool) (pkgRec, error) {
	id, err := tx.NextID("package")
	if err != nil {
		return pkgRec{}, err
	}
	p := pkgRec{ID: id, BucketID: bucketID, Name: name, Created: s.now(), Explicit: explicit}
	if err := s.putPackageTx(tx, p); err != nil {
		return pkgRec{}, err
	}
	return p, tx.Put(tPkgName, pkgNameKey(bucketID, name), u64(id))
}

// putPackageTx stores p and keeps its S3 folder marker in step with it.
// The root package has no marker: its keys carry no folder.
func (s *Service) putPackageTx(tx catalog.Tx, p pkgRec) error {
	if err := tx.Put(tPkg, u64(p.ID), enc(p)); err != nil {
		return err
	}
	if p.Name == "" {
		return nil
	}
	if p.Explicit {
		return tx.Put(tKeyIdx, markerKey(p.BucketID, p.Name), markerVal)
	}
	return tx.Delete(tKeyIdx, markerKey(p.BucketID, p.Name))
}

// Package returns a package by ID.
func (s *Service) Package(ctx context.Context, id int64) (Package, error) {
	var p pkgRec
	err := s.view(ctx, func(tx catalog.Tx) (err error) { p, err = getPackage(tx, id); return })
	return p.public(), err
}

// PackageByName returns the package name of the bucket bucketName.
func (s *Service) PackageByName(ctx context.Context, bucketName, name string) (Package, error) {
	var p pkgRec
	err := s.view(ctx, func(tx catalog.Tx) error {
		b, err := getBucketByName(tx, bucketName)
		if err != nil {
			return err
		}
		var ok bool
		if p, ok, err = findPackage(tx, b.ID, name); err != nil {
			return err
		} else if !ok {
			return errorf(CodeNoSuchPackage, "package %q does not exist in bucket %q", name, bucketName)
		}
		return nil
	})
	return p.public(), err
}

// EachPackage calls fn with every package of a bucket in name order, a page
// of them per read transaction, as EachPackageObject does with objects.
func (s *Service) EachPackage(ctx context.Context, bucketID int64, fn func(Package) error) error {
	return eachInPages(ctx, s, CodeNoSuchBucket, func(tx catalog.Tx, after *Package, out []Package) ([]Package, bool, error) {
		if _, err := getBucket(tx, bucketID); err != nil {
			return out, false, err
		}
		pg := page{max: packagePage}
		if after != nil {
			pg.after = after.Name
		}
		err := walk(tx, tPkgName, u64(bucketID), &pg, func(_ string, v []byte) (bool, error) {
			p, err := getPackage(tx, getU64(v))
			if err != nil {
				return false, err
			}
			out = append(out, p.public())
			return true, nil
		})
		return out, pg.truncated, err
	}, fn)
}

// DeletePackage removes a package and its objects, deleteChunk objects
// per transaction; the last one takes the package with its last objects,
// so an object written meanwhile goes with them or finds no package. A
// failure (or a cancelled ctx) between two leaves the package with the
// objects not yet removed: deleting it again finishes the work.
func (s *Service) DeletePackage(ctx context.Context, id int64) error {
	return s.inChunks(ctx, func(tx catalog.Tx, r *refs) (bool, error) {
		p, err := getPackage(tx, id)
		if err != nil {
			return false, err
		}
		_, more, err := s.removePackageObjectsTx(tx, r, p, deleteChunk)
		if err != nil || more {
			return false, err
		}
		return true, deletePackageRecordsTx(tx, p)
	})
}

// deleteChunk is how many objects a transaction of a package's or a
// bucket's deletion removes. All in one, deleting a package of 100,000
// objects held every other write for 2.2–2.5 s and grew the server by 180 MiB
// (the transaction's changes wait in memory until it commits); a thousand
// hold it about 10 ms (the 100,000 went in 0.93–1.09 s).
const deleteChunk = 1000

// inChunks runs step in transactions of its own, one after the other,
// until it reports that it is done or fails.
func (s *Service) inChunks(ctx context.Context, step func(tx catalog.Tx, r *refs) (done bool, err error)) error {
	for {
		var done bool
		err := s.update(ctx, func(tx catalog.Tx, r *refs) error {
			var err error
			done, err = step(tx, r)
			return err
		})
		if err != nil || done {
			return err
		}
	}
}

func (s *Service) deletePackageTx(tx catalog.Tx, r *refs, p pkgRec) error {
	if _, _, err := s.removePackageObjectsTx(tx, r, p, -1); err != nil {
		return err
	}
	return deletePackageRecordsTx(tx, p)
}

// removePackageObjectsTx removes at most max of p's objects (max < 0: all
// of them), and reports how many it removed and whether any is left.
func (s *Service) removePackageObjectsTx(tx catalog.Tx, r *refs, p pkgRec, max int) (int, bool, error) {
	var ids []int64
	more := false
	prefix := u64(p.ID)
	tx.Scan(tPathIdx, prefix, func(k, v []byte) bool {
		if !bytes.HasPrefix(k, prefix) {
			return false
		}
		if len(ids) == max {
			more = true
			return false
		}
		ids = append(ids, getU64(v))
		return true
	})
	for _, id := range ids {
		o, err := getObj(tx, id)
		if err != nil {
			return 0, false, err
		}
		if err := s.removeObjTx(tx, r, p, o); err != nil {
			return 0, false, err
		}
	}
	return len(ids), more, nil
}

// deletePackageRecordsTx removes an empty package's own records.
func deletePackageRecordsTx(tx catalog.Tx, p pkgRec) error {
	if p.Name != "" {
		if err := tx.Delete(tKeyIdx, markerKey(p.BucketID, p.Name)); err != nil {
			return err
		}
	}
	if err := tx.Delete(tPkgName, pkgNameKey(p.BucketID, p.Name)); err != nil {
		return err
	}
	return tx.Delete(tPkg, u64(p.ID))
}

// packageEmpty tells whether a package holds no object. near is a path just
// removed from it ("" if none): the search starts there, on either side,
// because the keys a scan from the package's first path would step over
// first are often those removed by the writes before (a recursive delete
// goes in order), each a deletion the catalog must skip until its next
// checkpoint.
func packageEmpty(tx catalog.Tx, id int64, near string) bool {
	prefix := u64(id)
	found := false
	first := func(k, _ []byte) bool {
		found = bytes.HasPrefix(k, prefix)
		return false
	}
	if near == "" {
		tx.Scan(tPathIdx, prefix, first)
		return !found
	}
	at := pathKey(id, near)
	if tx.Scan(tPathIdx, at, first); found {
		return false
	}
	tx.ScanReverse(tPathIdx, at, first)
	return !found
}

// dropIfUnused removes an implicit package once its last object is gone:
// to S3 it was only ever a folder implied by its keys. near is the path of
// the object just removed, if any (see packageEmpty).
func (s *Service) dropIfUnused(tx catalog.Tx, r *refs, p pkgRec, near string) error {
	if p.Explicit || !packageEmpty(tx, p.ID, near) {
		return nil
	}
	return s.deletePackageTx(tx, r, p)
}
