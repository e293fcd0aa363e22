package test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestJCSPresigned(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)
	_, pid := c.setup()
	now := time.Now()

	// upload: packageID and path in the query, the raw body is the data.
	data := seededBytes(11, 3<<20+7)
	u := c.presign(http.MethodPost, "/v1/presigned/object/upload", url.Values{"packageID": {idStr(pid)}, "path": {"pre/sig ned.bin"}}, time.Hour, now)
	d := c.sendURL(http.MethodPost, u, data).ok()
	requireKeys(t, d, "object")
	o := checkObject(t, d["object"])
	require.Equal(t, "pre/sig ned.bin", o.Path)
	require.Equal(t, jcsFullHash(data), o.FileHash)
	require.Equal(t, int64(len(data)), o.Size)
	require.Equal(t, "none", o.Redundancy)
	require.Equal(t, data, c.download(o.ID, nil).data())

	// The same URL again overwrites in place; an empty body is a 0-byte object.
	d = c.sendURL(http.MethodPost, u, []byte{}).ok()
	o2 := checkObject(t, d["object"])
	require.Equal(t, o.ID, o2.ID)
	require.Equal(t, int64(0), o2.Size)
	c.sendURL(http.MethodPost, u, data).ok()

	// download and downloadByPath.
	u = c.presign(http.MethodGet, "/v1/presigned/object/download", url.Values{"objectID": {idStr(o.ID)}, "offset": {"10"}, "length": {"100"}}, time.Hour, now)
	require.Equal(t, data[10:110], c.sendURL(http.MethodGet, u, nil).data())
	u = c.presign(http.MethodGet, "/v1/presigned/object/download", url.Values{"objectID": {idStr(o.ID)}, "offset": {"0"}}, time.Hour, now)
	require.Equal(t, data, c.sendURL(http.MethodGet, u, nil).data())
	u = c.presign(http.MethodGet, "/v1/presigned/object/downloadByPath", url.Values{"packageID": {idStr(pid)}, "path": {"pre/sig ned.bin"}, "length": {"0"}}, time.Hour, now)
	require.Empty(t, c.sendURL(http.MethodGet, u, nil).data())
	u = c.presign(http.MethodGet, "/v1/presigned/object/download", url.Values{"objectID": {"987654"}}, time.Hour, now)
	c.sendURL(http.MethodGet, u, nil).notFound()

	// listByPath.
	u = c.presign(http.MethodGet, "/v1/presigned/object/listByPath", url.Values{"packageID": {idStr(pid)}, "path": {"pre/"}, "isPrefix": {"true"}, "noRecursive": {"true"}, "maxKeys": {"10"}}, time.Hour, now)
	d = c.sendURL(http.MethodGet, u, nil).ok()
	requireKeys(t, d, "nextContinuationToken", "isTruncated", "commonPrefixes", "objects")
	objs := checkObjects(t, d["objects"])
	require.Len(t, objs, 1)
	require.Equal(t, o.ID, objs[0].ID)
	require.Empty(t, asList(t, d["commonPrefixes"]))
	require.Equal(t, false, d["isTruncated"])
	require.Equal(t, "", d["nextContinuationToken"])

	// Multipart: new, parts (raw bodies), complete with indexes repeated
	// as parameters and comma-separated, in the order given.
	u = c.presign(http.MethodPost, "/v1/presigned/object/newMultipartUpload", url.Values{"packageID": {idStr(pid)}, "path": {"pre/multi"}}, time.Hour, now)
	d = c.sendURL(http.MethodPost, u, nil).ok()
	mo := checkObject(t, d["object"])
	require.Equal(t, "multipartUpload", mo.Redundancy)
	require.Equal(t, "Full"+strings.Repeat("0", 64), mo.FileHash)
	parts := [][]byte{seededBytes(21, 100), seededBytes(22, 200000), seededBytes(23, 1)}
	for i, p := range parts {
		u = c.presign(http.MethodPost, "/v1/presigned/object/uploadPart", url.Values{"objectID": {idStr(mo.ID)}, "index": {idStr(int64(i))}}, time.Hour, now)
		r := c.sendURL(http.MethodPost, u, p)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		require.Equal(t, "OK", r.envelope(false)["code"])
	}
	// (SigV4 presigners such as aws-sdk-go-v2's sort the values of a
	// repeated parameter, so only the comma-separated form can carry an
	// order other than ascending through them; the server keeps the order
	// it receives.)
	u = c.presign(http.MethodPost, "/v1/presigned/object/completeMultipartUpload", url.Values{"objectID": {idStr(mo.ID)}, "indexes": {"2,0,1", "0"}}, time.Hour, now)
	require.Contains(t, u, "indexes=0&indexes=2%2C0%2C1")
	d = c.sendURL(http.MethodPost, u, nil).ok()
	done := checkObject(t, d["object"])
	want := bytes.Join([][]byte{parts[0], parts[2], parts[0], parts[1]}, nil)
	require.Equal(t, jcsFullHash(want), done.FileHash)
	require.Equal(t, "none", done.Redundancy)
	require.Equal(t, want, c.download(mo.ID, nil).data())

	// Bad arguments in the query are still 400.
	u = c.presign(http.MethodPost, "/v1/presigned/object/completeMultipartUpload", url.Values{"objectID": {idStr(mo.ID)}, "indexes": {"1,x"}}, time.Hour, now)
	c.sendURL(http.MethodPost, u, nil).badArg("indexes")
	u = c.presign(http.MethodPost, "/v1/presigned/object/upload", url.Values{"packageID": {idStr(pid)}}, time.Hour, now)
	c.sendURL(http.MethodPost, u, []byte("x")).badArg("path")
	u = c.presign(http.MethodPost, "/v1/presigned/object/uploadPart", url.Values{"objectID": {idStr(mo.ID)}}, time.Hour, now)
	c.sendURL(http.MethodPost, u, []byte("x")).badArg("index")
}

func TestJCSPresignedRefused(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)
	_, pid := c.setup()
	o := c.uploadOK(pid, fileData{"f", []byte("secret bytes")})[0]

	// Expired: signed two hours ago for one hour.
	u := c.presign(http.MethodGet, "/v1/presigned/object/download", url.Values{"objectID": {idStr(o.ID)}}, time.Hour, time.Now().Add(-2*time.Hour))
	r := c.sendURL(http.MethodGet, u, nil)
	r.unauthorized()
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))

	up := c.presign(http.MethodPost, "/v1/presigned/object/upload", url.Values{"packageID": {idStr(pid)}, "path": {"late"}}, time.Second, time.Now().Add(-time.Minute))
	c.sendURL(http.MethodPost, up, []byte("late data")).unauthorized()

	// Tampered: another object than the one signed.
	u = c.presign(http.MethodGet, "/v1/presigned/object/download", url.Values{"objectID": {idStr(o.ID)}}, time.Hour, time.Now())
	c.sendURL(http.MethodGet, strings.Replace(u, "objectID="+idStr(o.ID), "objectID=999", 1), nil).unauthorized()
	// Another path than the one signed.
	up = c.presign(http.MethodPost, "/v1/presigned/object/upload", url.Values{"packageID": {idStr(pid)}, "path": {"ok"}}, time.Hour, time.Now())
	c.sendURL(http.MethodPost, strings.Replace(up, "path=ok", "path=evil", 1), []byte("x")).unauthorized()
	// Signed with the wrong secret.
	up = c.withKeys(s.AccessKey, "not-the-secret").presign(http.MethodPost, "/v1/presigned/object/upload", url.Values{"packageID": {idStr(pid)}, "path": {"wrong"}}, time.Hour, time.Now())
	c.sendURL(http.MethodPost, up, []byte("x")).unauthorized()
	// A presigned URL for one endpoint does not open another.
	u = c.presign(http.MethodGet, "/v1/presigned/object/listByPath", url.Values{"packageID": {idStr(pid)}}, time.Hour, time.Now())
	c.sendURL(http.MethodGet, strings.Replace(u, "/listByPath", "/download", 1), nil).unauthorized()
	// No signature at all.
	c.sendURL(http.MethodPost, s.URL+"/v1/presigned/object/upload?packageID="+idStr(pid)+"&path=anon", []byte("x")).unauthorized()

	objs := c.packageObjects(pid)
	require.Len(t, objs, 1, "nothing was stored by refused requests")
	require.Equal(t, []byte("secret bytes"), c.download(o.ID, nil).data())
}
