package s3api

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strings"

	"jcsgw/gateway"
)

func (rq *req) listBuckets() error {
	if rq.r.Method == http.MethodHead {
		return errMethodNotAllowed()
	}
	list, err := rq.api.svc.ListBuckets(rq.ctx())
	if err != nil {
		return err
	}
	prefix := rq.q.Get("prefix")
	res := listAllMyBucketsResult{Owner: rq.owner(), Buckets: []bucketXML{}, Prefix: prefix}
	for _, b := range list {
		if strings.HasPrefix(b.Name, prefix) {
			res.Buckets = append(res.Buckets, bucketXML{Name: b.Name, CreationDate: isoTime(b.CreateTime)})
		}
	}
	return rq.writeXML(http.StatusOK, res)
}

// maxConfigBody bounds the small XML bodies of configuration requests.
const maxConfigBody = 1 << 20

func (rq *req) createBucket() error {
	if err := checkACL(rq.r.Header); err != nil {
		return err
	}
	if strings.EqualFold(rq.r.Header.Get("X-Amz-Bucket-Object-Lock-Enabled"), "true") {
		return errNotImplemented("Object Lock is not supported")
	}
	// Any LocationConstraint is accepted: the store has one place.
	body, err := rq.readBody(maxConfigBody)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		var cfg createBucketConfiguration
		if xml.Unmarshal(body, &cfg) != nil {
			return errMalformedXML()
		}
	}
	if _, err := rq.api.svc.CreateS3Bucket(rq.ctx(), rq.bucket); err != nil {
		return err
	}
	rq.w.Header().Set("Location", "/"+rq.bucket)
	rq.noContent(http.StatusOK)
	return nil
}

func (rq *req) headBucket() error {
	if _, err := rq.api.svc.BucketByName(rq.ctx(), rq.bucket); err != nil {
		return err
	}
	rq.noContent(http.StatusOK)
	return nil
}

func (rq *req) deleteBucket() error {
	if err := rq.api.svc.DeleteBucketIfEmpty(rq.ctx(), rq.bucket); err != nil {
		return err
	}
	rq.noContent(http.StatusNoContent)
	return nil
}

func (rq *req) getBucketLocation() error {
	if _, err := rq.api.svc.BucketByName(rq.ctx(), rq.bucket); err != nil {
		return err
	}
	return rq.writeXML(http.StatusOK, locationConstraint{})
}

func (rq *req) getBucketVersioning() error {
	if _, err := rq.api.svc.BucketByName(rq.ctx(), rq.bucket); err != nil {
		return err
	}
	return rq.writeXML(http.StatusOK, versioningConfiguration{})
}

// getACL answers for a bucket or object with the one ACL there is.
func (rq *req) getACL() error {
	if err := rq.mustExist(); err != nil {
		return err
	}
	body := cannedACL(rq.owner())
	rq.writeRaw(http.StatusOK, []byte(body))
	return nil
}

// putACL accepts what changes nothing: the private canned ACL, or a policy
// granting only FULL_CONTROL to a canonical user.
func (rq *req) putACL() error {
	if err := rq.mustExist(); err != nil {
		return err
	}
	if err := checkACL(rq.r.Header); err != nil {
		return err
	}
	if rq.r.Header.Get("X-Amz-Acl") == "" && rq.r.ContentLength != 0 {
		var p accessControlPolicy
		if err := rq.readXML(&p, maxConfigBody); err != nil {
			return err
		}
		for _, g := range p.Grants {
			if g.Permission != "FULL_CONTROL" || g.Grantee.Type != "CanonicalUser" {
				return errNotImplemented("Access control lists are not supported; only the owner's FULL_CONTROL is accepted")
			}
		}
	}
	rq.noContent(http.StatusOK)
	return nil
}

// mustExist checks that the request's bucket (and key, if any) exists.
func (rq *req) mustExist() error {
	if rq.key == "" {
		_, err := rq.api.svc.BucketByName(rq.ctx(), rq.bucket)
		return err
	}
	_, err := rq.api.svc.ObjectByKey(rq.ctx(), rq.bucket, rq.key)
	return err
}

// listQuery is what both listing versions share.
type listQuery struct {
	prefix, delimiter string
	maxKeys           int
	encode            bool
}

func (rq *req) parseListQuery() (listQuery, error) {
	lq := listQuery{prefix: rq.q.Get("prefix"), delimiter: rq.q.Get("delimiter")}
	switch et := rq.q.Get("encoding-type"); et {
	case "":
	case "url":
		lq.encode = true
	default:
		return lq, errInvalidArgument("Invalid Encoding Method specified in Request")
	}
	var err error
	lim := rq.api.opts.Limits.MaxListKeys
	lq.maxKeys, err = parseMaxInt(rq.q, "max-keys", min(gateway.DefaultMaxKeys, lim), lim)
	return lq, err
}

func (lq listQuery) enc(s string) string {
	if lq.encode {
		return s3URLEncode(s)
	}
	return s
}

func (lq listQuery) encodingType() string {
	if lq.encode {
		return "url"
	}
	return ""
}

func (lq listQuery) prefixes(cps []string) []commonPrefix {
	out := make([]commonPrefix, 0, len(cps))
	for _, p := range cps {
		out = append(out, commonPrefix{lq.enc(p)})
	}
	return out
}

func (rq *req) listObjectsV1() error {
	lq, err := rq.parseListQuery()
	if err != nil {
		return err
	}
	marker := rq.q.Get("marker")
	p := &listPage{
		encode: lq.encode, bucket: rq.bucket, prefix: lq.prefix, delimiter: lq.delimiter, maxKeys: lq.maxKeys,
		marker: marker,
	}
	p.setOwner(rq.owner())
	return rq.writeList(p, gateway.ListKeysInput{
		Prefix: lq.prefix, Delimiter: lq.delimiter, After: marker, MaxKeys: lq.maxKeys,
	})
}

func (rq *req) listObjectsV2() error {
	lq, err := rq.parseListQuery()
	if err != nil {
		return err
	}
	token, startAfter := rq.q.Get("continuation-token"), rq.q.Get("start-after")
	after := startAfter
	if _, ok := rq.q["continuation-token"]; ok {
		if after, err = gateway.DecodeToken(token); err != nil {
			return errInvalidArgument("The continuation token provided is incorrect")
		}
	}
	p := &listPage{
		v2: true, encode: lq.encode, bucket: rq.bucket, prefix: lq.prefix, delimiter: lq.delimiter, maxKeys: lq.maxKeys,
		token: token, startAfter: startAfter,
	}
	if rq.q.Get("fetch-owner") == "true" {
		p.setOwner(rq.owner())
	}
	return rq.writeList(p, gateway.ListKeysInput{
		Prefix: lq.prefix, Delimiter: lq.delimiter, After: after, MaxKeys: lq.maxKeys,
	})
}
