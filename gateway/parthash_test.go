package gateway

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// digested waits until the upload's parts are digested as far as they
// go and says how many are; -1 when the upload has no entry.
func (c *partHashes) digested(id string) int {
	c.mu.Lock()
	h := c.m[id]
	c.mu.Unlock()
	if h == nil {
		return -1
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.running {
		h.idle.Wait()
	}
	return len(h.blocks)
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// uploadParts uploads parts (numbered from 1) and returns the list to
// complete with.
func uploadAll(t *testing.T, f *fixture, bucket, key, id string, parts map[int][]byte) map[int]CompletePart {
	t.Helper()
	out := map[int]CompletePart{}
	for n, data := range parts {
		p, err := f.svc.UploadPart(context.Background(), bucket, key, id, n, PutInput{Body: bytes.NewReader(data), Size: int64(len(data))})
		require.NoError(t, err)
		out[n] = CompletePart{Number: n, ETag: p.ETag}
	}
	return out
}

func wantMultipart(t *testing.T, f *fixture, o Object, parts ...[]byte) {
	t.Helper()
	whole := bytes.Join(parts, nil)
	sum := sha256.Sum256(whole)
	assert.Equal(t, FullHash(sum[:]), o.FileHash)
	assert.Equal(t, int64(len(whole)), o.Size)
	etag := md5.New()
	for _, p := range parts {
		s := md5.Sum(p)
		etag.Write(s[:])
	}
	assert.Equal(t, fmt.Sprintf("%s-%d", hex.EncodeToString(etag.Sum(nil)), len(parts)), o.ETag)
	assert.True(t, bytes.Equal(whole, read(t, f, o)), "content differs")
}

func TestCompleteUsesPartsDigestedAhead(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, err := f.svc.CreateBucket(ctx, "b")
	require.NoError(t, err)
	u, err := f.svc.CreateUpload(ctx, "b", "p/big", Upload{})
	require.NoError(t, err)
	p1, p2, p3 := randBytes(1, MinPartSize), randBytes(2, MinPartSize+7), randBytes(3, 1234)
	// Out of order: part 3 lands first and waits for 1 and 2.
	list := uploadAll(t, f, "b", "p/big", u.ID, map[int][]byte{3: p3})
	assert.Equal(t, 0, f.svc.partHashes.digested(u.ID))
	for n, c := range uploadAll(t, f, "b", "p/big", u.ID, map[int][]byte{1: p1, 2: p2}) {
		list[n] = c
	}
	require.Equal(t, 3, f.svc.partHashes.digested(u.ID), "every consecutive part is digested before completion")
	o, err := f.svc.CompleteUpload(ctx, "b", "p/big", u.ID, []CompletePart{list[1], list[2], list[3]}, "", "")
	require.NoError(t, err)
	wantMultipart(t, f, o, p1, p2, p3)
	assert.Equal(t, -1, f.svc.partHashes.digested(u.ID), "completion takes the entry")
}

func TestCompleteAfterDigestedPartChanged(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, err := f.svc.CreateBucket(ctx, "b")
	require.NoError(t, err)

	// A part replaced after it was digested: the digest is not used.
	u, err := f.svc.CreateUpload(ctx, "b", "k", Upload{})
	require.NoError(t, err)
	p1, p2, p1b := randBytes(4, MinPartSize), randBytes(5, 99), randBytes(6, MinPartSize)
	list := uploadAll(t, f, "b", "k", u.ID, map[int][]byte{1: p1, 2: p2})
	require.Equal(t, 2, f.svc.partHashes.digested(u.ID))
	list[1] = uploadAll(t, f, "b", "k", u.ID, map[int][]byte{1: p1b})[1]
	o, err := f.svc.CompleteUpload(ctx, "b", "k", u.ID, []CompletePart{list[1], list[2]}, "", "")
	require.NoError(t, err)
	wantMultipart(t, f, o, p1b, p2)

	// A list that skips a digested part.
	u, err = f.svc.CreateUpload(ctx, "b", "k2", Upload{})
	require.NoError(t, err)
	q1, q2, q3 := randBytes(7, MinPartSize), randBytes(8, MinPartSize), randBytes(9, 10)
	list = uploadAll(t, f, "b", "k2", u.ID, map[int][]byte{1: q1, 2: q2, 3: q3})
	require.Equal(t, 3, f.svc.partHashes.digested(u.ID))
	o, err = f.svc.CompleteUpload(ctx, "b", "k2", u.ID, []CompletePart{list[1], list[3]}, "", "")
	require.NoError(t, err)
	wantMultipart(t, f, o, q1, q3)

	// A gap: only part 1 is digested ahead, part 3 at completion.
	u, err = f.svc.CreateUpload(ctx, "b", "k4", Upload{})
	require.NoError(t, err)
	list = uploadAll(t, f, "b", "k4", u.ID, map[int][]byte{1: q1, 3: q3})
	require.Equal(t, 1, f.svc.partHashes.digested(u.ID))
	o, err = f.svc.CompleteUpload(ctx, "b", "k4", u.ID, []CompletePart{list[1], list[3]}, "", "")
	require.NoError(t, err)
	wantMultipart(t, f, o, q1, q3)

	// An abort lets the entry go.
	u, err = f.svc.CreateUpload(ctx, "b", "k3", Upload{})
	require.NoError(t, err)
	uploadAll(t, f, "b", "k3", u.ID, map[int][]byte{1: q1})
	require.Equal(t, 1, f.svc.partHashes.digested(u.ID))
	require.NoError(t, f.svc.AbortUpload(ctx, "b", "k3", u.ID))
	assert.Equal(t, -1, f.svc.partHashes.digested(u.ID))
}

func TestCompleteFullObjectChecksumDigestedAhead(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, err := f.svc.CreateBucket(ctx, "b")
	require.NoError(t, err)
	u, err := f.svc.CreateUpload(ctx, "b", "k", Upload{ChecksumAlgorithm: "CRC32", ChecksumType: ChecksumFullObject})
	require.NoError(t, err)
	p1, p2 := randBytes(10, MinPartSize), randBytes(11, 5000)
	list := uploadAll(t, f, "b", "k", u.ID, map[int][]byte{1: p1})
	require.Equal(t, 1, f.svc.partHashes.digested(u.ID))
	for n, c := range uploadAll(t, f, "b", "k", u.ID, map[int][]byte{2: p2}) {
		list[n] = c
	}
	o, err := f.svc.CompleteUpload(ctx, "b", "k", u.ID, []CompletePart{list[1], list[2]}, "", "")
	require.NoError(t, err)
	wantMultipart(t, f, o, p1, p2)
	crc := crc32.ChecksumIEEE(append(append([]byte{}, p1...), p2...))
	require.NotNil(t, o.Checksum)
	assert.Equal(t, base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)}), o.Checksum.Value)
	assert.Equal(t, ChecksumFullObject, o.Checksum.Type)
}

// jcsUpload starts a JCS multipart object and uploads parts by index.
func jcsUpload(t *testing.T, f *fixture, path string, parts map[int][]byte) Object {
	t.Helper()
	ctx := context.Background()
	b, err := f.svc.CreateBucket(ctx, "jb-"+path)
	require.NoError(t, err)
	p, err := f.svc.CreatePackage(ctx, b.ID, "pkg")
	require.NoError(t, err)
	o, err := f.svc.NewMultipartObject(ctx, p.ID, path, 0)
	require.NoError(t, err)
	jcsParts(t, f, o.ID, parts)
	return o
}

// jcsParts uploads parts in ascending index order.
func jcsParts(t *testing.T, f *fixture, objID int64, parts map[int][]byte) {
	t.Helper()
	for _, i := range slices.Sorted(maps.Keys(parts)) {
		require.NoError(t, f.svc.UploadObjectPart(context.Background(), objID, i, bytes.NewReader(parts[i]), int64(len(parts[i]))))
	}
}

// wantWhole checks a completed JCS object: an ordinary one, whose fileHash
// and ETag cover the joined parts.
func wantWhole(t *testing.T, f *fixture, o Object, parts ...[]byte) {
	t.Helper()
	whole := bytes.Join(parts, nil)
	sum := sha256.Sum256(whole)
	m := md5.Sum(whole)
	assert.Equal(t, FullHash(sum[:]), o.FileHash)
	assert.Equal(t, hex.EncodeToString(m[:]), o.ETag)
	assert.Equal(t, int64(len(whole)), o.Size)
	assert.Equal(t, RedundancyNone, o.Redundancy)
	assert.True(t, bytes.Equal(whole, read(t, f, o)), "content differs")
}

func TestJCSCompleteUsesPartsDigestedAhead(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p1, p2, p3 := randBytes(21, 3<<20+5), randBytes(22, 1<<20), randBytes(23, 777)
	// Index 3 lands first and waits for 1 and 2.
	o := jcsUpload(t, f, "big", map[int][]byte{3: p3})
	key := jcsPartsKey(o.ID)
	assert.Equal(t, 0, f.svc.partHashes.digested(key))
	jcsParts(t, f, o.ID, map[int][]byte{1: p1, 2: p2})
	require.Equal(t, 3, f.svc.partHashes.digested(key), "every consecutive part is digested before completion")
	done, err := f.svc.CompleteMultipartObject(ctx, o.ID, []int{1, 2, 3})
	require.NoError(t, err)
	wantWhole(t, f, done, p1, p2, p3)
	assert.Equal(t, -1, f.svc.partHashes.digested(key), "completion takes the entry")

	// Numbered from 0, the other common way.
	q0, q1 := randBytes(24, 2<<20), randBytes(25, 10)
	o = jcsUpload(t, f, "zero", map[int][]byte{0: q0, 1: q1})
	require.Equal(t, 2, f.svc.partHashes.digested(jcsPartsKey(o.ID)))
	done, err = f.svc.CompleteMultipartObject(ctx, o.ID, []int{0, 1})
	require.NoError(t, err)
	wantWhole(t, f, done, q0, q1)
}

func TestJCSCompleteNotInDigestOrder(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p1, p2, p3 := randBytes(31, 1<<20), randBytes(32, 2<<20+1), randBytes(33, 5)

	// The listed order is the client's: [2 3 1] joins the parts so.
	o := jcsUpload(t, f, "order", map[int][]byte{1: p1, 2: p2, 3: p3})
	require.Equal(t, 3, f.svc.partHashes.digested(jcsPartsKey(o.ID)))
	done, err := f.svc.CompleteMultipartObject(ctx, o.ID, []int{2, 3, 1})
	require.NoError(t, err)
	wantWhole(t, f, done, p2, p3, p1)

	// Repeats, and a part left out.
	o = jcsUpload(t, f, "repeat", map[int][]byte{1: p1, 2: p2, 3: p3})
	require.Equal(t, 3, f.svc.partHashes.digested(jcsPartsKey(o.ID)))
	done, err = f.svc.CompleteMultipartObject(ctx, o.ID, []int{1, 1, 3})
	require.NoError(t, err)
	wantWhole(t, f, done, p1, p1, p3)

	// A part replaced after it was digested.
	o = jcsUpload(t, f, "replaced", map[int][]byte{1: p1, 2: p2})
	require.Equal(t, 2, f.svc.partHashes.digested(jcsPartsKey(o.ID)))
	jcsParts(t, f, o.ID, map[int][]byte{1: p3})
	done, err = f.svc.CompleteMultipartObject(ctx, o.ID, []int{1, 2})
	require.NoError(t, err)
	wantWhole(t, f, done, p3, p2)

	// Deleting the object in progress lets the entry go.
	o = jcsUpload(t, f, "deleted", map[int][]byte{1: p1})
	require.Equal(t, 1, f.svc.partHashes.digested(jcsPartsKey(o.ID)))
	require.NoError(t, f.svc.DeleteObjects(ctx, []int64{o.ID}))
	assert.Equal(t, -1, f.svc.partHashes.digested(jcsPartsKey(o.ID)))
}

// A full cache makes room by dropping the upload whose last part landed
// longest ago, so abandoned uploads do not keep digest-ahead from new ones.
func TestPartHashesEvictLeastRecentlyUsed(t *testing.T) {
	var c partHashes
	blank := func() *partHash { return &partHash{d: newDigester("")} }
	for i := range maxPartHashes {
		c.get(fmt.Sprintf("u%d", i), blank)
	}
	c.get("u0", blank) // u0 had a part land again: u1 is the oldest now
	u1 := c.m["u1"]
	require.NotNil(t, u1)
	h := c.get("new", blank)
	require.NotNil(t, h)
	assert.Len(t, c.m, maxPartHashes)
	assert.Same(t, h, c.m["new"])
	assert.NotNil(t, c.m["u0"], "the recently used entry stays")
	assert.Nil(t, c.m["u1"], "the least recently used entry made room")
	assert.True(t, u1.taken, "its goroutine is told to stop")
}
