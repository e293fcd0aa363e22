package gateway

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"jcsgw/catalog"
)

func TestFsckFindsAndRepairs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateS3Bucket(ctx, "bkt")
	require.NoError(t, err)
	keep := put(t, f, "bkt", "p/keep", []byte("keep"))
	lost := put(t, f, "bkt", "p/lost", []byte("lost"))
	shared := put(t, f, "bkt", "p/shared", []byte("shared"))

	rep, err := f.svc.Fsck(ctx, FsckOptions{Rehash: true})
	require.NoError(t, err)
	assert.True(t, rep.Clean(), "%+v", rep)

	// Damage: a deleted blob, an orphan blob, a wrong reference count.
	require.NoError(t, f.store.Remove(ctx, lost.FileHash)) // behind the catalog's back
	w, _ := f.store.Create(ctx)
	w.Write([]byte("orphan"))
	orphan := FullHash(bytes.Repeat([]byte{9}, 32))
	require.NoError(t, w.Commit(ctx, orphan))
	require.NoError(t, f.cat.Update(ctx, func(tx catalog.Tx) error {
		return tx.Put(tRef, refKey(DefaultSpaceID, shared.FileHash), u64(7))
	}))

	rep, err = f.svc.Fsck(ctx, FsckOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"1/" + lost.FileHash}, rep.MissingBlobs)
	assert.Equal(t, []string{"1/" + orphan}, rep.OrphanBlobs)
	assert.Equal(t, []string{"1/" + shared.FileHash + ": catalog 7, actual 1"}, rep.WrongRefcounts)
	assert.False(t, rep.Repaired)

	rep, err = f.svc.Fsck(ctx, FsckOptions{Repair: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"bkt/p/lost"}, rep.LostObjects)
	rep, err = f.svc.Fsck(ctx, FsckOptions{Rehash: true})
	require.NoError(t, err)
	assert.True(t, rep.Clean(), "after repair: %+v", rep)
	_, err = f.svc.ObjectByKey(ctx, "bkt", "p/lost")
	assert.Equal(t, CodeNoSuchKey, CodeOf(err))
	assert.Equal(t, []byte("keep"), read(t, f, keep))

	// Deleting the shared object now frees its blob: the count is right.
	require.NoError(t, f.svc.DeleteKey(ctx, "bkt", "p/shared"))
	assert.Equal(t, []string{keep.FileHash}, f.blobs(t))
}

func TestGCAbortsOldUploadsAndOrphans(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateS3Bucket(ctx, "bkt")
	require.NoError(t, err)
	up, err := f.svc.CreateUpload(ctx, "bkt", "p/big", Upload{})
	require.NoError(t, err)
	_, err = f.svc.UploadPart(ctx, "bkt", "p/big", up.ID, 1, PutInput{Body: bytes.NewReader([]byte("part")), Size: 4})
	require.NoError(t, err)
	w, _ := f.store.Create(ctx)
	w.Write([]byte("orphan"))
	require.NoError(t, w.Commit(ctx, FullHash(bytes.Repeat([]byte{3}, 32))))

	rep, err := f.svc.GC(ctx, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, 0, rep.AbortedUploads, "a young upload stays")
	assert.Equal(t, 1, rep.OrphanBlobs)
	assert.Len(t, f.blobs(t), 1, "the part's blob stays")

	rep, err = f.svc.GC(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.AbortedUploads)
	assert.Empty(t, f.blobs(t))
	_, err = f.svc.ListParts(ctx, "bkt", "p/big", up.ID, 0, 0)
	assert.Equal(t, CodeNoSuchUpload, CodeOf(err))
}
