package s3api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"jcsgw/gateway"
)

func (rq *req) createUpload() error {
	h := rq.r.Header
	if err := checkUnsupportedWriteHeaders(h); err != nil {
		return err
	}
	lim := &rq.api.opts.Limits
	meta, err := parseMeta(h, lim)
	if err != nil {
		return err
	}
	tags, err := parseTagHeader(h.Get("X-Amz-Tagging"), lim)
	if err != nil {
		return err
	}
	u, err := rq.api.svc.CreateUpload(rq.ctx(), rq.bucket, rq.key, gateway.Upload{
		Meta: meta, Tags: tags,
		ChecksumAlgorithm: strings.ToUpper(h.Get("X-Amz-Checksum-Algorithm")),
		ChecksumType:      strings.ToUpper(h.Get("X-Amz-Checksum-Type")),
	})
	if err != nil {
		return err
	}
	if u.ChecksumAlgorithm != "" {
		rq.w.Header().Set("X-Amz-Checksum-Algorithm", u.ChecksumAlgorithm)
		rq.w.Header().Set("X-Amz-Checksum-Type", u.ChecksumType)
	}
	return rq.writeXML(http.StatusOK, initiateMultipartUploadResult{Bucket: rq.bucket, Key: rq.key, UploadID: u.ID})
}

// partParams reads uploadId and partNumber.
func (rq *req) partParams() (string, int, error) {
	id := rq.q.Get("uploadId")
	if id == "" {
		return "", 0, errInvalidArgument("This operation needs the uploadId and partNumber query parameters")
	}
	maxParts := rq.api.opts.Limits.MaxParts
	n, err := strconv.Atoi(rq.q.Get("partNumber"))
	if err != nil || n < 1 || n > maxParts {
		return "", 0, errInvalidArgument("Part number must be an integer between 1 and %d, inclusive", maxParts)
	}
	return id, n, nil
}

func (rq *req) uploadPart() error {
	id, n, err := rq.partParams()
	if err != nil {
		return err
	}
	in, err := rq.putInput(false, "the part", rq.api.opts.Limits.PartLimit())
	if err != nil {
		return err
	}
	p, err := rq.api.svc.UploadPart(rq.ctx(), rq.bucket, rq.key, id, n, in)
	if err != nil {
		return err
	}
	h := rq.w.Header()
	h.Set("ETag", quoteETag(p.ETag))
	if p.Checksum != nil && p.Checksum.Value != "" {
		algo := p.Checksum.Algorithm
		if algo == "" {
			algo = in.ChecksumAlgorithm
		}
		if algo != "" {
			h.Set("X-Amz-Checksum-"+strings.ToLower(algo), p.Checksum.Value)
		}
	}
	rq.noContent(http.StatusOK)
	return nil
}

func (rq *req) uploadPartCopy() error {
	ctx := rq.ctx()
	id, n, err := rq.partParams()
	if err != nil {
		return err
	}
	h := rq.r.Header
	srcBucket, srcKey, err := parseCopySource(h.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	src, err := rq.api.svc.ObjectByKey(ctx, srcBucket, srcKey)
	if err != nil {
		return err
	}
	if err := gateway.CheckConditions(src, parseConditions(h, "X-Amz-Copy-Source-")); err != nil {
		if gateway.CodeOf(err) == gateway.CodeNotModified {
			return s3Error("PreconditionFailed", http.StatusPreconditionFailed, "%s", gateway.MessageOf(err))
		}
		return err
	}
	off, size := int64(0), src.Size
	if spec := h.Get("X-Amz-Copy-Source-Range"); spec != "" {
		if off, size, err = parseCopyRange(spec, src.Size); err != nil {
			return err
		}
	}
	if err := gateway.CheckSize("the part", size, rq.api.opts.Limits.PartLimit()); err != nil {
		return err
	}
	return rq.slowXML(func() (any, error) {
		p, err := rq.api.svc.UploadPartCopy(ctx, rq.bucket, rq.key, id, n, src, off, size)
		if err != nil {
			return nil, err
		}
		res := copyPartResult{ETag: quoteETag(p.ETag), LastModified: isoTime(p.LastModified)}
		if p.Checksum != nil {
			res.set(p.Checksum.Algorithm, p.Checksum.Value)
		}
		return res, nil
	})
}

func (rq *req) completeUpload() error {
	id := rq.q.Get("uploadId")
	var cm completeMultipartUpload
	// 10,000 parts of a few hundred bytes each.
	if err := rq.readXML(&cm, 16<<20); err != nil {
		return err
	}
	if len(cm.Parts) == 0 {
		return errMalformedXML()
	}
	if maxParts := rq.api.opts.Limits.MaxParts; len(cm.Parts) > maxParts {
		return errInvalidArgument("At most %d parts may be listed; part numbers go from 1 to %d", maxParts, maxParts)
	}
	parts := make([]gateway.CompletePart, 0, len(cm.Parts))
	for _, p := range cm.Parts {
		if p.PartNumber == nil {
			return errMalformedXML()
		}
		parts = append(parts, gateway.CompletePart{Number: *p.PartNumber, ETag: p.ETag, Checksum: p.any()})
	}
	if err := rq.checkAssembledSize(id, parts); err != nil {
		return err
	}
	h := rq.r.Header
	ifMatch, ifNoneMatch := h.Get("If-Match"), h.Get("If-None-Match")
	ctx, loc := rq.ctx(), rq.location()
	return rq.slowXML(func() (any, error) {
		o, err := rq.api.svc.CompleteUpload(ctx, rq.bucket, rq.key, id, parts, ifMatch, ifNoneMatch)
		if err != nil {
			return nil, err
		}
		res := completeMultipartUploadResult{Location: loc, Bucket: rq.bucket, Key: rq.key, ETag: quoteETag(o.ETag)}
		if o.Checksum != nil {
			res.set(o.Checksum.Algorithm, o.Checksum.Value)
			res.ChecksumType = o.Checksum.Type
		}
		return res, nil
	})
}

// checkAssembledSize refuses a completion whose listed parts add up to more
// than the largest object allowed, before anything is assembled. It reads
// the upload's part sizes only when the listed count could exceed it.
func (rq *req) checkAssembledSize(uploadID string, list []gateway.CompletePart) error {
	lim := &rq.api.opts.Limits
	if int64(len(list)) <= lim.MaxObjectSize/max(lim.PartLimit(), 1) {
		return nil
	}
	listed := make(map[int]bool, len(list))
	for _, p := range list {
		listed[p.Number] = true
	}
	var total int64
	for marker := 0; ; {
		res, err := rq.api.svc.ListParts(rq.ctx(), rq.bucket, rq.key, uploadID, marker, 1000)
		if err != nil {
			return err
		}
		for _, p := range res.Parts {
			if listed[p.Number] {
				total += p.Size
			}
		}
		if !res.IsTruncated || res.NextPartNumberMarker <= marker {
			break
		}
		marker = res.NextPartNumberMarker
	}
	return gateway.CheckSize("the assembled object", total, lim.MaxObjectSize)
}

// location is the object's URL as the client addressed the server.
func (rq *req) location() string {
	scheme := "http"
	if rq.r.TLS != nil {
		scheme = "https"
	}
	p := "/" + rq.bucket + "/" + rq.key
	if rq.vhost {
		p = "/" + rq.key
	}
	return scheme + "://" + rq.r.Host + (&url.URL{Path: p}).EscapedPath()
}

func (rq *req) abortUpload() error {
	if err := rq.api.svc.AbortUpload(rq.ctx(), rq.bucket, rq.key, rq.q.Get("uploadId")); err != nil {
		return err
	}
	rq.noContent(http.StatusNoContent)
	return nil
}

func (rq *req) listUploads() error {
	lq, err := rq.parseListQuery()
	if err != nil {
		return err
	}
	maxUploads, err := parseMaxInt(rq.q, "max-uploads", rq.api.opts.Limits.MaxListKeys, rq.api.opts.Limits.MaxListKeys)
	if err != nil {
		return err
	}
	keyMarker, idMarker := rq.q.Get("key-marker"), rq.q.Get("upload-id-marker")
	res, err := rq.api.svc.ListUploads(rq.ctx(), rq.bucket, gateway.ListUploadsInput{
		Prefix: lq.prefix, Delimiter: lq.delimiter, KeyMarker: keyMarker, UploadIDMarker: idMarker, MaxUploads: maxUploads,
	})
	if err != nil {
		return err
	}
	out := listMultipartUploadsResult{
		Bucket: rq.bucket, KeyMarker: lq.enc(keyMarker), UploadIDMarker: idMarker,
		Delimiter: lq.enc(lq.delimiter), Prefix: lq.enc(lq.prefix), MaxUploads: maxUploads,
		IsTruncated: res.IsTruncated, EncodingType: lq.encodingType(),
		Uploads: []uploadXML{}, CommonPrefixes: lq.prefixes(res.CommonPrefixes),
	}
	if res.IsTruncated {
		out.NextKeyMarker, out.NextUploadIDMarker = lq.enc(res.NextKeyMarker), res.NextUploadIDMarker
	}
	own := rq.owner()
	for _, u := range res.Uploads {
		out.Uploads = append(out.Uploads, uploadXML{
			Key: lq.enc(u.Key), UploadID: u.ID, Initiator: own, Owner: own,
			StorageClass: "STANDARD", Initiated: isoTime(u.Initiated),
			ChecksumAlgorithm: u.ChecksumAlgorithm, ChecksumType: u.ChecksumType,
		})
	}
	return rq.writeXML(http.StatusOK, out)
}

func (rq *req) listParts() error {
	marker := 0
	if s := rq.q.Get("part-number-marker"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return errInvalidArgument("Provided part-number-marker not an integer or within integer range")
		}
		marker = n
	}
	maxParts, err := parseMaxInt(rq.q, "max-parts", rq.api.opts.Limits.MaxListKeys, rq.api.opts.Limits.MaxListKeys)
	if err != nil {
		return err
	}
	id := rq.q.Get("uploadId")
	res, err := rq.api.svc.ListParts(rq.ctx(), rq.bucket, rq.key, id, marker, maxParts)
	if err != nil {
		return err
	}
	own := rq.owner()
	out := listPartsResult{
		Bucket: rq.bucket, Key: rq.key, UploadID: id, PartNumberMarker: marker,
		NextPartNumberMarker: res.NextPartNumberMarker, MaxParts: maxParts, IsTruncated: res.IsTruncated,
		Initiator: own, Owner: own, StorageClass: "STANDARD",
		ChecksumAlgorithm: res.Upload.ChecksumAlgorithm, ChecksumType: res.Upload.ChecksumType,
		Parts: []partXML{},
	}
	for _, p := range res.Parts {
		x := partXML{PartNumber: p.Number, LastModified: isoTime(p.LastModified), ETag: quoteETag(p.ETag), Size: p.Size}
		if p.Checksum != nil {
			x.set(p.Checksum.Algorithm, p.Checksum.Value)
		}
		out.Parts = append(out.Parts, x)
	}
	return rq.writeXML(http.StatusOK, out)
}
