package test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestS3CrossFront writes through each front and reads through the other,
// across a restart: same bytes, same listings, same ETags.
func TestS3CrossFront(t *testing.T) {
	s := StartServer(t, nil)
	ctx := context.Background()
	c := newJCS(t, s)
	cli := userS3(s, s.AccessKey, s.SecretKey)
	_, err := cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("cross")})
	require.NoError(t, err)

	r := rand.New(rand.NewPCG(7, 8))
	viaS3 := map[string][]byte{}
	for i := range 20 {
		data := make([]byte, r.IntN(200000))
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		key := fmt.Sprintf("pkg%d/dir/obj%02d.bin", i%3, i)
		viaS3[key] = data
		_, err := cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cross"), Key: aws.String(key), Body: bytes.NewReader(data)})
		require.NoError(t, err)
	}
	etags := map[string]string{}
	check := func(t *testing.T) {
		// /v1 sees every S3 object with the right hash and bytes.
		b := c.get("/v1/bucket/getByName", url.Values{"name": {"cross"}}).ok()
		require.NotNil(t, b)
		var jcsKeys []string
		for p := range 3 {
			pk := c.get("/v1/package/getByFullName", url.Values{"bucketName": {"cross"}, "packageName": {fmt.Sprintf("pkg%d", p)}}).ok()
			pid := num(pk["package"].(map[string]any)["packageID"])
			objs := c.get("/v1/object/getPackageObjects", url.Values{"packageID": {itoa(pid)}}).ok()["objects"].([]any)
			for _, o := range objs {
				m := o.(map[string]any)
				key := fmt.Sprintf("pkg%d/%s", p, m["path"])
				jcsKeys = append(jcsKeys, key)
				sum := sha256.Sum256(viaS3[key])
				assert.Equal(t, "Full"+strings.ToUpper(hex.EncodeToString(sum[:])), m["fileHash"], key)
				got := c.get("/v1/object/download", url.Values{"objectID": {itoa(num(m["objectID"]))}})
				assert.True(t, bytes.Equal(viaS3[key], got.Body), "%s: /v1 download differs", key)
			}
		}
		// S3 lists the same keys, with an MD5 ETag for every object.
		var s3Keys []string
		out, err := cli.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("cross")})
		require.NoError(t, err)
		for _, o := range out.Contents {
			s3Keys = append(s3Keys, *o.Key)
			if data, ok := viaS3[*o.Key]; ok {
				m := md5.Sum(data)
				assert.Equal(t, `"`+hex.EncodeToString(m[:])+`"`, *o.ETag, *o.Key)
				if prev, seen := etags[*o.Key]; seen {
					assert.Equal(t, prev, *o.ETag, "%s: ETag changed", *o.Key)
				}
				etags[*o.Key] = *o.ETag
			}
		}
		sort.Strings(jcsKeys)
		want := make([]string, 0, len(s3Keys))
		for _, k := range s3Keys {
			if _, ok := viaS3[k]; ok {
				want = append(want, k)
			}
		}
		assert.Equal(t, want, jcsKeys, "both fronts list the same objects")
	}
	check(t)

	// And back: an object uploaded through /v1 reads through S3 with an MD5 ETag.
	pk := c.get("/v1/package/getByFullName", url.Values{"bucketName": {"cross"}, "packageName": {"pkg0"}}).ok()
	pid := num(pk["package"].(map[string]any)["packageID"])
	jdata := bytes.Repeat([]byte("from jcs "), 5000)
	c.upload(pid, fileData{path: "jcs/made.txt", data: jdata}).ok()
	viaS3["pkg0/jcs/made.txt"] = jdata
	got, err := cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cross"), Key: aws.String("pkg0/jcs/made.txt")})
	require.NoError(t, err)
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	assert.Equal(t, jdata, body)
	m := md5.Sum(jdata)
	assert.Equal(t, `"`+hex.EncodeToString(m[:])+`"`, *got.ETag)

	s.Restart()
	c = newJCS(t, s)
	cli = userS3(s, s.AccessKey, s.SecretKey)
	check(t)
}

// TestS3LargeMultipartBoundedHeap uploads 200 MiB in 40 parts, 8 at a time,
// and watches the heap: nothing holds the object whole.
func TestS3LargeMultipartBoundedHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: 200 MiB upload in -short mode")
	}
	s := StartServer(t, nil)
	ctx := context.Background()
	cli := userS3(s, s.AccessKey, s.SecretKey)
	_, err := cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("large")})
	require.NoError(t, err)
	up, err := cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("large"), Key: aws.String("big/obj")})
	require.NoError(t, err)

	const parts, size = 40, 5 << 20
	partData := func(n int) []byte { // deterministic, made when needed
		b := make([]byte, size)
		r := rand.New(rand.NewPCG(uint64(n), 99))
		for i := 0; i < size; i += 8 {
			v := r.Uint64()
			for j := 0; j < 8; j++ {
				b[i+j] = byte(v >> (8 * j))
			}
		}
		return b
	}
	// Collect often so that heap in use tracks live data, not GC lag.
	defer debug.SetGCPercent(debug.SetGCPercent(25))
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()
	etags := make([]string, parts)
	sem := make(chan struct{}, 8)
	var uw sync.WaitGroup
	for n := 1; n <= parts; n++ {
		uw.Add(1)
		sem <- struct{}{}
		go func(n int) {
			defer uw.Done()
			defer func() { <-sem }()
			out, err := cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("large"), Key: aws.String("big/obj"),
				UploadId: up.UploadId, PartNumber: aws.Int32(int32(n)), Body: bytes.NewReader(partData(n))})
			if assert.NoError(t, err) {
				etags[n-1] = *out.ETag
			}
		}(n)
	}
	uw.Wait()
	var done []types.CompletedPart
	for i, e := range etags {
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: aws.String(e)})
	}
	_, err = cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("large"), Key: aws.String("big/obj"),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	require.NoError(t, err)

	out, err := cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("large"), Key: aws.String("big/obj")})
	require.NoError(t, err)
	defer out.Body.Close()
	h, want := sha256.New(), sha256.New()
	n, err := io.Copy(h, out.Body)
	require.NoError(t, err)
	close(stop)
	wg.Wait()
	for p := 1; p <= parts; p++ {
		want.Write(partData(p))
	}
	assert.Equal(t, int64(parts*size), n)
	assert.Equal(t, want.Sum(nil), h.Sum(nil), "200 MiB round trip")
	assert.True(t, strings.HasSuffix(strings.Trim(*out.ETag, `"`), "-40"), *out.ETag)
	// Client and server share this process: 8 client part buffers (40 MiB)
	// plus the server's pooled copy buffers stay far under the 200 MiB object.
	t.Logf("peak heap in use: %d MiB", peak.Load()>>20)
	assert.Less(t, peak.Load(), uint64(100<<20), "peak heap %d MiB", peak.Load()>>20)
}
