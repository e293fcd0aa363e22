package gateway

import (
	"context"
	"fmt"
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

// withOrphans makes a store holding n orphans and a bucket "bkt", and
// opens it again with the sweep left for later.
func withOrphans(t *testing.T, n int) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := open(t, dir)
	_, err := f.svc.CreateS3Bucket(context.Background(), "bkt")
	require.NoError(t, err)
	orphans(t, f, n)
	f.svc.Close()
	require.NoError(t, f.cat.Close())
	return open(t, dir, later)
}

// The sweep runs beside writers: a writer that stores the content of an
// orphan while the sweep lists and removes (the same blob, by its hash)
// keeps it, pinned until committed and referenced after, and every other
// orphan goes.
func TestSweepOrphansLaterSparesWrites(t *testing.T) {
	ctx := context.Background()
	f := withOrphans(t, 3000)
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
	f := withOrphans(t, 3000)
	f.svc.Close()
	select {
	case <-f.svc.Swept():
	default:
		t.Fatal("Close returned before the sweep ended")
	}
	require.NoError(t, f.cat.Close())
}
