package test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"jcsgw"
)

// TestS3VirtualHost addresses buckets as bucket.BaseDomain, and checks that
// path-style keeps working next to it.
func TestS3VirtualHost(t *testing.T) {
	t.Parallel()
	s := StartServer(t, &jcsgw.Config{BaseDomain: "s3.jcs.test"})
	_, port, _ := strings.Cut(s.Addr, ":")
	e := &s3Env{t: t, mode: s3Modes[2], URL: "http://s3.jcs.test:" + port, Host: s.Addr, srv: s.Jcsgw()}
	e.AK, e.SK = s.AccessKey, s.SecretKey
	e.HTTP = &http.Client{Transport: &http.Transport{DialContext: s3Dialer(s.Addr)}, Timeout: time.Minute}
	vh := e.client(e.SK, func(o *s3.Options) { o.UsePathStyle = false })

	_, err := vh.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String("vbucket")})
	require.NoError(t, err)
	_, err = vh.HeadBucket(bg, &s3.HeadBucketInput{Bucket: aws.String("vbucket")})
	require.NoError(t, err)
	data := s3Data(4096, 9)
	_, err = vh.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String("vbucket"), Key: aws.String("dir/a b+c"), Body: bytes.NewReader(data)})
	require.NoError(t, err)
	out, err := vh.GetObject(bg, &s3.GetObjectInput{Bucket: aws.String("vbucket"), Key: aws.String("dir/a b+c")})
	require.NoError(t, err)
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	require.Equal(t, data, got)
	lo, err := vh.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: aws.String("vbucket")})
	require.NoError(t, err)
	require.Len(t, lo.Contents, 1)
	require.Equal(t, "dir/a b+c", *lo.Contents[0].Key)

	// Multipart completion reports a virtual-host Location.
	cu, err := vh.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: aws.String("vbucket"), Key: aws.String("mp")})
	require.NoError(t, err)
	up, err := vh.UploadPart(bg, &s3.UploadPartInput{Bucket: aws.String("vbucket"), Key: aws.String("mp"), UploadId: cu.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(data)})
	require.NoError(t, err)
	co, err := vh.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: aws.String("vbucket"), Key: aws.String("mp"),
		UploadId: cu.UploadId, MultipartUpload: completed(up.ETag)})
	require.NoError(t, err)
	require.Equal(t, "http://vbucket.s3.jcs.test:"+port+"/mp", *co.Location)

	// Path-style on the base domain and on the bare address.
	ps := e.client(e.SK, nil)
	out, err = ps.GetObject(bg, &s3.GetObjectInput{Bucket: aws.String("vbucket"), Key: aws.String("dir/a b+c")})
	require.NoError(t, err)
	out.Body.Close()
	e.URL = s.URL
	ps = e.client(e.SK, nil)
	out, err = ps.GetObject(bg, &s3.GetObjectInput{Bucket: aws.String("vbucket"), Key: aws.String("dir/a b+c")})
	require.NoError(t, err)
	out.Body.Close()
	lb, err := vh.ListBuckets(bg, &s3.ListBucketsInput{})
	require.NoError(t, err)
	require.Len(t, lb.Buckets, 1)
}
