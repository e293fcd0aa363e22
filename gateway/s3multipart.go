package gateway

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"strings"

	"github.com/google/uuid"

	"jcsgw/catalog"
)

// S3 multipart limits.
const (
	MinPartSize = 5 << 20
	MaxParts    = 10000
)

func (u uploadRec) public(bucket string) Upload {
	return Upload{ID: u.ID, Bucket: bucket, Key: u.Key, Initiated: u.Initiated, Meta: u.Meta,
		Tags: u.Tags, ChecksumAlgorithm: u.CkAlgo, ChecksumType: u.CkType}
}

func (p partRec) public() Part {
	out := Part{Number: p.Number, Size: p.Block.Size, ETag: p.MD5, LastModified: p.Modified}
	if p.Checksum != "" {
		out.Checksum = &Checksum{Value: p.Checksum}
	}
	return out
}

func uploadKeyKey(u uploadRec) []byte {
	return cat(u64(u.BucketID), []byte(u.Key), []byte{0}, u64(u.Initiated.UnixNano()), []byte(u.ID))
}

// uploadIDLen is the length of upload IDs (a UUID's hex digits).
const uploadIDLen = 32

// splitUploadKey reads key and upload ID back from an upload_key entry
// (bucket prefix removed): key, 0, 8 bytes of start time, ID.
func splitUploadKey(rest []byte) (key, id string) {
	n := len(rest) - uploadIDLen
	return string(rest[:n-9]), string(rest[n:])
}

func upartKey(uploadID string, n int) []byte {
	return binary.BigEndian.AppendUint32(cat([]byte(uploadID), []byte{0}), uint32(n))
}

func noSuchUpload(id string) error {
	return errorf(CodeNoSuchUpload, "the multipart upload %q does not exist: it may have been aborted or completed", id)
}

// getUpload finds an upload and checks it belongs to bucket/key.
func getUpload(tx catalog.Tx, bucket, key, id string) (bucketRec, uploadRec, error) {
	b, err := getBucketByName(tx, bucket)
	if err != nil {
		return b, uploadRec{}, err
	}
	v := tx.Get(tUpload, []byte(id))
	if v == nil {
		return b, uploadRec{}, noSuchUpload(id)
	}
	u, err := dec[uploadRec](v)
	if err != nil {
		return b, u, err
	}
	if u.BucketID != b.ID || u.Key != key {
		return b, u, noSuchUpload(id)
	}
	return b, u, nil
}

// CreateUpload starts an S3 multipart upload of key.
func (s *Service) CreateUpload(ctx context.Context, bucket, key string, in Upload) (Upload, error) {
	if err := ValidateKey(key); err != nil {
		return Upload{}, err
	}
	if _, path := SplitKey(key); path == "" {
		return Upload{}, errorf(CodeInvalidRequest, "the key %q is a package's folder marker and must stay empty", key)
	}
	algo := strings.ToUpper(in.ChecksumAlgorithm)
	if algo != "" && !ValidChecksumAlgorithm(algo) {
		return Upload{}, errorf(CodeBadArgument, "unknown checksum algorithm %q", in.ChecksumAlgorithm)
	}
	ckType := strings.ToUpper(in.ChecksumType)
	switch {
	case ckType == "" && algo != "":
		ckType = ChecksumComposite
		if algo == ChecksumCRC64NVME {
			ckType = ChecksumFullObject
		}
	case ckType == ChecksumFullObject && algo != "" && !isCRC(algo):
		return Upload{}, errorf(CodeBadArgument, "the FULL_OBJECT checksum type needs a CRC algorithm, not %s", algo)
	case ckType == ChecksumComposite && algo == ChecksumCRC64NVME:
		return Upload{}, errorf(CodeBadArgument, "CRC64NVME supports only the FULL_OBJECT checksum type")
	case ckType != "" && ckType != ChecksumFullObject && ckType != ChecksumComposite:
		return Upload{}, errorf(CodeBadArgument, "unknown checksum type %q", in.ChecksumType)
	case ckType != "" && algo == "":
		return Upload{}, errorf(CodeBadArgument, "a checksum type needs a checksum algorithm")
	}
	var out Upload
	err := s.update(ctx, func(tx catalog.Tx, _ *refs) error {
		b, err := getBucketByName(tx, bucket)
		if err != nil {
			return err
		}
		u := uploadRec{ID: strings.ReplaceAll(uuid.NewString(), "-", ""), BucketID: b.ID, Key: key,
			Initiated: s.now(), Meta: in.Meta, Tags: maps.Clone(in.Tags), SpaceID: DefaultSpaceID,
			CkAlgo: algo, CkType: ckType}
		if err := tx.Put(tUpload, []byte(u.ID), enc(u)); err != nil {
			return err
		}
		out = u.public(bucket)
		return tx.Put(tUploadKey, uploadKeyKey(u), nil)
	})
	return out, err
}

func checkPartNumber(n int) error {
	if n < 1 || n > MaxParts {
		return errorf(CodeBadArgument, "part number must be an integer between 1 and %d", MaxParts)
	}
	return nil
}

// UploadPart stores part number of an upload, replacing an earlier one.
func (s *Service) UploadPart(ctx context.Context, bucket, key, uploadID string, number int, in PutInput) (Part, error) {
	if err := checkPartNumber(number); err != nil {
		return Part{}, err
	}
	var u uploadRec
	if err := s.view(ctx, func(tx catalog.Tx) (err error) {
		_, u, err = getUpload(tx, bucket, key, uploadID)
		return err
	}); err != nil {
		return Part{}, err
	}
	algo := u.CkAlgo
	if in.ChecksumAlgorithm != "" {
		if algo != "" && !strings.EqualFold(in.ChecksumAlgorithm, algo) {
			return Part{}, errorf(CodeBadArgument, "the upload was created with checksum algorithm %s, not %s", algo, in.ChecksumAlgorithm)
		}
		algo = in.ChecksumAlgorithm
	}
	st, err := s.stage(ctx, u.SpaceID, in.Body, in.Size, algo)
	if err != nil {
		return Part{}, err
	}
	if err := checkDigests(st, &in); err != nil {
		st.discard()
		return Part{}, err
	}
	return s.putPart(ctx, bucket, key, uploadID, number, st)
}

func (s *Service) putPart(ctx context.Context, bucket, key, uploadID string, number int, st *staged) (Part, error) {
	p := partRec{Number: number, Block: st.block, MD5: st.md5, Modified: s.now(), Checksum: st.ck}
	var space int64
	var fullAlgo string
	if st.ck != "" {
		p.CkRaw, _ = base64.StdEncoding.DecodeString(st.ck)
	}
	err := s.commit(ctx, []*staged{st}, func(tx catalog.Tx, r *refs) error {
		_, u, err := getUpload(tx, bucket, key, uploadID)
		if err != nil {
			return err
		}
		k := upartKey(uploadID, number)
		if v := tx.Get(tUPart, k); v != nil {
			old, err := dec[partRec](v)
			if err != nil {
				return err
			}
			if err := r.add(tx, u.SpaceID, old.Block.Hash, -1); err != nil {
				return err
			}
		}
		if err := r.add(tx, u.SpaceID, st.block.Hash, 1); err != nil {
			return err
		}
		fullAlgo = ""
		if u.CkType == ChecksumFullObject {
			fullAlgo = u.CkAlgo
		}
		space = u.SpaceID
		return tx.Put(tUPart, k, enc(p))
	})
	if err == nil {
		s.partLanded(uploadID, func() *partHash { return s3PartHash(uploadID, space, fullAlgo) })
	}
	return p.public(), err
}

// UploadPartCopy stores part number from n bytes of src at off.
func (s *Service) UploadPartCopy(ctx context.Context, bucket, key, uploadID string, number int, src Object, off, n int64) (Part, error) {
	if err := checkPartNumber(number); err != nil {
		return Part{}, err
	}
	if off < 0 || off > src.Size || n < 0 || off+n > src.Size {
		return Part{}, errorf(CodeInvalidRange, "the copy range is outside the source object (size %d)", src.Size)
	}
	var u uploadRec
	if err := s.view(ctx, func(tx catalog.Tx) (err error) {
		_, u, err = getUpload(tx, bucket, key, uploadID)
		return err
	}); err != nil {
		return Part{}, err
	}
	rc, err := s.Open(ctx, src, off, n)
	if err != nil {
		return Part{}, err
	}
	defer rc.Close()
	st, err := s.stage(ctx, u.SpaceID, rc, n, u.CkAlgo)
	if err != nil {
		return Part{}, err
	}
	return s.putPart(ctx, bucket, key, uploadID, number, st)
}

func uploadParts(tx catalog.Tx, uploadID string, fn func(partRec) bool) error {
	prefix := cat([]byte(uploadID), []byte{0})
	var err error
	tx.Scan(tUPart, prefix, func(k, v []byte) bool {
		if !bytes.HasPrefix(k, prefix) {
			return false
		}
		var p partRec
		if p, err = dec[partRec](v); err != nil {
			return false
		}
		return fn(p)
	})
	return err
}

// CompleteUpload assembles an upload's listed parts into the object at key,
// replacing what was there; parts not listed are dropped.
func (s *Service) CompleteUpload(ctx context.Context, bucket, key, uploadID string, list []CompletePart, ifMatch, ifNoneMatch string) (Object, error) {
	if len(list) == 0 {
		return Object{}, errorf(CodeInvalidRequest, "you must specify at least one part")
	}
	if len(list) > MaxParts {
		return Object{}, errorf(CodeBadArgument, "at most %d parts may be listed", MaxParts)
	}
	var u uploadRec
	stored := map[int]partRec{}
	if err := s.view(ctx, func(tx catalog.Tx) (err error) {
		if _, u, err = getUpload(tx, bucket, key, uploadID); err != nil {
			return err
		}
		return uploadParts(tx, uploadID, func(p partRec) bool { stored[p.Number] = p; return true })
	}); err != nil {
		return Object{}, err
	}
	// Order first, as S3 does: a misordered list is InvalidPartOrder even
	// when its parts would also be too small.
	for i := 1; i < len(list); i++ {
		if list[i].Number <= list[i-1].Number {
			return Object{}, errorf(CodeInvalidPartOrder, "the list of parts was not in ascending order; parts must be ordered by part number")
		}
	}
	used := make([]partRec, 0, len(list))
	for i, c := range list {
		p, ok := stored[c.Number]
		if !ok || strings.Trim(c.ETag, `"`) != p.MD5 {
			return Object{}, errorf(CodeInvalidPart, "part %d could not be found or its ETag does not match", c.Number)
		}
		if c.Checksum != "" && p.Checksum != "" && c.Checksum != p.Checksum {
			return Object{}, errorf(CodeInvalidPart, "the checksum of part %d does not match", c.Number)
		}
		if i < len(list)-1 && p.Block.Size < MinPartSize {
			return Object{}, errorf(CodeEntityTooSmall, "part %d is %d bytes; every part but the last must be at least 5 MiB", c.Number, p.Block.Size)
		}
		used = append(used, p)
	}
	// The S3 ETag comes from the parts' MD5s; the JCS fileHash and a
	// full-object CRC need the content, read once here.
	etagSum := md5.New()
	blocks := make([]Block, 0, len(used))
	sizes := make([]int64, 0, len(used))
	var compositeIn hash.Hash
	if u.CkAlgo != "" && u.CkType == ChecksumComposite {
		compositeIn = newChecksum(u.CkAlgo)
	}
	for _, p := range used {
		raw, _ := hex.DecodeString(p.MD5)
		etagSum.Write(raw)
		blocks = append(blocks, p.Block)
		sizes = append(sizes, p.Block.Size)
		if compositeIn != nil {
			if p.CkRaw == nil {
				compositeIn = nil // a part came without a checksum: none for the whole
				continue
			}
			compositeIn.Write(p.CkRaw)
		}
	}
	full := ""
	if u.CkType == ChecksumFullObject {
		full = u.CkAlgo
	}
	d, err := s.digestUpload(ctx, uploadID, u.SpaceID, blocks, false, full)
	if err != nil {
		return Object{}, err
	}
	var ck *Checksum
	switch {
	case full != "":
		ck = &Checksum{Algorithm: u.CkAlgo, Value: d.checksum(), Type: ChecksumFullObject}
	case compositeIn != nil:
		ck = &Checksum{Algorithm: u.CkAlgo, Type: ChecksumComposite,
			Value: fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(compositeIn.Sum(nil)), len(used))}
	}
	etag := fmt.Sprintf("%s-%d", hex.EncodeToString(etagSum.Sum(nil)), len(used))
	var out Object
	err = s.update(ctx, func(tx catalog.Tx, r *refs) error {
		b, cur, err := getUpload(tx, bucket, key, uploadID)
		if err != nil {
			return err
		}
		var now []partRec
		if err := uploadParts(tx, uploadID, func(p partRec) bool { now = append(now, p); return true }); err != nil {
			return err
		}
		for _, p := range now {
			if q, ok := stored[p.Number]; !ok || q.Block.Hash != p.Block.Hash {
				return errorf(CodeInvalidPart, "part %d was replaced while the upload was being completed; try again", p.Number)
			}
		}
		pkgName, path := SplitKey(key)
		p, err := s.packageForWrite(tx, b, pkgName)
		if err != nil {
			return err
		}
		old, exists, err := findObj(tx, p.ID, path)
		if err != nil {
			return err
		}
		if err := checkWriteConditions(old, exists && old.visible(), ifMatch, ifNoneMatch); err != nil {
			return err
		}
		t := s.now()
		o := objRec{PackageID: p.ID, BucketID: b.ID, Path: path, Size: d.n, FileHash: d.fileHash(),
			ETag: etag, Redundancy: RedundancyNone, Created: t, Updated: t, SpaceID: cur.SpaceID,
			Meta: cur.Meta, Tags: cur.Tags, Checksum: ck, Parts: len(used), Blocks: blocks, PartSizes: sizes}
		// The object takes over the references of the parts it uses.
		if err := r.addBlocks(tx, o.SpaceID, blocks, 1); err != nil {
			return err
		}
		if err := s.dropUploadTx(tx, r, cur); err != nil {
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

// digestBlocks reads an object's blocks once, in order, through the same
// pipelined hashing as uploads: SHA-256 always, MD5 when asked, and the
// checksum algo when set.
func (s *Service) digestBlocks(ctx context.Context, space int64, blocks []Block, withMD5 bool, algo string) (*digester, error) {
	d := newDigester(algo)
	if !withMD5 {
		d.md5 = nil
	}
	return d, s.digestInto(ctx, space, blocks, d)
}

// digestInto feeds the content of blocks, in order, to d.
func (s *Service) digestInto(ctx context.Context, space int64, blocks []Block, d *digester) error {
	st, err := s.space(space)
	if err != nil {
		return err
	}
	var total int64
	for _, b := range blocks {
		total += b.Size
	}
	r := &blocksReader{ctx: ctx, st: st, blocks: blocks, left: total}
	defer r.Close()
	if d.md5 != nil {
		// MD5 and SHA-256 on lanes of their own, in parallel.
		_, err = copyHashed(io.Discard, r, d, -1)
	} else {
		// One digest to feed (a CRC beside SHA-256 is cheap): lanes would
		// only add hand-offs.
		err = hashAll(r, d)
	}
	if err != nil {
		return wrapErr(CodeOperationFailed, err, "cannot read the object's blocks")
	}
	return nil
}

// hashAll feeds r to d on this goroutine through one pooled buffer.
func hashAll(r io.Reader, d *digester) error {
	c := getBuf()
	defer c.release()
	for {
		n, err := fill(r, c.b)
		d.Write(c.b[:n])
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// dropUploadTx deletes an upload and its parts, releasing their references.
func (s *Service) dropUploadTx(tx catalog.Tx, r *refs, u uploadRec) error {
	var parts []partRec
	if err := uploadParts(tx, u.ID, func(p partRec) bool { parts = append(parts, p); return true }); err != nil {
		return err
	}
	for _, p := range parts {
		if err := r.add(tx, u.SpaceID, p.Block.Hash, -1); err != nil {
			return err
		}
		if err := tx.Delete(tUPart, upartKey(u.ID, p.Number)); err != nil {
			return err
		}
	}
	if err := tx.Delete(tUploadKey, uploadKeyKey(u)); err != nil {
		return err
	}
	return tx.Delete(tUpload, []byte(u.ID))
}

// AbortUpload discards an upload and every byte of its parts.
func (s *Service) AbortUpload(ctx context.Context, bucket, key, uploadID string) error {
	err := s.update(ctx, func(tx catalog.Tx, r *refs) error {
		_, u, err := getUpload(tx, bucket, key, uploadID)
		if err != nil {
			return err
		}
		return s.dropUploadTx(tx, r, u)
	})
	if err == nil {
		s.forgetParts(uploadID)
	}
	return err
}

func (s *Service) abortBucketUploadsTx(tx catalog.Tx, r *refs, bucketID int64) error {
	prefix := u64(bucketID)
	var ids [][]byte
	tx.Scan(tUploadKey, prefix, func(k, _ []byte) bool {
		if !bytes.HasPrefix(k, prefix) {
			return false
		}
		_, id := splitUploadKey(k[len(prefix):])
		ids = append(ids, []byte(id))
		return true
	})
	for _, id := range ids {
		v := tx.Get(tUpload, id)
		if v == nil {
			continue
		}
		u, err := dec[uploadRec](v)
		if err != nil {
			return err
		}
		if err := s.dropUploadTx(tx, r, u); err != nil {
			return err
		}
	}
	return nil
}

// ListUploads lists a bucket's uploads in progress, by key then start time.
func (s *Service) ListUploads(ctx context.Context, bucket string, in ListUploadsInput) (ListUploadsResult, error) {
	var res ListUploadsResult
	max := in.MaxUploads
	if max <= 0 || max > 1000 {
		max = 1000
	}
	err := s.view(ctx, func(tx catalog.Tx) error {
		b, err := getBucketByName(tx, bucket)
		if err != nil {
			return err
		}
		base := u64(b.ID)
		seenPrefix := map[string]bool{}
		pastMarker := in.KeyMarker == ""
		seenMarkerID := false
		var ferr error
		tx.Scan(tUploadKey, cat(base, []byte(in.Prefix)), func(k, _ []byte) bool {
			if !bytes.HasPrefix(k, base) {
				return false
			}
			rest := k[len(base):]
			key, id := splitUploadKey(rest)
			if !strings.HasPrefix(key, in.Prefix) {
				return false
			}
			if !pastMarker {
				// One key's uploads are in start-time order, not ID order:
				// skip up to and including the marker's upload by identity.
				if key < in.KeyMarker || (key == in.KeyMarker && in.UploadIDMarker == "") {
					return true
				}
				if key == in.KeyMarker && !seenMarkerID {
					seenMarkerID = id == in.UploadIDMarker
					return true
				}
				pastMarker = true
			}
			if in.Delimiter != "" {
				if i := strings.Index(key[len(in.Prefix):], in.Delimiter); i >= 0 {
					cp := key[:len(in.Prefix)+i+len(in.Delimiter)]
					if !seenPrefix[cp] && cp != in.KeyMarker {
						if len(res.Uploads)+len(res.CommonPrefixes) >= max {
							res.IsTruncated = true
							return false
						}
						seenPrefix[cp] = true
						res.CommonPrefixes = append(res.CommonPrefixes, cp)
						res.NextKeyMarker, res.NextUploadIDMarker = cp, ""
					}
					return true
				}
			}
			if len(res.Uploads)+len(res.CommonPrefixes) >= max {
				res.IsTruncated = true
				return false
			}
			v := tx.Get(tUpload, []byte(id))
			if v == nil {
				return true
			}
			u, err := dec[uploadRec](v)
			if err != nil {
				ferr = err
				return false
			}
			res.Uploads = append(res.Uploads, u.public(bucket))
			res.NextKeyMarker, res.NextUploadIDMarker = key, id
			return true
		})
		return ferr
	})
	return res, err
}

// ListParts lists an upload's parts after part number marker.
func (s *Service) ListParts(ctx context.Context, bucket, key, uploadID string, marker, max int) (ListPartsResult, error) {
	var res ListPartsResult
	if max <= 0 || max > 1000 {
		max = 1000
	}
	err := s.view(ctx, func(tx catalog.Tx) error {
		_, u, err := getUpload(tx, bucket, key, uploadID)
		if err != nil {
			return err
		}
		res.Upload = u.public(bucket)
		return uploadParts(tx, uploadID, func(p partRec) bool {
			if p.Number <= marker {
				return true
			}
			if len(res.Parts) >= max {
				res.IsTruncated = true
				return false
			}
			part := p.public()
			if part.Checksum != nil {
				part.Checksum.Algorithm = u.CkAlgo
			}
			res.Parts = append(res.Parts, part)
			res.NextPartNumberMarker = p.Number
			return true
		})
	})
	return res, err
}
