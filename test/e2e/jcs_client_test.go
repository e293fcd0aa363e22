package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"jcsgw/gateway/auth"
)

// jcsClient speaks /v1 the way native JCS clients do: SigV4 with service
// "jcs" and region "any", userID in every body, JSON posts without a
// Content-Type, and multipart forms signed with an empty payload hash.
type jcsClient struct {
	base, ak, sk string
}

func newJCSClient(s *server) *jcsClient { return &jcsClient{s.URL, s.Access, s.Secret} }

type jcsObject struct {
	ObjectID   int64  `json:"objectID"`
	PackageID  int64  `json:"packageID"`
	Path       string `json:"path"`
	Size       string `json:"size"`
	FileHash   string `json:"fileHash"`
	Redundancy struct {
		Type string `json:"type"`
	} `json:"redundancy"`
}

func (c *jcsClient) send(t *testing.T, method, path string, body []byte, ct string, payloadHash string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	require.NoError(t, err)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	require.NoError(t, auth.SignJCS(req, c.ak, c.sk, payloadHash, time.Now()))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

// call sends a JSON request (or a GET with query) and decodes data into out.
func (c *jcsClient) call(t *testing.T, method, path string, in any, out any) {
	t.Helper()
	var body []byte
	if in != nil {
		var err error
		body, err = json.Marshal(in)
		require.NoError(t, err)
	}
	sum := sha256.Sum256(body)
	resp := c.send(t, method, path, body, "", hex.EncodeToString(sum[:]))
	defer resp.Body.Close()
	var env struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	raw, _ := io.ReadAll(resp.Body)
	require.NoError(t, json.Unmarshal(raw, &env), "%s %s: %s", method, path, raw)
	require.Equal(t, "OK", env.Code, "%s %s: %s", method, path, raw)
	if out != nil {
		require.NoError(t, json.Unmarshal(env.Data, out))
	}
}

func (c *jcsClient) bucketByName(t *testing.T, name string) int64 {
	var d struct{ Bucket struct{ BucketID int64 } }
	c.call(t, "GET", "/v1/bucket/getByName?userID=1&name="+url.QueryEscape(name), nil, &d)
	return d.Bucket.BucketID
}

func (c *jcsClient) packageByName(t *testing.T, bucket, pkg string) int64 {
	var d struct{ Package struct{ PackageID int64 } }
	c.call(t, "GET", "/v1/package/getByFullName?userID=1&bucketName="+url.QueryEscape(bucket)+"&packageName="+url.QueryEscape(pkg), nil, &d)
	return d.Package.PackageID
}

func (c *jcsClient) packageObjects(t *testing.T, pkgID int64) []jcsObject {
	var d struct{ Objects []jcsObject }
	c.call(t, "GET", fmt.Sprintf("/v1/object/getPackageObjects?userID=1&packageID=%d", pkgID), nil, &d)
	return d.Objects
}

func (c *jcsClient) download(t *testing.T, objID int64, query string) []byte {
	t.Helper()
	sum := sha256.Sum256(nil)
	resp := c.send(t, "GET", fmt.Sprintf("/v1/object/download?userID=1&objectID=%d%s", objID, query), nil, "", hex.EncodeToString(sum[:]))
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"), "%s", b)
	return b
}

func (c *jcsClient) downloadSHA(t *testing.T, objID int64) string {
	t.Helper()
	sum := sha256.Sum256(nil)
	resp := c.send(t, "GET", fmt.Sprintf("/v1/object/download?userID=1&objectID=%d", objID), nil, "", hex.EncodeToString(sum[:]))
	defer resp.Body.Close()
	require.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"))
	h := sha256.New()
	_, err := io.Copy(h, resp.Body)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

// upload sends files as one multipart form with the files parts first and
// info last, as some JCS clients do.
func (c *jcsClient) upload(t *testing.T, pkgID int64, files map[string][]byte) []jcsObject {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for p, data := range files {
		fw, err := mw.CreateFormFile("files", url.PathEscape(p))
		require.NoError(t, err)
		fw.Write(data)
	}
	iw, err := mw.CreateFormField("info")
	require.NoError(t, err)
	fmt.Fprintf(iw, `{"userID":1,"packageID":%d}`, pkgID)
	require.NoError(t, mw.Close())
	resp := c.send(t, "POST", "/v1/object/upload", buf.Bytes(), mw.FormDataContentType(), "")
	defer resp.Body.Close()
	var env struct {
		Code string
		Data struct{ Uploadeds []jcsObject }
	}
	raw, _ := io.ReadAll(resp.Body)
	require.NoError(t, json.Unmarshal(raw, &env), "%s", raw)
	require.Equal(t, "OK", env.Code, "%s", raw)
	return env.Data.Uploadeds
}

// uploadPart sends one part of a JCS multipart object, file part first.
func (c *jcsClient) uploadPart(t *testing.T, objID int64, index int, data []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", "part")
	require.NoError(t, err)
	fw.Write(data)
	iw, _ := mw.CreateFormField("info")
	fmt.Fprintf(iw, `{"userID":1,"objectID":%d,"index":%d}`, objID, index)
	require.NoError(t, mw.Close())
	resp := c.send(t, "POST", "/v1/object/uploadPart", buf.Bytes(), mw.FormDataContentType(), "")
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	require.Contains(t, string(raw), `"code":"OK"`)
}
