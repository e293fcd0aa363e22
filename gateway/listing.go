package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"

	"jcsgw/catalog"
)

// Listing page sizes.
const (
	DefaultMaxKeys = 1000
	MaxMaxKeys     = 1000
)

// EncodeToken makes an opaque continuation token from the last item of a
// page; DecodeToken reverses it.
func EncodeToken(last string) string {
	if last == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(last))
}

// DecodeToken reads a token made by EncodeToken.
func DecodeToken(tok string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) == 0 {
		return "", errorf(CodeBadArgument, "the continuation token is not valid")
	}
	return string(b), nil
}

// successor is the smallest string greater than every string that starts
// with p ("" if there is none).
func successor(p string) string {
	b := []byte(p)
	for len(b) > 0 {
		if b[len(b)-1] < 0xff {
			b[len(b)-1]++
			return string(b)
		}
		b = b[:len(b)-1]
	}
	return ""
}

// page is one walk over an ordered index of "base + key" entries.
type page struct {
	prefix, delimiter, after string
	max                      int
	commonPrefixes           []string
	truncated                bool
	last                     string
}

// walk visits, in key order, the keys of table under base that start with
// prefix and come after p.after, rolling keys that hold the delimiter after
// the prefix into common prefixes. It seeks past each common prefix, so a
// page costs O(page) however many keys it rolls up. visit returns whether
// the entry counts as an item of the page (hidden entries do not).
func walk(tx catalog.Tx, table string, base []byte, p *page, visit func(key string, v []byte) (bool, error)) error {
	items := 0
	start := p.prefix
	if p.after != "" && p.after >= start {
		start = p.after + "\x00"
		if p.delimiter != "" && strings.HasPrefix(p.after, p.prefix) {
			rest := p.after[len(p.prefix):]
			if i := strings.Index(rest, p.delimiter); i >= 0 && i+len(p.delimiter) == len(rest) {
				// after is a common prefix: skip everything rolled into it.
				if start = successor(p.after); start == "" {
					return nil
				}
			}
		}
	}
	full := cat(base, []byte(p.prefix))
	for {
		var seek string
		var err error
		done := true
		tx.Scan(table, cat(base, []byte(start)), func(k, v []byte) bool {
			if !bytes.HasPrefix(k, full) {
				return false
			}
			key := string(k[len(base):])
			if p.delimiter != "" {
				if i := strings.Index(key[len(p.prefix):], p.delimiter); i >= 0 {
					cp := key[:len(p.prefix)+i+len(p.delimiter)]
					if items >= p.max {
						p.truncated = true
						return false
					}
					p.commonPrefixes = append(p.commonPrefixes, cp)
					items++
					p.last = cp
					if seek = successor(cp); seek != "" {
						done = false
					}
					return false
				}
			}
			if items >= p.max {
				p.truncated = true
				return false
			}
			var counted bool
			if counted, err = visit(key, v); err != nil {
				return false
			}
			if counted {
				items++
				p.last = key
			}
			return true
		})
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		start = seek
	}
}

// ListByPath answers a JCS listByPath query over one package.
func (s *Service) ListByPath(ctx context.Context, in ListByPathInput) (ListByPathResult, error) {
	res := ListByPathResult{Objects: []Object{}, CommonPrefixes: []string{}}
	max := in.MaxKeys
	if max <= 0 {
		max = DefaultMaxKeys
	}
	max = min(max, MaxMaxKeys)
	var after string
	if in.ContinuationToken != "" {
		var err error
		if after, err = DecodeToken(in.ContinuationToken); err != nil {
			return res, err
		}
	}
	err := s.view(ctx, func(tx catalog.Tx) error {
		pkg, err := getPackage(tx, in.PackageID)
		if err != nil {
			return err
		}
		if !in.IsPrefix {
			if o, ok, err := findObj(tx, in.PackageID, in.Path); err != nil {
				return err
			} else if ok {
				res.Objects = append(res.Objects, o.public(pkg.Name))
			}
			return nil
		}
		p := &page{prefix: in.Path, after: after, max: max}
		if in.NoRecursive {
			p.delimiter = "/"
		}
		err = walk(tx, tPathIdx, u64(in.PackageID), p, func(_ string, v []byte) (bool, error) {
			o, err := getObj(tx, getU64(v))
			if err != nil {
				return false, err
			}
			res.Objects = append(res.Objects, o.public(pkg.Name))
			return true, nil
		})
		if err != nil {
			return err
		}
		res.CommonPrefixes = append(res.CommonPrefixes, p.commonPrefixes...)
		res.IsTruncated = p.truncated
		if p.truncated {
			res.NextContinuationToken = EncodeToken(p.last)
		}
		return nil
	})
	return res, err
}

// ListKeys returns one page of an S3 listing of a bucket, in the byte order
// of full keys across package boundaries.
func (s *Service) ListKeys(ctx context.Context, bucket string, in ListKeysInput) (ListKeysResult, error) {
	var objs []Object
	res, err := s.ListKeysEach(ctx, bucket, in, func(o *Object) {
		c := *o
		if o.Checksum != nil {
			ck := *o.Checksum
			c.Checksum = &ck
		}
		objs = append(objs, c)
	})
	res.Objects = objs
	return res, err
}

// ListKeysEach is ListKeys for a caller that consumes the page's objects as
// they are read, in key order, so that a page is never held as a slice of
// Objects (a 1000-key page of them is a large allocation to clear and
// collect). The result's Objects stays empty. The *Object and what it
// points to are reused from call to call: copy what is kept. fn runs inside
// the catalog's read transaction: it must be quick and must not block.
func (s *Service) ListKeysEach(ctx context.Context, bucket string, in ListKeysInput, fn func(*Object)) (ListKeysResult, error) {
	res := ListKeysResult{}
	err := s.view(ctx, func(tx catalog.Tx) error {
		b, err := getBucketByName(tx, bucket)
		if err != nil {
			return err
		}
		if in.MaxKeys <= 0 {
			return nil
		}
		p := &page{prefix: in.Prefix, delimiter: in.Delimiter, after: in.After, max: min(in.MaxKeys, MaxMaxKeys)}
		var pkgNames map[int64]pkgRec
		var o Object
		var ck Checksum
		err = walk(tx, tKeyIdx, u64(b.ID), p, func(key string, v []byte) (bool, error) {
			if len(v) == 0 { // an explicit package's folder marker
				pkgName, _ := SplitKey(key)
				pk, ok, err := findPackage(tx, b.ID, pkgName)
				if err != nil || !ok {
					return false, err
				}
				o = markerObject(pk)
				fn(&o)
				return true, nil
			}
			if decListEntry(&o, &ck, key, v) {
				o.BucketID = b.ID
				fn(&o)
				return true, nil
			}
			r, err := getObj(tx, getU64(v)) // an entry written before list entries
			if err != nil {
				return false, err
			}
			pk, ok := pkgNames[r.PackageID]
			if !ok {
				if pk, err = getPackage(tx, r.PackageID); err != nil {
					return false, err
				}
				if pkgNames == nil {
					pkgNames = map[int64]pkgRec{}
				}
				pkgNames[r.PackageID] = pk
			}
			o = r.public(pk.Name)
			fn(&o)
			return true, nil
		})
		if err != nil {
			return err
		}
		res.CommonPrefixes = p.commonPrefixes
		res.IsTruncated = p.truncated
		res.NextAfter = p.last
		return nil
	})
	return res, err
}

// md5 of nothing: the ETag of a zero-byte object.
const emptyMD5 = "d41d8cd98f00b204e9800998ecf8427e"

// emptySHA is the fileHash of zero bytes.
const emptySHA = "FullE3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"

// markerObject is how S3 sees an explicit package: the zero-byte key "P/".
func markerObject(p pkgRec) Object {
	return Object{
		PackageID: p.ID, BucketID: p.BucketID, PackageName: p.Name, Path: "",
		FileHash: emptySHA, ETag: emptyMD5, Redundancy: RedundancyNone,
		CreateTime: p.Created, UpdateTime: p.Created, SpaceID: DefaultSpaceID,
		Meta: Meta{ContentType: "application/x-directory"},
	}
}

// A key-index entry carries what an S3 listing shows of its object, so that
// a page of keys is read from the index alone, without decoding one object
// record per key: ID, size, update time, ETag, checksum algorithm and type.
func encListEntry(o objRec) []byte {
	var ckAlgo, ckType string
	if o.Checksum != nil {
		ckAlgo, ckType = o.Checksum.Algorithm, o.Checksum.Type
	}
	b := make([]byte, 0, 24+3+len(o.ETag)+len(ckAlgo)+len(ckType))
	b = binary.BigEndian.AppendUint64(b, uint64(o.ID))
	b = binary.BigEndian.AppendUint64(b, uint64(o.Size))
	b = binary.BigEndian.AppendUint64(b, uint64(o.Updated.UnixNano()))
	for _, f := range []string{o.ETag, ckAlgo, ckType} {
		b = append(b, byte(len(f)))
		b = append(b, f...)
	}
	return b
}

// decListEntry decodes an entry made by encListEntry into *o, and its
// checksum, if any, into *ck (which o then points to); false means v is not
// such an entry.
func decListEntry(o *Object, ck *Checksum, key string, v []byte) bool {
	if len(v) < 27 {
		return false
	}
	rest := v[24:]
	var fields [3][]byte
	for i := range fields {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return false
		}
		fields[i], rest = rest[1:1+int(rest[0])], rest[1+int(rest[0]):]
	}
	pkg, path := SplitKey(key)
	t := time.Unix(0, int64(binary.BigEndian.Uint64(v[16:])))
	*o = Object{
		ID: int64(binary.BigEndian.Uint64(v)), Size: int64(binary.BigEndian.Uint64(v[8:])),
		CreateTime: t, UpdateTime: t, PackageName: pkg, Path: path, Redundancy: RedundancyNone,
		ETag: string(fields[0]),
	}
	if len(fields[1]) > 0 {
		*ck = Checksum{Algorithm: checksumName(fields[1]), Type: checksumName(fields[2])}
		o.Checksum = ck
	}
	return true
}

// checksumName is string(b) without an allocation for the few names there
// are: most S3 clients now send a checksum with every PUT.
func checksumName(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case ChecksumCRC32:
		return ChecksumCRC32
	case ChecksumCRC32C:
		return ChecksumCRC32C
	case ChecksumSHA1:
		return ChecksumSHA1
	case ChecksumSHA256:
		return ChecksumSHA256
	case ChecksumCRC64NVME:
		return ChecksumCRC64NVME
	case ChecksumFullObject:
		return ChecksumFullObject
	case ChecksumComposite:
		return ChecksumComposite
	}
	return string(b)
}
