package backends

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func newSpareLocal(t *testing.T) (*Local, string) {
	t.Helper()
	dir := t.TempDir()
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	l.spares.roomy = func(int64) bool { return true }
	return l, dir
}

// spareFiles lists the pool's directory as the disk shows it.
func spareFiles(t *testing.T, dir string) []string {
	t.Helper()
	return diskFilesUnder(t, filepath.Join(dir, "spare"))
}

func fileSize(t *testing.T, p string) int64 {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func TestLocalWritesNewBlobsOverRemovedOnes(t *testing.T) {
	ctx := context.Background()
	l, dir := newSpareLocal(t)
	big := genData(1, 3<<20)
	nBig := putBlob(t, l, big)
	if err := l.Remove(ctx, nBig); err != nil {
		t.Fatal(err)
	}
	if n, b := l.spares.held(); n != 1 || b != int64(len(big)) {
		t.Fatalf("pool holds %d files, %d bytes; want 1, %d", n, b, len(big))
	}
	if got := listNames(t, l); len(got) != 0 {
		t.Fatalf("a removed blob is still listed: %q", got)
	}
	if _, err := l.Open(ctx, nBig, 0, -1); err == nil {
		t.Fatal("a removed blob still opens")
	}

	// Shorter than the spare: the old tail must go.
	short := genData(2, 700<<10)
	nShort := putBlob(t, l, short)
	if n, _ := l.spares.held(); n != 0 {
		t.Fatalf("the spare was not used: pool holds %d", n)
	}
	if got := readBlob(t, l, nShort, 0, -1); !bytes.Equal(got, short) {
		t.Fatalf("blob written over a spare reads back %d bytes, want %d exact", len(got), len(short))
	}
	p, _ := l.blobPath(nShort)
	if got := fileSize(t, p); got != int64(len(short)) {
		t.Fatalf("file of the blob is %d bytes, want %d", got, len(short))
	}

	// Longer than the spare.
	if err := l.Remove(ctx, nShort); err != nil {
		t.Fatal(err)
	}
	long := genData(3, 5<<20)
	nLong := putBlob(t, l, long)
	if got := readBlob(t, l, nLong, 0, -1); !bytes.Equal(got, long) {
		t.Fatalf("blob written over a shorter spare reads back %d bytes, want %d exact", len(got), len(long))
	}
	if got := spareFiles(t, dir); len(got) != 0 {
		t.Fatalf("spare directory holds %q after its file was used", got)
	}
	if got := diskFilesUnder(t, filepath.Join(dir, "tmp")); len(got) != 0 {
		t.Fatalf("temp files left: %q", got)
	}
}

func TestLocalNeverRecyclesABlobBeingRead(t *testing.T) {
	ctx := context.Background()
	l, _ := newSpareLocal(t)
	old := genData(4, 2<<20)
	name := putBlob(t, l, old)
	r, head := openAndReadHead(t, l, name)
	if err := l.Remove(ctx, name); err != nil {
		t.Fatal(err)
	}
	if n, _ := l.spares.held(); n != 0 {
		t.Fatalf("a blob open for reading became a spare (pool holds %d)", n)
	}
	// Were the reader's file recycled, this would write over its bytes.
	putBlob(t, l, genData(5, 2<<20))
	readsTheRest(t, r, head, old)
	r.Close()
	r.Close() // a second Close must not uncount another reader
	l.mu.Lock()
	left := len(l.reading)
	l.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d blob files still counted as read after Close", left)
	}

	// Closed, the next one may be recycled again.
	other := genData(6, 2<<20)
	on := putBlob(t, l, other)
	readBlob(t, l, on, 0, -1)
	if err := l.Remove(ctx, on); err != nil {
		t.Fatal(err)
	}
	if n, _ := l.spares.held(); n != 1 {
		t.Fatalf("an unread removed blob was not kept (pool holds %d)", n)
	}
}

func TestLocalKeepsAbortedAndDuplicateWrites(t *testing.T) {
	ctx := context.Background()
	l, dir := newSpareLocal(t)
	w, err := l.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(genData(7, 1<<20))
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if n, b := l.spares.held(); n != 1 || b != 1<<20 {
		t.Fatalf("after an abort the pool holds %d files, %d bytes; want 1, %d", n, b, 1<<20)
	}
	data := genData(8, 3<<20)
	name := putBlob(t, l, data) // over the aborted write's file
	putBlob(t, l, data)         // identical: its temp file is not needed
	if n, b := l.spares.held(); n != 1 || b != int64(len(data)) {
		t.Fatalf("after a duplicate the pool holds %d files, %d bytes; want 1, %d", n, b, len(data))
	}
	if got := readBlob(t, l, name, 0, -1); !bytes.Equal(got, data) {
		t.Fatal("blob changed when a duplicate was written")
	}
	// Small blobs live in packs and never make spares.
	small := putBlob(t, l, genData(9, 10<<10))
	l.Remove(ctx, small)
	if n, _ := l.spares.held(); n != 1 {
		t.Fatalf("pool holds %d after a small blob went, want 1", n)
	}
	// Reopening the store empties the pool's directory.
	if got := spareFiles(t, dir); len(got) != 1 {
		t.Fatalf("spare directory holds %q, want one file", got)
	}
	if _, err := NewLocal(dir); err != nil {
		t.Fatal(err)
	}
	if got := spareFiles(t, dir); len(got) != 0 {
		t.Fatalf("a reopened store kept %q", got)
	}
}

func TestLocalSparesAreBounded(t *testing.T) {
	// removeAll puts and removes n blobs of 2 MiB and reports what the
	// pool then holds, checking that none of them is left in place.
	removeAll := func(t *testing.T, l *Local, dir string, n int) (int, int64) {
		t.Helper()
		ctx := context.Background()
		var names []string
		for i := range n {
			names = append(names, putBlob(t, l, genData(uint64(10+i), 2<<20)))
		}
		for _, name := range names {
			if err := l.Remove(ctx, name); err != nil {
				t.Fatal(err)
			}
		}
		if got := diskFilesUnder(t, filepath.Join(dir, "blocks")); len(got) != 0 {
			t.Fatalf("removed blobs left on disk: %q", got)
		}
		files, bytes := l.spares.held()
		if got := spareFiles(t, dir); len(got) != files {
			t.Fatalf("spare directory holds %d files, the pool counts %d", len(got), files)
		}
		return files, bytes
	}
	t.Run("files", func(t *testing.T) {
		l, dir := newSpareLocal(t)
		l.spares.maxFiles = 2
		if n, b := removeAll(t, l, dir, 4); n != 2 || b != 4<<20 {
			t.Fatalf("pool holds %d files, %d bytes; want 2, %d", n, b, 4<<20)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		l, dir := newSpareLocal(t)
		l.spares.maxBytes = 5 << 20
		if n, b := removeAll(t, l, dir, 3); n != 2 || b != 4<<20 {
			t.Fatalf("pool holds %d files, %d bytes; want 2, %d", n, b, 4<<20)
		}
	})
	t.Run("file system short of space", func(t *testing.T) {
		l, dir := newSpareLocal(t)
		var asked int64
		l.spares.roomy = func(size int64) bool { asked = size; return false }
		if n, b := removeAll(t, l, dir, 2); n != 0 || b != 0 {
			t.Fatalf("pool holds %d files, %d bytes; want none", n, b)
		}
		if asked != 2<<20 {
			t.Fatalf("pool asked for room for %d bytes, want %d", asked, 2<<20)
		}
	})
}

func TestLocalSparesExpire(t *testing.T) {
	ctx := context.Background()
	l, dir := newSpareLocal(t)
	l.spares.maxAge = 50 * time.Millisecond
	a := putBlob(t, l, genData(30, 1<<20))
	b := putBlob(t, l, genData(31, 1<<20))
	l.Remove(ctx, a)
	time.Sleep(30 * time.Millisecond)
	l.Remove(ctx, b)
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, bytes := l.spares.held()
		files := spareFiles(t, dir)
		if n == 0 && bytes == 0 && len(files) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("spares not expired: pool holds %d files (%d bytes), disk %q", n, bytes, files)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The pool works again after it emptied.
	c := putBlob(t, l, genData(32, 1<<20))
	l.Remove(ctx, c)
	if n, _ := l.spares.held(); n != 1 {
		t.Fatalf("pool holds %d after emptying and one removal, want 1", n)
	}
}
