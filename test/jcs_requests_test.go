package test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"jcsgw/gateway/auth"
)

func TestJCSAuthRefused(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)
	_, pid := c.setup()

	body := []byte(`{"userID":1,"name":"evil"}`)
	post := func() *http.Request {
		req := c.newRequest(http.MethodPost, "/v1/bucket/create", nil, body)
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	// Missing signature.
	c.send(post(), "", false).unauthorized()
	// Wrong secret, unknown access key.
	c.withKeys(s.AccessKey, "wrong-secret").send(post(), hexSHA(body), true).unauthorized()
	c.withKeys("AKNOBODY", s.SecretKey).send(post(), hexSHA(body), true).unauthorized()
	// Signed for another body.
	req := post()
	require.NoError(t, auth.SignJCS(req, s.AccessKey, s.SecretKey, hexSHA([]byte(`{"name":"fine"}`)), time.Now()))
	c.roundTrip(req).unauthorized()
	// Signature altered.
	req = post()
	require.NoError(t, auth.SignJCS(req, s.AccessKey, s.SecretKey, hexSHA(body), time.Now()))
	req.Header.Set("Authorization", req.Header.Get("Authorization")[:len(req.Header.Get("Authorization"))-4]+"0000")
	c.roundTrip(req).unauthorized()
	// Too old.
	req = post()
	require.NoError(t, auth.SignJCS(req, s.AccessKey, s.SecretKey, hexSHA(body), time.Now().Add(-time.Hour)))
	c.roundTrip(req).unauthorized()
	// An X-Amz-Content-Sha256 that is not the body's hash.
	req = post()
	req.Header.Set("X-Amz-Content-Sha256", hexSHA([]byte("other")))
	require.NoError(t, auth.SignJCS(req, s.AccessKey, s.SecretKey, hexSHA([]byte("other")), time.Now()))
	c.roundTrip(req).unauthorized()
	// Queries and downloads too; a download error is JSON.
	c.send(c.newRequest(http.MethodGet, "/v1/bucket/listAll", nil, nil), "", false).unauthorized()
	r := c.send(c.newRequest(http.MethodGet, "/v1/object/download", url.Values{"objectID": {"1"}}, nil), "", false)
	r.unauthorized()
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))

	// Forms: refused before the body is read; nothing stored.
	form, ct := buildForm(t, []formPart{infoPart(map[string]any{"packageID": pid}), filesPart("evil.txt", []byte("evil"))})
	postForm := func() *http.Request {
		req := c.newRequest(http.MethodPost, "/v1/object/upload", nil, form)
		req.Header.Set("Content-Type", ct)
		return req
	}
	c.send(postForm(), "", false).unauthorized()
	c.withKeys(s.AccessKey, "wrong-secret").send(postForm(), "", true).unauthorized()
	req = postForm()
	require.NoError(t, auth.SignJCS(req, s.AccessKey, s.SecretKey, "", time.Now()))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=other") // not what was signed
	c.roundTrip(req).unauthorized()
	// A form whose client committed to a body hash must match it.
	req = postForm()
	req.Header.Set("X-Amz-Content-Sha256", hexSHA([]byte("another body")))
	require.NoError(t, auth.SignJCS(req, s.AccessKey, s.SecretKey, hexSHA([]byte("another body")), time.Now()))
	c.roundTrip(req).unauthorized()

	d := c.get("/v1/bucket/listAll", nil).ok()
	require.Len(t, asList(t, d["buckets"]), 1, "no bucket was created by refused requests")
	require.Empty(t, c.packageObjects(pid), "no object was stored by refused requests")

	// The same with the right hash in X-Amz-Content-Sha256 works.
	req = postForm()
	req.Header.Set("X-Amz-Content-Sha256", hexSHA(form))
	require.NoError(t, auth.SignJCS(req, s.AccessKey, s.SecretKey, hexSHA(form), time.Now()))
	c.roundTrip(req).ok()
	req = post()
	req.Header.Set("X-Amz-Content-Sha256", hexSHA(body))
	require.NoError(t, auth.SignJCS(req, s.AccessKey, s.SecretKey, hexSHA(body), time.Now()))
	c.roundTrip(req).ok()
}

func TestJCSRequestLeniency(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)

	// No Content-Type, userID and unknown members: all fine.
	b := []byte(`{"userID": 7, "name": "lenient", "comment": {"x": [1, 2]}, "extra": null}`)
	req := c.newRequest(http.MethodPost, "/v1/bucket/create", nil, b)
	d := c.send(req, hexSHA(b), true).ok()
	bid := checkBucket(t, d["bucket"]).ID
	// Unknown query parameters are ignored.
	d = c.get("/v1/bucket/getByName", url.Values{"name": {"lenient"}, "whatever": {"1"}}).ok()
	require.Equal(t, bid, checkBucket(t, d["bucket"]).ID)
	// A text/plain Content-Type is no obstacle either.
	b = []byte(`{"bucketID": ` + idStr(bid) + `, "name": "p"}`)
	req = c.newRequest(http.MethodPost, "/v1/package/create", nil, b)
	req.Header.Set("Content-Type", "text/plain")
	c.send(req, hexSHA(b), true).ok()

	// Unknown routes and wrong methods are JSON too.
	r := c.get("/v1/nothing/here", nil)
	r.fail(http.StatusNotFound, "DataNotFound")
	c.get("/v1", nil).fail(http.StatusNotFound, "DataNotFound")
	c.get("/v1/bucket/create", nil).fail(http.StatusMethodNotAllowed, "BadArgument")
}

func TestJCSMalformedJSON(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)
	bid, pid := c.setup()
	o := c.uploadOK(pid, fileData{"keep", []byte("keep")})[0]
	big := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`

	cases := []struct {
		path, body string
		words      []string
	}{
		{"/v1/bucket/create", ``, []string{"empty"}},
		{"/v1/bucket/create", `   `, []string{"empty"}},
		{"/v1/bucket/create", `{`, []string{"JSON"}},
		{"/v1/bucket/create", `{"name": "x",}`, []string{"JSON"}},
		{"/v1/bucket/create", `[]`, []string{"JSON object"}},
		{"/v1/bucket/create", `"x"`, []string{"JSON object"}},
		{"/v1/bucket/create", `null`, []string{"name", "required"}},
		{"/v1/bucket/create", `{}`, []string{"name", "required"}},
		{"/v1/bucket/create", `{"name": null}`, []string{"name", "required"}},
		{"/v1/bucket/create", `{"name": 5}`, []string{"name", "string"}},
		{"/v1/bucket/create", `{"name": "a"} {"name": "b"}`, []string{"after"}},
		{"/v1/bucket/create", big, []string{"larger"}},
		{"/v1/bucket/create", "{\"name\": \"a\x00b\"}", []string{"JSON"}},
		{"/v1/bucket/delete", `{"bucketID": "1"}`, []string{"bucketID", "integer"}},
		{"/v1/bucket/delete", `{"bucketID": 1.5}`, []string{"bucketID", "integer"}},
		{"/v1/bucket/delete", `{"bucketID": 1e40}`, []string{"bucketID"}},
		{"/v1/bucket/delete", `{"bucketID": -1}`, []string{"bucketID", "positive"}},
		{"/v1/bucket/delete", `{"bucketID": 0}`, []string{"bucketID", "positive"}},
		{"/v1/bucket/delete", `{"bucketID": 4294967296}`, []string{"bucketID"}},
		{"/v1/bucket/delete", `{}`, []string{"bucketID", "required"}},
		{"/v1/package/create", `{"bucketID": ` + idStr(bid) + `}`, []string{"name", "required"}},
		{"/v1/package/create", `{"name": "n"}`, []string{"bucketID", "required"}},
		{"/v1/package/create", `{"bucketID": true, "name": "n"}`, []string{"bucketID", "integer"}},
		{"/v1/package/create", `{"bucketID": ` + idStr(bid) + `, "name": "a\u0001b"}`, []string{"name"}},
		{"/v1/package/delete", `{"packageID": "abc"}`, []string{"packageID"}},
		{"/v1/object/move", `{}`, []string{"movings", "required"}},
		{"/v1/object/move", `{"movings": {}}`, []string{"movings", "array"}},
		{"/v1/object/move", `{"movings": [{"objectID": 1, "packageID": 1}]}`, []string{"movings[0].path", "required"}},
		{"/v1/object/move", `{"movings": [{"objectID": "1", "packageID": 1, "path": "x"}]}`, []string{"objectID", "integer"}},
		{"/v1/object/delete", `{"objectIDs": ["a"]}`, []string{"objectIDs", "integer"}},
		{"/v1/object/delete", `{"objectIDs": 5}`, []string{"objectIDs", "array"}},
		{"/v1/object/delete", `{"objectIDs": [1, -2]}`, []string{"objectIDs[1]"}},
		{"/v1/object/delete", `{"objectIds2": [1]}`, []string{"objectIDs", "required"}},
		{"/v1/object/clone", `{"clonings": [{"objectID": 1, "newPackageID": 1}]}`, []string{"clonings[0].newPath", "required"}},
		{"/v1/object/clone", `{"clonings": [{"objectID": 1, "newPath": "x"}]}`, []string{"clonings[0].newPackageID", "required"}},
		{"/v1/object/newMultipartUpload", `{"packageID": ` + idStr(pid) + `}`, []string{"path", "required"}},
		{"/v1/object/newMultipartUpload", `{"packageID": ` + idStr(pid) + `, "path": ""}`, []string{"path"}},
		{"/v1/object/newMultipartUpload", `{"path": "x"}`, []string{"packageID", "required"}},
		{"/v1/object/newMultipartUpload", `{"packageID": ` + idStr(pid) + `, "path": "x", "affinity": -1}`, []string{"affinity"}},
		{"/v1/object/completeMultipartUpload", `{"objectID": ` + idStr(o.ID) + `}`, []string{"indexes", "required"}},
		{"/v1/object/completeMultipartUpload", `{"objectID": ` + idStr(o.ID) + `, "indexes": "1,2"}`, []string{"indexes", "array"}},
		{"/v1/object/completeMultipartUpload", `{"objectID": ` + idStr(o.ID) + `, "indexes": [1, -1]}`, []string{"indexes[1]"}},
		{"/v1/object/completeMultipartUpload", `{"objectID": ` + idStr(o.ID) + `, "indexes": [4294967297]}`, []string{"indexes[0]"}},
	}
	for _, tc := range cases {
		t.Run(tc.path+" "+shorten(tc.body, 40), func(t *testing.T) {
			c := newJCS(t, s)
			c.post(tc.path, tc.body).badArg(tc.words...)
		})
	}

	queries := []struct {
		path  string
		q     url.Values
		words []string
	}{
		{"/v1/bucket/getByName", nil, []string{"name", "required"}},
		{"/v1/package/getByFullName", url.Values{"packageName": {"x"}}, []string{"bucketName"}},
		{"/v1/package/listBucketPackages", url.Values{"bucketID": {"abc"}}, []string{"bucketID", "integer"}},
		{"/v1/package/listBucketPackages", url.Values{"bucketID": {"-3"}}, []string{"bucketID"}},
		{"/v1/package/listBucketPackages", nil, []string{"bucketID", "required"}},
		{"/v1/object/getPackageObjects", url.Values{"packageID": {"1.0"}}, []string{"packageID"}},
		{"/v1/object/listByPath", url.Values{"packageID": {idStr(pid)}, "noRecursive": {"yes"}}, []string{"noRecursive"}},
		{"/v1/object/download", url.Values{"objectID": {idStr(o.ID)}, "length": {"1x"}}, []string{"length"}},
	}
	for _, tc := range queries {
		t.Run(tc.path+" "+tc.q.Encode(), func(t *testing.T) {
			newJCS(t, s).get(tc.path, tc.q).badArg(tc.words...)
		})
	}

	// Nothing changed.
	d := c.get("/v1/bucket/listAll", nil).ok()
	require.Len(t, asList(t, d["buckets"]), 1)
	objs := c.packageObjects(pid)
	require.Len(t, objs, 1)
	require.Equal(t, o.ID, objs[0].ID)
}

func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func TestJCSMalformedForms(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)
	bid, pid := c.setup()
	root := c.createPackage(bid, "")
	info := infoPart(map[string]any{"userID": 1, "packageID": pid})
	data := []byte("data")
	ptr := func(s string) *string { return &s }

	cases := []struct {
		name  string
		parts []formPart
		words []string
	}{
		{"no info", []formPart{filesPart("a", data)}, []string{"info"}},
		{"no info no files", nil, []string{"info"}},
		{"info bad JSON", []formPart{{name: "info", data: []byte(`{"packageID": `)}, filesPart("a", data)}, []string{"info", "JSON"}},
		{"info not object", []formPart{{name: "info", data: []byte(`[1]`)}, filesPart("a", data)}, []string{"info", "JSON object"}},
		{"info packageID string", []formPart{{name: "info", data: []byte(`{"packageID": "1"}`)}}, []string{"info", "packageID", "integer"}},
		{"info no packageID", []formPart{{name: "info", data: []byte(`{"userID": 1}`)}}, []string{"info", "packageID", "required"}},
		{"info twice", []formPart{info, info}, []string{"info"}},
		{"info last bad", []formPart{filesPart("a", data), {name: "info", data: []byte(`nope`)}}, []string{"info"}},
		{"no filename", []formPart{info, {name: "files", data: data}}, []string{"files", "filename"}},
		{"empty filename", []formPart{info, {name: "files", filename: ptr(""), data: data}}, []string{"files", "filename"}},
		{"bad escape", []formPart{info, rawFilePart("files", "a%zzb", data)}, []string{"files", "a%zzb"}},
		{"NUL", []formPart{info, rawFilePart("files", "a%00b", data)}, []string{"files", "NUL"}},
		{"invalid UTF-8", []formPart{info, rawFilePart("files", "a%ff%feb", data)}, []string{"files", "UTF-8"}},
		{"too long", []formPart{info, filesPart(strings.Repeat("p", 1100), data)}, []string{"files", "long"}},
		{"too long info last", []formPart{filesPart("ok", data), filesPart(strings.Repeat("p", 1100), data), info}, []string{"files", "long"}},
		{"unknown part", []formPart{info, rawFilePart("file", "a", data)}, []string{"file"}},
		{"slash in root package", []formPart{infoPart(map[string]any{"packageID": root}), filesPart("a/b", data)}, []string{"files", "root package"}},
		{"negative affinity", []formPart{infoPart(map[string]any{"packageID": pid, "affinity": -2}), filesPart("a", data)}, []string{"affinity"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			newJCS(t, s).form("/v1/object/upload", tc.parts...).badArg(tc.words...)
		})
	}
	// Valid files before a bad one are not stored either.
	c.form("/v1/object/upload", info, filesPart("good", data), rawFilePart("files", "%zz", data)).badArg("files")
	// Unknown package and unknown user space.
	c.form("/v1/object/upload", infoPart(map[string]any{"packageID": 777777}), filesPart("a", data)).notFound()
	c.form("/v1/object/upload", infoPart(map[string]any{"packageID": pid, "affinity": 42}), filesPart("a", data)).badArg()

	// Not a form at all; a form that ends early.
	b := []byte(`{"packageID": 1}`)
	req := c.newRequest(http.MethodPost, "/v1/object/upload", nil, b)
	req.Header.Set("Content-Type", "application/json")
	c.send(req, "", true).badArg("multipart")
	form, ct := buildForm(t, []formPart{info, filesPart("cut", bytes.Repeat([]byte("x"), 10000))})
	form = form[:len(form)-3000]
	req = c.newRequest(http.MethodPost, "/v1/object/upload", nil, form)
	req.Header.Set("Content-Type", ct)
	c.send(req, "", true).badArg()

	// uploadPart forms.
	d := c.post("/v1/object/newMultipartUpload", map[string]any{"packageID": pid, "path": "mp"}).ok()
	mo := checkObject(t, d["object"])
	parts := []struct {
		name  string
		parts []formPart
		words []string
	}{
		{"no file", []formPart{infoPart(map[string]any{"objectID": mo.ID, "index": 1})}, []string{"file"}},
		{"no info", []formPart{rawFilePart("file", "x", data)}, []string{"info"}},
		{"no index", []formPart{infoPart(map[string]any{"objectID": mo.ID}), rawFilePart("file", "x", data)}, []string{"index", "required"}},
		{"negative index", []formPart{infoPart(map[string]any{"objectID": mo.ID, "index": -1}), rawFilePart("file", "x", data)}, []string{"index"}},
		{"huge index", []formPart{infoPart(map[string]any{"objectID": mo.ID, "index": 1 << 32}), rawFilePart("file", "x", data)}, []string{"index"}},
		{"objectID string", []formPart{{name: "info", data: []byte(`{"objectID": "x", "index": 1}`)}, rawFilePart("file", "x", data)}, []string{"objectID"}},
		{"files not file", []formPart{infoPart(map[string]any{"objectID": mo.ID, "index": 1}), rawFilePart("files", "x", data)}, []string{"files"}},
	}
	for _, tc := range parts {
		t.Run("uploadPart "+tc.name, func(t *testing.T) {
			newJCS(t, s).form("/v1/object/uploadPart", tc.parts...).badArg(tc.words...)
		})
	}

	// A second file after a good one: refused, and the first is not stored.
	c.form("/v1/object/uploadPart", infoPart(map[string]any{"objectID": mo.ID, "index": 1}),
		rawFilePart("file", "x", data), rawFilePart("file", "y", data)).badArg("file")
	// A part for an object that is not a multipart upload in progress.
	c.form("/v1/object/uploadPart", infoPart(map[string]any{"objectID": mo.ID + 1000, "index": 1}), rawFilePart("file", "x", data)).notFound()

	objs := c.packageObjects(pid)
	require.Len(t, objs, 1, "only the multipart object exists")
	require.Equal(t, mo.ID, objs[0].ID)
	require.Equal(t, "Full"+strings.Repeat("0", 64), objs[0].FileHash, "no part was stored")
	require.Empty(t, c.packageObjects(root))
}

// Paths that look like file-system escapes are only names: they are stored
// as given and read back, and nothing is written outside the data dir.
func TestJCSPathsAreNames(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)
	_, pid := c.setup()
	paths := []string{"../x", "../../etc/passwd", "/abs", "a/./b", "a//b", "\\win\\path", " space ", "dir/"}
	var files []fileData
	for i, p := range paths {
		files = append(files, fileData{p, []byte("content " + idStr(int64(i)))})
	}
	objs := c.uploadOK(pid, files...)
	for i, o := range objs {
		require.Equal(t, files[i].data, c.download(o.ID, nil).data())
		d := c.get("/v1/object/listByPath", url.Values{"packageID": {idStr(pid)}, "path": {paths[i]}}).ok()
		l := checkObjects(t, d["objects"])
		require.Len(t, l, 1, paths[i])
		require.Equal(t, o.ID, l[0].ID)
	}
}
