package backends

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// writeInChunks writes data as the gateway's pipeline does: 512 KiB at a time.
func writeInChunks(t *testing.T, w BlobWriter, data []byte) {
	t.Helper()
	for off := 0; off < len(data); off += 512 << 10 {
		if _, err := w.Write(data[off:min(off+512<<10, len(data))]); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLocalSyncsBehindLargeWrites(t *testing.T) {
	ctx := context.Background()
	l, _ := newSpareLocal(t)
	l.syncStep = 1 << 20
	var calls atomic.Int32
	l.datasync = func(fd int) error { calls.Add(1); return unix.Fdatasync(fd) }
	data := genData(40, 40<<20)
	w, err := l.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	writeInChunks(t, w, data)
	if calls.Load() == 0 {
		t.Fatal("40 MiB written and no sync started behind the writes")
	}
	name := blobName(data)
	if err := w.Commit(ctx, name); err != nil {
		t.Fatal(err)
	}
	if got := readBlob(t, l, name, 0, -1); !bytes.Equal(got, data) {
		t.Fatal("blob does not read back exact")
	}
}

func TestLocalFailedSyncBehindFailsTheCommit(t *testing.T) {
	ctx := context.Background()
	l, dir := newSpareLocal(t)
	l.syncStep = 1 << 20
	var calls atomic.Int32
	// The first sync behind the writes fails, as one would on a write
	// error; the kernel reports such an error once, so the final sync
	// that follows succeeds and cannot be trusted alone.
	l.datasync = func(fd int) error {
		if calls.Add(1) == 1 {
			return unix.EIO
		}
		return unix.Fdatasync(fd)
	}
	data := genData(41, 20<<20)
	w, err := l.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	writeInChunks(t, w, data)
	name := blobName(data)
	if err := w.Commit(ctx, name); !errors.Is(err, unix.EIO) {
		t.Fatalf("commit after a failed sync: %v, want EIO", err)
	}
	if got := listNames(t, l); len(got) != 0 {
		t.Fatalf("a blob whose sync failed is stored: %q", got)
	}
	if _, err := l.Open(ctx, name, 0, -1); err == nil {
		t.Fatal("a blob whose sync failed opens")
	}
	if got := diskFilesUnder(t, dir+"/tmp"); len(got) != 0 {
		t.Fatalf("temp files left: %q", got)
	}
	// The store goes on working.
	putBlob(t, l, genData(42, 20<<20))
}
