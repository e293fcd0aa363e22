package test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/require"
)

const mib = 1 << 20

// multipartETag is md5 of the parts' md5s, "-N".
func multipartETag(parts ...[]byte) string {
	h := md5.New()
	for _, p := range parts {
		s := md5.Sum(p)
		h.Write(s[:])
	}
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(h.Sum(nil)), len(parts))
}

func (e *s3Env) createUpload(bucket, key string, in *s3.CreateMultipartUploadInput) string {
	e.t.Helper()
	if in == nil {
		in = &s3.CreateMultipartUploadInput{}
	}
	in.Bucket, in.Key = &bucket, &key
	out, err := e.S3.CreateMultipartUpload(bg, in)
	require.NoError(e.t, err)
	require.Equal(e.t, bucket, *out.Bucket)
	require.Equal(e.t, key, *out.Key)
	require.NotEmpty(e.t, *out.UploadId)
	return *out.UploadId
}

func (e *s3Env) uploadPart(bucket, key, id string, n int32, data []byte, algo types.ChecksumAlgorithm) *s3.UploadPartOutput {
	e.t.Helper()
	out, err := e.S3.UploadPart(bg, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: &id,
		PartNumber: aws.Int32(n), Body: bytes.NewReader(data), ChecksumAlgorithm: algo})
	require.NoError(e.t, err)
	require.Equal(e.t, `"`+md5Hex(data)+`"`, *out.ETag)
	return out
}

func completed(etags ...*string) *types.CompletedMultipartUpload {
	c := &types.CompletedMultipartUpload{}
	for i, et := range etags {
		c.Parts = append(c.Parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: et})
	}
	return c
}

func testS3Multipart(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-multipart")
	e.put(b, "big", []byte("old content"))
	id := e.createUpload(b, "big", &s3.CreateMultipartUploadInput{
		ContentType: aws.String("application/x-big"), Metadata: map[string]string{"kind": "multi"},
		Tagging: aws.String("mp=yes"),
	})
	p1, p2, p3 := s3Data(5*mib, 1), s3Data(5*mib, 2), s3Data(1234, 3)
	o1 := e.uploadPart(b, "big", id, 1, p1, "")
	o3 := e.uploadPart(b, "big", id, 3, p3, "")
	o2 := e.uploadPart(b, "big", id, 2, p2, "")

	lp, err := e.S3.ListParts(bg, &s3.ListPartsInput{Bucket: &b, Key: aws.String("big"), UploadId: &id, MaxParts: aws.Int32(2)})
	require.NoError(t, err)
	require.True(t, *lp.IsTruncated)
	require.Len(t, lp.Parts, 2)
	require.Equal(t, int32(1), *lp.Parts[0].PartNumber)
	require.Equal(t, int64(5*mib), *lp.Parts[0].Size)
	require.Equal(t, *o1.ETag, *lp.Parts[0].ETag)
	require.Equal(t, "2", *lp.NextPartNumberMarker)
	require.NotNil(t, lp.Initiator)
	lp, err = e.S3.ListParts(bg, &s3.ListPartsInput{Bucket: &b, Key: aws.String("big"), UploadId: &id, PartNumberMarker: lp.NextPartNumberMarker})
	require.NoError(t, err)
	require.False(t, *lp.IsTruncated)
	require.Len(t, lp.Parts, 1)
	require.Equal(t, int32(3), *lp.Parts[0].PartNumber)
	require.Equal(t, int64(1234), *lp.Parts[0].Size)

	lu, err := e.S3.ListMultipartUploads(bg, &s3.ListMultipartUploadsInput{Bucket: &b})
	require.NoError(t, err)
	require.Len(t, lu.Uploads, 1)
	require.Equal(t, "big", *lu.Uploads[0].Key)
	require.Equal(t, id, *lu.Uploads[0].UploadId)

	// The old object stays readable until Complete.
	got, _ := e.get(b, "big")
	require.Equal(t, "old content", string(got))

	out, err := e.S3.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("big"), UploadId: &id,
		MultipartUpload: completed(o1.ETag, o2.ETag, o3.ETag)})
	require.NoError(t, err)
	want := multipartETag(p1, p2, p3)
	require.Equal(t, want, *out.ETag)
	require.Equal(t, b, *out.Bucket)
	require.Equal(t, "big", *out.Key)
	require.Contains(t, *out.Location, "/"+b+"/big")

	all := append(append(append([]byte(nil), p1...), p2...), p3...)
	got, g := e.get(b, "big")
	require.True(t, bytes.Equal(all, got))
	require.Equal(t, want, *g.ETag)
	require.Equal(t, "application/x-big", *g.ContentType)
	require.Equal(t, "multi", g.Metadata["kind"])
	require.Equal(t, int32(1), aws.ToInt32(g.TagCount))

	// Part 2 by number.
	pg, err := e.S3.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("big"), PartNumber: aws.Int32(2)})
	require.NoError(t, err)
	part, _ := io.ReadAll(pg.Body)
	pg.Body.Close()
	require.True(t, bytes.Equal(p2, part))
	require.Equal(t, int32(3), aws.ToInt32(pg.PartsCount))
	require.Equal(t, fmt.Sprintf("bytes %d-%d/%d", 5*mib, 10*mib-1, len(all)), aws.ToString(pg.ContentRange))

	lu, err = e.S3.ListMultipartUploads(bg, &s3.ListMultipartUploadsInput{Bucket: &b})
	require.NoError(t, err)
	require.Empty(t, lu.Uploads)
	_, err = e.S3.ListParts(bg, &s3.ListPartsInput{Bucket: &b, Key: aws.String("big"), UploadId: &id})
	s3Err(t, err, "NoSuchUpload", 404)

	// UploadPartCopy: a range of one object and the whole of another.
	e.put(b, "small", []byte("tail"))
	cid := e.createUpload(b, "copied", nil)
	c1, err := e.S3.UploadPartCopy(bg, &s3.UploadPartCopyInput{Bucket: &b, Key: aws.String("copied"), UploadId: &cid, PartNumber: aws.Int32(1),
		CopySource: aws.String(b + "/big"), CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", mib, 6*mib-1))})
	require.NoError(t, err)
	c2, err := e.S3.UploadPartCopy(bg, &s3.UploadPartCopyInput{Bucket: &b, Key: aws.String("copied"), UploadId: &cid, PartNumber: aws.Int32(2),
		CopySource: aws.String(b + "/small")})
	require.NoError(t, err)
	_, err = e.S3.UploadPartCopy(bg, &s3.UploadPartCopyInput{Bucket: &b, Key: aws.String("copied"), UploadId: &cid, PartNumber: aws.Int32(3),
		CopySource: aws.String(b + "/small"), CopySourceRange: aws.String("bytes=0-100")})
	s3Err(t, err, "InvalidArgument", 400)
	_, err = e.S3.UploadPartCopy(bg, &s3.UploadPartCopyInput{Bucket: &b, Key: aws.String("copied"), UploadId: &cid, PartNumber: aws.Int32(3),
		CopySource: aws.String(b + "/small"), CopySourceIfMatch: aws.String(`"nope"`)})
	s3Err(t, err, "PreconditionFailed", 412)
	_, err = e.S3.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("copied"), UploadId: &cid,
		MultipartUpload: completed(c1.CopyPartResult.ETag, c2.CopyPartResult.ETag)})
	require.NoError(t, err)
	got, _ = e.get(b, "copied")
	require.True(t, bytes.Equal(append(append([]byte(nil), all[mib:6*mib]...), "tail"...), got))

	// Abort leaves nothing behind.
	aid := e.createUpload(b, "aborted", nil)
	e.uploadPart(b, "aborted", aid, 1, []byte("bytes"), "")
	_, err = e.S3.AbortMultipartUpload(bg, &s3.AbortMultipartUploadInput{Bucket: &b, Key: aws.String("aborted"), UploadId: &aid})
	require.NoError(t, err)
	_, err = e.S3.ListParts(bg, &s3.ListPartsInput{Bucket: &b, Key: aws.String("aborted"), UploadId: &aid})
	s3Err(t, err, "NoSuchUpload", 404)
	_, err = e.S3.UploadPart(bg, &s3.UploadPartInput{Bucket: &b, Key: aws.String("aborted"), UploadId: &aid, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("x"))})
	s3Err(t, err, "NoSuchUpload", 404)
	_, err = e.S3.AbortMultipartUpload(bg, &s3.AbortMultipartUploadInput{Bucket: &b, Key: aws.String("aborted"), UploadId: &aid})
	s3Err(t, err, "NoSuchUpload", 404)
	_, err = e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("aborted")})
	s3Err(t, err, "", 404)

	// A composite SHA-256 upload.
	sid := e.createUpload(b, "sha", &s3.CreateMultipartUploadInput{ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	s1, s2 := s3Data(5*mib, 21), s3Data(10, 22)
	u1 := e.uploadPart(b, "sha", sid, 1, s1, types.ChecksumAlgorithmSha256)
	u2 := e.uploadPart(b, "sha", sid, 2, s2, types.ChecksumAlgorithmSha256)
	d1, d2 := sha256.Sum256(s1), sha256.Sum256(s2)
	require.Equal(t, base64.StdEncoding.EncodeToString(d1[:]), aws.ToString(u1.ChecksumSHA256))
	comp := completed(u1.ETag, u2.ETag)
	comp.Parts[0].ChecksumSHA256, comp.Parts[1].ChecksumSHA256 = u1.ChecksumSHA256, u2.ChecksumSHA256
	sout, err := e.S3.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("sha"), UploadId: &sid, MultipartUpload: comp})
	require.NoError(t, err)
	outer := sha256.Sum256(append(d1[:], d2[:]...))
	wantCk := base64.StdEncoding.EncodeToString(outer[:]) + "-2"
	require.Equal(t, wantCk, aws.ToString(sout.ChecksumSHA256))
	h, err := e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("sha"), ChecksumMode: types.ChecksumModeEnabled})
	require.NoError(t, err)
	require.Equal(t, wantCk, aws.ToString(h.ChecksumSHA256))
	require.Equal(t, types.ChecksumTypeComposite, h.ChecksumType)

	// A full-object CRC32C upload.
	fid := e.createUpload(b, "crc", &s3.CreateMultipartUploadInput{ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c, ChecksumType: types.ChecksumTypeFullObject})
	f1 := e.uploadPart(b, "crc", fid, 1, s1, types.ChecksumAlgorithmCrc32c)
	f2 := e.uploadPart(b, "crc", fid, 2, s2, types.ChecksumAlgorithmCrc32c)
	comp = completed(f1.ETag, f2.ETag)
	comp.Parts[0].ChecksumCRC32C, comp.Parts[1].ChecksumCRC32C = f1.ChecksumCRC32C, f2.ChecksumCRC32C
	_, err = e.S3.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("crc"), UploadId: &fid, MultipartUpload: comp})
	require.NoError(t, err)
	c := crc32.Checksum(append(append([]byte(nil), s1...), s2...), crc32.MakeTable(crc32.Castagnoli))
	h, err = e.S3.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("crc"), ChecksumMode: types.ChecksumModeEnabled})
	require.NoError(t, err)
	require.Equal(t, base64.StdEncoding.EncodeToString([]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)}), aws.ToString(h.ChecksumCRC32C))
	require.Equal(t, types.ChecksumTypeFullObject, h.ChecksumType)
	// The SDK validates the full-object checksum on GET.
	cg, err := e.S3.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("crc"), ChecksumMode: types.ChecksumModeEnabled})
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, cg.Body)
	require.NoError(t, err)
	cg.Body.Close()
}

func testS3MultipartErrors(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-mperrors")
	key := "obj"
	id := e.createUpload(b, key, nil)
	big, small := s3Data(5*mib, 31), s3Data(1024, 32)
	o1 := e.uploadPart(b, key, id, 1, small, "")
	o2 := e.uploadPart(b, key, id, 2, big, "")
	o3 := e.uploadPart(b, key, id, 3, small, "")

	complete := func(parts []types.CompletedPart) error {
		_, err := e.S3.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: &key, UploadId: &id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		return err
	}
	part := func(n int32, etag *string) types.CompletedPart {
		return types.CompletedPart{PartNumber: aws.Int32(n), ETag: etag}
	}
	s3Err(t, complete([]types.CompletedPart{part(2, o2.ETag), part(1, o1.ETag)}), "InvalidPartOrder", 400)
	s3Err(t, complete([]types.CompletedPart{part(2, o2.ETag), part(3, aws.String(`"0123456789abcdef0123456789abcdef"`))}), "InvalidPart", 400)
	s3Err(t, complete([]types.CompletedPart{part(2, o2.ETag), part(4, o3.ETag)}), "InvalidPart", 400)
	s3Err(t, complete([]types.CompletedPart{part(1, o1.ETag), part(2, o2.ETag), part(3, o3.ETag)}), "EntityTooSmall", 400)
	s3Err(t, complete(nil), "MalformedXML", 400)

	for _, n := range []int32{0, 10001} {
		_, err := e.S3.UploadPart(bg, &s3.UploadPartInput{Bucket: &b, Key: &key, UploadId: &id, PartNumber: aws.Int32(n), Body: bytes.NewReader(small)})
		s3Err(t, err, "InvalidArgument", 400)
	}
	_, err := e.S3.UploadPart(bg, &s3.UploadPartInput{Bucket: &b, Key: &key, UploadId: aws.String("bogus"), PartNumber: aws.Int32(1), Body: bytes.NewReader(small)})
	s3Err(t, err, "NoSuchUpload", 404)
	_, err = e.S3.UploadPart(bg, &s3.UploadPartInput{Bucket: &b, Key: aws.String("other"), UploadId: &id, PartNumber: aws.Int32(1), Body: bytes.NewReader(small)})
	s3Err(t, err, "NoSuchUpload", 404)
	_, err = e.S3.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: aws.String("no-such-bucket"), Key: &key})
	s3Err(t, err, "NoSuchBucket", 404)

	// Conditional completion.
	e.put(b, key, []byte("exists"))
	done := &types.CompletedMultipartUpload{Parts: []types.CompletedPart{part(2, o2.ETag), part(3, o3.ETag)}}
	_, err = e.S3.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: &key, UploadId: &id,
		IfNoneMatch: aws.String("*"), MultipartUpload: done})
	s3Err(t, err, "PreconditionFailed", 412)
	got, _ := e.get(b, key)
	require.Equal(t, "exists", string(got))
	_, err = e.S3.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: &key, UploadId: &id,
		IfMatch: aws.String(`"` + md5Hex([]byte("exists")) + `"`), MultipartUpload: done})
	require.NoError(t, err)
	got, _ = e.get(b, key)
	require.True(t, bytes.Equal(append(append([]byte(nil), big...), small...), got))
}

func testS3ListUploads(t *testing.T, e *s3Env) {
	b := e.bucket("bkt-uploads")
	ids := map[string]string{}
	for _, k := range []string{"u/a", "u/b", "v", "w x", "y"} {
		ids[k] = e.createUpload(b, k, nil)
	}
	var got []string
	var in = &s3.ListMultipartUploadsInput{Bucket: &b, MaxUploads: aws.Int32(2)}
	for range 10 {
		out, err := e.S3.ListMultipartUploads(bg, in)
		require.NoError(t, err)
		require.LessOrEqual(t, len(out.Uploads), 2)
		for _, u := range out.Uploads {
			got = append(got, *u.Key+"#"+*u.UploadId)
			require.Equal(t, types.StorageClassStandard, u.StorageClass)
			require.NotNil(t, u.Initiated)
		}
		if !*out.IsTruncated {
			in = nil
			break
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
	require.Nil(t, in, "the listing did not end")
	require.Equal(t, []string{"u/a#" + ids["u/a"], "u/b#" + ids["u/b"], "v#" + ids["v"], "w x#" + ids["w x"], "y#" + ids["y"]}, got)

	out, err := e.S3.ListMultipartUploads(bg, &s3.ListMultipartUploadsInput{Bucket: &b, Delimiter: aws.String("/")})
	require.NoError(t, err)
	require.Len(t, out.CommonPrefixes, 1)
	require.Equal(t, "u/", *out.CommonPrefixes[0].Prefix)
	require.Len(t, out.Uploads, 3)
	out, err = e.S3.ListMultipartUploads(bg, &s3.ListMultipartUploadsInput{Bucket: &b, Prefix: aws.String("w"), EncodingType: types.EncodingTypeUrl})
	require.NoError(t, err)
	require.Len(t, out.Uploads, 1)
	require.Equal(t, "w%20x", *out.Uploads[0].Key)
	_, err = e.S3.ListMultipartUploads(bg, &s3.ListMultipartUploadsInput{Bucket: aws.String("no-such-bucket")})
	s3Err(t, err, "NoSuchBucket", 404)

	// Deleting the bucket aborts what is left.
	_, err = e.S3.DeleteBucket(bg, &s3.DeleteBucketInput{Bucket: &b})
	require.NoError(t, err)
}

// TestS3ListUploadsSameKey pages through several uploads of one key, one
// upload a page.
func TestS3ListUploadsSameKey(t *testing.T) {
	t.Parallel()
	e := newS3Env(t, s3Modes[2])
	b := e.bucket("bkt-samekey")
	// Two uploads of one key whose IDs sort against their start order: the
	// upload-id-marker must follow the listing's order, not the IDs'.
	// (With IDs that follow start order, any two will do.)
	first := e.createUpload(b, "k", nil)
	var second string
	made := 1
	for range 64 {
		made++
		if second = e.createUpload(b, "k", nil); second < first {
			break
		}
	}
	var got []string
	in := &s3.ListMultipartUploadsInput{Bucket: &b, MaxUploads: aws.Int32(1)}
	for range made + 2 {
		out, err := e.S3.ListMultipartUploads(bg, in)
		require.NoError(t, err)
		for _, u := range out.Uploads {
			got = append(got, *u.UploadId)
		}
		if !*out.IsTruncated {
			in = nil
			break
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
	require.Nil(t, in, "the listing did not end: gateway ListUploads compares upload IDs, but orders one key's uploads by start time")
	require.Contains(t, got, first)
	require.Contains(t, got, second)
	require.Len(t, got, made)
	require.Len(t, got, len(slices.Compact(slices.Sorted(slices.Values(got)))), "an upload was listed twice")
}
