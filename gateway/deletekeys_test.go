package gateway

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"jcsgw/catalog"
)

// DeleteKeys deletes many keys in chunks of one transaction each: every key
// of every chunk goes (objects, folder markers, the implicit packages left
// empty, the blobs left unreferenced), absent and repeated keys are not
// errors, and what was not named stays byte for byte.
func TestDeleteKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateBucket(ctx, "bulk")
	require.NoError(t, err)
	var keys []string
	for i := range 2*deleteKeysChunk + 30 { // three chunks, the last short
		k := fmt.Sprintf("p/k%04d", i)
		put(t, f, "bulk", k, []byte(k))
		keys = append(keys, k)
	}
	// Two objects sharing one blob: deleting one keeps the blob for the
	// other, which stays readable.
	shared := []byte("the same bytes twice")
	put(t, f, "bulk", "q/gone", shared)
	kept := put(t, f, "bulk", "q/kept", shared)
	keep := put(t, f, "bulk", "r/untouched", []byte("not named"))
	_, err = f.svc.PutKey(ctx, "bulk", "m/", PutInput{Body: bytes.NewReader(nil)}) // a folder marker
	require.NoError(t, err)
	keys = append(keys, "q/gone", "m/", "absent", "p/k0003", "nopkg/x")
	before := len(f.blobs(t))

	errs := f.svc.DeleteKeys(ctx, "bulk", keys)
	require.Len(t, errs, len(keys))
	for i, err := range errs {
		require.NoError(t, err, "key %q", keys[i])
	}
	for _, k := range keys {
		_, err := f.svc.ObjectByKey(ctx, "bulk", k)
		require.Equal(t, CodeNoSuchKey, CodeOf(err), "key %q", k)
	}
	for _, pkg := range []string{"p", "m"} {
		_, err := f.svc.PackageByName(ctx, "bulk", pkg)
		require.Error(t, err, "package %q left behind", pkg)
	}
	require.Equal(t, shared, read(t, f, kept))
	require.Equal(t, []byte("not named"), read(t, f, keep))
	// The 230 blobs of p/ are gone; the shared one and r/'s are not.
	require.Equal(t, before-2*deleteKeysChunk-30, len(f.blobs(t)))
	page, err := f.svc.ListKeys(ctx, "bulk", ListKeysInput{MaxKeys: 1000})
	require.NoError(t, err)
	var left []string
	for _, o := range page.Objects {
		left = append(left, o.Key())
	}
	require.Equal(t, []string{"q/kept", "r/untouched"}, left)

	// No such bucket: every key says so.
	for _, err := range f.svc.DeleteKeys(ctx, "nobucket", []string{"a", "b/c"}) {
		require.Equal(t, CodeNoSuchBucket, CodeOf(err))
	}
}

// A key whose deletion fails undoes its chunk's transaction; the chunk is
// then deleted key by key, so that the failure is that key's alone and
// every other key of the chunk is still deleted.
func TestDeleteKeysIsolatesAFailure(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateBucket(ctx, "bulk")
	require.NoError(t, err)
	var keys []string
	var bad Object
	for i := range 10 {
		k := fmt.Sprintf("p/k%d", i)
		o := put(t, f, "bulk", k, []byte(k))
		if i == 4 {
			bad = o
		}
		keys = append(keys, k)
	}
	// A lost reference: deleting p/k4 would take its count below zero.
	require.NoError(t, f.cat.Update(ctx, func(tx catalog.Tx) error {
		return tx.Delete(tRef, refKey(bad.SpaceID, bad.Blocks[0].Hash))
	}))
	errs := f.svc.DeleteKeys(ctx, "bulk", keys)
	for i, k := range keys {
		_, gone := f.svc.ObjectByKey(ctx, "bulk", k)
		if i == 4 {
			require.ErrorContains(t, errs[i], "below zero")
			require.NoError(t, gone, "the failed key was deleted")
			continue
		}
		require.NoError(t, errs[i], "key %q", k)
		require.Equal(t, CodeNoSuchKey, CodeOf(gone), "key %q not deleted", k)
	}
}
