package test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
)

// An object of many parts (24, made through /v1 multipart with small
// parts), read through both fronts in windows that start, end and cross
// parts: a GET, HEAD or download takes only the blocks its window reads
// from the object's record, and must still return exactly those bytes.
func TestManyPartObjectWindows(t *testing.T) {
	t.Parallel()
	s := StartServer(t, nil)
	ctx := context.Background()
	c := newJCS(t, s)
	_, pid := c.setup()
	o := checkObject(t, c.post("/v1/object/newMultipartUpload", map[string]any{"userID": 1, "packageID": pid, "path": "many/obj.bin"}).ok()["object"])
	var whole []byte
	var indexes []int
	for i := 1; i <= 24; i++ {
		p := seededBytes(uint64(40+i), 3000+i*101)
		whole = append(whole, p...)
		indexes = append(indexes, i)
		r := c.form("/v1/object/uploadPart", infoPart(map[string]any{"userID": 1, "objectID": o.ID, "index": i}), rawFilePart("file", "part", p))
		require.Equal(t, http.StatusOK, r.Status, "part %d: %s", i, r.Body)
	}
	c.post("/v1/object/completeMultipartUpload", map[string]any{"userID": 1, "objectID": o.ID, "indexes": indexes}).ok()
	size := int64(len(whole))

	cli := userS3(s, s.AccessKey, s.SecretKey)
	bucket, key := aws.String("bkt"), aws.String("pkg/many/obj.bin")
	get := func(in *s3.GetObjectInput) ([]byte, *s3.GetObjectOutput) {
		t.Helper()
		in.Bucket, in.Key = bucket, key
		out, err := cli.GetObject(ctx, in)
		require.NoError(t, err)
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		require.NoError(t, err)
		return b, out
	}
	r := rand.New(rand.NewPCG(5, 6))
	windows := [][2]int64{{0, 1}, {3100, 10}, {3100, 5000}, {3000 + 101, 3000 + 202}, {size - 1, 1}, {0, size}}
	for range 30 {
		off := r.Int64N(size)
		windows = append(windows, [2]int64{off, 1 + r.Int64N(size-off)})
	}
	for _, w := range windows {
		off, n := w[0], w[1]
		b, out := get(&s3.GetObjectInput{Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1))})
		require.Equal(t, whole[off:off+n], b, "S3 range [%d, +%d)", off, n)
		require.Equal(t, fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, size), aws.ToString(out.ContentRange))
		d := c.download(o.ID, url.Values{"offset": {idStr(off)}, "length": {idStr(n)}}).data()
		require.Equal(t, whole[off:off+n], d, "/v1 download [%d, +%d)", off, n)
	}
	b, _ := get(&s3.GetObjectInput{})
	require.Equal(t, whole, b)
	b, _ = get(&s3.GetObjectInput{Range: aws.String("bytes=-100")})
	require.Equal(t, whole[size-100:], b)
	b, _ = get(&s3.GetObjectInput{PartNumber: aws.Int32(1)})
	require.Equal(t, whole, b, "a /v1 multipart object is one S3 part")
	require.Equal(t, whole[5000:], c.download(o.ID, url.Values{"offset": {"5000"}}).data())
	byPath := c.get("/v1/object/downloadByPath", url.Values{"packageID": {idStr(pid)}, "path": {"many/obj.bin"}, "offset": {"2999"}, "length": {"3"}}).data()
	require.Equal(t, whole[2999:3002], byPath)

	head, err := cli.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key})
	require.NoError(t, err)
	require.Equal(t, size, aws.ToInt64(head.ContentLength))
	// A 304 still names the object.
	_, err = cli.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key, IfNoneMatch: head.ETag})
	s3Err(t, err, "", http.StatusNotModified)
	require.Equal(t, aws.ToString(head.ETag), s3ErrHeader(t, err, "ETag"))
}
