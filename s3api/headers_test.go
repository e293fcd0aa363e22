package s3api

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"jcsgw/gateway"
	"jcsgw/gateway/auth"
)

func code(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Code
	}
	if err != nil {
		return "?" + err.Error()
	}
	return ""
}

var defLimits = gateway.DefaultLimits()

func TestS3ParseRange(t *testing.T) {
	for _, c := range []struct {
		spec    string
		size    int64
		want    *byteRange
		errCode string
	}{
		{"", 10, nil, ""},
		{"bytes=0-0", 10, &byteRange{0, 1}, ""},
		{"bytes=0-9", 10, &byteRange{0, 10}, ""},
		{"bytes=0-100", 10, &byteRange{0, 10}, ""},
		{"bytes=3-", 10, &byteRange{3, 7}, ""},
		{"bytes=-3", 10, &byteRange{7, 3}, ""},
		{"bytes=-30", 10, &byteRange{0, 10}, ""},
		{" bytes= 2 - 4 ", 10, &byteRange{2, 3}, ""},
		{"bytes=10-", 10, nil, "InvalidRange"},
		{"bytes=10-20", 10, nil, "InvalidRange"},
		{"bytes=-0", 10, nil, "InvalidRange"},
		{"bytes=0-", 0, nil, "InvalidRange"},
		{"bytes=-1", 0, nil, "InvalidRange"},
		// Ignored: malformed, reversed, several ranges, other units.
		{"bytes=5-2", 10, nil, ""},
		{"bytes=a-b", 10, nil, ""},
		{"bytes=-", 10, nil, ""},
		{"bytes=1", 10, nil, ""},
		{"bytes=0-1,3-4", 10, nil, ""},
		{"items=0-1", 10, nil, ""},
		{"bytes=-1-2", 10, nil, ""},
		{"bytes=+3-5", 10, nil, ""},
		{"bytes=3-+5", 10, nil, ""},
	} {
		got, err := parseRange(c.spec, c.size)
		if code(err) != c.errCode || !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseRange(%q, %d) = %v, %v; want %v, %s", c.spec, c.size, got, err, c.want, c.errCode)
		}
		if c.errCode == "InvalidRange" {
			if cr := err.(*apiError).Header["Content-Range"]; !strings.HasPrefix(cr, "bytes */") {
				t.Errorf("parseRange(%q): Content-Range %q", c.spec, cr)
			}
		}
	}
}

func TestS3ParseCopyRange(t *testing.T) {
	off, n, err := parseCopyRange("bytes=5-9", 10)
	if err != nil || off != 5 || n != 5 {
		t.Fatalf("got %d %d %v", off, n, err)
	}
	for _, bad := range []string{"bytes=5-", "bytes=-5", "5-9", "bytes=9-5", "bytes=0-10", "bytes=a-1"} {
		if _, _, err := parseCopyRange(bad, 10); code(err) != "InvalidArgument" {
			t.Errorf("parseCopyRange(%q): %v", bad, err)
		}
	}
}

func TestS3ParseCopySource(t *testing.T) {
	for _, c := range []struct{ in, bucket, key string }{
		{"b/k", "b", "k"},
		{"/b/dir/k", "b", "dir/k"},
		{"b/a%20b%2Bc%2Fd", "b", "a b+c/d"},
		{"b/a+b", "b", "a+b"},
		{"b/%E2%82%AC?versionId=null", "b", "€"},
		{"b//double", "b", "/double"},
	} {
		b, k, err := parseCopySource(c.in)
		if err != nil || b != c.bucket || k != c.key {
			t.Errorf("parseCopySource(%q) = %q %q %v", c.in, b, k, err)
		}
	}
	for _, bad := range []string{"", "b", "b/", "/b", "b/%zz"} {
		if _, _, err := parseCopySource(bad); code(err) != "InvalidArgument" {
			t.Errorf("parseCopySource(%q): %v", bad, err)
		}
	}
}

func TestS3URLEncode(t *testing.T) {
	for in, want := range map[string]string{
		"plain/key.txt-_~": "plain/key.txt-_~",
		"a b+c":            "a%20b%2Bc",
		"ü":                "%C3%BC",
		"%&=?#":            "%25%26%3D%3F%23",
		"\x01\n":           "%01%0A",
	} {
		got := s3URLEncode(in)
		if got != want {
			t.Errorf("s3URLEncode(%q) = %q; want %q", in, got, want)
		}
		for _, dec := range []func(string) (string, error){url.PathUnescape, url.QueryUnescape} {
			if back, err := dec(got); err != nil || back != in {
				t.Errorf("decode(%q) = %q, %v", got, back, err)
			}
		}
	}
}

func TestS3ParseTags(t *testing.T) {
	tags, err := parseTagHeader("a=1&b=two%20words&c=", &defLimits)
	if err != nil || !reflect.DeepEqual(tags, map[string]string{"a": "1", "b": "two words", "c": ""}) {
		t.Fatalf("got %v %v", tags, err)
	}
	if tags, err := parseTagHeader("", &defLimits); tags != nil || err != nil {
		t.Errorf("empty header: %v %v", tags, err)
	}
	for _, bad := range []string{"a=1&a=2", "aws:x=1", "=v", "k=" + strings.Repeat("v", 257), strings.Repeat("k", 129) + "=v",
		"a=1&b=1&c=1&d=1&e=1&f=1&g=1&h=1&i=1&j=1&k=1"} {
		if _, err := parseTagHeader(bad, &defLimits); code(err) != "InvalidTag" {
			t.Errorf("parseTagHeader(%q): %v", bad, err)
		}
	}
	if _, err := parseTagHeader("a=%zz", &defLimits); code(err) != "InvalidArgument" {
		t.Errorf("bad encoding: %v", err)
	}
	if _, err := tagsFromXML([]tag{{"k", "v"}, {"k", "w"}}, &defLimits); code(err) != "InvalidTag" {
		t.Errorf("duplicate keys: %v", err)
	}
}

func TestS3ParseMeta(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Encoding", "gzip, aws-chunked")
	h.Set("X-Amz-Meta-Color", "blue")
	h.Add("X-Amz-Meta-Multi", "a")
	h.Add("X-Amz-Meta-Multi", "b")
	h.Set("X-Amz-Meta-", "ignored")
	m, err := parseMeta(h, &defLimits)
	if err != nil {
		t.Fatal(err)
	}
	want := gateway.Meta{ContentType: "text/plain", ContentEncoding: "gzip", User: map[string]string{"color": "blue", "multi": "a,b"}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v", m)
	}
	h = http.Header{}
	h.Set("Content-Encoding", "aws-chunked")
	if m, _ := parseMeta(h, &defLimits); m.ContentEncoding != "" {
		t.Errorf("aws-chunked kept: %q", m.ContentEncoding)
	}
	h.Set("X-Amz-Meta-Big", strings.Repeat("x", 2100))
	if _, err := parseMeta(h, &defLimits); code(err) != "MetadataTooLarge" {
		t.Errorf("big metadata: %v", err)
	}
}

func TestS3ParseChecksum(t *testing.T) {
	crc := base64.StdEncoding.EncodeToString([]byte{1, 2, 3, 4})
	sha := base64.StdEncoding.EncodeToString(make([]byte, 32))
	req := func(kv ...string) *http.Request {
		r := httptest.NewRequest("PUT", "/b/k", nil)
		for i := 0; i < len(kv); i += 2 {
			r.Header.Set(kv[i], kv[i+1])
		}
		return r
	}
	for _, c := range []struct {
		r        *http.Request
		algo     string
		expected string
		errCode  string
	}{
		{req(), "", "", ""},
		{req("X-Amz-Checksum-Crc32", crc), "CRC32", crc, ""},
		{req("X-Amz-Checksum-Sha256", sha, "X-Amz-Sdk-Checksum-Algorithm", "sha256"), "SHA256", sha, ""},
		{req("X-Amz-Sdk-Checksum-Algorithm", "CRC64NVME"), "CRC64NVME", "", ""},
		{req("X-Amz-Trailer", "x-amz-checksum-crc32c", "X-Amz-Sdk-Checksum-Algorithm", "CRC32C"), "CRC32C", "(missing trailer x-amz-checksum-crc32c)", ""},
		{req("X-Amz-Checksum-Crc32", crc, "X-Amz-Checksum-Sha256", sha), "", "", "InvalidRequest"},
		{req("X-Amz-Checksum-Crc32", sha), "", "", "InvalidRequest"},
		{req("X-Amz-Checksum-Crc32", "!!"), "", "", "InvalidRequest"},
		{req("X-Amz-Checksum-Crc32", crc, "X-Amz-Sdk-Checksum-Algorithm", "SHA1"), "", "", "InvalidRequest"},
		{req("X-Amz-Sdk-Checksum-Algorithm", "MD5"), "", "", "InvalidRequest"},
		{req("X-Amz-Trailer", "x-amz-meta-foo"), "", "", "InvalidRequest"},
	} {
		rc, err := parseChecksum(c.r)
		got := ""
		if rc.expected != nil {
			got = rc.expected()
		}
		if code(err) != c.errCode || (err == nil && (rc.algo != c.algo || got != c.expected)) {
			t.Errorf("%v: got %q %q %v", c.r.Header, rc.algo, got, err)
		}
	}
}

func TestS3ParseConditions(t *testing.T) {
	h := http.Header{}
	h.Set("If-Match", `"a"`)
	h.Set("If-Modified-Since", "Mon, 02 Jan 2006 15:04:05 GMT")
	h.Set("If-Unmodified-Since", "not a date")
	h.Set("X-Amz-Copy-Source-If-None-Match", `"b"`)
	c := parseConditions(h, "")
	if c.IfMatch != `"a"` || c.IfNoneMatch != "" || c.IfUnmodifiedSince != nil ||
		!c.IfModifiedSince.Equal(time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)) {
		t.Errorf("got %+v", c)
	}
	if c := parseConditions(h, "X-Amz-Copy-Source-"); c.IfNoneMatch != `"b"` || c.IfMatch != "" {
		t.Errorf("copy source: %+v", c)
	}
}

func TestS3CheckWriteHeaders(t *testing.T) {
	for _, kv := range [][2]string{
		{"X-Amz-Acl", "public-read"},
		{"X-Amz-Grant-Read", "id=x"},
		{"X-Amz-Server-Side-Encryption", "AES256"},
		{"X-Amz-Object-Lock-Mode", "GOVERNANCE"},
	} {
		h := http.Header{}
		h.Set(kv[0], kv[1])
		if err := checkUnsupportedWriteHeaders(h); code(err) != "NotImplemented" {
			t.Errorf("%v: %v", kv, err)
		}
	}
	h := http.Header{}
	h.Set("X-Amz-Acl", "private")
	if err := checkUnsupportedWriteHeaders(h); err != nil {
		t.Error(err)
	}
}

func TestS3Route(t *testing.T) {
	name := func(op opFunc) string {
		if op == nil {
			return ""
		}
		n := runtime.FuncForPC(reflect.ValueOf(op).Pointer()).Name()
		n = n[strings.LastIndex(n, ".")+1:]
		return strings.TrimSuffix(n, "-fm")
	}
	copyHdr := http.Header{"X-Amz-Copy-Source": {"b/k"}}
	for _, c := range []struct {
		method, bucket, key, query string
		hdr                        http.Header
		want                       string // op name or error code
	}{
		{"GET", "", "", "", nil, "listBuckets"},
		{"PUT", "", "", "", nil, "MethodNotAllowed"},
		{"GET", "b", "", "", nil, "listObjectsV1"},
		{"GET", "b", "", "list-type=2&prefix=a", nil, "listObjectsV2"},
		{"GET", "b", "", "list-type=3", nil, "InvalidArgument"},
		{"GET", "b", "", "location", nil, "getBucketLocation"},
		{"GET", "b", "", "versioning", nil, "getBucketVersioning"},
		{"GET", "b", "", "uploads&prefix=x", nil, "listUploads"},
		{"GET", "b", "", "acl", nil, "getACL"},
		{"GET", "b", "", "lifecycle", nil, "NotImplemented"},
		{"GET", "b", "", "versions", nil, "NotImplemented"},
		{"PUT", "b", "", "", nil, "createBucket"},
		{"PUT", "b", "", "versioning", nil, "NotImplemented"},
		{"PUT", "b", "", "policy", nil, "NotImplemented"},
		{"PUT", "b", "", "acl", nil, "putACL"},
		{"HEAD", "b", "", "", nil, "headBucket"},
		{"DELETE", "b", "", "", nil, "deleteBucket"},
		{"DELETE", "b", "", "cors", nil, "NotImplemented"},
		{"POST", "b", "", "delete", nil, "deleteObjects"},
		{"POST", "b", "", "", nil, "NotImplemented"},
		{"GET", "b", "k", "", nil, "getObject"},
		{"GET", "b", "k", "partNumber=1&versionId=null&x-id=GetObject", nil, "getObject"},
		{"GET", "b", "k", "versionId=abc", nil, "InvalidArgument"},
		{"HEAD", "b", "k", "", nil, "getObject"},
		{"GET", "b", "k", "uploadId=u", nil, "listParts"},
		{"GET", "b", "k", "tagging", nil, "getTagging"},
		{"GET", "b", "k", "acl", nil, "getACL"},
		{"GET", "b", "k", "retention", nil, "NotImplemented"},
		{"GET", "b", "k", "attributes", nil, "NotImplemented"},
		{"GET", "b", "k", "torrent", nil, "NotImplemented"},
		{"PUT", "b", "k", "", nil, "putObject"},
		{"PUT", "b", "k", "", copyHdr, "copyObject"},
		{"PUT", "b", "k", "partNumber=1&uploadId=u", nil, "uploadPart"},
		{"PUT", "b", "k", "partNumber=1&uploadId=u", copyHdr, "uploadPartCopy"},
		{"PUT", "b", "k", "tagging", nil, "putTagging"},
		{"PUT", "b", "k", "tagging&lifecycle", nil, "NotImplemented"},
		{"PUT", "b", "k", "legal-hold", nil, "NotImplemented"},
		{"PUT", "b", "k", "acl", nil, "putACL"},
		{"DELETE", "b", "k", "", nil, "deleteObject"},
		{"DELETE", "b", "k", "uploadId=u", nil, "abortUpload"},
		{"DELETE", "b", "k", "tagging", nil, "deleteTagging"},
		{"DELETE", "b", "k", "lifecycle", nil, "NotImplemented"},
		{"POST", "b", "k", "uploads", nil, "createUpload"},
		{"POST", "b", "k", "uploadId=u", nil, "completeUpload"},
		{"POST", "b", "k", "restore", nil, "NotImplemented"},
		{"POST", "b", "k", "select&select-type=2", nil, "NotImplemented"},
		{"POST", "b", "k", "", nil, "NotImplemented"},
		{"PATCH", "b", "k", "", nil, "MethodNotAllowed"},
		{"OPTIONS", "b", "", "", nil, "MethodNotAllowed"},
	} {
		q, _ := url.ParseQuery(c.query)
		op, err := route(c.method, c.bucket, c.key, q, c.hdr)
		got := name(op)
		if err != nil {
			got = code(err)
		}
		if got == "notImplemented" {
			got = "NotImplemented"
		}
		if got != c.want {
			t.Errorf("%s /%s/%s?%s: got %s, want %s", c.method, c.bucket, c.key, c.query, got, c.want)
		}
	}
}

func TestS3Resolve(t *testing.T) {
	a := New(nil, nil, Options{BaseDomain: "S3.Example.com."}, nil).(*api)
	for _, c := range []struct {
		host, path, bucket, key string
		vhost, ok               bool
	}{
		{"127.0.0.1:9000", "/", "", "", false, true},
		{"127.0.0.1:9000", "/b", "b", "", false, true},
		{"127.0.0.1:9000", "/b/", "b", "", false, true},
		{"127.0.0.1:9000", "/b/dir//k ", "b", "dir//k ", false, true},
		{"127.0.0.1:9000", "//k", "", "", false, false},
		{"s3.example.com", "/b/k", "b", "k", false, true},
		{"bkt.s3.example.com:443", "/dir/k", "bkt", "dir/k", true, true},
		{"BKT.S3.EXAMPLE.COM", "/", "bkt", "", true, true},
		{"my.dotted.bucket.s3.example.com", "/k", "my.dotted.bucket", "k", true, true},
		{"other.example.com", "/b/k", "b", "k", false, true},
	} {
		r := httptest.NewRequest("GET", "http://"+c.host+"/", nil)
		r.URL.Path = c.path
		b, k, vh, ok := a.resolve(r)
		if b != c.bucket || k != c.key || vh != c.vhost || ok != c.ok {
			t.Errorf("%s%s: got %q %q %v %v", c.host, c.path, b, k, vh, ok)
		}
	}
}

func TestS3ErrorTable(t *testing.T) {
	for gc, w := range codes {
		e := toAPIError(&gateway.Error{Code: gc, Message: "m"})
		if e.Code != w.code || e.Status != w.status {
			t.Errorf("%s: %+v", gc, e)
		}
	}
	if e := toAPIError(&gateway.Error{Code: gateway.CodeOperationFailed, Message: "disk gone"}); e.Status != 500 || e.Code != "InternalError" || e.Message != "disk gone" {
		t.Errorf("OperationFailed: %+v", e)
	}
	// A verifier error from a body read, wrapped by the gateway, keeps its code.
	wrapped := &gateway.Error{Code: gateway.CodeIncompleteBody, Message: "m",
		Err: &auth.Error{Code: "SignatureDoesNotMatch", Message: "bad chunk", Status: 403}}
	if e := toAPIError(wrapped); e.Code != "SignatureDoesNotMatch" || e.Status != 403 {
		t.Errorf("wrapped auth error: %+v", e)
	}
	if e := toAPIError(errors.New("boom")); e.Status != 500 || strings.Contains(e.Message, "boom") {
		t.Errorf("plain error: %+v", e)
	}
}

func TestS3ObjectHeaders(t *testing.T) {
	o := &gateway.Object{ETag: "abc", UpdateTime: time.Date(2025, 6, 24, 8, 31, 28, 5e8, time.FixedZone("CST", 8*3600)),
		Meta: gateway.Meta{User: map[string]string{"color": "blue"}}, Tags: map[string]string{"a": "b"}}
	h := http.Header{}
	setObjectHeaders(h, o)
	if v := h["x-amz-meta-color"]; len(v) != 1 || v[0] != "blue" {
		t.Errorf("user metadata must go out lowercase: %v", h)
	}
	for k, want := range map[string]string{
		"Etag": `"abc"`, "Last-Modified": "Tue, 24 Jun 2025 00:31:28 GMT", "Content-Type": defaultContentType,
		"Accept-Ranges": "bytes", "X-Amz-Tagging-Count": "1",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got := isoTime(o.UpdateTime); got != "2025-06-24T00:31:28.500Z" {
		t.Errorf("isoTime = %q", got)
	}
}

// Each algorithm's header is looked up by its canonical name, which must be
// the one net/http gives x-amz-checksum-<algorithm>.
func TestChecksumHeaderNamesCanonical(t *testing.T) {
	for _, a := range checksumAlgorithms {
		if want := http.CanonicalHeaderKey(checksumHeaderPrefix + strings.ToLower(a.name)); a.header != want {
			t.Errorf("%s: header %q, want %q", a.name, a.header, want)
		}
	}
}
