package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fillPackage commits n objects "prefix-i" (content the same as the path) into a
// package, in upload forms of 500, and returns them.
func fillPackage(t *testing.T, f *fixture, pkgID int64, prefix string, n int) []Object {
	t.Helper()
	ctx := context.Background()
	var out []Object
	for from := 0; from < n; from += 500 {
		var files []StagedFile
		for i := from; i < min(from+500, n); i++ {
			path := fmt.Sprintf("%s-%05d", prefix, i)
			st, err := f.svc.Stage(ctx, 0, bytes.NewReader([]byte(path)))
			require.NoError(t, err)
			files = append(files, StagedFile{Path: path, Body: st})
		}
		objs, err := f.svc.CommitUploads(ctx, pkgID, files)
		require.NoError(t, err)
		out = append(out, objs...)
	}
	return out
}

// bucketWithPackage creates a bucket and an explicit package in it.
func bucketWithPackage(t *testing.T, f *fixture, bucket, pkg string) (Bucket, Package) {
	t.Helper()
	ctx := context.Background()
	b, err := f.svc.CreateBucket(ctx, bucket)
	require.NoError(t, err)
	p, err := f.svc.CreatePackage(ctx, b.ID, pkg)
	require.NoError(t, err)
	return b, p
}

// transactions counts the catalog transactions fn makes durable.
func transactions(f *fixture, fn func()) int64 {
	before := f.cat.LogStats().Calls
	fn()
	return f.cat.LogStats().Calls - before
}

// requireDeleted checks that the objects gone are, and that the objects
// kept read back (their content is their path) and are all the blobs left.
func requireDeleted(t *testing.T, f *fixture, gone, kept []Object) {
	t.Helper()
	for _, o := range gone {
		_, err := f.svc.Object(context.Background(), o.ID)
		require.Equal(t, CodeNoSuchKey, CodeOf(err), "object %d (%s)", o.ID, o.Path)
	}
	for _, o := range kept {
		require.Equal(t, []byte(o.Path), read(t, f, o))
	}
	require.Len(t, f.blobs(t), len(kept))
}

// Deleting a package removes its objects a chunk per transaction, so that
// other writers go between them; the last transaction takes the package.
// Every object and blob of the package goes; another package's stay.
func TestDeletePackageInChunks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b, big := bucketWithPackage(t, f, "chunks", "big")
	other, err := f.svc.CreatePackage(ctx, b.ID, "other")
	require.NoError(t, err)
	objs := fillPackage(t, f, big.ID, "b", 2*deleteChunk+5)
	kept := fillPackage(t, f, other.ID, "o", 3)
	require.Len(t, f.blobs(t), 2*deleteChunk+8)

	n := transactions(f, func() { require.NoError(t, f.svc.DeletePackage(ctx, big.ID)) })
	require.Equal(t, int64(3), n, "transactions for 2×%d+5 objects", deleteChunk)
	_, err = f.svc.Package(ctx, big.ID)
	require.Equal(t, CodeNoSuchPackage, CodeOf(err))
	requireDeleted(t, f, objs, kept)
	_, err = f.svc.ObjectByKey(ctx, "chunks", "big/b-00000")
	require.Equal(t, CodeNoSuchKey, CodeOf(err))

	// Exactly a chunk: one transaction, which sees that none is left.
	exact, err := f.svc.CreatePackage(ctx, b.ID, "exact")
	require.NoError(t, err)
	objs = fillPackage(t, f, exact.ID, "e", deleteChunk)
	n = transactions(f, func() { require.NoError(t, f.svc.DeletePackage(ctx, exact.ID)) })
	require.Equal(t, int64(1), n)
	requireDeleted(t, f, objs, kept)
	_, err = f.svc.Package(ctx, exact.ID)
	require.Equal(t, CodeNoSuchPackage, CodeOf(err))

	require.Equal(t, CodeNoSuchPackage, CodeOf(f.svc.DeletePackage(ctx, big.ID)))
}

// Deleting a bucket spends one budget of deleteChunk per transaction
// across its packages (an empty one counts too) and takes the bucket with
// the last of them.
func TestDeleteBucketInChunks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b, err := f.svc.CreateBucket(ctx, "chunks")
	require.NoError(t, err)
	keep, err := f.svc.CreateBucket(ctx, "keep")
	require.NoError(t, err)
	var objs []Object
	for i, n := range []int{deleteChunk + deleteChunk/2, 0, deleteChunk - deleteChunk/4} {
		p, err := f.svc.CreatePackage(ctx, b.ID, fmt.Sprintf("p%d", i))
		require.NoError(t, err)
		objs = append(objs, fillPackage(t, f, p.ID, fmt.Sprintf("p%d", i), n)...)
	}
	kp, err := f.svc.CreatePackage(ctx, keep.ID, "k")
	require.NoError(t, err)
	kept := fillPackage(t, f, kp.ID, "k", 2)

	// 2,250 objects and 3 packages: 1,000, then 500+1+498, then 252+1.
	n := transactions(f, func() { require.NoError(t, f.svc.DeleteBucket(ctx, b.ID)) })
	require.Equal(t, int64(3), n)
	_, err = f.svc.Bucket(ctx, b.ID)
	require.Equal(t, CodeNoSuchBucket, CodeOf(err))
	requireDeleted(t, f, objs, kept)
	// The name is free again.
	_, err = f.svc.CreateBucket(ctx, "chunks")
	require.NoError(t, err)
}

// Deleting objects by ID commits deleteChunk of them per transaction.
func TestDeleteObjectsInChunks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, p := bucketWithPackage(t, f, "chunks", "p")
	objs := fillPackage(t, f, p.ID, "x", 2*deleteChunk+2)
	var ids []int64
	for _, o := range objs[:2*deleteChunk+1] {
		ids = append(ids, o.ID)
	}
	ids = append(ids, 1<<30) // absent: ignored
	n := transactions(f, func() { require.NoError(t, f.svc.DeleteObjects(ctx, ids)) })
	require.Equal(t, int64(3), n)
	requireDeleted(t, f, objs[:2*deleteChunk+1], objs[2*deleteChunk+1:])
}

// EachPackageObject pages through a package: every object once, in path
// order, across page boundaries; fn's error stops it; a missing package is
// an error before any call; a package removed meanwhile ends the list.
func TestEachPackageObjectPages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b, p := bucketWithPackage(t, f, "pages", "p")
	objs := fillPackage(t, f, p.ID, "o", 2*packagePage+3)
	next, err := f.svc.CreatePackage(ctx, b.ID, "q") // sorts right after p's keys
	require.NoError(t, err)
	fillPackage(t, f, next.ID, "q", 2)

	var got []string
	require.NoError(t, f.svc.EachPackageObject(ctx, p.ID, func(o Object) error {
		require.Equal(t, p.ID, o.PackageID)
		got = append(got, o.Path)
		return nil
	}))
	var want []string
	for _, o := range objs {
		want = append(want, o.Path)
	}
	require.Equal(t, want, got)
	all, err := f.svc.PackageObjects(ctx, p.ID)
	require.NoError(t, err)
	require.Len(t, all, len(objs))

	requirePagedEach(t, func(id int64, fn func(Object) error) error { return f.svc.EachPackageObject(ctx, id, fn) },
		p.ID, CodeNoSuchPackage, func() error { return f.svc.DeletePackage(ctx, p.ID) })
}

// requirePagedEach checks an Each… method beyond the list it gives: fn's
// error stops it at once, a missing owner is an error before any call, and
// an owner removed after the first page ends the list there, without error.
func requirePagedEach[T any](t *testing.T, each func(id int64, fn func(T) error) error, id int64, missing Code, remove func() error) {
	t.Helper()
	stop := errors.New("enough")
	calls := 0
	err := each(id, func(T) error {
		if calls++; calls == packagePage+1 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, packagePage+1, calls)

	calls = 0
	err = each(1<<30, func(T) error { calls++; return nil })
	require.Equal(t, missing, CodeOf(err))
	require.Zero(t, calls)

	calls = 0
	require.NoError(t, each(id, func(T) error {
		if calls++; calls == 1 {
			require.NoError(t, remove())
		}
		return nil
	}))
	require.Equal(t, packagePage, calls)
}

// EachPackage pages through a bucket's packages as EachPackageObject does
// through a package's objects.
func TestEachPackagePages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b, err := f.svc.CreateBucket(ctx, "pages")
	require.NoError(t, err)
	other, err := f.svc.CreateBucket(ctx, "pages2") // its keys sort right after b's
	require.NoError(t, err)
	_, err = f.svc.CreatePackage(ctx, other.ID, "x")
	require.NoError(t, err)
	n := 2*packagePage + 3
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("p%05d", i))
	}
	var wg sync.WaitGroup
	for w := range 16 { // one group commit for many
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				_, err := f.svc.CreatePackage(ctx, b.ID, want[i])
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()

	var got []string
	require.NoError(t, f.svc.EachPackage(ctx, b.ID, func(p Package) error {
		require.Equal(t, b.ID, p.BucketID)
		got = append(got, p.Name)
		return nil
	}))
	require.Equal(t, want, got)

	requirePagedEach(t, func(id int64, fn func(Package) error) error { return f.svc.EachPackage(ctx, id, fn) },
		b.ID, CodeNoSuchBucket, func() error { return f.svc.DeleteBucket(ctx, b.ID) })
}
