package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"jcsgw"
	"jcsgw/backends"
	"jcsgw/gateway"
)

// The limits (gateway.Limits) through both fronts: each is answered with
// the dialect's error, before the body is read when its length is
// announced, and nothing is stored: no object, no new blob, no temp file.

// s3Do sends an S3 request signed with UNSIGNED-PAYLOAD. length is the
// Content-Length to announce (-1: chunked transfer coding, length unknown).
func s3Do(t testing.TB, s *Server, method, path string, q url.Values, hdr http.Header, body io.Reader, length int64) *http.Response {
	t.Helper()
	u := s.URL + path
	if len(q) > 0 {
		u += "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
	}
	req, err := http.NewRequest(method, u, nil)
	require.NoError(t, err)
	if body != nil {
		req.Body = io.NopCloser(body)
	}
	req.ContentLength = length
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	payload := req.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = "UNSIGNED-PAYLOAD"
		req.Header.Set("X-Amz-Content-Sha256", payload)
	}
	creds := aws.Credentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey}
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, "s3", "us-east-1", time.Now()))
	resp, err := clientFor(s, req).Do(req)
	require.NoError(t, err)
	return resp
}

// expectClient waits for "100 Continue" before it sends a body, as the aws
// CLI and boto3 do for large uploads: a refusal before the body is read then
// reaches it before it has sent the body (a client that sends at once may
// instead see the connection reset under a body the server will not read).
var expectClient = &http.Client{
	Transport: &http.Transport{ExpectContinueTimeout: 30 * time.Second},
	Timeout:   time.Minute,
}

// clientFor is the client for req: expectClient when it says Expect.
func clientFor(s *Server, req *http.Request) *http.Client {
	if req.Header.Get("Expect") != "" {
		return expectClient
	}
	return s.HTTP
}

// expect100 is the header of a request that waits for 100 Continue.
var expect100 = http.Header{"Expect": {"100-continue"}}

var xmlCode = regexp.MustCompile(`<Code>([^<]*)</Code>`)

// s3Fail checks an S3 error reply.
func s3Fail(t testing.TB, resp *http.Response, status int, code string) string {
	t.Helper()
	body := string(readAll(t, resp))
	require.Equal(t, status, resp.StatusCode, body)
	m := xmlCode.FindStringSubmatch(body)
	require.NotNil(t, m, body)
	require.Equal(t, code, m[1], body)
	require.NotEmpty(t, resp.Header.Get("X-Amz-Request-Id"))
	return body
}

func s3OK(t testing.TB, resp *http.Response) string {
	t.Helper()
	body := string(readAll(t, resp))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	return body
}

// stalledBody is a request body that sends nothing until released: a
// server that answers it has not waited for the body.
type stalledBody struct{ release chan struct{} }

func newStalledBody(t testing.TB) *stalledBody {
	b := &stalledBody{release: make(chan struct{})}
	t.Cleanup(func() { close(b.release) })
	return b
}

func (b *stalledBody) Read([]byte) (int, error) {
	<-b.release
	return 0, io.ErrUnexpectedEOF
}

// store lists what the default user space holds at rest: blob names (in
// files of their own or in packs, read afresh from disk) and temp files.
func store(t testing.TB, s *Server) (blobs, temps []string) {
	t.Helper()
	blobs = blobsAtRest(t, s)
	ents, err := os.ReadDir(filepath.Join(s.DataDir, "spaces", "default", "tmp"))
	require.NoError(t, err)
	for _, e := range ents {
		temps = append(temps, e.Name())
	}
	return blobs, temps
}

// defaultBlob reads a blob of the default user space as a second reader of
// its directory finds it; ok is false when it is not there.
func defaultBlob(t testing.TB, s *Server, name string) (data []byte, ok bool) {
	t.Helper()
	l, err := backends.NewLocal(filepath.Join(s.DataDir, "spaces", "default"))
	require.NoError(t, err)
	rc, err := l.Open(context.Background(), name, 0, -1)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	require.NoError(t, err)
	defer rc.Close()
	data, err = io.ReadAll(rc)
	require.NoError(t, err)
	return data, true
}

// blobsAtRest lists the blobs of the default user space as a second reader
// of its directory finds them: what a restart would find.
func blobsAtRest(t testing.TB, s *Server) []string {
	t.Helper()
	l, err := backends.NewLocal(filepath.Join(s.DataDir, "spaces", "default"))
	require.NoError(t, err)
	var names []string
	require.NoError(t, l.List(context.Background(), func(name string) error { names = append(names, name); return nil }))
	slices.Sort(names)
	return names
}

// nothingStored returns a check that the store holds exactly the blobs it
// holds now, and no temp file.
func nothingStored(t testing.TB, s *Server) func(what string) {
	before, _ := store(t, s)
	return func(what string) {
		t.Helper()
		after, temps := store(t, s)
		require.Equal(t, before, after, "%s: blobs changed", what)
		require.Empty(t, temps, "%s: temp files left", what)
	}
}

// s3NoKey checks that key does not exist.
func s3NoKey(t testing.TB, s *Server, bucket, key string) {
	t.Helper()
	resp := s3Do(t, s, http.MethodHead, "/"+bucket+"/"+key, nil, nil, nil, 0)
	readAll(t, resp)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s/%s exists", bucket, key)
}

var uploadIDRE = regexp.MustCompile(`<UploadId>([^<]+)</UploadId>`)

func s3CreateUpload(t testing.TB, s *Server, bucket, key string) string {
	t.Helper()
	body := s3OK(t, s3Do(t, s, http.MethodPost, "/"+bucket+"/"+key, url.Values{"uploads": {""}}, nil, nil, 0))
	m := uploadIDRE.FindStringSubmatch(body)
	require.NotNil(t, m, body)
	return m[1]
}

func s3UploadPart(t testing.TB, s *Server, bucket, key, id string, n int, data []byte, hdr http.Header) *http.Response {
	t.Helper()
	return s3Do(t, s, http.MethodPut, "/"+bucket+"/"+key, url.Values{"uploadId": {id}, "partNumber": {strconv.Itoa(n)}},
		hdr, bytes.NewReader(data), int64(len(data)))
}

func deleteXML(n int) []byte {
	var b strings.Builder
	b.WriteString("<Delete>")
	for i := range n {
		fmt.Fprintf(&b, "<Object><Key>k%d</Key></Object>", i)
	}
	b.WriteString("</Delete>")
	return []byte(b.String())
}

var maxKeysRE = regexp.MustCompile(`<MaxKeys>(\d+)</MaxKeys>`)

// bigHeader sends a request with a header of n bytes to path and answers
// the status; over the limit the error must be in the front's dialect.
func bigHeader(t testing.TB, s *Server, n int) int {
	t.Helper()
	status := 0
	for _, path := range []string{"/healthz", "/somebucket", "/v1/bucket/listAll"} {
		req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("X-Padding", strings.Repeat("p", n))
		resp, err := s.HTTP.Do(req)
		require.NoError(t, err)
		body := string(readAll(t, resp))
		switch {
		case strings.HasPrefix(path, "/v1/") && resp.StatusCode == http.StatusRequestHeaderFieldsTooLarge:
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Contains(t, body, `"code":"BadArgument"`)
			assert.Contains(t, body, "max-header-bytes")
		case !strings.HasPrefix(path, "/v1/") && resp.StatusCode == http.StatusBadRequest:
			assert.Contains(t, body, "<Code>RequestHeaderSectionTooLarge</Code>")
			resp.StatusCode = http.StatusRequestHeaderFieldsTooLarge // the same verdict, in S3's words
		}
		if path == "/healthz" {
			status = resp.StatusCode
		} else if resp.StatusCode == http.StatusRequestHeaderFieldsTooLarge {
			assert.Equal(t, status, resp.StatusCode, path)
		}
	}
	return status
}

// TestLimitsDefault checks the default limits, the large ones by
// announcing sizes the client never sends.
func TestLimitsDefault(t *testing.T) {
	s := StartServer(t, nil)
	def := gateway.DefaultLimits()
	s3OK(t, s3Do(t, s, http.MethodPut, "/lim", nil, nil, nil, 0))
	check := nothingStored(t, s)
	tooBig := def.MaxPutSize + 1

	// Content-Length over 5 GiB: refused at once, the body never read.
	start := time.Now()
	s3Fail(t, s3Do(t, s, http.MethodPut, "/lim/big", nil, nil, newStalledBody(t), tooBig), 400, "EntityTooLarge")
	require.Less(t, time.Since(start), 10*time.Second)
	// The same announced by x-amz-decoded-content-length (aws-chunked).
	s3Fail(t, s3Do(t, s, http.MethodPut, "/lim/big", nil, http.Header{
		"X-Amz-Content-Sha256":         {"STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
		"Content-Encoding":             {"aws-chunked"},
		"X-Amz-Decoded-Content-Length": {strconv.FormatInt(tooBig, 10)},
	}, newStalledBody(t), tooBig+1000), 400, "EntityTooLarge")
	s3NoKey(t, s, "lim", "big")
	check("PutObject over 5 GiB")

	// Parts: at most 5 GiB, numbered 1 to 10,000.
	id := s3CreateUpload(t, s, "lim", "mp")
	q := url.Values{"uploadId": {id}, "partNumber": {"1"}}
	s3Fail(t, s3Do(t, s, http.MethodPut, "/lim/mp", q, nil, newStalledBody(t), def.MaxPartSize+1), 400, "EntityTooLarge")
	for _, n := range []int{0, 10001} {
		s3Fail(t, s3UploadPart(t, s, "lim", "mp", id, n, []byte("x"), nil), 400, "InvalidArgument")
	}
	s3OK(t, s3UploadPart(t, s, "lim", "mp", id, 10000, []byte("x"), nil))
	check = nothingStored(t, s)

	// Keys: 1,024 bytes.
	key := strings.Repeat("k", 1024)
	s3OK(t, s3Do(t, s, http.MethodPut, "/lim/"+key, nil, nil, strings.NewReader("x"), 1))
	s3Fail(t, s3Do(t, s, http.MethodPut, "/lim/"+key+"k", nil, nil, strings.NewReader("y"), 1), 400, "KeyTooLongError")
	check = nothingStored(t, s)

	// User metadata: 2 KiB of names and values.
	meta := func(n int) http.Header { return http.Header{"X-Amz-Meta-M": {strings.Repeat("v", n-1)}} }
	s3OK(t, s3Do(t, s, http.MethodPut, "/lim/meta", nil, meta(2048), strings.NewReader("a"), 1))
	check = nothingStored(t, s)
	s3Fail(t, s3Do(t, s, http.MethodPut, "/lim/meta2", nil, meta(2049), strings.NewReader("b"), 1), 400, "MetadataTooLarge")
	s3NoKey(t, s, "lim", "meta2")
	check("metadata over 2 KiB")

	// Headers: 64 KiB (net/http's own 431).
	require.Equal(t, http.StatusOK, bigHeader(t, s, 32<<10))
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, bigHeader(t, s, 80<<10))

	// DeleteObjects: 1,000 keys.
	s3Fail(t, s3Do(t, s, http.MethodPost, "/lim", url.Values{"delete": {""}}, nil, bytes.NewReader(deleteXML(1001)), -1), 400, "MalformedXML")
	s3OK(t, s3Do(t, s, http.MethodPost, "/lim", url.Values{"delete": {""}}, nil, bytes.NewReader(deleteXML(1000)), -1))

	// Listing pages: max-keys capped at 1,000.
	body := s3OK(t, s3Do(t, s, http.MethodGet, "/lim", url.Values{"list-type": {"2"}, "max-keys": {"5000"}}, nil, nil, 0))
	require.Equal(t, "1000", maxKeysRE.FindStringSubmatch(body)[1])

	// /v1 JSON bodies: 1 MiB, named in the answer.
	c := newJCS(t, s)
	c.post("/v1/bucket/create", map[string]any{"name": "jlim", "pad": strings.Repeat("x", 1<<20)}).badArg("1048576")
	// Presigned upload and uploadPart announcing more than 5 GiB.
	b := c.createBucket("jlim")
	pid := c.createPackage(b, "p")
	u := c.presign(http.MethodPost, "/v1/presigned/object/upload", url.Values{"packageID": {idStr(pid)}, "path": {"big"}}, time.Hour, time.Now())
	jcsStalled(t, c, u, tooBig).badArg("5368709120")
	check("/v1 refusals")
}

// jcsStalled sends an unsigned request to a presigned URL announcing
// length bytes of a body it never sends.
func jcsStalled(t testing.TB, c *jcsClient, u string, length int64) *jcsResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, nil)
	require.NoError(t, err)
	req.Body = io.NopCloser(newStalledBody(t))
	req.ContentLength = length
	return c.roundTrip(req)
}

// jcsExpect posts body to a presigned URL, waiting for 100 Continue.
func jcsExpect(t testing.TB, c *jcsClient, u string, body []byte) *jcsResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Expect", "100-continue")
	resp, err := expectClient.Do(req)
	require.NoError(t, err)
	return &jcsResult{t: t, Status: resp.StatusCode, Header: resp.Header, Body: readAll(t, resp)}
}

// testLimits are small enough to reach with real bytes.
var testLimits = gateway.Limits{
	MaxObjectSize:   8 << 20,
	MaxPutSize:      1 << 20,
	MaxPartSize:     6 << 20,
	MaxParts:        5,
	MaxKeyLength:    100,
	MaxUserMetadata: 100,
	MaxTags:         2,
	MaxHeaderBytes:  8 << 10,
	MaxJSONBody:     4 << 10,
	MaxDeleteKeys:   10,
	MaxListKeys:     5,
}

// TestLimitsConfiguredS3 runs every limit through S3 with small limits.
func TestLimitsConfiguredS3(t *testing.T) {
	s := StartServer(t, &jcsgw.Config{Limits: testLimits})
	s3OK(t, s3Do(t, s, http.MethodPut, "/lim", nil, nil, nil, 0))
	check := nothingStored(t, s)

	// Single PUT: 1 MiB, whether announced or streamed with no length.
	mib := s3Data(1<<20, 1)
	s3Fail(t, s3Do(t, s, http.MethodPut, "/lim/big", nil, expect100, bytes.NewReader(append(mib, 'x')), 1<<20+1), 400, "EntityTooLarge")
	body := s3Fail(t, s3Do(t, s, http.MethodPut, "/lim/big", nil, nil, bytes.NewReader(append(mib, s3Data(64<<10, 2)...)), -1), 400, "EntityTooLarge")
	require.Contains(t, body, strconv.Itoa(1<<20))
	s3NoKey(t, s, "lim", "big")
	check("PutObject over the limit")
	s3OK(t, s3Do(t, s, http.MethodPut, "/lim/fits", nil, nil, bytes.NewReader(mib), -1))
	s3OK(t, s3Do(t, s, http.MethodPut, "/lim/fits2", nil, nil, bytes.NewReader(mib), 1<<20))

	// Parts: 6 MiB each, numbers 1 to 5, an object of 8 MiB at most.
	id := s3CreateUpload(t, s, "lim", "mp")
	six := s3Data(6<<20, 3)
	check = nothingStored(t, s)
	// Refused before "100 Continue": the client never sends the 6 MiB (it
	// would only after its 30 s wait for a continue that never comes).
	start := time.Now()
	s3Fail(t, s3UploadPart(t, s, "lim", "mp", id, 1, append(six, 'x'), expect100), 400, "EntityTooLarge")
	require.Less(t, time.Since(start), 10*time.Second)
	s3Fail(t, s3Do(t, s, http.MethodPut, "/lim/mp", url.Values{"uploadId": {id}, "partNumber": {"1"}}, nil,
		bytes.NewReader(append(six, s3Data(64<<10, 4)...)), -1), 400, "EntityTooLarge")
	s3Fail(t, s3UploadPart(t, s, "lim", "mp", id, 6, []byte("x"), nil), 400, "InvalidArgument")
	check("parts over the limits")
	p1 := s3UploadPart(t, s, "lim", "mp", id, 1, six, nil)
	s3OK(t, p1)
	p2 := s3UploadPart(t, s, "lim", "mp", id, 2, s3Data(3<<20, 5), nil)
	s3OK(t, p2)
	complete := func(parts ...int) *http.Response {
		var b strings.Builder
		b.WriteString("<CompleteMultipartUpload>")
		for _, n := range parts {
			etag := p1.Header.Get("ETag")
			if n != 1 {
				etag = p2.Header.Get("ETag")
			}
			fmt.Fprintf(&b, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", n, etag)
		}
		b.WriteString("</CompleteMultipartUpload>")
		return s3Do(t, s, http.MethodPost, "/lim/mp", url.Values{"uploadId": {id}}, nil, strings.NewReader(b.String()), int64(b.Len()))
	}
	check = nothingStored(t, s)
	s3Fail(t, complete(1, 2), 400, "EntityTooLarge") // 9 MiB > 8 MiB
	s3Fail(t, complete(1, 2, 3, 4, 5, 6), 400, "InvalidArgument")
	s3NoKey(t, s, "lim", "mp")
	check("completions over the limits")
	s3OK(t, complete(1)) // 6 MiB fits

	// Keys, metadata, tags.
	check = nothingStored(t, s)
	s3Fail(t, s3Do(t, s, http.MethodPut, "/lim/"+strings.Repeat("k", 101), nil, nil, strings.NewReader("x"), 1), 400, "KeyTooLongError")
	s3Fail(t, s3Do(t, s, http.MethodGet, "/lim/"+strings.Repeat("k", 101), nil, nil, nil, 0), 400, "KeyTooLongError")
	s3Fail(t, s3Do(t, s, http.MethodPut, "/lim/m", nil, http.Header{"X-Amz-Meta-A": {strings.Repeat("v", 100)}},
		strings.NewReader("x"), 1), 400, "MetadataTooLarge")
	s3Fail(t, s3Do(t, s, http.MethodPut, "/lim/t", nil, http.Header{"X-Amz-Tagging": {"a=1&b=2&c=3"}},
		strings.NewReader("x"), 1), 400, "InvalidTag")
	check("keys, metadata and tags over the limits")
	s3OK(t, s3Do(t, s, http.MethodPut, "/lim/"+strings.Repeat("k", 100), nil, http.Header{"X-Amz-Meta-A": {strings.Repeat("v", 99)}},
		strings.NewReader("x"), 1))

	// Headers: 8 KiB (net/http allows 4 KiB of slack).
	require.Equal(t, http.StatusOK, bigHeader(t, s, 4<<10))
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, bigHeader(t, s, 16<<10))

	// DeleteObjects: 10 keys.
	s3Fail(t, s3Do(t, s, http.MethodPost, "/lim", url.Values{"delete": {""}}, nil, bytes.NewReader(deleteXML(11)), -1), 400, "MalformedXML")
	s3OK(t, s3Do(t, s, http.MethodPost, "/lim", url.Values{"delete": {""}}, nil, bytes.NewReader(deleteXML(10)), -1))

	// Listing pages: 5 (the bucket holds 6 objects).
	s3OK(t, s3Do(t, s, http.MethodPut, "/lim/six", nil, nil, strings.NewReader("6"), 1))
	s3OK(t, s3Do(t, s, http.MethodPut, "/lim/seven", nil, nil, strings.NewReader("7"), 1))
	body = s3OK(t, s3Do(t, s, http.MethodGet, "/lim", url.Values{"list-type": {"2"}, "max-keys": {"1000"}}, nil, nil, 0))
	require.Equal(t, "5", maxKeysRE.FindStringSubmatch(body)[1])
	require.Equal(t, 5, strings.Count(body, "<Contents>"))
	require.Contains(t, body, "<IsTruncated>true</IsTruncated>")
}

// TestLimitsConfiguredJCS runs every limit through /v1 with small limits.
func TestLimitsConfiguredJCS(t *testing.T) {
	s := StartServer(t, &jcsgw.Config{Limits: testLimits})
	c := newJCS(t, s)
	_, pid := c.setup()
	check := nothingStored(t, s)

	// JSON bodies and info parts: 4 KiB, named in the answer.
	c.post("/v1/package/create", map[string]any{"bucketID": 1, "name": "x", "pad": strings.Repeat("x", 4<<10)}).badArg("4096", "JSON body limit")
	c.form("/v1/object/upload", infoPart(map[string]any{"packageID": pid, "pad": strings.Repeat("x", 4<<10)}),
		filesPart("a", []byte("a"))).badArg("info", "4096")

	// Upload files: 1 MiB each; the form's later files never stored.
	mib := s3Data(1<<20, 6)
	c.upload(pid, fileData{"ok", []byte("fine")}, fileData{"big", append(mib, 'x')}).badArg("1048576")
	u := c.presign(http.MethodPost, "/v1/presigned/object/upload", url.Values{"packageID": {idStr(pid)}, "path": {"big"}}, time.Hour, time.Now())
	jcsExpect(t, c, u, append(mib, 'x')).badArg("1048576")
	require.Empty(t, c.packageObjects(pid))
	check("uploads over the limit")
	c.uploadOK(pid, fileData{"fits", mib})

	// Paths: package name + "/" + path at most 100 bytes ("pkg/" is 4).
	check = nothingStored(t, s)
	c.upload(pid, fileData{strings.Repeat("p", 97), []byte("x")}).badArg("100")
	c.post("/v1/object/newMultipartUpload", map[string]any{"packageID": pid, "path": strings.Repeat("p", 97)}).badArg("100")
	check("paths over the limit")

	// Multipart: parts of 6 MiB, an object of 8 MiB, 5 indexes.
	d := c.post("/v1/object/newMultipartUpload", map[string]any{"packageID": pid, "path": "mp"}).ok()
	oid := checkObject(t, d["object"]).ID
	part := func(index int, data []byte) *jcsResult {
		return c.form("/v1/object/uploadPart", infoPart(map[string]any{"objectID": oid, "index": index}), rawFilePart("file", "f", data))
	}
	six := s3Data(6<<20, 7)
	check = nothingStored(t, s)
	part(0, append(six, 'x')).badArg("6291456")
	pu := c.presign(http.MethodPost, "/v1/presigned/object/uploadPart", url.Values{"objectID": {idStr(oid)}, "index": {"0"}}, time.Hour, time.Now())
	jcsExpect(t, c, pu, append(six, 'x')).badArg("6291456")
	check("parts over the limit")
	part(0, six).okBare()
	check = nothingStored(t, s)
	part(1, s3Data(3<<20, 8)).badArg("8388608") // 9 MiB > 8 MiB
	check("a part past the object size")
	part(1, []byte("tail")).okBare()
	c.post("/v1/object/completeMultipartUpload", map[string]any{"objectID": oid, "indexes": []int{0, 1, 1, 1, 1, 1}}).badArg("5")
	// Repeating an index can assemble more than the object size allows.
	c.post("/v1/object/completeMultipartUpload", map[string]any{"objectID": oid, "indexes": []int{0, 0}}).badArg("8388608")
	d = c.post("/v1/object/completeMultipartUpload", map[string]any{"objectID": oid, "indexes": []int{0, 1}}).ok()
	require.Equal(t, int64(6<<20+4), checkObject(t, d["object"]).Size)

	// listByPath pages: 5.
	for i := range 6 {
		c.uploadOK(pid, fileData{fmt.Sprintf("l/%d", i), []byte{byte(i)}})
	}
	res := c.get("/v1/object/listByPath", url.Values{"packageID": {idStr(pid)}, "path": {"l/"}, "isPrefix": {"true"}, "maxKeys": {"1000"}}).ok()
	require.Len(t, asList(t, res["objects"]), 5)
	require.Equal(t, true, res["isTruncated"])
}

// TestLimitsInvalidConfig checks that impossible limits stop the server
// from starting, with a reason.
func TestLimitsInvalidConfig(t *testing.T) {
	for _, l := range []gateway.Limits{{MaxPutSize: -1}, {MaxKeyLength: 4096}, {MaxParts: 20000}, {MaxListKeys: 5000}} {
		_, err := jcsgw.Open(context.Background(), jcsgw.Config{DataDir: t.TempDir(), Limits: l})
		require.ErrorContains(t, err, "limits:")
	}
}

// okBare checks the OK answer of uploadPart, which has no data member.
func (r *jcsResult) okBare() {
	r.t.Helper()
	require.Equal(r.t, http.StatusOK, r.Status, "body: %s", r.Body)
	require.Equal(r.t, "OK", r.envelope(false)["code"])
}
