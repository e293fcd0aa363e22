package test

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"jcsgw/gateway/auth"
)

func TestJCSBuckets(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)

	// listAll of nothing is an empty list, never null.
	d := c.get("/v1/bucket/listAll", nil).ok()
	requireKeys(t, d, "buckets")
	require.Empty(t, asList(t, d["buckets"]))

	b1 := c.createBucket("bkt1")
	b2 := c.createBucket("abc")
	require.NotEqual(t, b1, b2)

	// A taken name is a business error: HTTP 200, DataExists.
	c.post("/v1/bucket/create", map[string]any{"userID": 1, "name": "bkt1"}).fail(http.StatusOK, "DataExists")

	d = c.get("/v1/bucket/getByName", url.Values{"name": {"bkt1"}}).ok()
	requireKeys(t, d, "bucket")
	require.Equal(t, bucketV{b1, "bkt1"}, checkBucket(t, d["bucket"]))
	c.get("/v1/bucket/getByName", url.Values{"name": {"nope"}}).notFound()

	d = c.get("/v1/bucket/listAll", nil).ok()
	var names []string
	for _, b := range asList(t, d["buckets"]) {
		names = append(names, checkBucket(t, b).Name)
	}
	require.Equal(t, []string{"abc", "bkt1"}, names)

	// Invalid names are malformed requests.
	c.post("/v1/bucket/create", map[string]any{"name": ""}).badArg("name")
	c.post("/v1/bucket/create", map[string]any{"name": "a/b"}).badArg("name")
	c.post("/v1/bucket/create", map[string]any{"name": "v1"}).badArg("name")

	c.post("/v1/bucket/delete", map[string]any{"userID": 1, "bucketID": b2}).okNull()
	c.get("/v1/bucket/getByName", url.Values{"name": {"abc"}}).notFound()
	c.post("/v1/bucket/delete", map[string]any{"bucketID": b2}).notFound()
	c.post("/v1/bucket/delete", map[string]any{"bucketID": 999999}).notFound()
}

func TestJCSPackages(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)
	bid := c.createBucket("bkt1")

	d := c.get("/v1/package/listBucketPackages", url.Values{"bucketID": {idStr(bid)}}).ok()
	requireKeys(t, d, "packages")
	require.Empty(t, asList(t, d["packages"]))

	p1 := c.createPackage(bid, "t1")
	root := c.createPackage(bid, "") // the bucket's root package
	c.post("/v1/package/create", map[string]any{"userID": 1, "bucketID": bid, "name": "t1"}).fail(http.StatusOK, "DataExists")
	c.post("/v1/package/create", map[string]any{"bucketID": 424242, "name": "x"}).notFound()
	c.post("/v1/package/create", map[string]any{"bucketID": bid, "name": "a/b"}).badArg("name")

	d = c.get("/v1/package/getByFullName", url.Values{"bucketName": {"bkt1"}, "packageName": {"t1"}}).ok()
	requireKeys(t, d, "package")
	p := checkPackage(t, d["package"])
	require.Equal(t, p1, p.ID)
	require.Equal(t, "t1", p.Name)
	require.Equal(t, bid, p.BucketID)

	d = c.get("/v1/package/getByFullName", url.Values{"bucketName": {"bkt1"}, "packageName": {""}}).ok()
	require.Equal(t, root, checkPackage(t, d["package"]).ID)
	c.get("/v1/package/getByFullName", url.Values{"bucketName": {"bkt1"}, "packageName": {"nope"}}).notFound()
	c.get("/v1/package/getByFullName", url.Values{"bucketName": {"nope"}, "packageName": {"t1"}}).notFound()

	d = c.get("/v1/package/listBucketPackages", url.Values{"bucketID": {idStr(bid)}}).ok()
	var ids []int64
	for _, x := range asList(t, d["packages"]) {
		ids = append(ids, checkPackage(t, x).ID)
	}
	require.Equal(t, []int64{root, p1}, ids)
	c.get("/v1/package/listBucketPackages", url.Values{"bucketID": {"777"}}).notFound()

	c.post("/v1/package/delete", map[string]any{"userID": 1, "packageID": p1}).okNull()
	c.post("/v1/package/delete", map[string]any{"packageID": p1}).notFound()
	c.get("/v1/package/getByFullName", url.Values{"bucketName": {"bkt1"}, "packageName": {"t1"}}).notFound()
}

// seededBytes is deterministic content of n bytes.
func seededBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func TestJCSUploadDownloadRoundTrip(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)
	_, pid := c.setup()

	sizes := []int{0, 1, 2, 1000, 65537, 1<<20 + 3, 5<<20 + 1}
	var files []fileData
	for i, n := range sizes {
		files = append(files, fileData{path: "dir/sub/f" + idStr(int64(i)) + ".bin", data: seededBytes(uint64(i+1), n)})
	}
	files = append(files, fileData{path: "test.txt", data: []byte("testdata")})
	files = append(files, fileData{path: "a/b/test2.txt", data: []byte("testdata2")})
	files = append(files, fileData{path: "名字 with spaces+plus%percent?.txt", data: []byte("unicode")})
	objs := c.uploadOK(pid, files...)
	for i, o := range objs {
		require.Equal(t, files[i].data, c.download(o.ID, nil).data(), files[i].path)
		require.Equal(t, o.CreateTime, o.UpdateTime)
	}
	// IDs are distinct.
	seen := map[int64]bool{}
	for _, o := range objs {
		require.False(t, seen[o.ID])
		seen[o.ID] = true
	}

	// The seed's own example: a URL-escaped path "a%2Fb%2Ftest2.txt".
	d := c.get("/v1/object/listByPath", url.Values{"packageID": {idStr(pid)}, "path": {"a/b/test2.txt"}}).ok()
	got := checkObjects(t, d["objects"])
	require.Len(t, got, 1)
	require.Equal(t, objs[len(sizes)+1].ID, got[0].ID)

	// Info last: the files still go to the package named by info.
	body := seededBytes(99, 300000)
	r := c.form("/v1/object/upload",
		filesPart("late/one.bin", body),
		filesPart("late/two.bin", []byte("two")),
		infoPart(map[string]any{"userID": 1, "packageID": pid}))
	d = r.ok()
	late := checkObjects(t, d["uploadeds"])
	require.Len(t, late, 2)
	require.Equal(t, "late/one.bin", late[0].Path)
	require.Equal(t, body, c.download(late[0].ID, nil).data())
	require.Equal(t, []byte("two"), c.download(late[1].ID, nil).data())

	// Affinity 0 is the default user space; a form with no files is fine.
	d = c.form("/v1/object/upload", infoPart(map[string]any{"packageID": pid, "affinity": 0})).ok()
	require.Empty(t, asList(t, d["uploadeds"]))

	// The whole package, in path order.
	all := c.packageObjects(pid)
	require.Len(t, all, len(files)+2)
	for i := 1; i < len(all); i++ {
		require.Less(t, all[i-1].Path, all[i].Path)
	}
}

func TestJCSDownloadWindows(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)
	bid, pid := c.setup()
	_ = bid
	data := seededBytes(7, 10000)
	o := c.uploadOK(pid, fileData{"w/data.bin", data}, fileData{"w/empty", nil})[0]
	empty := c.packageObjects(pid)[1]
	require.Equal(t, "w/empty", empty.Path)

	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	require.Equal(t, data, c.download(o.ID, q("offset", "0")).data())
	require.Equal(t, data[100:], c.download(o.ID, q("offset", "100")).data(), "absent length = to the end")
	require.Equal(t, data[100:], c.download(o.ID, q("offset", "100", "length", "")).data(), "empty length = to the end")
	require.Equal(t, data[100:150], c.download(o.ID, q("offset", "100", "length", "50")).data())
	require.Equal(t, data[9990:], c.download(o.ID, q("offset", "9990", "length", "50")).data(), "length past the end is cut")
	require.Empty(t, c.download(o.ID, q("offset", "100", "length", "0")).data(), "length=0 is an empty read")
	require.Empty(t, c.download(o.ID, q("offset", "10000")).data(), "offset = size is empty")
	require.Empty(t, c.download(empty.ID, nil).data())
	require.Empty(t, c.download(empty.ID, q("offset", "0", "length", "0")).data())

	// Errors are JSON with Content-Type exactly application/json.
	c.download(o.ID, q("offset", "10001")).badArg("offset")
	c.download(o.ID, q("offset", "-1")).badArg("offset")
	c.download(o.ID, q("offset", "0", "length", "-5")).badArg("length")
	c.download(o.ID, q("offset", "x")).badArg("offset")
	c.download(424242, nil).notFound()
	c.get("/v1/object/download", url.Values{"objectID": {"abc"}}).badArg("objectID")
	c.get("/v1/object/download", nil).badArg("objectID")

	// Some JCS SDKs POST the download query with no body.
	req := c.newRequest(http.MethodPost, "/v1/object/download", withUserID(q("objectID", idStr(o.ID), "offset", "5", "length", "5")), nil)
	req.Header.Set("Content-Type", "application/json")
	require.Equal(t, data[5:10], c.send(req, hexSHA(nil), true).data())

	// downloadByPath: by packageID, or by bucket and package names.
	require.Equal(t, data[1:4], c.get("/v1/object/downloadByPath", q("packageID", idStr(pid), "path", "w/data.bin", "offset", "1", "length", "3")).data())
	require.Equal(t, data, c.get("/v1/object/downloadByPath", q("bucketName", "bkt", "packageName", "pkg", "path", "w/data.bin")).data())
	c.get("/v1/object/downloadByPath", q("packageID", idStr(pid), "path", "w/none")).notFound()
	c.get("/v1/object/downloadByPath", q("bucketName", "bkt", "packageName", "zzz", "path", "w/data.bin")).notFound()
	c.get("/v1/object/downloadByPath", q("packageID", idStr(pid))).badArg("path")
	c.get("/v1/object/downloadByPath", q("path", "w/data.bin")).badArg("packageID")
}

func TestJCSListByPathPaging(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)
	_, pid := c.setup()

	const n = 2500
	want := map[string]bool{}
	for batch := 0; batch < 5; batch++ {
		var files []fileData
		for i := batch * 500; i < (batch+1)*500; i++ {
			p := "d" + idStr(int64(i%7)) + "/f" + idStr(int64(i)) // 7 directories
			if i%50 == 0 {
				p = "top" + idStr(int64(i)) // a few at the top level
			}
			want[p] = true
			files = append(files, fileData{p, []byte(p)})
		}
		d := c.upload(pid, files...).ok()
		require.Len(t, asList(t, d["uploadeds"]), 500)
	}
	require.Len(t, want, n)

	list := func(q url.Values) (objs []objectV, prefixes []string, next string, trunc bool) {
		q.Set("packageID", idStr(pid))
		d := c.get("/v1/object/listByPath", q).ok()
		requireKeys(t, d, "nextContinuationToken", "isTruncated", "commonPrefixes", "objects")
		objs = checkObjects(t, d["objects"])
		for _, p := range asList(t, d["commonPrefixes"]) {
			prefixes = append(prefixes, p.(string))
		}
		next = d["nextContinuationToken"].(string)
		trunc = d["isTruncated"].(bool)
		return
	}

	// Recursive, 1000 at a time: 3 pages, no duplicate, no loss, in order.
	got := map[string]bool{}
	token, pages, last := "", 0, ""
	for {
		objs, prefixes, next, trunc := list(url.Values{"path": {""}, "isPrefix": {"true"}, "maxKeys": {"1000"}, "continuationToken": {token}})
		pages++
		require.Empty(t, prefixes)
		for _, o := range objs {
			require.False(t, got[o.Path], "duplicate %s", o.Path)
			require.Greater(t, o.Path, last)
			last = o.Path
			got[o.Path] = true
		}
		if !trunc {
			require.Empty(t, next)
			break
		}
		require.Len(t, objs, 1000)
		require.NotEmpty(t, next)
		token = next
	}
	require.Equal(t, 3, pages)
	require.Equal(t, want, got)

	// noRecursive at the top: 7 directories and the top-level objects.
	objs, prefixes, _, trunc := list(url.Values{"path": {""}, "isPrefix": {"true"}, "noRecursive": {"true"}})
	require.False(t, trunc)
	require.Equal(t, []string{"d0/", "d1/", "d2/", "d3/", "d4/", "d5/", "d6/"}, prefixes)
	require.Len(t, objs, n/50)
	for _, o := range objs {
		require.True(t, strings.HasPrefix(o.Path, "top"))
	}

	// noRecursive paging counts prefixes and objects together.
	seenP, seenO := map[string]bool{}, map[string]bool{}
	token, pages = "", 0
	for {
		objs, prefixes, next, trunc := list(url.Values{"path": {""}, "isPrefix": {"true"}, "noRecursive": {"true"}, "maxKeys": {"4"}, "continuationToken": {token}})
		pages++
		require.LessOrEqual(t, len(objs)+len(prefixes), 4)
		for _, p := range prefixes {
			require.False(t, seenP[p])
			seenP[p] = true
		}
		for _, o := range objs {
			require.False(t, seenO[o.Path])
			seenO[o.Path] = true
		}
		if !trunc {
			break
		}
		token = next
	}
	require.Len(t, seenP, 7)
	require.Len(t, seenO, n/50)
	require.Equal(t, (7+n/50+3)/4, pages)

	// A prefix inside a directory.
	objs, prefixes, _, _ = list(url.Values{"path": {"d3/f1"}, "isPrefix": {"true"}, "noRecursive": {"true"}})
	require.Empty(t, prefixes)
	for _, o := range objs {
		require.True(t, strings.HasPrefix(o.Path, "d3/f1"))
	}
	require.NotEmpty(t, objs)

	// isPrefix=false: the object at exactly path, or nothing.
	objs, _, _, _ = list(url.Values{"path": {"top0"}})
	require.Len(t, objs, 1)
	require.Equal(t, "top0", objs[0].Path)
	objs, _, _, _ = list(url.Values{"path": {"top"}, "isPrefix": {"false"}})
	require.Empty(t, objs)

	// getPackageObjects returns all of them.
	require.Len(t, c.packageObjects(pid), n)

	// Malformed queries.
	c.get("/v1/object/listByPath", url.Values{"packageID": {idStr(pid)}, "isPrefix": {"maybe"}}).badArg("isPrefix")
	c.get("/v1/object/listByPath", url.Values{"packageID": {idStr(pid)}, "maxKeys": {"-1"}}).badArg("maxKeys")
	c.get("/v1/object/listByPath", url.Values{"packageID": {idStr(pid)}, "maxKeys": {"ten"}}).badArg("maxKeys")
	c.get("/v1/object/listByPath", url.Values{"packageID": {idStr(pid)}, "isPrefix": {"true"}, "continuationToken": {"!!!"}}).badArg()
	c.get("/v1/object/listByPath", url.Values{"path": {""}}).badArg("packageID")
	c.get("/v1/object/listByPath", url.Values{"packageID": {"31337"}}).notFound()
	c.get("/v1/object/getPackageObjects", url.Values{"packageID": {"31337"}}).notFound()
}

func TestJCSOverwrite(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)
	_, pid := c.setup()
	first := c.uploadOK(pid, fileData{"x/o.txt", []byte("version one")})[0]
	time.Sleep(5 * time.Millisecond)
	second := c.uploadOK(pid, fileData{"x/o.txt", []byte("version two, longer")})[0]
	require.Equal(t, first.ID, second.ID, "an overwrite keeps the object ID")
	require.Equal(t, first.RawCreate, second.RawCreate, "and the create time")
	require.True(t, second.UpdateTime.After(first.UpdateTime), "but has a new update time")
	require.Equal(t, []byte("version two, longer"), c.download(first.ID, nil).data())
	objs := c.packageObjects(pid)
	require.Len(t, objs, 1)
	require.Equal(t, second.FileHash, objs[0].FileHash)

	// The same path twice in one form is refused, and nothing is stored.
	c.upload(pid, fileData{"y", []byte("1")}, fileData{"y", []byte("2")}).badArg("files", "y")
	require.Len(t, c.packageObjects(pid), 1)
}

func TestJCSMoveClone(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)
	bid, p1 := c.setup()
	p2 := c.createPackage(bid, "other")
	objs := c.uploadOK(p1, fileData{"a.txt", []byte("A")}, fileData{"b.txt", []byte("B")}, fileData{"c.txt", []byte("C")})
	a, b, cc := objs[0], objs[1], objs[2]

	// Move a to p2, b onto the taken path c.txt (skipped), an unknown
	// object (skipped), c to an unknown package (skipped).
	d := c.post("/v1/object/move", map[string]any{"userID": 1, "movings": []map[string]any{
		{"objectID": a.ID, "packageID": p2, "path": "moved/a.txt"},
		{"objectID": b.ID, "packageID": p1, "path": "c.txt"},
		{"objectID": 999999, "packageID": p1, "path": "z.txt"},
		{"objectID": cc.ID, "packageID": 999999, "path": "z.txt"},
	}}).ok()
	requireKeys(t, d, "successes")
	var succ []int64
	for _, x := range asList(t, d["successes"]) {
		succ = append(succ, asInt(t, x))
	}
	require.Equal(t, []int64{a.ID}, succ)
	p2objs := c.packageObjects(p2)
	require.Len(t, p2objs, 1)
	require.Equal(t, a.ID, p2objs[0].ID)
	require.Equal(t, "moved/a.txt", p2objs[0].Path)
	require.Equal(t, []byte("A"), c.download(a.ID, nil).data())
	require.Equal(t, []byte("B"), c.get("/v1/object/downloadByPath", url.Values{"packageID": {idStr(p1)}, "path": {"b.txt"}}).data())

	// Nothing moved: an empty list, not null.
	d = c.post("/v1/object/move", map[string]any{"movings": []any{}}).ok()
	require.Empty(t, asList(t, d["successes"]))

	// Clone: aligned with the request, null where skipped.
	d = c.post("/v1/object/clone", map[string]any{"userID": 1, "clonings": []map[string]any{
		{"objectID": b.ID, "newPath": "b-copy.txt", "newPackageID": p2},
		{"objectID": b.ID, "newPath": "c.txt", "newPackageID": p1}, // taken
		{"objectID": 999999, "newPath": "q.txt", "newPackageID": p1},
		{"objectID": cc.ID, "newPath": "c2.txt", "newPackageID": p1},
	}}).ok()
	requireKeys(t, d, "objects")
	list := asList(t, d["objects"])
	require.Len(t, list, 4)
	require.Nil(t, list[1])
	require.Nil(t, list[2])
	c1, c4 := checkObject(t, list[0]), checkObject(t, list[3])
	require.Equal(t, p2, c1.PackageID)
	require.Equal(t, "b-copy.txt", c1.Path)
	require.Equal(t, b.FileHash, c1.FileHash)
	require.NotEqual(t, b.ID, c1.ID)
	require.Equal(t, "c2.txt", c4.Path)
	require.Equal(t, []byte("B"), c.download(c1.ID, nil).data())
	require.Equal(t, []byte("C"), c.download(c4.ID, nil).data())

	// Deleting the original leaves the clone's bytes.
	c.post("/v1/object/delete", map[string]any{"userID": 1, "objectIDs": []int64{b.ID}}).okNull()
	c.download(b.ID, nil).notFound()
	require.Equal(t, []byte("B"), c.download(c1.ID, nil).data())
}

func TestJCSDelete(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)
	bid, pid := c.setup()
	p2 := c.createPackage(bid, "p2")
	o := c.uploadOK(pid, fileData{"x", []byte("x")}, fileData{"y", []byte("y")})
	o2 := c.uploadOK(p2, fileData{"z", []byte("z")})

	// Deleting absent objects is OK.
	c.post("/v1/object/delete", map[string]any{"objectIDs": []int64{999999}}).okNull()
	c.post("/v1/object/delete", map[string]any{"objectIDs": []int64{}}).okNull()
	c.post("/v1/object/delete", map[string]any{"objectIDs": []int64{o[0].ID, 999998}}).okNull()
	c.post("/v1/object/delete", map[string]any{"objectIDs": []int64{o[0].ID}}).okNull()
	objs := c.packageObjects(pid)
	require.Len(t, objs, 1)
	require.Equal(t, o[1].ID, objs[0].ID)

	// The package persists when empty (it was made through /v1).
	c.post("/v1/object/delete", map[string]any{"objectIDs": []int64{o[1].ID}}).okNull()
	require.Empty(t, c.packageObjects(pid))

	// Deleting the bucket removes its packages and objects.
	c.post("/v1/bucket/delete", map[string]any{"bucketID": bid}).okNull()
	c.get("/v1/package/getByFullName", url.Values{"bucketName": {"bkt"}, "packageName": {"p2"}}).notFound()
	c.get("/v1/object/getPackageObjects", url.Values{"packageID": {idStr(p2)}}).notFound()
	c.download(o2[0].ID, nil).notFound()
	d := c.get("/v1/bucket/listAll", nil).ok()
	require.Empty(t, asList(t, d["buckets"]))

	// The name can be used again, with new IDs.
	bid2 := c.createBucket("bkt")
	require.Greater(t, bid2, bid)
}

func TestJCSMultipartUpload(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)
	_, pid := c.setup()

	d := c.post("/v1/object/newMultipartUpload", map[string]any{"userID": 1, "packageID": pid, "path": "multi/obj.txt"}).ok()
	requireKeys(t, d, "object")
	o := checkObject(t, d["object"])
	require.Equal(t, "multi/obj.txt", o.Path)
	require.Equal(t, int64(0), o.Size)
	require.Equal(t, "Full"+strings.Repeat("0", 64), o.FileHash)
	require.Equal(t, "multipartUpload", o.Redundancy)

	// The object can be found at once.
	objs := c.packageObjects(pid)
	require.Len(t, objs, 1)
	require.Equal(t, o.ID, objs[0].ID)
	require.Equal(t, "multipartUpload", objs[0].Redundancy)

	part := func(idx int, data []byte) *jcsResult {
		return c.form("/v1/object/uploadPart",
			infoPart(map[string]any{"userID": 1, "objectID": o.ID, "index": idx}),
			rawFilePart("file", "part", data))
	}
	okPart := func(r *jcsResult) {
		t.Helper()
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		m := r.envelope(false) // {"code":"OK","message":""}, as the seed shows
		require.Equal(t, "OK", m["code"])
		require.Equal(t, "", m["message"])
	}
	p1, p2, p3 := seededBytes(1, 1<<20+5), seededBytes(2, 1000), seededBytes(3, 77777)
	okPart(part(1, p1))
	okPart(part(2, []byte("to be replaced")))
	okPart(part(2, p2))
	okPart(part(3, p3))

	// Info last, as some JCS SDKs send it.
	infoLast := c.form("/v1/object/uploadPart",
		rawFilePart("file", "part", p3),
		infoPart(map[string]any{"userID": 1, "objectID": o.ID, "index": 3}))
	okPart(infoLast)

	objs = c.packageObjects(pid)
	require.True(t, strings.HasPrefix(objs[0].FileHash, "Comp"), objs[0].FileHash)
	require.Equal(t, "multipartUpload", objs[0].Redundancy)

	// Completing with a part never uploaded is refused and changes nothing.
	c.post("/v1/object/completeMultipartUpload", map[string]any{"objectID": o.ID, "indexes": []int{1, 9}}).badArg("9")
	c.post("/v1/object/completeMultipartUpload", map[string]any{"objectID": o.ID, "indexes": []int{}}).badArg("indexes")

	// Repeated and dropped indexes: the listed order, 2 unused.
	d = c.post("/v1/object/completeMultipartUpload", map[string]any{"userID": 1, "objectID": o.ID, "indexes": []int{3, 1, 3}}).ok()
	requireKeys(t, d, "object")
	done := checkObject(t, d["object"])
	want := bytes.Join([][]byte{p3, p1, p3}, nil)
	require.Equal(t, o.ID, done.ID)
	require.Equal(t, int64(len(want)), done.Size)
	require.Equal(t, jcsFullHash(want), done.FileHash)
	require.Equal(t, "none", done.Redundancy)
	require.Equal(t, o.RawCreate, done.RawCreate)
	require.Equal(t, want, c.download(o.ID, nil).data())
	require.Equal(t, want[len(p3):len(p3)+10], c.download(o.ID, url.Values{"offset": {idStr(int64(len(p3)))}, "length": {"10"}}).data())

	// A completed object takes no more parts.
	part(1, []byte("late")).badArg()
	c.post("/v1/object/completeMultipartUpload", map[string]any{"objectID": o.ID, "indexes": []int{1}}).badArg()
	c.post("/v1/object/completeMultipartUpload", map[string]any{"objectID": 999999, "indexes": []int{1}}).notFound()
	c.form("/v1/object/uploadPart",
		infoPart(map[string]any{"objectID": 999999, "index": 1}),
		rawFilePart("file", "part", []byte("x"))).notFound()
}

// An object whose multipart upload is still in progress has no content to
// read yet: a download answers a JCS error in JSON, never a 200 whose body
// falls short of its Content-Length.
func TestJCSDownloadInProgressMultipart(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)
	_, pid := c.setup()
	d := c.post("/v1/object/newMultipartUpload", map[string]any{"packageID": pid, "path": "mp"}).ok()
	mo := checkObject(t, d["object"])
	require.Empty(t, c.download(mo.ID, nil).data(), "a fresh one is empty")

	r := c.form("/v1/object/uploadPart", infoPart(map[string]any{"objectID": mo.ID, "index": 1}), rawFilePart("file", "p", []byte("hello")))
	require.Equal(t, http.StatusOK, r.Status)
	req := c.newRequest(http.MethodGet, "/v1/object/download", withUserID(url.Values{"objectID": {idStr(mo.ID)}}), nil)
	require.NoError(t, auth.SignJCS(req, c.ak, c.sk, hexSHA(nil), time.Now()))
	resp, err := s.HTTP.Do(req)
	require.NoError(t, err, "the server cut the download short (gateway.Service.Open on an in-progress multipart object)")
	resp.Body.Close()
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
}
