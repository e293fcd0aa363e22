package gateway

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func later(c *Config) { c.SweepOrphansLater = true }

// orphans places n blobs that no object references, as a crash between
// placing blobs and committing their objects leaves them.
func orphans(t *testing.T, f *fixture, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		w, err := f.store.Create(ctx)
		require.NoError(t, err)
		body := []byte(fmt.Sprintf("orphan %d", i))
		_, err = w.Write(body)
		require.NoError(t, err)
		require.NoError(t, w.Commit(ctx, FullHash(body)))
	}
}

func waitSwept(t *testing.T, f *fixture) {
	t.Helper()
	select {
	case <-f.svc.Swept():
	case <-time.After(30 * time.Second):
		t.Fatal("the start-up sweep did not end")
	}
}

// With SweepOrphansLater, New returns with the temp files gone and the
// orphans still there to be swept; once Swept is closed they are gone, and
// what objects reference is intact.
func TestSweepOrphansLater(t *testing.T) {
	dir := t.TempDir()
	f := open(t, dir)
	ctx := context.Background()
	_, err := f.svc.CreateS3Bucket(ctx, "bkt")
	require.NoError(t, err)
	kept := put(t, f, "bkt", "p/kept", []byte("kept"))
	orphans(t, f, 50)
	tmp, err := f.store.Create(ctx)
	require.NoError(t, err)
	tmp.Write(bytes.Repeat([]byte("half"), 64<<10)) // large enough for a temp file
	f.svc.Close()
	require.NoError(t, f.cat.Close())

	f = open(t, dir, later)
	defer f.cat.Close()
	defer f.svc.Close()
	ents, _ := os.ReadDir(filepath.Join(f.store.Root(), "tmp"))
	require.Empty(t, ents, "temp files are swept before New returns")
	waitSwept(t, f)
	require.Equal(t, []string{kept.FileHash}, f.blobs(t))
	o, err := f.svc.ObjectByKey(ctx, "bkt", "p/kept")
	require.NoError(t, err)
	require.Equal(t, []byte("kept"), read(t, f, o))
}

// The sweep runs beside writers: a writer that stores the content of an
// orphan while the sweep lists and removes (the same blob, by its hash)
// keeps it, pinned until committed and referenced after, and every other
// orphan goes.
func TestSweepOrphansLaterSparesWrites(t *testing.T) {
	dir := t.TempDir()
	f := open(t, dir)
	ctx := context.Background()
	_, err := f.svc.CreateS3Bucket(ctx, "bkt")
	require.NoError(t, err)
	orphans(t, f, 3000)
	f.svc.Close()
	require.NoError(t, f.cat.Close())

	f = open(t, dir, later)
	defer f.cat.Close()
	defer f.svc.Close()
	var wg sync.WaitGroup
	const writers, each = 8, 60
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				j := i*writers + w
				put(t, f, "bkt", fmt.Sprintf("p/k%d", j), []byte(fmt.Sprintf("orphan %d", j)))
			}
		}()
	}
	wg.Wait()
	waitSwept(t, f)
	for j := range writers * each {
		o, err := f.svc.ObjectByKey(ctx, "bkt", fmt.Sprintf("p/k%d", j))
		require.NoError(t, err)
		require.Equal(t, []byte(fmt.Sprintf("orphan %d", j)), read(t, f, o), "key p/k%d", j)
	}
	require.Len(t, f.blobs(t), writers*each, "every other orphan swept, every written blob kept")
}

// Close stops a sweep under way and waits for it, so that the catalog can
// be closed after it.
func TestCloseStopsTheSweep(t *testing.T) {
	dir := t.TempDir()
	f := open(t, dir)
	orphans(t, f, 3000)
	f.svc.Close()
	require.NoError(t, f.cat.Close())

	f = open(t, dir, later)
	f.svc.Close()
	select {
	case <-f.svc.Swept():
	default:
		t.Fatal("Close returned before the sweep ended")
	}
	require.NoError(t, f.cat.Close())
}
