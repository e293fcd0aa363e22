package jcsapi

import (
	"context"
	"io"
	"net/http"
	"strconv"

	"jcsgw/gateway"
)

// Buckets.

func (a *api) createBucket(ctx context.Context, c *call) (any, error) {
	var req struct {
		Name *string `json:"name"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	name, err := needString("name", req.Name)
	if err != nil {
		return nil, err
	}
	b, err := a.svc.CreateBucket(ctx, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"bucket": toBucket(b)}, nil
}

func (a *api) getBucketByName(ctx context.Context, c *call) (any, error) {
	name, err := c.q.needStr("name", false)
	if err != nil {
		return nil, err
	}
	b, err := a.svc.BucketByName(ctx, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"bucket": toBucket(b)}, nil
}

func (a *api) listBuckets(ctx context.Context, c *call) (any, error) {
	bs, err := a.svc.ListBuckets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]bucketJSON, 0, len(bs))
	for _, b := range bs {
		out = append(out, toBucket(b))
	}
	return map[string]any{"buckets": out}, nil
}

func (a *api) deleteBucket(ctx context.Context, c *call) (any, error) {
	var req struct {
		BucketID *int64 `json:"bucketID"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	id, err := needID("bucketID", req.BucketID)
	if err != nil {
		return nil, err
	}
	return nil, a.svc.DeleteBucket(ctx, id)
}

// Packages.

func (a *api) createPackage(ctx context.Context, c *call) (any, error) {
	var req struct {
		BucketID *int64  `json:"bucketID"`
		Name     *string `json:"name"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	bid, err := needID("bucketID", req.BucketID)
	if err != nil {
		return nil, err
	}
	name, err := needString("name", req.Name)
	if err != nil {
		return nil, err
	}
	p, err := a.svc.CreatePackage(ctx, bid, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"package": toPackage(p)}, nil
}

func (a *api) getPackageByFullName(ctx context.Context, c *call) (any, error) {
	bucket, err := c.q.needStr("bucketName", false)
	if err != nil {
		return nil, err
	}
	// An absent or empty packageName is the bucket's root package "".
	p, err := a.svc.PackageByName(ctx, bucket, c.q.str("packageName"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"package": toPackage(p)}, nil
}

func (a *api) listBucketPackages(ctx context.Context, c *call, add func(any) error) error {
	bid, err := c.q.id("bucketID")
	if err != nil {
		return err
	}
	return a.svc.EachPackage(ctx, bid, func(p gateway.Package) error { return add(toPackage(p)) })
}

func (a *api) deletePackage(ctx context.Context, c *call) (any, error) {
	var req struct {
		PackageID *int64 `json:"packageID"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	id, err := needID("packageID", req.PackageID)
	if err != nil {
		return nil, err
	}
	return nil, a.svc.DeletePackage(ctx, id)
}

// Objects.

// download streams objectID's bytes [offset, offset+length).
func (a *api) download(w http.ResponseWriter, r *http.Request, q query) error {
	id, err := q.id("objectID")
	if err != nil {
		return err
	}
	off, n, err := window(q)
	if err != nil {
		return err
	}
	o, err := a.svc.ObjectToDownload(r.Context(), id, off, n)
	if err != nil {
		return err
	}
	return a.send(w, r, o, off, n)
}

// downloadByPath streams an object named by packageID and path, or by
// bucketName, packageName and path.
func (a *api) downloadByPath(w http.ResponseWriter, r *http.Request, q query) error {
	path, err := q.needStr("path", false)
	if err != nil {
		return err
	}
	off, n, err := window(q)
	if err != nil {
		return err
	}
	var pkgID int64
	if q.has("packageID") || !q.has("bucketName") {
		if pkgID, err = q.id("packageID"); err != nil {
			return err
		}
	} else {
		p, err := a.svc.PackageByName(r.Context(), q.str("bucketName"), q.str("packageName"))
		if err != nil {
			return err
		}
		pkgID = p.ID
	}
	o, err := a.svc.ObjectToDownloadByPath(r.Context(), pkgID, path, off, n)
	if err != nil {
		return err
	}
	return a.send(w, r, o, off, n)
}

// window reads offset (default 0) and length (absent: to the end).
func window(q query) (off, n int64, err error) {
	if off, _, err = q.nonNegative("offset"); err != nil {
		return 0, 0, err
	}
	n, ok, err := q.nonNegative("length")
	if err != nil {
		return 0, 0, err
	}
	if !ok {
		n = -1
	}
	return off, n, nil
}

// send streams a window of o; an error is returned only before anything
// has been written.
func (a *api) send(w http.ResponseWriter, r *http.Request, o gateway.Object, off, n int64) error {
	rc, err := a.svc.Open(r.Context(), o, off, n)
	if err != nil {
		return err
	}
	defer rc.Close()
	size := o.Size - off
	if n >= 0 && n < size {
		size = n
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	if written, err := io.Copy(w, rc); err != nil || written != size {
		// The status is sent: all that is left is to cut the connection
		// short so the client sees a truncated body, and to log.
		a.log.WarnContext(r.Context(), "download interrupted", "object", o.ID, "sent", written, "want", size, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

func (a *api) listByPath(ctx context.Context, c *call) (any, error) {
	return a.listByPathQuery(ctx, c.q)
}

func (a *api) listByPathQuery(ctx context.Context, q query) (any, error) {
	pid, err := q.id("packageID")
	if err != nil {
		return nil, err
	}
	isPrefix, err := q.bool("isPrefix")
	if err != nil {
		return nil, err
	}
	noRecursive, err := q.bool("noRecursive")
	if err != nil {
		return nil, err
	}
	maxKeys, _, err := q.nonNegative("maxKeys")
	if err != nil {
		return nil, err
	}
	res, err := a.svc.ListByPath(ctx, gateway.ListByPathInput{
		PackageID:         pid,
		Path:              q.str("path"),
		IsPrefix:          isPrefix,
		NoRecursive:       noRecursive,
		MaxKeys:           capKeys(maxKeys, a.lim.MaxListKeys),
		ContinuationToken: q.str("continuationToken"),
	})
	if err != nil {
		return nil, err
	}
	prefixes := res.CommonPrefixes
	if prefixes == nil {
		prefixes = []string{}
	}
	return struct {
		NextContinuationToken string       `json:"nextContinuationToken"`
		IsTruncated           bool         `json:"isTruncated"`
		CommonPrefixes        []string     `json:"commonPrefixes"`
		Objects               []objectJSON `json:"objects"`
	}{res.NextContinuationToken, res.IsTruncated, prefixes, toObjects(res.Objects)}, nil
}

// capKeys is a listByPath page size: absent or 0 = the largest page, and
// never more than limit.
func capKeys(n int64, limit int) int {
	if n <= 0 || n > int64(limit) {
		return limit
	}
	return int(n)
}

func (a *api) getPackageObjects(ctx context.Context, c *call, add func(any) error) error {
	pid, err := c.q.id("packageID")
	if err != nil {
		return err
	}
	return a.svc.EachPackageObject(ctx, pid, func(o gateway.Object) error { return add(toObject(o)) })
}

func (a *api) move(ctx context.Context, c *call) (any, error) {
	var req struct {
		Movings *[]struct {
			ObjectID  *int64  `json:"objectID"`
			PackageID *int64  `json:"packageID"`
			Path      *string `json:"path"`
		} `json:"movings"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	if req.Movings == nil {
		return nil, badArg("movings is required")
	}
	moves := make([]gateway.Moving, 0, len(*req.Movings))
	for i, m := range *req.Movings {
		oid, pid, path, err := a.target(ctx, "movings", i, m.ObjectID, "packageID", m.PackageID, "path", m.Path)
		if err != nil {
			return nil, err
		}
		moves = append(moves, gateway.Moving{ObjectID: oid, PackageID: pid, Path: path})
	}
	moved, err := a.svc.Move(ctx, moves)
	if err != nil {
		return nil, err
	}
	if moved == nil {
		moved = []int64{}
	}
	return map[string]any{"successes": moved}, nil
}

func (a *api) deleteObjects(ctx context.Context, c *call) (any, error) {
	var req struct {
		ObjectIDs *[]int64 `json:"objectIDs"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	if req.ObjectIDs == nil {
		return nil, badArg("objectIDs is required")
	}
	for i, id := range *req.ObjectIDs {
		if _, err := needID("objectIDs["+strconv.Itoa(i)+"]", &id); err != nil {
			return nil, err
		}
	}
	return nil, a.svc.DeleteObjects(ctx, *req.ObjectIDs)
}

func (a *api) clone(ctx context.Context, c *call) (any, error) {
	var req struct {
		Clonings *[]struct {
			ObjectID     *int64  `json:"objectID"`
			NewPath      *string `json:"newPath"`
			NewPackageID *int64  `json:"newPackageID"`
		} `json:"clonings"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	if req.Clonings == nil {
		return nil, badArg("clonings is required")
	}
	clones := make([]gateway.Cloning, 0, len(*req.Clonings))
	for i, cl := range *req.Clonings {
		oid, pid, path, err := a.target(ctx, "clonings", i, cl.ObjectID, "newPackageID", cl.NewPackageID, "newPath", cl.NewPath)
		if err != nil {
			return nil, err
		}
		clones = append(clones, gateway.Cloning{ObjectID: oid, NewPackageID: pid, NewPath: path})
	}
	res, err := a.svc.Clone(ctx, clones)
	if err != nil {
		return nil, err
	}
	out := make([]*objectJSON, len(res))
	for i, o := range res {
		if o != nil {
			j := toObject(*o)
			out[i] = &j
		}
	}
	return map[string]any{"objects": out}, nil
}

func (a *api) newMultipartUpload(ctx context.Context, c *call) (any, error) {
	var req struct {
		PackageID *int64  `json:"packageID"`
		Path      *string `json:"path"`
		Affinity  *int64  `json:"affinity"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	pid, err := needID("packageID", req.PackageID)
	if err != nil {
		return nil, err
	}
	path, err := needString("path", req.Path)
	if err != nil {
		return nil, err
	}
	space, err := optSpace("affinity", req.Affinity)
	if err != nil {
		return nil, err
	}
	if err := a.checkPackagePath(ctx, "path", pid, path); err != nil {
		return nil, err
	}
	o, err := a.svc.NewMultipartObject(ctx, pid, path, space)
	if err != nil {
		return nil, err
	}
	return map[string]any{"object": toObject(o)}, nil
}

func (a *api) completeMultipartUpload(ctx context.Context, c *call) (any, error) {
	var req struct {
		ObjectID *int64   `json:"objectID"`
		Indexes  *[]int64 `json:"indexes"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	oid, err := needID("objectID", req.ObjectID)
	if err != nil {
		return nil, err
	}
	if req.Indexes == nil {
		return nil, badArg("indexes is required")
	}
	if err := a.checkIndexCount("indexes", len(*req.Indexes)); err != nil {
		return nil, err
	}
	idx := make([]int, 0, len(*req.Indexes))
	for i, n := range *req.Indexes {
		v, err := checkIndex("indexes["+strconv.Itoa(i)+"]", n)
		if err != nil {
			return nil, err
		}
		idx = append(idx, v)
	}
	o, err := a.svc.CompleteMultipartObject(ctx, oid, idx)
	if err != nil {
		return nil, err
	}
	return map[string]any{"object": toObject(o)}, nil
}

// Presigned variants: arguments in the query, data in the raw body.

func (a *api) presignedUpload(ctx context.Context, r *http.Request, q query) (any, error) {
	pid, err := q.id("packageID")
	if err != nil {
		return nil, err
	}
	path, err := q.needStr("path", false)
	if err != nil {
		return nil, err
	}
	space, err := q.space("affinity")
	if err != nil {
		return nil, err
	}
	limit := a.lim.PutLimit()
	if err := gateway.CheckSize("the object", r.ContentLength, limit); err != nil {
		return nil, err
	}
	if err := a.checkPackagePath(ctx, "path", pid, path); err != nil {
		return nil, err
	}
	o, err := a.svc.PutObject(ctx, pid, path, gateway.PutInput{
		Body: gateway.LimitBody(r.Body, "the object", limit), Size: r.ContentLength, SpaceID: space,
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"object": toObject(o)}, nil
}

func (a *api) presignedListByPath(ctx context.Context, r *http.Request, q query) (any, error) {
	return a.listByPathQuery(ctx, q)
}

func (a *api) presignedNewMultipartUpload(ctx context.Context, r *http.Request, q query) (any, error) {
	pid, err := q.id("packageID")
	if err != nil {
		return nil, err
	}
	path, err := q.needStr("path", false)
	if err != nil {
		return nil, err
	}
	space, err := q.space("affinity")
	if err != nil {
		return nil, err
	}
	if err := a.checkPackagePath(ctx, "path", pid, path); err != nil {
		return nil, err
	}
	o, err := a.svc.NewMultipartObject(ctx, pid, path, space)
	if err != nil {
		return nil, err
	}
	return map[string]any{"object": toObject(o)}, nil
}

func (a *api) presignedUploadPart(ctx context.Context, r *http.Request, q query) (any, error) {
	oid, err := q.id("objectID")
	if err != nil {
		return nil, err
	}
	n, ok, err := q.int("index")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, badArg("index is required")
	}
	index, err := checkIndex("index", n)
	if err != nil {
		return nil, err
	}
	limit := a.lim.PartLimit()
	if err := gateway.CheckSize("the part", r.ContentLength, limit); err != nil {
		return nil, err
	}
	o, err := a.svc.Object(ctx, oid)
	if err != nil {
		return nil, err
	}
	if err := a.checkObjectRoom(o.Size, max(r.ContentLength, 0)); err != nil {
		return nil, err
	}
	// A body of unknown length may fill what the object has room for.
	limit = min(limit, a.lim.MaxObjectSize-o.Size)
	if err := a.svc.UploadObjectPart(ctx, oid, index, gateway.LimitBody(r.Body, "the part", limit), r.ContentLength); err != nil {
		return nil, err
	}
	return noData{}, nil
}

func (a *api) presignedCompleteMultipartUpload(ctx context.Context, r *http.Request, q query) (any, error) {
	oid, err := q.id("objectID")
	if err != nil {
		return nil, err
	}
	idx, err := q.indexes("indexes")
	if err != nil {
		return nil, err
	}
	if err := a.checkIndexCount("indexes", len(idx)); err != nil {
		return nil, err
	}
	o, err := a.svc.CompleteMultipartObject(ctx, oid, idx)
	if err != nil {
		return nil, err
	}
	return map[string]any{"object": toObject(o)}, nil
}

// target reads one item of a move or clone list: an object and the package
// and path it goes to, each required, errors naming list[i].field.
func (a *api) target(ctx context.Context, list string, i int, objectID *int64, pkgField string, pkgID *int64, pathField string, path *string) (int64, int64, string, error) {
	f := func(name string) string { return list + "[" + strconv.Itoa(i) + "]." + name }
	oid, err := needID(f("objectID"), objectID)
	if err != nil {
		return 0, 0, "", err
	}
	pid, err := needID(f(pkgField), pkgID)
	if err != nil {
		return 0, 0, "", err
	}
	p, err := needString(f(pathField), path)
	if err != nil {
		return 0, 0, "", err
	}
	if err := a.checkPackagePath(ctx, f(pathField), pid, p); err != nil {
		return 0, 0, "", err
	}
	return oid, pid, p, nil
}
