package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"sort"
	"strings"
)

// SigV2 (HMAC-SHA1) for S3, header form "Authorization: AWS AKID:sig" and
// query form "?AWSAccessKeyId=&Expires=&Signature=". Its string to sign is
//
//	Method\nContent-MD5\nContent-Type\nDate-or-Expires\nCanonicalizedAmzHeaders CanonicalizedResource
//
// The canonicalized resource always names the bucket (/bucket/key). For
// virtual-host-style requests the bucket is not in the path, and guessing it
// from Host here could let a signature for one resource authorize another;
// the front, which routes the request, says which bucket it addressed with
// WithVirtualHostBucket.

type vhostBucketKey struct{}

// WithVirtualHostBucket returns r marked as addressed virtual-host style to
// bucket, so that SigV2 verification uses "/bucket" + path as the
// canonicalized resource. Call it with the bucket the router resolved from
// Host, pass the returned request to VerifyS3 and keep using it afterwards
// (VerifyS3 may replace its Body, and Trailers reads from that Body). SigV4
// does not need it.
func WithVirtualHostBucket(r *http.Request, bucket string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), vhostBucketKey{}, bucket))
}

func virtualHostBucket(r *http.Request) string {
	b, _ := r.Context().Value(vhostBucketKey{}).(string)
	return b
}

// parseV2Authorization splits "AWS AKID:base64sig". The signature is split
// at the last ':' because base64 never contains one.
func parseV2Authorization(h string) (accessKey string, sig []byte, ok bool) {
	rest, found := strings.CutPrefix(h, "AWS ")
	if !found {
		return "", nil, false
	}
	rest = strings.TrimSpace(rest)
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 || i == len(rest)-1 {
		return "", nil, false
	}
	sig, err := base64.StdEncoding.DecodeString(rest[i+1:])
	if err != nil || len(sig) != sha1.Size {
		return "", nil, false
	}
	return rest[:i], sig, true
}

func (v *Verifier) s3V2Header(r *http.Request, authz string, params []queryParam) (Identity, *Error) {
	ak, sig, ok := parseV2Authorization(authz)
	if !ok {
		return Identity{}, newError(CodeInvalidArgument, "AWS authorization header is invalid. Expected AwsAccessKeyId:signature")
	}
	secret, err := v.secret(ak)
	if err != nil {
		return Identity{}, err
	}
	// x-amz-date wins over Date, for the clock as well as for signing.
	amzDate, date := r.Header.Get("X-Amz-Date"), r.Header.Get("Date")
	ts := amzDate
	if ts == "" {
		ts = date
	}
	t, perr := http.ParseTime(ts)
	if ts == "" || perr != nil {
		return Identity{}, newError(CodeAccessDenied, "AWS authentication requires a valid Date or x-amz-date header")
	}
	if err := v.checkSkew(t); err != nil {
		return Identity{}, err
	}
	// The spec says to sign an empty Date line when x-amz-date is sent,
	// but some signers (botocore) sign the Date header regardless. Both
	// forms cover the same timestamp, since x-amz-date is itself signed
	// as an amz header.
	var dates []string
	if date != "" {
		dates = append(dates, strings.TrimSpace(date))
	}
	if amzDate != "" {
		dates = appendUnique(dates, "")
	}
	if !matchV2(r, params, secret, sig, dates) {
		return Identity{}, signatureMismatch()
	}
	if err := installBody(r, modeUnsigned, "", nil, v4Match{}); err != nil {
		return Identity{}, err
	}
	return Identity{AccessKey: ak}, nil
}

func (v *Verifier) s3V2Query(r *http.Request, params []queryParam) (Identity, *Error) {
	missing := newError(CodeAccessDenied, "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
	get := func(k string) (string, bool) {
		vs := queryValues(params, k)
		return strings.Join(vs, ""), len(vs) == 1 && vs[0] != ""
	}
	ak, ok1 := get("AWSAccessKeyId")
	sigStr, ok2 := get("Signature")
	exp, ok3 := get("Expires")
	if !ok1 || !ok2 || !ok3 {
		return Identity{}, missing
	}
	expires, ok := parseDecimal(exp)
	if !ok {
		return Identity{}, newError(CodeAccessDenied, "Invalid date (should be seconds since epoch)")
	}
	secret, err := v.secret(ak)
	if err != nil {
		return Identity{}, err
	}
	// A '+' in the signature that the client forgot to percent-encode
	// arrives as a space; base64 has no spaces, so undo that.
	sig, derr := base64.StdEncoding.DecodeString(strings.ReplaceAll(sigStr, " ", "+"))
	if derr != nil || len(sig) != sha1.Size || !matchV2(r, params, secret, sig, []string{exp}) {
		return Identity{}, signatureMismatch()
	}
	if v.now().Unix() > expires {
		return Identity{}, expiredError()
	}
	if err := installBody(r, modeUnsigned, "", nil, v4Match{}); err != nil {
		return Identity{}, err
	}
	return Identity{AccessKey: ak}, nil
}

// matchV2 tries each candidate string to sign. Candidates cover signer
// differences the server cannot see: the path as sent or AWS-re-encoded,
// the SigV2 subresource list of older (botocore) or newer (minio-go, AWS
// docs) signers, "?uploads" versus "?uploads=", and the Date line variants.
func matchV2(r *http.Request, params []queryParam, secret string, sig []byte, dates []string) bool {
	prefix := r.Method + "\n" +
		strings.TrimSpace(r.Header.Get("Content-Md5")) + "\n" +
		strings.TrimSpace(r.Header.Get("Content-Type")) + "\n"
	amz := canonicalAmzHeadersV2(r.Header)
	bucket := virtualHostBucket(r)
	var resources []string
	for _, p := range s3Paths(r) {
		if bucket != "" {
			p = "/" + bucket + p
		}
		for _, extended := range []bool{false, true} {
			for _, bare := range []bool{false, true} {
				resources = appendUnique(resources, p+subresourcesV2(params, extended, bare))
			}
		}
	}
	for _, d := range dates {
		for _, res := range resources {
			m := hmac.New(sha1.New, []byte(secret))
			m.Write([]byte(prefix + d + "\n" + amz + res))
			if hmac.Equal(m.Sum(nil), sig) {
				return true
			}
		}
	}
	return false
}

// canonicalAmzHeadersV2 is every x-amz-* header, lowercased and sorted, as
// "name:v1,v2\n".
func canonicalAmzHeadersV2(h http.Header) string {
	vals := map[string][]string{}
	var names []string
	for k, vs := range h {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, "x-amz-") {
			continue
		}
		if _, ok := vals[lk]; !ok {
			names = append(names, lk)
		}
		for _, v := range vs {
			vals[lk] = append(vals[lk], strings.TrimSpace(v))
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(strings.Join(vals[n], ","))
		b.WriteByte('\n')
	}
	return b.String()
}

// subresourcesV2 renders the signed subresources ("?acl&partNumber=2&
// uploadId=x"), sorted by name, values decoded as SigV2 requires. bare drops
// the '=' of empty values.
func subresourcesV2(params []queryParam, extended, bare bool) string {
	var list []queryParam
	for _, p := range params {
		if isSubresourceV2(p.key, extended) {
			list = append(list, p)
		}
	}
	if len(list) == 0 {
		return ""
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].key < list[j].key })
	var b strings.Builder
	for i, p := range list {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		if p.hasEq && !(bare && p.value == "") {
			b.WriteByte('=')
			b.WriteString(p.value)
		}
	}
	return b.String()
}

// isSubresourceV2 is botocore's list of query parameters that SigV2 signs;
// extended adds the ones newer signers also include.
func isSubresourceV2(k string, extended bool) bool {
	switch k {
	case "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete",
		"inventory", "lifecycle", "location", "logging", "metrics", "notification",
		"object-lock", "partNumber", "policy", "replication", "requestPayment",
		"response-cache-control", "response-content-disposition",
		"response-content-encoding", "response-content-language",
		"response-content-type", "response-expires", "restore", "select",
		"select-type", "storageClass", "tagging", "torrent", "uploadId", "uploads",
		"versionId", "versioning", "versions", "website":
		return true
	case "encryption", "legal-hold", "retention":
		return extended
	}
	return false
}
