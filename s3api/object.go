package s3api

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"jcsgw/gateway"
)

// getObject serves GetObject and HeadObject.
func (rq *req) getObject() error {
	ctx := rq.ctx()
	h := rq.w.Header()
	var (
		rng       *byteRange
		status    = http.StatusOK
		off, n    int64
		conds     = parseConditions(rq.r.Header, "")
		wantsBody = rq.r.Method != http.MethodHead
	)
	// Chosen while the object is looked up, so that only the blocks the
	// reply reads are taken from its record.
	window := func(o *gateway.Object) (int64, int64, error) {
		if err := gateway.CheckConditions(*o, conds); err != nil {
			return 0, 0, err
		}
		var err error
		if pn := rq.q.Get("partNumber"); pn != "" {
			if rq.r.Header.Get("Range") != "" {
				return 0, 0, errInvalidRequest("Cannot specify both Range header and partNumber query parameter")
			}
			if rng, err = partRange(o, pn, rq.api.opts.Limits.MaxParts); err != nil {
				return 0, 0, err
			}
		} else if rng, err = parseRange(rq.r.Header.Get("Range"), o.Size); err != nil {
			return 0, 0, err
		}
		off, n = 0, o.Size
		if rng != nil {
			status, off, n = http.StatusPartialContent, rng.off, rng.n
		}
		if !wantsBody {
			return off, 0, nil
		}
		return off, n, nil
	}
	o, _, _, err := rq.api.svc.ObjectToRead(ctx, rq.bucket, rq.key, window)
	if err != nil {
		if gateway.CodeOf(err) == gateway.CodeNotModified {
			h.Set("ETag", quoteETag(o.ETag))
			h.Set("Last-Modified", httpTime(o.UpdateTime))
		}
		return err
	}
	var rc io.ReadCloser
	if wantsBody && n > 0 {
		if rc, err = rq.api.svc.Open(ctx, o, off, n); err != nil {
			return err
		}
		defer rc.Close()
	}
	setObjectHeaders(h, &o)
	if rng == nil && strings.EqualFold(rq.r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") {
		// Only a whole-object read carries the whole object's checksum.
		setChecksumHeaders(h, o.Checksum)
	}
	for _, ov := range responseOverrides {
		if v := rq.q.Get(ov[0]); v != "" {
			h.Set(ov[1], v)
		}
	}
	if rng != nil {
		h.Set("Content-Range", "bytes "+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(off+n-1, 10)+"/"+strconv.FormatInt(o.Size, 10))
	}
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	rq.w.WriteHeader(status)
	if rc == nil {
		return nil
	}
	if _, err := io.Copy(rq.w, rc); err != nil {
		// The status line is gone; end the connection so the client sees a
		// short body rather than a clean end.
		rq.api.log.Warn("s3 object read failed mid-reply", "requestId", rq.id, "bucket", rq.bucket, "key", rq.key, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// partRange is the range of part pn of an object. A single-upload object has
// one part, the whole object.
func partRange(o *gateway.Object, pn string, maxParts int) (*byteRange, error) {
	n, err := strconv.Atoi(pn)
	if err != nil || n < 1 || n > maxParts {
		return nil, errInvalidArgument("Part number must be an integer between 1 and %d, inclusive", maxParts)
	}
	parts := max(o.PartsCount, 1)
	if n > parts {
		return nil, s3Error("InvalidPartNumber", http.StatusRequestedRangeNotSatisfiable, "The requested partnumber is not satisfiable")
	}
	if o.PartsCount == 0 {
		if o.Size == 0 {
			return nil, nil
		}
		return &byteRange{0, o.Size}, nil
	}
	if len(o.PartSizes) != o.PartsCount {
		return nil, errNotImplemented("Reading this object by part number is not supported")
	}
	var off int64
	for _, size := range o.PartSizes[:n-1] {
		off += size
	}
	if o.PartSizes[n-1] == 0 {
		return nil, nil
	}
	return &byteRange{off, o.PartSizes[n-1]}, nil
}

// putInput is what PutObject and UploadPart read from a request. what names
// the body in errors ("the object", "the part") and limit bounds it: a body
// that announces more (Content-Length, or x-amz-decoded-content-length for
// aws-chunked bodies) is refused before a byte of it is read, and one of
// unknown length fails, storing nothing, once it runs past the limit.
func (rq *req) putInput(withMeta bool, what string, limit int64) (gateway.PutInput, error) {
	r := rq.r
	in := gateway.PutInput{
		Body: gateway.LimitBody(r.Body, what, limit), Size: r.ContentLength, ContentMD5: r.Header.Get("Content-MD5"),
	}
	if err := gateway.CheckSize(what, r.ContentLength, limit); err != nil {
		return in, err
	}
	ck, err := parseChecksum(r)
	if err != nil {
		return in, err
	}
	in.ChecksumAlgorithm, in.Expected = ck.algo, ck.expected
	if !withMeta {
		return in, nil
	}
	if err := checkUnsupportedWriteHeaders(r.Header); err != nil {
		return in, err
	}
	lim := &rq.api.opts.Limits
	if in.Meta, err = parseMeta(r.Header, lim); err != nil {
		return in, err
	}
	if in.Tags, err = parseTagHeader(r.Header.Get("X-Amz-Tagging"), lim); err != nil {
		return in, err
	}
	in.IfMatch, in.IfNoneMatch = r.Header.Get("If-Match"), r.Header.Get("If-None-Match")
	return in, nil
}

func (rq *req) putObject() error {
	in, err := rq.putInput(true, "the object", rq.api.opts.Limits.PutLimit())
	if err != nil {
		return err
	}
	o, err := rq.api.svc.PutKey(rq.ctx(), rq.bucket, rq.key, in)
	if err != nil {
		return err
	}
	h := rq.w.Header()
	h.Set("ETag", quoteETag(o.ETag))
	setChecksumHeaders(h, o.Checksum)
	rq.noContent(http.StatusOK)
	return nil
}

func (rq *req) deleteObject() error {
	if err := rq.api.svc.DeleteKey(rq.ctx(), rq.bucket, rq.key); err != nil {
		return err
	}
	rq.noContent(http.StatusNoContent)
	return nil
}

func (rq *req) deleteObjects() error {
	ctx := rq.ctx()
	var dr deleteRequest
	// Keys of up to MaxKeyLength bytes, each escaped up to 6 times over
	// ("&quot;"), with room for the elements around them: 8 MiB for 1,000.
	lim := &rq.api.opts.Limits
	if err := rq.readXML(&dr, int64(lim.MaxDeleteKeys+1)*int64(8*lim.MaxKeyLength+256)); err != nil {
		return err
	}
	if len(dr.Objects) == 0 || len(dr.Objects) > lim.MaxDeleteKeys {
		// As S3 answers more than its 1,000 keys.
		return errMalformedXML()
	}
	if _, err := rq.api.svc.BucketByName(ctx, rq.bucket); err != nil {
		return err
	}
	type outcome struct {
		key string
		err *apiError
	}
	results := make([]outcome, len(dr.Objects))
	var keys []string
	var at []int // keys[j] is dr.Objects[at[j]]'s
	for i, obj := range dr.Objects {
		switch {
		case obj.Key == nil || *obj.Key == "":
			results[i] = outcome{"", s3Error("UserKeyMustBeSpecified", http.StatusBadRequest, "The request was missing a required key")}
		case obj.VersionID != "" && obj.VersionID != "null":
			results[i] = outcome{*obj.Key, errInvalidArgument("Invalid version id specified")}
		default:
			results[i].key = *obj.Key
			keys, at = append(keys, *obj.Key), append(at, i)
		}
	}
	for j, err := range rq.api.svc.DeleteKeys(ctx, rq.bucket, keys) {
		if err != nil {
			results[at[j]].err = toAPIError(err)
		}
	}
	res := deleteResult{}
	for _, o := range results {
		switch {
		case o.err != nil:
			if o.err.Status >= 500 {
				rq.api.log.Error("s3 delete failed", "requestId", rq.id, "bucket", rq.bucket, "key", o.key, "err", o.err.cause)
			}
			res.Errors = append(res.Errors, deleteErrorXML{Key: o.key, Code: o.err.Code, Message: o.err.Message})
		case !dr.Quiet:
			res.Deleted = append(res.Deleted, deletedXML{Key: o.key})
		}
	}
	return rq.writeXML(http.StatusOK, res)
}

// directive reads a COPY/REPLACE directive header.
func directive(h http.Header, name string) (replace bool, err error) {
	switch v := h.Get(name); v {
	case "", "COPY":
		return false, nil
	case "REPLACE":
		return true, nil
	default:
		return false, errInvalidArgument("Unknown %s directive: %q", strings.ToLower(name), v)
	}
}

func (rq *req) copyObject() error {
	h := rq.r.Header
	srcBucket, srcKey, err := parseCopySource(h.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	if err := checkUnsupportedWriteHeaders(h); err != nil {
		return err
	}
	in := gateway.CopyInput{
		SrcBucket: srcBucket, SrcKey: srcKey, DstBucket: rq.bucket, DstKey: rq.key,
		SrcConditions:     parseConditions(h, "X-Amz-Copy-Source-"),
		ChecksumAlgorithm: strings.ToUpper(h.Get("X-Amz-Checksum-Algorithm")),
		IfMatch:           h.Get("If-Match"), IfNoneMatch: h.Get("If-None-Match"),
	}
	if in.ReplaceMeta, err = directive(h, "X-Amz-Metadata-Directive"); err != nil {
		return err
	}
	lim := &rq.api.opts.Limits
	if in.ReplaceMeta {
		if in.Meta, err = parseMeta(h, lim); err != nil {
			return err
		}
	}
	if in.ReplaceTags, err = directive(h, "X-Amz-Tagging-Directive"); err != nil {
		return err
	}
	if in.ReplaceTags {
		if in.Tags, err = parseTagHeader(h.Get("X-Amz-Tagging"), lim); err != nil {
			return err
		}
	}
	ctx := rq.ctx()
	return rq.slowXML(func() (any, error) {
		o, err := rq.api.svc.CopyKey(ctx, in)
		if err != nil {
			return nil, err
		}
		res := copyObjectResult{ETag: quoteETag(o.ETag), LastModified: isoTime(o.UpdateTime)}
		if o.Checksum != nil {
			res.set(o.Checksum.Algorithm, o.Checksum.Value)
			res.ChecksumType = o.Checksum.Type
		}
		return res, nil
	})
}

func (rq *req) getTagging() error {
	o, err := rq.api.svc.ObjectByKey(rq.ctx(), rq.bucket, rq.key)
	if err != nil {
		return err
	}
	return rq.writeXML(http.StatusOK, tagging{Xmlns: ns, TagSet: tagSet(o.Tags)})
}

func (rq *req) putTagging() error {
	var t tagging
	if err := rq.readXML(&t, maxConfigBody); err != nil {
		return err
	}
	tags, err := tagsFromXML(t.TagSet, &rq.api.opts.Limits)
	if err != nil {
		return err
	}
	if len(tags) == 0 {
		tags = nil
	}
	if err := rq.api.svc.SetTags(rq.ctx(), rq.bucket, rq.key, tags); err != nil {
		return err
	}
	rq.noContent(http.StatusOK)
	return nil
}

func (rq *req) deleteTagging() error {
	if err := rq.api.svc.SetTags(rq.ctx(), rq.bucket, rq.key, nil); err != nil {
		return err
	}
	rq.noContent(http.StatusNoContent)
	return nil
}
