package test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"jcsgw/gateway/auth"
)

// tmpFiles lists the default user space's temp files.
func spaceTmpFiles(t testing.TB, s *Server) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(s.DataDir, "spaces", "default", "tmp"))
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// cutOff sends the head of a signed multipart request over a raw
// connection, announcing more bytes than it sends, and then closes it.
func cutOff(t *testing.T, c *jcsClient, path string, form []byte, ct string, send int) {
	t.Helper()
	req := c.newRequest(http.MethodPost, path, nil, form)
	req.Header.Set("Content-Type", ct)
	require.NoError(t, auth.SignJCS(req, c.ak, c.sk, "", time.Now()))
	conn, err := net.Dial("tcp", c.s.Addr)
	require.NoError(t, err)
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", path, req.Host, len(form))
	require.NoError(t, req.Header.Write(w))
	w.WriteString("\r\n")
	w.Write(form[:send])
	require.NoError(t, w.Flush())
	time.Sleep(100 * time.Millisecond) // let the server start streaming the file
	require.NoError(t, conn.Close())
}

func TestJCSCutOffUpload(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)
	_, pid := c.setup()
	big := seededBytes(5, 4<<20)

	// Info first: one whole file, then the connection drops inside the second.
	form, ct := buildForm(t, []formPart{
		infoPart(map[string]any{"userID": 1, "packageID": pid}),
		filesPart("whole.bin", seededBytes(6, 100000)),
		filesPart("cut.bin", big),
	})
	cutOff(t, c, "/v1/object/upload", form, ct, len(form)-(2<<20))
	// Info last: the connection drops inside the only file.
	form, ct = buildForm(t, []formPart{
		filesPart("cut2.bin", big),
		infoPart(map[string]any{"userID": 1, "packageID": pid}),
	})
	cutOff(t, c, "/v1/object/upload", form, ct, 1<<20)
	// uploadPart cut inside the file.
	d := c.post("/v1/object/newMultipartUpload", map[string]any{"packageID": pid, "path": "mp"}).ok()
	mo := checkObject(t, d["object"])
	form, ct = buildForm(t, []formPart{
		infoPart(map[string]any{"objectID": mo.ID, "index": 1}),
		rawFilePart("file", "part", big),
	})
	cutOff(t, c, "/v1/object/uploadPart", form, ct, 1<<20)

	// The server notices, discards what it staged, and shows nothing.
	require.Eventually(t, func() bool { return len(spaceTmpFiles(t, s)) == 0 }, 10*time.Second, 20*time.Millisecond,
		"temp files left: %v", spaceTmpFiles(t, s))
	objs := c.packageObjects(pid)
	require.Len(t, objs, 1)
	require.Equal(t, mo.ID, objs[0].ID)
	require.Equal(t, mo.FileHash, objs[0].FileHash, "no part was stored")

	s.Restart()
	require.Empty(t, spaceTmpFiles(t, s))
	objs = c.packageObjects(pid)
	require.Len(t, objs, 1)
	require.Equal(t, mo.ID, objs[0].ID)

	// Nothing is left in the blob store but what is referenced: "after" is
	// the only object with bytes.
	c.uploadOK(pid, fileData{"after", []byte("after restart")})
	require.Len(t, blobsAtRest(t, s), 1)
}

func TestJCSPersistence(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	c := newJCS(t, s)
	bid, pid := c.setup()
	p2 := c.createPackage(bid, "second")
	var files []fileData
	for i, n := range []int{0, 1, 4096, 1<<20 + 1} {
		files = append(files, fileData{fmt.Sprintf("dir%d/f%d", i%2, i), seededBytes(uint64(100+i), n)})
	}
	objs := c.uploadOK(pid, files...)
	d := c.post("/v1/object/newMultipartUpload", map[string]any{"packageID": p2, "path": "inprogress"}).ok()
	mo := checkObject(t, d["object"])
	r := c.form("/v1/object/uploadPart", infoPart(map[string]any{"objectID": mo.ID, "index": 5}), rawFilePart("file", "p", []byte("part five")))
	require.Equal(t, http.StatusOK, r.Status)

	before := c.get("/v1/object/listByPath", url.Values{"packageID": {idStr(pid)}, "isPrefix": {"true"}, "noRecursive": {"true"}}).Body
	beforeAll := c.packageObjects(pid)
	beforeMP := c.packageObjects(p2)

	s.Restart()
	c = newJCS(t, s)

	// Same keys, same IDs, same listings, same bytes.
	d = c.get("/v1/bucket/getByName", url.Values{"name": {"bkt"}}).ok()
	require.Equal(t, bid, checkBucket(t, d["bucket"]).ID)
	d = c.get("/v1/package/getByFullName", url.Values{"bucketName": {"bkt"}, "packageName": {"second"}}).ok()
	require.Equal(t, p2, checkPackage(t, d["package"]).ID)
	require.Equal(t, beforeAll, c.packageObjects(pid))
	require.Equal(t, beforeMP, c.packageObjects(p2))
	after := c.get("/v1/object/listByPath", url.Values{"packageID": {idStr(pid)}, "isPrefix": {"true"}, "noRecursive": {"true"}}).Body
	require.Equal(t, string(before), string(after))
	for i, o := range objs {
		require.True(t, bytes.Equal(files[i].data, c.download(o.ID, nil).data()))
	}

	// The multipart upload goes on where it was.
	r = c.form("/v1/object/uploadPart", infoPart(map[string]any{"objectID": mo.ID, "index": 6}), rawFilePart("file", "p", []byte(" and six")))
	require.Equal(t, http.StatusOK, r.Status)
	d = c.post("/v1/object/completeMultipartUpload", map[string]any{"objectID": mo.ID, "indexes": []int{5, 6}}).ok()
	require.Equal(t, jcsFullHash([]byte("part five and six")), checkObject(t, d["object"]).FileHash)

	// IDs are not reused.
	newObj := c.uploadOK(pid, fileData{"new", []byte("new")})[0]
	for _, o := range objs {
		require.Greater(t, newObj.ID, o.ID)
	}
	require.Greater(t, newObj.ID, mo.ID)
	require.Greater(t, c.createBucket("another"), bid)
}
