package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func s3Client(s *server) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(s.URL), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(s.Access, s.Secret, ""),
	})
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestNativeJCSClient(t *testing.T) {
	s := startServer(t)
	c := newJCSClient(s)
	cli := s3Client(s)
	ctx := context.Background()
	const client = "native JCS client"
	var bucketID, pkgID int64
	files := map[string][]byte{
		"top.txt": []byte("top"), "dir/": {}, "a/b/c.bin": randBytes(70000), "a/b/d.bin": randBytes(1),
		"a/e f+g.txt": []byte("spaces and plus"), "ü/ß.txt": []byte("unicode"),
	}
	for i := range 30 {
		files[fmt.Sprintf("many/%03d.txt", i)] = []byte(fmt.Sprint(i))
	}
	step(t, client, "create bucket and package", func(t *testing.T) {
		var b struct{ Bucket struct{ BucketID int64 } }
		c.call(t, "POST", "/v1/bucket/create", map[string]any{"userID": 1, "name": "nativebkt"}, &b)
		bucketID = b.Bucket.BucketID
		var p struct{ Package struct{ PackageID int64 } }
		c.call(t, "POST", "/v1/package/create", map[string]any{"userID": 1, "bucketID": bucketID, "name": "pkg"}, &p)
		pkgID = p.Package.PackageID
		require.NotZero(t, pkgID)
	})
	step(t, client, "upload a tree incl. a dir/ marker (files before info)", func(t *testing.T) {
		up := c.upload(t, pkgID, files)
		assert.Len(t, up, len(files))
		for _, o := range up {
			sum := sha256.Sum256(files[o.Path])
			assert.Equal(t, "Full"+strings.ToUpper(fmt.Sprintf("%x", sum)), o.FileHash, o.Path)
			assert.Equal(t, fmt.Sprint(len(files[o.Path])), o.Size)
		}
	})
	step(t, client, "multipart (scaled-down parts)", func(t *testing.T) {
		var o struct{ Object jcsObject }
		c.call(t, "POST", "/v1/object/newMultipartUpload", map[string]any{"userID": 1, "packageID": pkgID, "path": "mp/joined.bin"}, &o)
		assert.Equal(t, "multipartUpload", o.Object.Redundancy.Type)
		parts := [][]byte{randBytes(1 << 20), randBytes(1 << 20), randBytes(12345)}
		for i, p := range parts {
			c.uploadPart(t, o.Object.ObjectID, i+1, p)
		}
		var done struct{ Object jcsObject }
		c.call(t, "POST", "/v1/object/completeMultipartUpload", map[string]any{"userID": 1, "objectID": o.Object.ObjectID, "indexes": []int{1, 2, 3}}, &done)
		want := bytes.Join(parts, nil)
		files["mp/joined.bin"] = want
		assert.Equal(t, "none", done.Object.Redundancy.Type)
		assert.Equal(t, want, c.download(t, done.Object.ObjectID, ""))
	})
	step(t, client, "list with continuation tokens", func(t *testing.T) {
		var got []string
		token := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 50)
			var d struct {
				Objects               []jcsObject
				IsTruncated           bool
				NextContinuationToken string
			}
			q := fmt.Sprintf("/v1/object/listByPath?userID=1&packageID=%d&path=&isPrefix=true&maxKeys=7&continuationToken=%s", pkgID, url.QueryEscape(token))
			c.call(t, "GET", q, nil, &d)
			for _, o := range d.Objects {
				got = append(got, o.Path)
			}
			if !d.IsTruncated {
				break
			}
			token = d.NextContinuationToken
		}
		var want []string
		for p := range files {
			want = append(want, p)
		}
		sort.Strings(want)
		assert.Equal(t, want, got)
	})
	step(t, client, "download in offset/length ranges", func(t *testing.T) {
		objs := c.packageObjects(t, pkgID)
		for _, o := range objs {
			if o.Path != "a/b/c.bin" {
				continue
			}
			data := files[o.Path]
			var joined []byte
			for off := 0; off < len(data); off += 9999 {
				joined = append(joined, c.download(t, o.ObjectID, fmt.Sprintf("&offset=%d&length=9999", off))...)
			}
			assert.Equal(t, data, joined)
			assert.Empty(t, c.download(t, o.ObjectID, "&offset=5&length=0"))
			assert.Equal(t, data[100:], c.download(t, o.ObjectID, "&offset=100"))
		}
	})
	step(t, client, "cross-front: S3 sees what /v1 wrote", func(t *testing.T) {
		var keys []string
		p := s3.NewListObjectsV2Paginator(cli, &s3.ListObjectsV2Input{Bucket: aws.String("nativebkt"), Prefix: aws.String("pkg/")})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			require.NoError(t, err)
			for _, o := range page.Contents {
				keys = append(keys, *o.Key)
			}
		}
		var want []string
		for p := range files {
			want = append(want, "pkg/"+p)
		}
		want = append(want, "pkg/") // the explicit package's folder marker
		sort.Strings(want)
		assert.Equal(t, want, keys)
		for path, data := range files {
			out, err := cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("nativebkt"), Key: aws.String("pkg/" + path)})
			require.NoError(t, err, path)
			got, _ := io.ReadAll(out.Body)
			out.Body.Close()
			assert.Equal(t, data, got, path)
		}
	})
	step(t, client, "delete the package", func(t *testing.T) {
		c.call(t, "POST", "/v1/package/delete", map[string]any{"userID": 1, "packageID": pkgID}, nil)
		out, err := cli.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("nativebkt")})
		require.NoError(t, err)
		assert.Empty(t, out.Contents)
		_, err = cli.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("nativebkt")})
		assert.NoError(t, err)
	})
}
