package test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/require"
)

// TestS3Suite runs every S3 operation once per client mode.
func TestS3Suite(t *testing.T) {
	t.Parallel()
	for _, mode := range s3Modes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			e := newS3Env(t, mode)
			for _, c := range []struct {
				name string
				fn   func(*testing.T, *s3Env)
			}{
				{"Buckets", testS3Buckets},
				{"PutGet", testS3PutGet},
				{"Ranges", testS3Ranges},
				{"Conditionals", testS3Conditionals},
				{"Overrides", testS3ResponseOverrides},
				{"Metadata", testS3Metadata},
				{"DeleteObjects", testS3DeleteObjects},
				{"Copy", testS3Copy},
				{"Tagging", testS3Tagging},
				{"Digests", testS3Digests},
				{"Checksums", testS3Checksums},
				{"Auth", testS3Auth},
				{"Presigned", testS3Presigned},
				{"Unsupported", testS3Unsupported},
				{"Multipart", testS3Multipart},
				{"MultipartErrors", testS3MultipartErrors},
				{"ListUploads", testS3ListUploads},
				{"ConditionalWrites", testS3ConditionalWrites},
				{"Folders", testS3Folders},
				{"TrickyKeys", testS3TrickyKeys},
				{"ListingOptions", testS3ListingOptions},
				{"ErrorReplies", testS3ErrorReplies},
			} {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.fn(t, e.with(t))
				})
			}
		})
	}
}

// with is the env reporting failures to t.
func (e *s3Env) with(t testing.TB) *s3Env {
	c := *e
	c.t = t
	return &c
}

var bg = context.Background()

func s3Data(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func md5Hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func md5B64(b []byte) string { s := md5.Sum(b); return base64.StdEncoding.EncodeToString(s[:]) }

func (e *s3Env) put(bucket, key string, body []byte) *s3.PutObjectOutput {
	e.t.Helper()
	out, err := e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)})
	require.NoError(e.t, err)
	return out
}

func (e *s3Env) get(bucket, key string) ([]byte, *s3.GetObjectOutput) {
	e.t.Helper()
	out, err := e.S3.GetObject(bg, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	require.NoError(e.t, err)
	b, err := io.ReadAll(out.Body)
	require.NoError(e.t, err)
	out.Body.Close()
	return b, out
}

func (e *s3Env) listAll(bucket, prefix string) []string {
	e.t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(e.S3, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(bg)
		require.NoError(e.t, err)
		for _, o := range page.Contents {
			keys = append(keys, *o.Key)
		}
	}
	return keys
}

func testS3Buckets(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-basic")
	_, err := e.S3.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b)})
	s3Err(t, err, "BucketAlreadyOwnedByYou", 409)

	// A CreateBucketConfiguration with any location is accepted.
	_, err = e.S3.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String("bkt-located"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1}})
	require.NoError(t, err)

	for _, bad := range []string{"Bad_Name", "ab", "-start", "192.168.1.1", "metrics", strings.Repeat("a", 64)} {
		_, err = e.S3.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(bad)})
		s3Err(t, err, "InvalidBucketName", 400)
	}

	_, err = e.S3.HeadBucket(bg, &s3.HeadBucketInput{Bucket: aws.String(b)})
	require.NoError(t, err)
	_, err = e.S3.HeadBucket(bg, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")})
	s3Err(t, err, "", 404)

	lb, err := e.S3.ListBuckets(bg, &s3.ListBucketsInput{})
	require.NoError(t, err)
	var names []string
	for _, x := range lb.Buckets {
		names = append(names, *x.Name)
		require.WithinDuration(t, time.Now(), *x.CreationDate, time.Hour)
	}
	require.Contains(t, names, "bkt-basic")
	require.Contains(t, names, "bkt-located")
	require.True(t, sort.StringsAreSorted(names))
	require.NotEmpty(t, *lb.Owner.ID)

	loc, err := e.S3.GetBucketLocation(bg, &s3.GetBucketLocationInput{Bucket: aws.String(b)})
	require.NoError(t, err)
	require.Equal(t, types.BucketLocationConstraint(""), loc.LocationConstraint)
	_, err = e.S3.GetBucketLocation(bg, &s3.GetBucketLocationInput{Bucket: aws.String("no-such-bucket")})
	s3Err(t, err, "NoSuchBucket", 404)

	ver, err := e.S3.GetBucketVersioning(bg, &s3.GetBucketVersioningInput{Bucket: aws.String(b)})
	require.NoError(t, err)
	require.Empty(t, ver.Status)

	e.put(b, "k", []byte("x"))
	_, err = e.S3.DeleteBucket(bg, &s3.DeleteBucketInput{Bucket: aws.String(b)})
	s3Err(t, err, "BucketNotEmpty", 409)
	_, err = e.S3.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
	require.NoError(t, err)
	_, err = e.S3.DeleteBucket(bg, &s3.DeleteBucketInput{Bucket: aws.String(b)})
	require.NoError(t, err)
	_, err = e.S3.DeleteBucket(bg, &s3.DeleteBucketInput{Bucket: aws.String(b)})
	s3Err(t, err, "NoSuchBucket", 404)
	_, err = e.S3.HeadBucket(bg, &s3.HeadBucketInput{Bucket: aws.String(b)})
	s3Err(t, err, "", 404)

	// Operations on a missing bucket.
	_, err = e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
	s3Err(t, err, "NoSuchBucket", 404)
	_, err = e.S3.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: aws.String("no-such-bucket")})
	s3Err(t, err, "NoSuchBucket", 404)
	_, err = e.S3.GetObject(bg, &s3.GetObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k")})
	s3Err(t, err, "NoSuchBucket", 404)
}

func testS3PutGet(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-putget")
	for i, size := range []int{0, 1, 1<<20 + 3} {
		data := s3Data(size, uint64(i))
		key := fmt.Sprintf("dir/obj-%d", size)
		out := e.put(b, key, data)
		require.Equal(t, `"`+md5Hex(data)+`"`, *out.ETag)

		got, g := e.get(b, key)
		require.True(t, bytes.Equal(data, got), "size %d: content differs", size)
		require.Equal(t, int64(size), *g.ContentLength)
		require.Equal(t, `"`+md5Hex(data)+`"`, *g.ETag)
		require.Equal(t, "application/octet-stream", *g.ContentType, "the SDK's default")
		require.Equal(t, "bytes", *g.AcceptRanges)
		require.WithinDuration(t, time.Now(), *g.LastModified, time.Minute)

		h, err := e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: &key})
		require.NoError(t, err)
		require.Equal(t, int64(size), *h.ContentLength)
		require.Equal(t, *g.ETag, *h.ETag)
	}
	// An object stored without a Content-Type reads back as binary/octet-stream.
	resp := e.raw("PUT", "/"+b+"/untyped", nil, nil, []byte("u"), e.SK)
	require.Equal(t, 200, resp.StatusCode, string(readAll(t, resp)))
	resp.Body.Close()
	h, err := e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("untyped")})
	require.NoError(t, err)
	require.Equal(t, "binary/octet-stream", *h.ContentType)

	// Overwrite in place.
	e.put(b, "dir/obj-1", []byte("second"))
	got, _ := e.get(b, "dir/obj-1")
	require.Equal(t, "second", string(got))

	_, err = e.S3.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("missing")})
	s3Err(t, err, "NoSuchKey", 404)
	_, err = e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("missing")})
	s3Err(t, err, "", 404)

	// DeleteObject is 204 whether or not the key exists.
	_, err = e.S3.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("dir/obj-0")})
	require.NoError(t, err)
	_, err = e.S3.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("dir/obj-0")})
	require.NoError(t, err)
	_, err = e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("dir/obj-0")})
	s3Err(t, err, "", 404)

	// Keys too long or starting with '/' are refused with a reason.
	_, err = e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String(strings.Repeat("k", 1025)), Body: strings.NewReader("x")})
	s3Err(t, err, "KeyTooLongError", 400)
}

func testS3Ranges(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-ranges")
	data := s3Data(1000, 7)
	e.put(b, "r", data)
	for _, c := range []struct {
		rng       string
		off, n    int
		cr        string
		whole     bool
		wantError bool
	}{
		{rng: "bytes=0-9", off: 0, n: 10, cr: "bytes 0-9/1000"},
		{rng: "bytes=990-", off: 990, n: 10, cr: "bytes 990-999/1000"},
		{rng: "bytes=-5", off: 995, n: 5, cr: "bytes 995-999/1000"},
		{rng: "bytes=-5000", off: 0, n: 1000, cr: "bytes 0-999/1000"},
		{rng: "bytes=500-5000", off: 500, n: 500, cr: "bytes 500-999/1000"},
		{rng: "bytes=999-999", off: 999, n: 1, cr: "bytes 999-999/1000"},
		{rng: "bytes=0-1,5-6", whole: true},
		{rng: "bytes=9-1", whole: true},
		{rng: "chars=0-1", whole: true},
	} {
		out, err := e.S3.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("r"), Range: aws.String(c.rng)})
		require.NoError(t, err, c.rng)
		got, err := io.ReadAll(out.Body)
		require.NoError(t, err)
		out.Body.Close()
		if c.whole {
			require.Equal(t, data, got, c.rng)
			require.Nil(t, out.ContentRange, c.rng)
			continue
		}
		require.Equal(t, data[c.off:c.off+c.n], got, c.rng)
		require.Equal(t, c.cr, aws.ToString(out.ContentRange), c.rng)
		require.Equal(t, int64(c.n), *out.ContentLength)
	}
	for _, rng := range []string{"bytes=1000-", "bytes=5000-6000", "bytes=-0"} {
		_, err := e.S3.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("r"), Range: aws.String(rng)})
		s3Err(t, err, "InvalidRange", 416)
		require.Equal(t, "bytes */1000", s3ErrHeader(t, err, "Content-Range"))
	}
	// HEAD with a range answers like GET, without a body.
	h, err := e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("r"), Range: aws.String("bytes=10-19")})
	require.NoError(t, err)
	require.Equal(t, int64(10), *h.ContentLength)
	require.Equal(t, "bytes 10-19/1000", aws.ToString(h.ContentRange))

	// Any range of an empty object is unsatisfiable.
	e.put(b, "empty", nil)
	_, err = e.S3.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("empty"), Range: aws.String("bytes=0-")})
	s3Err(t, err, "InvalidRange", 416)

	// Part numbers: a single-upload object is one part.
	out, err := e.S3.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("r"), PartNumber: aws.Int32(1)})
	require.NoError(t, err)
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	require.Equal(t, data, got)
	_, err = e.S3.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("r"), PartNumber: aws.Int32(2)})
	s3Err(t, err, "InvalidPartNumber", 416)
}

func testS3Conditionals(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-cond")
	data := []byte("conditional body")
	etag := *e.put(b, "c", data).ETag
	past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)

	get := func(in *s3.GetObjectInput) error {
		in.Bucket, in.Key = &b, aws.String("c")
		out, err := e.S3.GetObject(bg, in)
		if err == nil {
			got, _ := io.ReadAll(out.Body)
			out.Body.Close()
			require.Equal(t, data, got)
		}
		return err
	}
	head := func(in *s3.HeadObjectInput) error {
		in.Bucket, in.Key = &b, aws.String("c")
		_, err := e.S3.HeadObject(bg, in)
		return err
	}
	require.NoError(t, get(&s3.GetObjectInput{IfMatch: &etag}))
	require.NoError(t, get(&s3.GetObjectInput{IfMatch: aws.String("*")}))
	require.NoError(t, get(&s3.GetObjectInput{IfNoneMatch: aws.String(`"0123"`)}))
	require.NoError(t, get(&s3.GetObjectInput{IfModifiedSince: &past}))
	require.NoError(t, get(&s3.GetObjectInput{IfUnmodifiedSince: &future}))

	err := get(&s3.GetObjectInput{IfMatch: aws.String(`"0123"`)})
	s3Err(t, err, "PreconditionFailed", 412)
	err = get(&s3.GetObjectInput{IfUnmodifiedSince: &past})
	s3Err(t, err, "PreconditionFailed", 412)
	err = get(&s3.GetObjectInput{IfNoneMatch: &etag})
	s3Err(t, err, "", 304)
	require.Equal(t, etag, s3ErrHeader(t, err, "ETag"))
	err = get(&s3.GetObjectInput{IfModifiedSince: &future})
	s3Err(t, err, "", 304)
	// If-Match wins over If-Unmodified-Since; If-None-Match over If-Modified-Since.
	require.NoError(t, get(&s3.GetObjectInput{IfMatch: &etag, IfUnmodifiedSince: &past}))
	require.NoError(t, get(&s3.GetObjectInput{IfNoneMatch: aws.String(`"x"`), IfModifiedSince: &future}))

	s3Err(t, head(&s3.HeadObjectInput{IfMatch: aws.String(`"0123"`)}), "", 412)
	s3Err(t, head(&s3.HeadObjectInput{IfNoneMatch: &etag}), "", 304)
	require.NoError(t, head(&s3.HeadObjectInput{IfMatch: &etag}))

	// A 304 has no body even over raw HTTP.
	resp := e.raw("GET", "/"+b+"/c", nil, http.Header{"If-None-Match": {etag}}, nil, e.SK)
	require.Equal(t, 304, resp.StatusCode)
	require.Empty(t, readAll(t, resp))
}

func testS3ResponseOverrides(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-overrides")
	e.put(b, "o", []byte("hello"))
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	out, err := e.S3.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("o"),
		ResponseContentType:        aws.String("text/x-test"),
		ResponseContentLanguage:    aws.String("fr"),
		ResponseExpires:            &exp,
		ResponseCacheControl:       aws.String("no-cache"),
		ResponseContentDisposition: aws.String(`attachment; filename="x y.txt"`),
		ResponseContentEncoding:    aws.String("identity"),
	})
	require.NoError(t, err)
	out.Body.Close()
	require.Equal(t, "text/x-test", *out.ContentType)
	require.Equal(t, "fr", *out.ContentLanguage)
	require.Equal(t, "no-cache", *out.CacheControl)
	require.Equal(t, `attachment; filename="x y.txt"`, *out.ContentDisposition)
	require.Equal(t, "identity", *out.ContentEncoding)
	require.Equal(t, exp.Format(http.TimeFormat), aws.ToString(out.ExpiresString))
}

func testS3Metadata(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-meta")
	exp := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	_, err := e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("m"), Body: strings.NewReader("meta"),
		ContentType:        aws.String("text/plain; charset=utf-8"),
		ContentEncoding:    aws.String("gzip"),
		ContentDisposition: aws.String("inline"),
		ContentLanguage:    aws.String("de-DE"),
		CacheControl:       aws.String("max-age=60"),
		Expires:            &exp,
		Metadata:           map[string]string{"Color": "blue", "two-words": "a b", "empty": ""},
		ACL:                types.ObjectCannedACLPrivate,
	})
	require.NoError(t, err)
	check := func(ct, ce, cd, cl, cc, ex *string, meta map[string]string) {
		require.Equal(t, "text/plain; charset=utf-8", aws.ToString(ct))
		require.Equal(t, "gzip", aws.ToString(ce))
		require.Equal(t, "inline", aws.ToString(cd))
		require.Equal(t, "de-DE", aws.ToString(cl))
		require.Equal(t, "max-age=60", aws.ToString(cc))
		require.Equal(t, exp.Format(http.TimeFormat), aws.ToString(ex))
		require.Equal(t, "blue", meta["color"])
		require.Equal(t, "a b", meta["two-words"])
	}
	out, err := e.S3.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("m")})
	require.NoError(t, err)
	body, _ := io.ReadAll(out.Body)
	out.Body.Close()
	require.Equal(t, "meta", string(body))
	check(out.ContentType, out.ContentEncoding, out.ContentDisposition, out.ContentLanguage, out.CacheControl, out.ExpiresString, out.Metadata)
	h, err := e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("m")})
	require.NoError(t, err)
	check(h.ContentType, h.ContentEncoding, h.ContentDisposition, h.ContentLanguage, h.CacheControl, h.ExpiresString, h.Metadata)

	// Too much user metadata.
	_, err = e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("big"), Body: strings.NewReader("x"),
		Metadata: map[string]string{"big": strings.Repeat("v", 2100)}})
	s3Err(t, err, "MetadataTooLarge", 400)
	// ACLs other than private are not supported, and say so.
	_, err = e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("pub"), Body: strings.NewReader("x"),
		ACL: types.ObjectCannedACLPublicRead})
	s3Err(t, err, "NotImplemented", 501)
}

func testS3DeleteObjects(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-delete")
	var ids []types.ObjectIdentifier
	for i := range 5 {
		k := fmt.Sprintf("p%d/k%d", i%2, i)
		e.put(b, k, []byte(k))
		ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
	}
	ids = append(ids, types.ObjectIdentifier{Key: aws.String("never-existed")})

	out, err := e.S3.DeleteObjects(bg, &s3.DeleteObjectsInput{Bucket: &b, Delete: &types.Delete{Objects: ids[:3]}})
	require.NoError(t, err)
	require.Empty(t, out.Errors)
	var deleted []string
	for _, d := range out.Deleted {
		deleted = append(deleted, *d.Key)
	}
	require.Equal(t, []string{"p0/k0", "p1/k1", "p0/k2"}, deleted)

	out, err = e.S3.DeleteObjects(bg, &s3.DeleteObjectsInput{Bucket: &b, Delete: &types.Delete{Objects: ids[3:], Quiet: aws.Bool(true)}})
	require.NoError(t, err)
	require.Empty(t, out.Errors)
	require.Empty(t, out.Deleted)
	require.Empty(t, e.listAll(b, ""))

	// Per-key errors come back in the result.
	out, err = e.S3.DeleteObjects(bg, &s3.DeleteObjectsInput{Bucket: &b, Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("ok")}, {Key: aws.String("versioned"), VersionId: aws.String("v123")},
	}}})
	require.NoError(t, err)
	require.Len(t, out.Deleted, 1)
	require.Len(t, out.Errors, 1)
	require.Equal(t, "versioned", *out.Errors[0].Key)
	require.Equal(t, "InvalidArgument", *out.Errors[0].Code)

	// More keys than one catalog transaction takes (100): every one is
	// deleted and answered, in the request's order.
	var bulk []types.ObjectIdentifier
	var bulkKeys []string
	for i := range 250 {
		k := fmt.Sprintf("bulk/k%03d", i)
		if i%50 != 49 { // every 50th never existed
			e.put(b, k, []byte(k))
		}
		bulk = append(bulk, types.ObjectIdentifier{Key: aws.String(k)})
		bulkKeys = append(bulkKeys, k)
	}
	out, err = e.S3.DeleteObjects(bg, &s3.DeleteObjectsInput{Bucket: &b, Delete: &types.Delete{Objects: bulk}})
	require.NoError(t, err)
	require.Empty(t, out.Errors)
	deleted = deleted[:0]
	for _, d := range out.Deleted {
		deleted = append(deleted, *d.Key)
	}
	require.Equal(t, bulkKeys, deleted)
	require.Empty(t, e.listAll(b, "bulk/"))

	many := make([]types.ObjectIdentifier, 1001)
	for i := range many {
		many[i] = types.ObjectIdentifier{Key: aws.String(fmt.Sprint(i))}
	}
	_, err = e.S3.DeleteObjects(bg, &s3.DeleteObjectsInput{Bucket: &b, Delete: &types.Delete{Objects: many}})
	s3Err(t, err, "MalformedXML", 400)
	_, err = e.S3.DeleteObjects(bg, &s3.DeleteObjectsInput{Bucket: aws.String("no-such-bucket"), Delete: &types.Delete{Objects: ids[:1]}})
	s3Err(t, err, "NoSuchBucket", 404)

	// Without Content-MD5 or checksum, and with a wrong Content-MD5.
	body := []byte(`<Delete><Object><Key>x</Key></Object></Delete>`)
	resp := e.raw("POST", "/"+b, url.Values{"delete": {""}}, nil, body, e.SK)
	require.Equal(t, 200, resp.StatusCode, string(readAll(t, resp)))
	resp = e.raw("POST", "/"+b, url.Values{"delete": {""}}, http.Header{"Content-Md5": {md5B64([]byte("other"))}}, body, e.SK)
	require.Equal(t, 400, resp.StatusCode)
	require.Contains(t, string(readAll(t, resp)), "<Code>BadDigest</Code>")
	resp = e.raw("POST", "/"+b, url.Values{"delete": {""}}, nil, []byte("<Delete><Object><Key></Key></Object></Delete>"), e.SK)
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, string(readAll(t, resp)), "<Code>UserKeyMustBeSpecified</Code>")
	resp = e.raw("POST", "/"+b, url.Values{"delete": {""}}, nil, []byte("<Delete><Object>"), e.SK)
	require.Equal(t, 400, resp.StatusCode)
	require.Contains(t, string(readAll(t, resp)), "<Code>MalformedXML</Code>")
}

func testS3Copy(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-copy")
	b2 := e.bucket("bkt-copy-dst")
	data := s3Data(70000, 3)
	src := "src dir/ü+é 1.bin"
	_, err := e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: &src, Body: bytes.NewReader(data),
		ContentType: aws.String("application/x-src"), Metadata: map[string]string{"origin": "src"},
		Tagging: aws.String("t1=v1&t2=v%202")})
	require.NoError(t, err)
	cs := b + "/" + url.PathEscape(src)
	etag := `"` + md5Hex(data) + `"`

	// COPY (default): metadata and tags come along.
	out, err := e.S3.CopyObject(bg, &s3.CopyObjectInput{Bucket: &b2, Key: aws.String("copy1"), CopySource: &cs})
	require.NoError(t, err)
	require.Equal(t, etag, *out.CopyObjectResult.ETag)
	require.WithinDuration(t, time.Now(), *out.CopyObjectResult.LastModified, time.Minute)
	got, g := e.get(b2, "copy1")
	require.Equal(t, data, got)
	require.Equal(t, "application/x-src", *g.ContentType)
	require.Equal(t, "src", g.Metadata["origin"])
	require.Equal(t, int32(2), aws.ToInt32(g.TagCount))

	// REPLACE: new metadata; tagging directive REPLACE.
	_, err = e.S3.CopyObject(bg, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("copy2"), CopySource: aws.String("/" + cs + "?versionId=null"),
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/replaced"),
		Metadata:         map[string]string{"new": "yes"},
		TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("only=one")})
	require.NoError(t, err)
	h, err := e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("copy2")})
	require.NoError(t, err)
	require.Equal(t, "text/replaced", *h.ContentType)
	require.Equal(t, map[string]string{"new": "yes"}, h.Metadata)
	tg, err := e.S3.GetObjectTagging(bg, &s3.GetObjectTaggingInput{Bucket: &b, Key: aws.String("copy2")})
	require.NoError(t, err)
	require.Equal(t, []types.Tag{{Key: aws.String("only"), Value: aws.String("one")}}, tg.TagSet)

	// Copying an object onto itself needs REPLACE.
	_, err = e.S3.CopyObject(bg, &s3.CopyObjectInput{Bucket: &b, Key: &src, CopySource: &cs})
	s3Err(t, err, "InvalidRequest", 400)
	_, err = e.S3.CopyObject(bg, &s3.CopyObjectInput{Bucket: &b, Key: &src, CopySource: &cs,
		MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"self": "1"}})
	require.NoError(t, err)

	// Source preconditions fail with 412.
	past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	for _, in := range []*s3.CopyObjectInput{
		{CopySourceIfMatch: aws.String(`"nope"`)},
		{CopySourceIfNoneMatch: &etag},
		{CopySourceIfModifiedSince: &future},
		{CopySourceIfUnmodifiedSince: &past},
	} {
		in.Bucket, in.Key, in.CopySource = &b, aws.String("copy3"), &cs
		_, err = e.S3.CopyObject(bg, in)
		s3Err(t, err, "PreconditionFailed", 412)
	}
	_, err = e.S3.CopyObject(bg, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("copy3"), CopySource: &cs,
		CopySourceIfMatch: &etag, CopySourceIfUnmodifiedSince: &future})
	require.NoError(t, err)

	_, err = e.S3.CopyObject(bg, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("copy4"), CopySource: aws.String(b + "/missing")})
	s3Err(t, err, "NoSuchKey", 404)
	_, err = e.S3.CopyObject(bg, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("copy4"), CopySource: aws.String("no-such-bucket/x")})
	s3Err(t, err, "NoSuchBucket", 404)
	_, err = e.S3.CopyObject(bg, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("copy4"), CopySource: aws.String(b)})
	s3Err(t, err, "InvalidArgument", 400)
	_, err = e.S3.CopyObject(bg, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("copy4"), CopySource: &cs, MetadataDirective: "MERGE"})
	s3Err(t, err, "InvalidArgument", 400)
}

func testS3Tagging(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-tags")
	_, err := e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("t"), Body: strings.NewReader("x"),
		Tagging: aws.String("a=1&b=two%20words&c=")})
	require.NoError(t, err)
	tg, err := e.S3.GetObjectTagging(bg, &s3.GetObjectTaggingInput{Bucket: &b, Key: aws.String("t")})
	require.NoError(t, err)
	require.Equal(t, []types.Tag{
		{Key: aws.String("a"), Value: aws.String("1")},
		{Key: aws.String("b"), Value: aws.String("two words")},
		{Key: aws.String("c"), Value: aws.String("")},
	}, tg.TagSet)
	h, err := e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("t")})
	require.NoError(t, err)
	require.Equal(t, int32(3), aws.ToInt32(h.TagCount))

	_, err = e.S3.PutObjectTagging(bg, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("t"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("z"), Value: aws.String("<&>")}}}})
	require.NoError(t, err)
	tg, err = e.S3.GetObjectTagging(bg, &s3.GetObjectTaggingInput{Bucket: &b, Key: aws.String("t")})
	require.NoError(t, err)
	require.Equal(t, []types.Tag{{Key: aws.String("z"), Value: aws.String("<&>")}}, tg.TagSet)

	_, err = e.S3.DeleteObjectTagging(bg, &s3.DeleteObjectTaggingInput{Bucket: &b, Key: aws.String("t")})
	require.NoError(t, err)
	tg, err = e.S3.GetObjectTagging(bg, &s3.GetObjectTaggingInput{Bucket: &b, Key: aws.String("t")})
	require.NoError(t, err)
	require.Empty(t, tg.TagSet)

	var eleven []types.Tag
	for i := range 11 {
		eleven = append(eleven, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
	}
	_, err = e.S3.PutObjectTagging(bg, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("t"), Tagging: &types.Tagging{TagSet: eleven}})
	s3Err(t, err, "InvalidTag", 400)
	_, err = e.S3.PutObjectTagging(bg, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("t"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}}})
	s3Err(t, err, "InvalidTag", 400)
	_, err = e.S3.GetObjectTagging(bg, &s3.GetObjectTaggingInput{Bucket: &b, Key: aws.String("missing")})
	s3Err(t, err, "NoSuchKey", 404)
	_, err = e.S3.PutObjectTagging(bg, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("missing"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}})
	s3Err(t, err, "NoSuchKey", 404)
	_, err = e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("t2"), Body: strings.NewReader("x"), Tagging: aws.String("a=1&a=2")})
	s3Err(t, err, "InvalidTag", 400)
}

func testS3Digests(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-digest")
	data := []byte("digest me")
	_, err := e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("good"), Body: bytes.NewReader(data), ContentMD5: aws.String(md5B64(data))})
	require.NoError(t, err)
	_, err = e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("bad"), Body: bytes.NewReader(data), ContentMD5: aws.String(md5B64([]byte("other")))})
	s3Err(t, err, "BadDigest", 400)
	_, err = e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("bad"), Body: bytes.NewReader(data), ContentMD5: aws.String("not-base64!")})
	s3Err(t, err, "InvalidDigest", 400)
	_, err = e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("bad")})
	s3Err(t, err, "", 404)
}

func testS3Checksums(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-checksum")
	data := s3Data(100000, 11)
	sum := sha256.Sum256(data)
	want := base64.StdEncoding.EncodeToString(sum[:])
	out, err := e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("sha"), Body: bytes.NewReader(data),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	require.NoError(t, err)
	require.Equal(t, want, aws.ToString(out.ChecksumSHA256))

	h, err := e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("sha"), ChecksumMode: types.ChecksumModeEnabled})
	require.NoError(t, err)
	require.Equal(t, want, aws.ToString(h.ChecksumSHA256))
	require.Equal(t, types.ChecksumTypeFullObject, h.ChecksumType)
	h, err = e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("sha")})
	require.NoError(t, err)
	require.Nil(t, h.ChecksumSHA256, "checksums only with x-amz-checksum-mode: ENABLED")

	// GET validates the returned checksum in the SDK.
	g, err := e.S3.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("sha"), ChecksumMode: types.ChecksumModeEnabled})
	require.NoError(t, err)
	got, err := io.ReadAll(g.Body)
	require.NoError(t, err)
	g.Body.Close()
	require.Equal(t, data, got)
	require.Equal(t, want, aws.ToString(g.ChecksumSHA256))

	// A claimed value that does not match.
	crc := crc32.ChecksumIEEE([]byte("other"))
	wrong := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	_, err = e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("wrong"), Body: bytes.NewReader(data), ChecksumCRC32: &wrong})
	s3Err(t, err, "BadDigest", 400)
	_, err = e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("wrong")})
	s3Err(t, err, "", 404)

	// The SDK's default CRC32 (header or trailer) is kept when it sends one.
	e.put(b, "default", data)
	h, err = e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("default"), ChecksumMode: types.ChecksumModeEnabled})
	require.NoError(t, err)
	if e.mode.tls {
		require.Positive(t, e.sawPayload("STREAMING-UNSIGNED-PAYLOAD-TRAILER"), "the SDK sent no aws-chunked trailer bodies")
	}
	if e.mode.checksums == aws.RequestChecksumCalculationWhenSupported {
		c := crc32.ChecksumIEEE(data)
		require.Equal(t, base64.StdEncoding.EncodeToString([]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)}), aws.ToString(h.ChecksumCRC32))
	} else {
		require.Nil(t, h.ChecksumCRC32)
	}
}

func testS3Auth(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-auth")
	e.put(b, "k", []byte("secret data"))
	bad := e.client("wrong-secret", nil)
	_, err := bad.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("k")})
	s3Err(t, err, "SignatureDoesNotMatch", 403)
	_, err = bad.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("k2"), Body: strings.NewReader("x")})
	s3Err(t, err, "SignatureDoesNotMatch", 403)
	_, err = bad.ListBuckets(bg, &s3.ListBucketsInput{})
	s3Err(t, err, "SignatureDoesNotMatch", 403)

	unknown := *e
	unknown.AK = "AKIDUNKNOWN"
	_, err = unknown.client(e.SK, nil).ListBuckets(bg, &s3.ListBucketsInput{})
	s3Err(t, err, "InvalidAccessKeyId", 403)

	// No anonymous access.
	resp := e.raw("GET", "/"+b+"/k", nil, nil, nil, "")
	require.Equal(t, 403, resp.StatusCode)
	body := string(readAll(t, resp))
	require.Contains(t, body, "<Code>AccessDenied</Code>")
	require.NotContains(t, body, "secret data")
	resp = e.raw("GET", "/", nil, nil, nil, "")
	require.Equal(t, 403, resp.StatusCode)
	resp.Body.Close()

	// Clock skew.
	skewed := e.client(e.SK, func(o *s3.Options) {
		o.HTTPSignerV4 = skewSigner{}
	})
	_, err = skewed.ListBuckets(bg, &s3.ListBucketsInput{})
	s3Err(t, err, "RequestTimeTooSkewed", 403)
}

func testS3Presigned(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-presign")
	pc := s3.NewPresignClient(e.S3)
	data := s3Data(3000, 5)

	preq, err := pc.PresignPutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("dir/pre signed+1.bin")}, s3.WithPresignExpires(time.Minute))
	require.NoError(t, err)
	req, err := http.NewRequest(preq.Method, preq.URL, bytes.NewReader(data))
	require.NoError(t, err)
	for k, vs := range preq.SignedHeader {
		if !strings.EqualFold(k, "Host") {
			req.Header[k] = vs
		}
	}
	resp, err := e.HTTP.Do(req)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode, string(readAll(t, resp)))
	require.Equal(t, `"`+md5Hex(data)+`"`, resp.Header.Get("ETag"))

	greq, err := pc.PresignGetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("dir/pre signed+1.bin"),
		ResponseContentDisposition: aws.String("attachment")}, s3.WithPresignExpires(time.Minute))
	require.NoError(t, err)
	resp, err = e.HTTP.Get(greq.URL)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "attachment", resp.Header.Get("Content-Disposition"))
	require.Equal(t, data, readAll(t, resp))

	// A tampered URL fails.
	resp, err = e.HTTP.Get(strings.Replace(greq.URL, "pre%20signed", "pre%20signeX", 1))
	require.NoError(t, err)
	require.Equal(t, 403, resp.StatusCode)
	require.Contains(t, string(readAll(t, resp)), "SignatureDoesNotMatch")

	// An expired one fails with AccessDenied.
	old, err := pc.PresignGetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("dir/pre signed+1.bin")}, func(o *s3.PresignOptions) {
		o.Expires = time.Second
		o.Presigner = pastPresigner{o.Presigner}
	})
	require.NoError(t, err)
	resp, err = e.HTTP.Get(old.URL)
	require.NoError(t, err)
	require.Equal(t, 403, resp.StatusCode)
	require.Contains(t, string(readAll(t, resp)), "<Code>AccessDenied</Code>")
}

func testS3Unsupported(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-unsupported")
	e.put(b, "k", []byte("x"))
	checks := []func() error{
		func() error {
			_, err := e.S3.GetBucketLifecycleConfiguration(bg, &s3.GetBucketLifecycleConfigurationInput{Bucket: &b})
			return err
		},
		func() error {
			_, err := e.S3.GetBucketPolicy(bg, &s3.GetBucketPolicyInput{Bucket: &b})
			return err
		},
		func() error {
			_, err := e.S3.PutBucketPolicy(bg, &s3.PutBucketPolicyInput{Bucket: &b, Policy: aws.String("{}")})
			return err
		},
		func() error {
			_, err := e.S3.GetBucketCors(bg, &s3.GetBucketCorsInput{Bucket: &b})
			return err
		},
		func() error {
			_, err := e.S3.GetBucketWebsite(bg, &s3.GetBucketWebsiteInput{Bucket: &b})
			return err
		},
		func() error {
			_, err := e.S3.PutBucketVersioning(bg, &s3.PutBucketVersioningInput{Bucket: &b,
				VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
			return err
		},
		func() error {
			_, err := e.S3.ListObjectVersions(bg, &s3.ListObjectVersionsInput{Bucket: &b})
			return err
		},
		func() error {
			_, err := e.S3.GetObjectRetention(bg, &s3.GetObjectRetentionInput{Bucket: &b, Key: aws.String("k")})
			return err
		},
		func() error {
			_, err := e.S3.GetObjectAttributes(bg, &s3.GetObjectAttributesInput{Bucket: &b, Key: aws.String("k"),
				ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag}})
			return err
		},
		func() error {
			_, err := e.S3.PutObjectAcl(bg, &s3.PutObjectAclInput{Bucket: &b, Key: aws.String("k"), ACL: types.ObjectCannedACLPublicRead})
			return err
		},
		func() error {
			_, err := e.S3.GetBucketEncryption(bg, &s3.GetBucketEncryptionInput{Bucket: &b})
			return err
		},
	}
	for i, c := range checks {
		err := c()
		require.Error(t, err, "check %d", i)
		s3Err(t, err, "NotImplemented", 501)
	}
	// A subresource never falls through to the object: the object is intact.
	resp := e.raw("DELETE", "/"+b+"/k", url.Values{"lifecycle": {""}}, nil, nil, e.SK)
	require.Equal(t, 501, resp.StatusCode)
	resp.Body.Close()
	resp = e.raw("PUT", "/"+b+"/k", url.Values{"retention": {""}}, nil, []byte("<x/>"), e.SK)
	require.Equal(t, 501, resp.StatusCode)
	resp.Body.Close()
	got, _ := e.get(b, "k")
	require.Equal(t, "x", string(got))
	resp = e.raw("PATCH", "/"+b+"/k", nil, nil, nil, e.SK)
	require.Equal(t, 405, resp.StatusCode)
	require.Contains(t, string(readAll(t, resp)), "MethodNotAllowed")

	// The canned ACL is readable and "private" may be set.
	acl, err := e.S3.GetObjectAcl(bg, &s3.GetObjectAclInput{Bucket: &b, Key: aws.String("k")})
	require.NoError(t, err)
	require.Len(t, acl.Grants, 1)
	require.Equal(t, types.PermissionFullControl, acl.Grants[0].Permission)
	require.Equal(t, *acl.Owner.ID, *acl.Grants[0].Grantee.ID)
	bacl, err := e.S3.GetBucketAcl(bg, &s3.GetBucketAclInput{Bucket: &b})
	require.NoError(t, err)
	require.Len(t, bacl.Grants, 1)
	_, err = e.S3.PutBucketAcl(bg, &s3.PutBucketAclInput{Bucket: &b, ACL: types.BucketCannedACLPrivate})
	require.NoError(t, err)
	_, err = e.S3.PutObjectAcl(bg, &s3.PutObjectAclInput{Bucket: &b, Key: aws.String("k"), ACL: types.ObjectCannedACLPrivate})
	require.NoError(t, err)
	_, err = e.S3.GetObjectAcl(bg, &s3.GetObjectAclInput{Bucket: &b, Key: aws.String("missing")})
	s3Err(t, err, "NoSuchKey", 404)
	// An ACL document is accepted when it grants only the owner's full control.
	own := &types.AccessControlPolicy{Owner: bacl.Owner, Grants: []types.Grant{{
		Grantee: &types.Grantee{Type: types.TypeCanonicalUser, ID: bacl.Owner.ID}, Permission: types.PermissionFullControl}}}
	_, err = e.S3.PutBucketAcl(bg, &s3.PutBucketAclInput{Bucket: &b, AccessControlPolicy: own})
	require.NoError(t, err)
	_, err = e.S3.PutObjectAcl(bg, &s3.PutObjectAclInput{Bucket: &b, Key: aws.String("k"), AccessControlPolicy: own})
	require.NoError(t, err)
	public := &types.AccessControlPolicy{Owner: bacl.Owner, Grants: []types.Grant{{
		Grantee:    &types.Grantee{Type: types.TypeGroup, URI: aws.String("http://acs.amazonaws.com/groups/global/AllUsers")},
		Permission: types.PermissionRead}}}
	_, err = e.S3.PutBucketAcl(bg, &s3.PutBucketAclInput{Bucket: &b, AccessControlPolicy: public})
	s3Err(t, err, "NotImplemented", 501)
	_, err = e.S3.PutBucketAcl(bg, &s3.PutBucketAclInput{Bucket: aws.String("no-such-bucket"), ACL: types.BucketCannedACLPrivate})
	s3Err(t, err, "NoSuchBucket", 404)
	_, err = e.S3.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String("bkt-public"), ACL: types.BucketCannedACLPublicRead})
	s3Err(t, err, "NotImplemented", 501)
	_, err = e.S3.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String("bkt-private"), ACL: types.BucketCannedACLPrivate})
	require.NoError(t, err)
}

func testS3ConditionalWrites(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-condwrite")
	first := e.put(b, "w", []byte("one"))
	_, err := e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("w"), Body: strings.NewReader("two"), IfNoneMatch: aws.String("*")})
	s3Err(t, err, "PreconditionFailed", 412)
	_, err = e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("w"), Body: strings.NewReader("two"), IfMatch: aws.String(`"abc"`)})
	s3Err(t, err, "PreconditionFailed", 412)
	got, _ := e.get(b, "w")
	require.Equal(t, "one", string(got))
	_, err = e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("w"), Body: strings.NewReader("two"), IfMatch: first.ETag})
	require.NoError(t, err)
	_, err = e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("new"), Body: strings.NewReader("n"), IfNoneMatch: aws.String("*")})
	require.NoError(t, err)
	got, _ = e.get(b, "w")
	require.Equal(t, "two", string(got))
}

func testS3Folders(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-folders")
	// PUT "p/" makes an explicit package, seen as the key "p/".
	_, err := e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("p/"), Body: bytes.NewReader(nil)})
	require.NoError(t, err)
	_, err = e.S3.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("q/"), Body: strings.NewReader("data")})
	s3Err(t, err, "InvalidRequest", 400)
	h, err := e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("p/")})
	require.NoError(t, err)
	require.Equal(t, int64(0), *h.ContentLength)
	require.Equal(t, []string{"p/"}, e.listAll(b, ""))
	lo, err := e.S3.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: &b, Delimiter: aws.String("/")})
	require.NoError(t, err)
	require.Len(t, lo.CommonPrefixes, 1)
	require.Equal(t, "p/", *lo.CommonPrefixes[0].Prefix)

	// A package made through /v1 is a folder too.
	bk, err := e.svc().BucketByName(bg, b)
	require.NoError(t, err)
	_, err = e.svc().CreatePackage(bg, bk.ID, "jcs")
	require.NoError(t, err)
	e.put(b, "jcs/file", []byte("f"))
	e.put(b, "implicit/file", []byte("i"))
	e.put(b, "root", []byte("r"))
	require.Equal(t, []string{"implicit/file", "jcs/", "jcs/file", "p/", "root"}, e.listAll(b, ""))

	// An implicit package goes with its last object; an explicit one stays.
	_, err = e.S3.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("implicit/file")})
	require.NoError(t, err)
	_, err = e.S3.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("jcs/file")})
	require.NoError(t, err)
	require.Equal(t, []string{"jcs/", "p/", "root"}, e.listAll(b, ""))

	// Delete every listed key: the bucket is then empty and can go.
	for _, k := range e.listAll(b, "") {
		_, err := e.S3.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: &k})
		require.NoError(t, err)
	}
	require.Empty(t, e.listAll(b, ""))
	_, err = e.S3.DeleteBucket(bg, &s3.DeleteBucketInput{Bucket: &b})
	require.NoError(t, err)
}

func testS3TrickyKeys(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-tricky")
	keys := []string{
		"a b", "plus+sign", "pkg/with space/and+plus", "pkg//double//slash", "pkg/trailing/",
		"ünïcødé/文件.txt", "q?uestion", "hash#tag", "percent%41", "semi;colon=eq&amp",
		"tilde~/x", "quote\"s'", "<xml>&", "dots/../x", "dots/./y",
	}
	for i, k := range keys {
		e.put(b, k, []byte(fmt.Sprint(i)))
	}
	for i, k := range keys {
		got, _ := e.get(b, k)
		require.Equal(t, fmt.Sprint(i), string(got), k)
	}
	want := append([]string(nil), keys...)
	sort.Strings(want)
	require.Equal(t, want, e.listAll(b, ""))
	// URL-encoded listings decode back to the same keys.
	lo, err := e.S3.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: &b, EncodingType: types.EncodingTypeUrl})
	require.NoError(t, err)
	var dec []string
	for _, o := range lo.Contents {
		k, err := url.QueryUnescape(*o.Key)
		require.NoError(t, err)
		dec = append(dec, k)
		require.NotContains(t, *o.Key, " ")
	}
	require.Equal(t, want, dec)
}

func testS3ListingOptions(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-listopts")
	for _, k := range []string{"a/1", "a/2", "b/1", "c", "d e/f"} {
		e.put(b, k, []byte(k))
	}
	lo, err := e.S3.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: &b, Delimiter: aws.String("/"), StartAfter: aws.String("a/1"), FetchOwner: aws.Bool(true)})
	require.NoError(t, err)
	require.Equal(t, int32(4), *lo.KeyCount)
	require.Equal(t, "a/1", *lo.StartAfter)
	require.Len(t, lo.Contents, 1)
	require.Equal(t, "c", *lo.Contents[0].Key)
	require.NotNil(t, lo.Contents[0].Owner)
	require.NotEmpty(t, *lo.Contents[0].Owner.ID)
	require.Equal(t, types.ObjectStorageClassStandard, lo.Contents[0].StorageClass)
	var cps []string
	for _, p := range lo.CommonPrefixes {
		cps = append(cps, *p.Prefix)
	}
	require.Equal(t, []string{"a/", "b/", "d e/"}, cps)

	lo, err = e.S3.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: &b})
	require.NoError(t, err)
	require.Nil(t, lo.Contents[0].Owner, "owner only with fetch-owner")
	require.Equal(t, `"`+md5Hex([]byte("a/1"))+`"`, *lo.Contents[0].ETag)

	lo, err = e.S3.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: &b, MaxKeys: aws.Int32(0)})
	require.NoError(t, err)
	require.Empty(t, lo.Contents)

	lo, err = e.S3.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: &b, Delimiter: aws.String(" "), EncodingType: types.EncodingTypeUrl, Prefix: aws.String("d")})
	require.NoError(t, err)
	require.Equal(t, "d%20", *lo.CommonPrefixes[0].Prefix)
	require.Equal(t, "%20", *lo.Delimiter)

	_, err = e.S3.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: &b, ContinuationToken: aws.String("!!not-a-token")})
	s3Err(t, err, "InvalidArgument", 400)
	resp := e.raw("GET", "/"+b, url.Values{"max-keys": {"-1"}}, nil, nil, e.SK)
	require.Equal(t, 400, resp.StatusCode)
	require.Contains(t, string(readAll(t, resp)), "InvalidArgument")
	resp = e.raw("GET", "/"+b, url.Values{"encoding-type": {"base64"}}, nil, nil, e.SK)
	require.Equal(t, 400, resp.StatusCode)
	resp.Body.Close()

	// V1: Marker, NextMarker with a delimiter, Owner always.
	l1, err := e.S3.ListObjects(bg, &s3.ListObjectsInput{Bucket: &b, Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
	require.NoError(t, err)
	require.True(t, *l1.IsTruncated)
	require.Equal(t, "b/", aws.ToString(l1.NextMarker))
	l1, err = e.S3.ListObjects(bg, &s3.ListObjectsInput{Bucket: &b, Delimiter: aws.String("/"), Marker: l1.NextMarker})
	require.NoError(t, err)
	require.False(t, *l1.IsTruncated)
	require.Equal(t, "c", *l1.Contents[0].Key)
	require.NotNil(t, l1.Contents[0].Owner)
	require.Equal(t, "d e/", *l1.CommonPrefixes[0].Prefix)
	l1, err = e.S3.ListObjects(bg, &s3.ListObjectsInput{Bucket: &b, MaxKeys: aws.Int32(2)})
	require.NoError(t, err)
	require.True(t, *l1.IsTruncated)
	require.Nil(t, l1.NextMarker, "NextMarker only with a delimiter")
}

func testS3ErrorReplies(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-errors")
	resp := e.raw("GET", "/"+b+"/missing/key", nil, nil, nil, e.SK)
	require.Equal(t, 404, resp.StatusCode)
	rid := resp.Header.Get("X-Amz-Request-Id")
	require.NotEmpty(t, rid)
	require.NotEmpty(t, resp.Header.Get("X-Amz-Id-2"))
	require.Equal(t, "application/xml", resp.Header.Get("Content-Type"))
	body := string(readAll(t, resp))
	require.Contains(t, body, "<Code>NoSuchKey</Code>")
	require.Contains(t, body, "<Resource>/"+b+"/missing/key</Resource>")
	require.Contains(t, body, "<RequestId>"+rid+"</RequestId>")
	require.Contains(t, body, "<Message>")

	// HEAD errors carry the status and no body.
	resp = e.raw("HEAD", "/"+b+"/missing", nil, nil, nil, e.SK)
	require.Equal(t, 404, resp.StatusCode)
	require.Empty(t, readAll(t, resp))
	require.NotEmpty(t, resp.Header.Get("X-Amz-Request-Id"))

	// Every success has a request ID too.
	resp = e.raw("GET", "/", nil, nil, nil, e.SK)
	require.Equal(t, 200, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("X-Amz-Request-Id"))
	require.NotEqual(t, rid, resp.Header.Get("X-Amz-Request-Id"))
	require.Contains(t, string(readAll(t, resp)), "<ListAllMyBucketsResult")

	// A body shorter than announced is IncompleteBody and stores nothing.
	if !e.mode.tls {
		resp := e.rawShort("PUT", "/"+b+"/short", 10, 3)
		require.Equal(t, 400, resp.StatusCode)
		require.Contains(t, string(readAll(t, resp)), "<Code>IncompleteBody</Code>")
		_, err := e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("short")})
		s3Err(t, err, "", 404)
	}
}
