package test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"jcsgw/gateway/auth"
)

// jcsClient talks to /v1 the way a real JCS client does: SigV4 with
// service "jcs" and region "any", no X-Amz-Content-Sha256 header, the
// body's hash for JSON posts, the empty body's hash for queries, and ""
// for multipart forms; userID in bodies and queries.
type jcsClient struct {
	t      testing.TB
	s      *Server
	ak, sk string
}

func newJCS(t testing.TB, s *Server) *jcsClient {
	return &jcsClient{t: t, s: s, ak: s.AccessKey, sk: s.SecretKey}
}

// withKeys is a client that signs with other keys.
func (c *jcsClient) withKeys(ak, sk string) *jcsClient {
	d := *c
	d.ak, d.sk = ak, sk
	return &d
}

// jcsResult is an HTTP answer, read whole.
type jcsResult struct {
	t      testing.TB
	Status int
	Header http.Header
	Body   []byte
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func jcsFullHash(b []byte) string {
	s := sha256.Sum256(b)
	return "Full" + strings.ToUpper(hex.EncodeToString(s[:]))
}

// send signs req with payloadHash (unless sign is false) and sends it.
func (c *jcsClient) send(req *http.Request, payloadHash string, sign bool) *jcsResult {
	c.t.Helper()
	if sign {
		require.NoError(c.t, auth.SignJCS(req, c.ak, c.sk, payloadHash, time.Now()))
	}
	return c.roundTrip(req)
}

func (c *jcsClient) roundTrip(req *http.Request) *jcsResult {
	c.t.Helper()
	resp, err := c.s.HTTP.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return &jcsResult{t: c.t, Status: resp.StatusCode, Header: resp.Header, Body: body}
}

func (c *jcsClient) newRequest(method, path string, q url.Values, body []byte) *http.Request {
	c.t.Helper()
	u := c.s.URL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	require.NoError(c.t, err)
	return req
}

// post sends a JSON body (a []byte or string as is, anything else
// marshalled) to path.
func (c *jcsClient) post(path string, body any) *jcsResult {
	c.t.Helper()
	b := jsonBytes(c.t, body)
	req := c.newRequest(http.MethodPost, path, nil, b)
	req.Header.Set("Content-Type", "application/json")
	return c.send(req, hexSHA(b), true)
}

func jsonBytes(t testing.TB, body any) []byte {
	switch v := body.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	}
	b, err := json.Marshal(body)
	require.NoError(t, err)
	return b
}

// get sends a query with userID added, as JCS clients do.
func (c *jcsClient) get(path string, q url.Values) *jcsResult {
	c.t.Helper()
	q = withUserID(q)
	req := c.newRequest(http.MethodGet, path, q, nil)
	return c.send(req, hexSHA(nil), true)
}

func withUserID(q url.Values) url.Values {
	out := url.Values{"userID": {"1"}}
	for k, v := range q {
		out[k] = v
	}
	return out
}

// formPart is one part of a multipart form; filename nil = no filename.
type formPart struct {
	name     string
	filename *string
	data     []byte
}

func infoPart(v any) formPart {
	b, _ := json.Marshal(v)
	return formPart{name: "info", data: b}
}

func filesPart(path string, data []byte) formPart {
	fn := url.PathEscape(path)
	return formPart{name: "files", filename: &fn, data: data}
}

func rawFilePart(name, filename string, data []byte) formPart {
	return formPart{name: name, filename: &filename, data: data}
}

func buildForm(t testing.TB, parts []formPart) ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.filename != nil {
			cd += fmt.Sprintf(`; filename="%s"`, *p.filename)
			h.Set("Content-Type", "application/octet-stream")
		}
		h.Set("Content-Disposition", cd)
		pw, err := w.CreatePart(h)
		require.NoError(t, err)
		_, err = pw.Write(p.data)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return buf.Bytes(), w.FormDataContentType()
}

// form posts a multipart form signed with payload hash "".
func (c *jcsClient) form(path string, parts ...formPart) *jcsResult {
	c.t.Helper()
	body, ct := buildForm(c.t, parts)
	req := c.newRequest(http.MethodPost, path, nil, body)
	req.Header.Set("Content-Type", ct)
	return c.send(req, "", true)
}

// upload sends files (path → bytes, in the given order) to a package with
// info first.
func (c *jcsClient) upload(pkgID int64, files ...fileData) *jcsResult {
	c.t.Helper()
	parts := []formPart{infoPart(map[string]any{"userID": 1, "packageID": pkgID})}
	for _, f := range files {
		parts = append(parts, filesPart(f.path, f.data))
	}
	return c.form("/v1/object/upload", parts...)
}

type fileData struct {
	path string
	data []byte
}

// presign returns a presigned URL for method path?q valid for expires from t.
func (c *jcsClient) presign(method, path string, q url.Values, expires time.Duration, at time.Time) string {
	c.t.Helper()
	req := c.newRequest(method, path, withUserID(q), nil)
	u, err := auth.PresignJCS(req, c.ak, c.sk, expires, at)
	require.NoError(c.t, err)
	return u
}

// sendURL sends an unsigned request to a (presigned) URL.
func (c *jcsClient) sendURL(method, u string, body []byte) *jcsResult {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	require.NoError(c.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	return c.roundTrip(req)
}

// Checking answers.

// envelope decodes a JSON answer, checking Content-Type and that the
// members are exactly code, message and data (or code and message).
func (r *jcsResult) envelope(withData bool) map[string]any {
	r.t.Helper()
	require.Equal(r.t, "application/json", r.Header.Get("Content-Type"), "body: %s", r.Body)
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	require.NoError(r.t, dec.Decode(&m), "body: %s", r.Body)
	want := []string{"code", "message"}
	if withData {
		want = append(want, "data")
	}
	requireKeys(r.t, m, want...)
	require.IsType(r.t, "", m["code"])
	require.IsType(r.t, "", m["message"])
	return m
}

// ok checks a 200 OK answer and returns its data (nil for null).
func (r *jcsResult) ok() map[string]any {
	r.t.Helper()
	require.Equal(r.t, http.StatusOK, r.Status, "body: %s", r.Body)
	m := r.envelope(true)
	require.Equal(r.t, "OK", m["code"], "body: %s", r.Body)
	require.Equal(r.t, "", m["message"])
	if m["data"] == nil {
		return nil
	}
	d, ok := m["data"].(map[string]any)
	require.True(r.t, ok, "data is not an object: %s", r.Body)
	return d
}

// okNull checks a 200 OK answer whose data is null.
func (r *jcsResult) okNull() {
	r.t.Helper()
	require.Equal(r.t, http.StatusOK, r.Status, "body: %s", r.Body)
	m := r.envelope(true)
	require.Equal(r.t, "OK", m["code"])
	require.Nil(r.t, m["data"])
}

// fail checks an error answer: status, code, data null and a message that
// contains each of words.
func (r *jcsResult) fail(status int, code string, words ...string) string {
	r.t.Helper()
	require.Equal(r.t, status, r.Status, "body: %s", r.Body)
	m := r.envelope(true)
	require.Equal(r.t, code, m["code"], "body: %s", r.Body)
	require.Nil(r.t, m["data"])
	msg := m["message"].(string)
	require.NotEmpty(r.t, msg)
	for _, w := range words {
		require.Contains(r.t, msg, w, "body: %s", r.Body)
	}
	return msg
}

func (r *jcsResult) badArg(words ...string) string {
	r.t.Helper()
	return r.fail(http.StatusBadRequest, "BadArgument", words...)
}

func (r *jcsResult) notFound() string {
	r.t.Helper()
	return r.fail(http.StatusOK, "DataNotFound")
}

func (r *jcsResult) unauthorized() string {
	r.t.Helper()
	return r.fail(http.StatusUnauthorized, "Unauthorized")
}

// data checks a successful download.
func (r *jcsResult) data() []byte {
	r.t.Helper()
	require.Equal(r.t, http.StatusOK, r.Status, "body: %.300s", r.Body)
	require.Equal(r.t, "application/octet-stream", r.Header.Get("Content-Type"))
	require.Equal(r.t, strconv.Itoa(len(r.Body)), r.Header.Get("Content-Length"))
	return r.Body
}

func requireKeys(t testing.TB, m map[string]any, want ...string) {
	t.Helper()
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	require.Equal(t, want, got)
}

func asMap(t testing.TB, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	require.True(t, ok, "not a JSON object: %#v", v)
	return m
}

func asList(t testing.TB, v any) []any {
	t.Helper()
	l, ok := v.([]any)
	require.True(t, ok, "not a JSON array (null is not allowed): %#v", v)
	return l
}

func asInt(t testing.TB, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	require.True(t, ok, "not a JSON number: %#v", v)
	i, err := n.Int64()
	require.NoError(t, err, "not an integer: %s", n)
	return i
}

// checkTime checks a JCS time: RFC 3339 (fractional seconds allowed) in
// the server's zone (+08:00 in these tests).
func checkTime(t testing.TB, v any) time.Time {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "time is not a string: %#v", v)
	tm, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(s, "+08:00"), "time %q is not in the server's zone", s)
	require.WithinDuration(t, time.Now(), tm, time.Hour)
	return tm
}

type bucketV struct {
	ID   int64
	Name string
}

func checkBucket(t testing.TB, v any) bucketV {
	t.Helper()
	m := asMap(t, v)
	requireKeys(t, m, "bucketID", "name")
	b := bucketV{ID: asInt(t, m["bucketID"])}
	require.Positive(t, b.ID)
	b.Name = m["name"].(string)
	return b
}

type packageV struct {
	ID, BucketID int64
	Name         string
	CreateTime   time.Time
}

func checkPackage(t testing.TB, v any) packageV {
	t.Helper()
	m := asMap(t, v)
	requireKeys(t, m, "packageID", "name", "bucketID", "createTime")
	p := packageV{ID: asInt(t, m["packageID"]), BucketID: asInt(t, m["bucketID"])}
	require.Positive(t, p.ID)
	p.Name = m["name"].(string)
	p.CreateTime = checkTime(t, m["createTime"])
	return p
}

type objectV struct {
	ID, PackageID int64
	Path          string
	Size          int64
	FileHash      string
	Redundancy    string
	CreateTime    time.Time
	UpdateTime    time.Time
	RawCreate     string
}

func checkObject(t testing.TB, v any) objectV {
	t.Helper()
	m := asMap(t, v)
	requireKeys(t, m, "objectID", "packageID", "path", "size", "fileHash", "redundancy", "createTime", "updateTime")
	o := objectV{ID: asInt(t, m["objectID"]), PackageID: asInt(t, m["packageID"])}
	require.Positive(t, o.ID)
	require.Less(t, o.ID, int64(1)<<31)
	o.Path = m["path"].(string)
	size, ok := m["size"].(string)
	require.True(t, ok, "size is not a JSON string: %#v", m["size"])
	n, err := strconv.ParseInt(size, 10, 64)
	require.NoError(t, err)
	require.Equal(t, strconv.FormatInt(n, 10), size)
	o.Size = n
	o.FileHash = m["fileHash"].(string)
	require.Len(t, o.FileHash, 68)
	red := asMap(t, m["redundancy"])
	requireKeys(t, red, "type")
	o.Redundancy = red["type"].(string)
	o.CreateTime = checkTime(t, m["createTime"])
	o.UpdateTime = checkTime(t, m["updateTime"])
	o.RawCreate = m["createTime"].(string)
	return o
}

func checkObjects(t testing.TB, v any) []objectV {
	t.Helper()
	var out []objectV
	for _, x := range asList(t, v) {
		out = append(out, checkObject(t, x))
	}
	return out
}

// Fixtures.

func (c *jcsClient) createBucket(name string) int64 {
	c.t.Helper()
	d := c.post("/v1/bucket/create", map[string]any{"userID": 1, "name": name}).ok()
	requireKeys(c.t, d, "bucket")
	b := checkBucket(c.t, d["bucket"])
	require.Equal(c.t, name, b.Name)
	return b.ID
}

func (c *jcsClient) createPackage(bucketID int64, name string) int64 {
	c.t.Helper()
	d := c.post("/v1/package/create", map[string]any{"userID": 1, "bucketID": bucketID, "name": name}).ok()
	requireKeys(c.t, d, "package")
	p := checkPackage(c.t, d["package"])
	require.Equal(c.t, name, p.Name)
	require.Equal(c.t, bucketID, p.BucketID)
	return p.ID
}

// setup makes a bucket and a package in it.
func (c *jcsClient) setup() (bucketID, pkgID int64) {
	c.t.Helper()
	bucketID = c.createBucket("bkt")
	return bucketID, c.createPackage(bucketID, "pkg")
}

func (c *jcsClient) uploadOK(pkgID int64, files ...fileData) []objectV {
	c.t.Helper()
	d := c.upload(pkgID, files...).ok()
	requireKeys(c.t, d, "uploadeds")
	objs := checkObjects(c.t, d["uploadeds"])
	require.Len(c.t, objs, len(files))
	for i, f := range files {
		require.Equal(c.t, f.path, objs[i].Path)
		require.Equal(c.t, int64(len(f.data)), objs[i].Size)
		require.Equal(c.t, jcsFullHash(f.data), objs[i].FileHash)
		require.Equal(c.t, "none", objs[i].Redundancy)
		require.Equal(c.t, pkgID, objs[i].PackageID)
	}
	return objs
}

func (c *jcsClient) download(objID int64, q url.Values) *jcsResult {
	c.t.Helper()
	if q == nil {
		q = url.Values{}
	}
	q.Set("objectID", strconv.FormatInt(objID, 10))
	return c.get("/v1/object/download", q)
}

func (c *jcsClient) packageObjects(pkgID int64) []objectV {
	c.t.Helper()
	d := c.get("/v1/object/getPackageObjects", url.Values{"packageID": {strconv.FormatInt(pkgID, 10)}}).ok()
	requireKeys(c.t, d, "objects")
	return checkObjects(c.t, d["objects"])
}

func idStr(n int64) string { return strconv.FormatInt(n, 10) }
