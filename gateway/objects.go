package gateway

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"strings"

	"jcsgw/catalog"
)

func getObj(tx catalog.Tx, id int64) (objRec, error) {
	return getObjWith(tx, id, dec[objRec])
}

// getObjToRead is getObj for a record only read (see decObjForRead).
func getObjToRead(tx catalog.Tx, id int64) (objRec, error) {
	return getObjWith(tx, id, decObjForRead)
}

func getObjWith(tx catalog.Tx, id int64, decode func([]byte) (objRec, error)) (objRec, error) {
	v := tx.Get(tObj, u64(id))
	if v == nil {
		return objRec{}, errorf(CodeNoSuchKey, "object %d does not exist", id)
	}
	o, err := decode(v)
	if err != nil {
		return o, err
	}
	return o, checkBucketOf(tx, o.BucketID)
}

func pathKey(pkgID int64, path string) []byte { return cat(u64(pkgID), []byte(path)) }

func keyIdxKey(bucketID int64, pkg, path string) []byte {
	return cat(u64(bucketID), []byte(JoinKey(pkg, path)))
}

func (o objRec) public(pkgName string) Object {
	return Object{
		ID: o.ID, PackageID: o.PackageID, BucketID: o.BucketID, PackageName: pkgName,
		Path: o.Path, Size: o.Size, FileHash: o.FileHash, ETag: o.ETag, Redundancy: o.Redundancy,
		CreateTime: o.Created, UpdateTime: o.Updated, SpaceID: o.SpaceID, Meta: o.Meta,
		Tags: o.Tags, Checksum: o.Checksum, PartsCount: o.Parts, PartSizes: o.PartSizes, Blocks: o.Blocks,
	}
}

// visible tells whether S3 sees the object: JCS multipart objects in
// progress are not S3 objects yet.
func (o objRec) visible() bool { return o.Redundancy != RedundancyMultipart }

func objectOf(tx catalog.Tx, o objRec) (Object, error) {
	p, err := getPackage(tx, o.PackageID)
	if err != nil {
		return Object{}, err
	}
	return o.public(p.Name), nil
}

// Object returns an object by ID.
func (s *Service) Object(ctx context.Context, id int64) (Object, error) {
	return s.objectByID(ctx, id, nil)
}

// ObjectToDownload is Object for a /v1 download of bytes [off, off+n) of
// it (n < 0: to the end), readied as ObjectToRead readies a window: the
// object is for that download only (and for its metadata).
func (s *Service) ObjectToDownload(ctx context.Context, id, off, n int64) (Object, error) {
	return s.objectByID(ctx, id, downloadWindow(off, n))
}

func (s *Service) objectByID(ctx context.Context, id int64, w Window) (Object, error) {
	var out Object
	err := s.view(ctx, func(tx catalog.Tx) error {
		o, err := w.get(tx, id)
		if err != nil {
			return err
		}
		if out, err = objectOf(tx, o); err != nil {
			return err
		}
		_, _, err = w.ready(&out, o)
		return err
	})
	return out, err
}

func findObj(tx catalog.Tx, pkgID int64, path string) (objRec, bool, error) {
	return findObjWith(tx, pkgID, path, getObj)
}

func findObjWith(tx catalog.Tx, pkgID int64, path string, get func(catalog.Tx, int64) (objRec, error)) (objRec, bool, error) {
	v := tx.Get(tPathIdx, pathKey(pkgID, path))
	if v == nil {
		return objRec{}, false, nil
	}
	o, err := get(tx, getU64(v))
	return o, err == nil, err
}

// ObjectByPath returns the object at path in a package.
func (s *Service) ObjectByPath(ctx context.Context, pkgID int64, path string) (Object, error) {
	return s.objectByPath(ctx, pkgID, path, nil)
}

// ObjectToDownloadByPath is ObjectByPath for a /v1 download of bytes
// [off, off+n), as ObjectToDownload.
func (s *Service) ObjectToDownloadByPath(ctx context.Context, pkgID int64, path string, off, n int64) (Object, error) {
	return s.objectByPath(ctx, pkgID, path, downloadWindow(off, n))
}

func (s *Service) objectByPath(ctx context.Context, pkgID int64, path string, w Window) (Object, error) {
	var out Object
	err := s.view(ctx, func(tx catalog.Tx) error {
		p, err := getPackage(tx, pkgID)
		if err != nil {
			return err
		}
		o, ok, err := findObjWith(tx, pkgID, path, w.get)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(CodeNoSuchKey, "no object at path %q in package %d", path, pkgID)
		}
		out = o.public(p.Name)
		_, _, err = w.ready(&out, o)
		return err
	})
	return out, err
}

// Window chooses the bytes [off, off+n) of an object a read wants, once
// the object is known; n = 0 reads nothing (a HEAD). An error refuses the
// read.
type Window func(o *Object) (off, n int64, err error)

// downloadWindow is the Window of a /v1 download of bytes [off, off+n)
// (n < 0: to the end). One outside the object reads nothing: Open refuses
// it before it needs a block.
func downloadWindow(off, n int64) Window {
	return func(o *Object) (int64, int64, error) {
		if off < 0 || off >= o.Size {
			return off, 0, nil
		}
		if n < 0 || n > o.Size-off {
			return off, o.Size - off, nil
		}
		return off, n, nil
	}
}

// get reads an object record: whole without a window (for any use), for
// this read only with one (see decObjForRead).
func (w Window) get(tx catalog.Tx, id int64) (objRec, error) {
	if w == nil {
		return getObj(tx, id)
	}
	return getObjToRead(tx, id)
}

// ready asks w which bytes of o to read and takes their blocks out of rec,
// o's record as get read it, so that o can be opened for those bytes only
// (for none if n <= 0). A record whose blocks were all decoded needs
// nothing taken out; without a window there is nothing to do.
func (w Window) ready(o *Object, rec objRec) (off, n int64, err error) {
	if w == nil {
		return 0, 0, nil
	}
	if off, n, err = w(o); err != nil || rec.blocksRaw == nil {
		return off, n, err
	}
	o.window = true
	if n > 0 {
		o.Blocks, o.windowAt, err = blocksWindow(rec.blocksRaw, off, n)
	}
	return off, n, err
}

// removeObjTx deletes an object of package p and its index entries and
// drops its references. The package stays: callers that remove objects
// one by one drop it once it is left empty (dropIfUnused).
func (s *Service) removeObjTx(tx catalog.Tx, r *refs, p pkgRec, o objRec) error {
	if err := tx.Delete(tPathIdx, pathKey(o.PackageID, o.Path)); err != nil {
		return err
	}
	if err := tx.Delete(tKeyIdx, keyIdxKey(o.BucketID, p.Name, o.Path)); err != nil {
		return err
	}
	if err := tx.Delete(tObj, u64(o.ID)); err != nil {
		return err
	}
	if err := r.addBlocks(tx, o.SpaceID, o.Blocks, -1); err != nil {
		return err
	}
	return s.dropJPartsTx(tx, r, o)
}

// writeObjTx stores o (new or replacing the record with the same ID) and
// its index entries.
func writeObjTx(tx catalog.Tx, pkgName string, o objRec) error {
	if err := tx.Put(tObj, u64(o.ID), enc(o)); err != nil {
		return err
	}
	id := u64(o.ID)
	if err := tx.Put(tPathIdx, pathKey(o.PackageID, o.Path), id); err != nil {
		return err
	}
	k := keyIdxKey(o.BucketID, pkgName, o.Path)
	if o.visible() {
		return tx.Put(tKeyIdx, k, encListEntry(o))
	}
	return tx.Delete(tKeyIdx, k)
}

// checkDigests verifies what the client claimed about the body it sent.
func checkDigests(st *staged, in *PutInput) error {
	if in.ContentMD5 != "" {
		want, err := base64.StdEncoding.DecodeString(in.ContentMD5)
		if err != nil || len(want) != md5.Size {
			return errorf(CodeInvalidDigest, "the Content-MD5 you specified is not valid")
		}
		if hex.EncodeToString(want) != st.md5 {
			return errorf(CodeBadDigest, "the Content-MD5 you specified did not match what we received")
		}
	}
	if in.Expected != nil {
		if want := in.Expected(); want != "" && want != st.ck {
			return errorf(CodeBadDigest, "the %s checksum you specified did not match the calculated checksum", st.algo)
		}
	}
	return nil
}

// putTx places a staged single-blob body at (pkg, path), replacing what is
// there in place: same object ID and create time, new update time.
func (s *Service) putTx(tx catalog.Tx, r *refs, p pkgRec, path string, st *staged, in *PutInput) (objRec, error) {
	old, exists, err := findObj(tx, p.ID, path)
	if err != nil {
		return objRec{}, err
	}
	if err := checkWriteConditions(old, exists && old.visible(), in.IfMatch, in.IfNoneMatch); err != nil {
		return objRec{}, err
	}
	now := s.now()
	o := objRec{
		PackageID: p.ID, BucketID: p.BucketID, Path: path,
		Size: st.block.Size, FileHash: st.block.Hash, ETag: st.md5,
		Redundancy: RedundancyNone, Created: now, Updated: now, SpaceID: st.space,
		Meta: in.Meta, Tags: in.Tags, Blocks: []Block{st.block},
	}
	if st.ck != "" {
		o.Checksum = &Checksum{Algorithm: st.algo, Value: st.ck, Type: ChecksumFullObject}
	}
	if err := s.takeSlot(tx, r, &o, old, exists); err != nil {
		return objRec{}, err
	}
	if err := r.add(tx, st.space, st.block.Hash, 1); err != nil {
		return objRec{}, err
	}
	return o, writeObjTx(tx, p.Name, o)
}

// takeSlot gives o the identity of the object it replaces (same ID and
// create time; the old content and parts released), or a new ID.
func (s *Service) takeSlot(tx catalog.Tx, r *refs, o *objRec, old objRec, exists bool) error {
	if !exists {
		id, err := tx.NextID("object")
		o.ID = id
		return err
	}
	o.ID, o.Created = old.ID, old.Created
	if err := r.addBlocks(tx, old.SpaceID, old.Blocks, -1); err != nil {
		return err
	}
	return s.dropJPartsTx(tx, r, old)
}

// checkWriteConditions applies S3 conditional-write headers to the object
// currently at the key.
func checkWriteConditions(cur objRec, exists bool, ifMatch, ifNoneMatch string) error {
	if ifNoneMatch != "" {
		if ifNoneMatch != "*" {
			return errorf(CodeNotImplemented, "If-None-Match on writes supports only '*'")
		}
		if exists {
			return errorf(CodePreconditionFailed, "an object already exists at this key")
		}
	}
	if ifMatch != "" {
		if !exists {
			return errorf(CodeNoSuchKey, "no object exists at this key to match If-Match")
		}
		if !etagMatches(ifMatch, cur.ETag) {
			return errorf(CodePreconditionFailed, "the object's ETag does not match If-Match")
		}
	}
	return nil
}

// PutObject writes one object into a package through /v1.
func (s *Service) PutObject(ctx context.Context, pkgID int64, path string, in PutInput) (Object, error) {
	var pkgName string
	if err := s.view(ctx, func(tx catalog.Tx) error {
		p, err := getPackage(tx, pkgID)
		pkgName = p.Name
		return err
	}); err != nil {
		return Object{}, err
	}
	if err := ValidatePath(pkgName, path); err != nil {
		return Object{}, err
	}
	st, err := s.stage(ctx, in.SpaceID, in.Body, in.Size, in.ChecksumAlgorithm)
	if err != nil {
		return Object{}, err
	}
	if err := checkDigests(st, &in); err != nil {
		st.discard()
		return Object{}, err
	}
	var out objRec
	err = s.commit(ctx, []*staged{st}, func(tx catalog.Tx, r *refs) error {
		p, err := getPackage(tx, pkgID)
		if err != nil {
			return err
		}
		pkgName = p.Name
		out, err = s.putTx(tx, r, p, path, st, &in)
		return err
	})
	return out.public(pkgName), err
}

// Staged is an uploaded body held in a temp blob until CommitUploads; it
// lets a multipart form send its files before saying where they go.
type Staged struct{ st *staged }

// Discard throws a staged body away.
func (s *Staged) Discard() { s.st.discard() }

// Size is the staged body's length.
func (s *Staged) Size() int64 { return s.st.block.Size }

// Stage writes body to a temp blob of a user space (0 = default).
func (s *Service) Stage(ctx context.Context, spaceID int64, body io.Reader) (*Staged, error) {
	st, err := s.stage(ctx, spaceID, body, -1, "")
	if err != nil {
		return nil, err
	}
	// It waits for the files after it: only its own bytes stay in memory.
	if t, ok := st.w.(interface{ Trim() }); ok {
		t.Trim()
	}
	return &Staged{st}, nil
}

// StagedFile pairs a staged body with its path.
type StagedFile struct {
	Path string
	Body *Staged
}

// CommitUploads places staged files into a package in one transaction: all
// of them become visible together, or none does.
func (s *Service) CommitUploads(ctx context.Context, pkgID int64, files []StagedFile) ([]Object, error) {
	return s.CommitUploadsTo(ctx, pkgID, 0, files)
}

// CommitUploadsTo is CommitUploads with the files' bytes kept in user space
// spaceID (0 = default); files staged elsewhere are moved there first.
func (s *Service) CommitUploadsTo(ctx context.Context, pkgID, spaceID int64, files []StagedFile) ([]Object, error) {
	blobs := make([]*staged, 0, len(files))
	for i, f := range files {
		st, err := s.relocate(ctx, f.Body.st, spaceID)
		if err != nil {
			for _, g := range files[i+1:] {
				g.Body.Discard()
			}
			for _, b := range blobs {
				b.discard()
			}
			return nil, err
		}
		f.Body.st = st
		blobs = append(blobs, st)
	}
	var pkgName string
	if err := s.view(ctx, func(tx catalog.Tx) error {
		p, err := getPackage(tx, pkgID)
		pkgName = p.Name
		return err
	}); err != nil {
		for _, b := range blobs {
			b.discard()
		}
		return nil, err
	}
	for _, f := range files {
		if err := ValidatePath(pkgName, f.Path); err != nil {
			for _, b := range blobs {
				b.discard()
			}
			return nil, err
		}
	}
	out := make([]Object, len(files))
	err := s.commit(ctx, blobs, func(tx catalog.Tx, r *refs) error {
		p, err := getPackage(tx, pkgID)
		if err != nil {
			return err
		}
		for i, f := range files {
			o, err := s.putTx(tx, r, p, f.Path, f.Body.st, &PutInput{})
			if err != nil {
				return err
			}
			out[i] = o.public(p.Name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Open reads n bytes of an object from off; n < 0 reads to the end.
func (s *Service) Open(ctx context.Context, o Object, off, n int64) (io.ReadCloser, error) {
	if o.Redundancy == RedundancyMultipart && o.Size > 0 {
		return nil, errorf(CodeBadArgument, "object %d is a multipart upload in progress: complete it before reading it", o.ID)
	}
	if off < 0 || off > o.Size {
		return nil, errorf(CodeInvalidRange, "offset %d is outside the object (size %d)", off, o.Size)
	}
	if n < 0 || off+n > o.Size {
		n = o.Size - off
	}
	if n == 0 {
		// Nothing to read: no need for the store (or for the empty blob
		// that empty objects share to still be there).
		return io.NopCloser(strings.NewReader("")), nil
	}
	st, err := s.space(o.SpaceID)
	if err != nil {
		return nil, wrapErr(CodeOperationFailed, err, "the user space holding this object is not available")
	}
	if o.window {
		// Only the blocks of the window ObjectToRead readied are here.
		if off < o.windowAt || off+n > o.windowAt+blocksSize(o.Blocks) {
			return nil, errorf(CodeOperationFailed, "bytes %d-%d of object %d were not readied for this read", off, off+n-1, o.ID)
		}
		off -= o.windowAt
	}
	if len(o.Blocks) == 1 {
		rc, err := st.Open(ctx, o.Blocks[0].Hash, off, n)
		if err != nil {
			return nil, wrapErr(CodeOperationFailed, err, "cannot read the object's data")
		}
		return rc, nil
	}
	return &blocksReader{ctx: ctx, st: st, blocks: o.Blocks, off: off, left: n}, nil
}

// blocksReader reads a window of an object made of several blobs, opening
// each blob only when the window reaches it.
type blocksReader struct {
	ctx    context.Context
	st     ShardStore
	blocks []Block
	off    int64 // within the remaining blocks
	left   int64
	cur    io.ReadCloser
}

func (b *blocksReader) Read(p []byte) (int, error) {
	for {
		if b.left <= 0 {
			return 0, io.EOF
		}
		if b.cur == nil {
			for len(b.blocks) > 0 && b.off >= b.blocks[0].Size {
				b.off -= b.blocks[0].Size
				b.blocks = b.blocks[1:]
			}
			if len(b.blocks) == 0 {
				return 0, io.ErrUnexpectedEOF
			}
			n := min(b.blocks[0].Size-b.off, b.left)
			rc, err := b.st.Open(b.ctx, b.blocks[0].Hash, b.off, n)
			if err != nil {
				return 0, err
			}
			b.cur, b.off, b.blocks = rc, 0, b.blocks[1:]
		}
		if len(p) == 0 {
			return 0, nil // WriteTo's way to open the next block
		}
		if int64(len(p)) > b.left {
			p = p[:b.left]
		}
		n, err := b.cur.Read(p)
		b.left -= int64(n)
		if err == io.EOF {
			b.cur.Close()
			b.cur = nil
			err = nil
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
}

func (b *blocksReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for b.left > 0 {
		if b.cur == nil {
			// Open the next block through Read's logic with an empty read.
			if _, err := b.Read(nil); err != nil && !errors.Is(err, io.EOF) {
				return total, err
			}
			if b.cur == nil {
				if b.left > 0 {
					continue
				}
				break
			}
		}
		n, err := io.Copy(w, b.cur)
		total += n
		b.left -= n
		b.cur.Close()
		b.cur = nil
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (b *blocksReader) Close() error {
	if b.cur != nil {
		return b.cur.Close()
	}
	return nil
}

// PackageObjects returns every object of a package in path order.
func (s *Service) PackageObjects(ctx context.Context, pkgID int64) ([]Object, error) {
	out := []Object{}
	err := s.EachPackageObject(ctx, pkgID, func(o Object) error {
		out = append(out, o)
		return nil
	})
	return out, err
}

// packagePage is how many items EachPackageObject and EachPackage read per
// transaction.
const packagePage = 1000

// EachPackageObject calls fn with every object of a package in path order,
// reading a page of them per read transaction and calling fn between
// transactions: a reply of any size is written as it is read, with neither
// the whole list in memory nor a read transaction held open while the
// client is slow. The package's absence is reported before any call of fn;
// a package removed meanwhile ends the list, and objects written or removed
// meanwhile may or may not be seen, as in any paged listing. fn's error
// stops it and is returned.
func (s *Service) EachPackageObject(ctx context.Context, pkgID int64, fn func(Object) error) error {
	return eachInPages(ctx, s, CodeNoSuchPackage, func(tx catalog.Tx, after *Object, out []Object) ([]Object, bool, error) {
		p, err := getPackage(tx, pkgID)
		if err != nil {
			return out, false, err
		}
		pg := page{max: packagePage}
		if after != nil {
			pg.after = after.Path
		}
		err = walk(tx, tPathIdx, u64(pkgID), &pg, func(_ string, v []byte) (bool, error) {
			o, err := getObj(tx, getU64(v))
			if err != nil {
				return false, err
			}
			out = append(out, o.public(p.Name))
			return true, nil
		})
		return out, pg.truncated, err
	}, fn)
}

// eachInPages calls fn with every item of a list that read returns a page
// at a time, each page in a read transaction of its own (read appends up to
// packagePage items after the item after, nil for the first page, to out,
// and says whether more follow), fn between transactions. An error of the
// first page is returned; a later page's error of code gone (the list's
// owner removed meanwhile) ends the list.
func eachInPages[T any](ctx context.Context, s *Service, gone Code, read func(tx catalog.Tx, after *T, out []T) ([]T, bool, error), fn func(T) error) error {
	items := make([]T, 0, packagePage)
	var after *T
	for first := true; ; first = false {
		var more bool
		err := s.view(ctx, func(tx catalog.Tx) error {
			var err error
			items, more, err = read(tx, after, items[:0])
			if err != nil && !first && CodeOf(err) == gone {
				items, more, err = items[:0], false, nil
			}
			return err
		})
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if !more || len(items) == 0 {
			return nil
		}
		last := items[len(items)-1]
		after = &last
	}
}

// Move renames objects. A move whose object or package is missing, or whose
// target path is taken, is skipped; the IDs really moved are returned.
func (s *Service) Move(ctx context.Context, moves []Moving) ([]int64, error) {
	moved := []int64{}
	err := s.update(ctx, func(tx catalog.Tx, r *refs) error {
		moved = moved[:0]
		for _, m := range moves {
			o, err := getObj(tx, m.ObjectID)
			if err != nil {
				continue
			}
			dst, err := getPackage(tx, m.PackageID)
			if err != nil || ValidatePath(dst.Name, m.Path) != nil {
				continue
			}
			if _, taken, _ := findObj(tx, dst.ID, m.Path); taken {
				continue
			}
			src, err := getPackage(tx, o.PackageID)
			if err != nil {
				return err
			}
			if err := tx.Delete(tPathIdx, pathKey(o.PackageID, o.Path)); err != nil {
				return err
			}
			if err := tx.Delete(tKeyIdx, keyIdxKey(o.BucketID, src.Name, o.Path)); err != nil {
				return err
			}
			from := o.Path
			o.PackageID, o.BucketID, o.Path, o.Updated = dst.ID, dst.BucketID, m.Path, s.now()
			if err := writeObjTx(tx, dst.Name, o); err != nil {
				return err
			}
			if src.ID != dst.ID {
				if err := s.dropIfUnused(tx, r, src, from); err != nil {
					return err
				}
			}
			moved = append(moved, o.ID)
		}
		return nil
	})
	return moved, err
}

// DeleteObjects removes objects by ID; absent ones are ignored. It commits
// deleteChunk objects per transaction, as DeletePackage does: a failure
// leaves the chunks before it deleted.
func (s *Service) DeleteObjects(ctx context.Context, ids []int64) error {
	for len(ids) > deleteChunk {
		if err := s.deleteObjects(ctx, ids[:deleteChunk]); err != nil {
			return err
		}
		ids = ids[deleteChunk:]
	}
	return s.deleteObjects(ctx, ids)
}

// deleteObjects is DeleteObjects for at most deleteChunk objects: one
// transaction.
func (s *Service) deleteObjects(ctx context.Context, ids []int64) error {
	return s.update(ctx, func(tx catalog.Tx, r *refs) error {
		for _, id := range ids {
			o, err := getObj(tx, id)
			if err != nil {
				continue
			}
			p, err := getPackage(tx, o.PackageID)
			if err != nil {
				return err
			}
			if err := s.removeObjTx(tx, r, p, o); err != nil {
				return err
			}
			if err := s.dropIfUnused(tx, r, p, o.Path); err != nil {
				return err
			}
		}
		return nil
	})
}

// Clone copies objects to new paths without copying bytes: the copies share
// the originals' blobs. The answer is aligned with the request, nil where an
// item was skipped (missing object or package, or target path taken).
func (s *Service) Clone(ctx context.Context, clones []Cloning) ([]*Object, error) {
	out := make([]*Object, len(clones))
	err := s.update(ctx, func(tx catalog.Tx, r *refs) error {
		clear(out)
		for i, c := range clones {
			o, err := getObj(tx, c.ObjectID)
			if err != nil || o.Redundancy == RedundancyMultipart {
				continue
			}
			dst, err := getPackage(tx, c.NewPackageID)
			if err != nil || ValidatePath(dst.Name, c.NewPath) != nil {
				continue
			}
			if _, taken, _ := findObj(tx, dst.ID, c.NewPath); taken {
				continue
			}
			id, err := tx.NextID("object")
			if err != nil {
				return err
			}
			now := s.now()
			n := o
			n.ID, n.PackageID, n.BucketID, n.Path, n.Created, n.Updated = id, dst.ID, dst.BucketID, c.NewPath, now, now
			n.Blocks = append([]Block(nil), o.Blocks...)
			n.Tags = maps.Clone(o.Tags)
			if err := r.addBlocks(tx, n.SpaceID, n.Blocks, 1); err != nil {
				return err
			}
			if err := writeObjTx(tx, dst.Name, n); err != nil {
				return err
			}
			obj := n.public(dst.Name)
			out[i] = &obj
		}
		return nil
	})
	return out, err
}
