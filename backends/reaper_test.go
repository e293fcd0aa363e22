package backends

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// holdUnlinks makes l's reaper wait for release before each unlink, and
// reports each unlink it then did on the returned channel.
func holdUnlinks(l *Local) (release chan struct{}, unlinked chan string) {
	release, unlinked = make(chan struct{}), make(chan string, 16)
	l.reaper.unlink = func(p string) error {
		<-release
		err := os.Remove(p)
		unlinked <- filepath.Base(p)
		return err
	}
	return release, unlinked
}

// openAndReadHead opens a blob and reads its first 1000 bytes.
func openAndReadHead(t *testing.T, l *Local, name string) (io.ReadCloser, []byte) {
	t.Helper()
	r, err := l.Open(context.Background(), name, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 1000)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatal(err)
	}
	return r, head
}

// readsTheRest fails t unless head and what r still reads are want.
func readsTheRest(t *testing.T, r io.Reader, head, want []byte) {
	t.Helper()
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if got := append(head, rest...); !bytes.Equal(got, want) {
		t.Fatal("a reader of a removed blob did not get the blob's own bytes")
	}
}

// returnsSoon fails t unless fn returns within a few seconds.
func returnsSoon(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not return: it waits for the unlink", what)
	}
}

func TestLocalRemoveLeavesTheUnlinkToTheReaper(t *testing.T) {
	ctx := context.Background()
	l, dir := newSpareLocal(t)
	l.spares.maxFiles = 0 // keep nothing: every removed file is unlinked
	release, unlinked := holdUnlinks(l)

	big := genData(40, 3<<20)
	name := putBlob(t, l, big)
	r, head := openAndReadHead(t, l, name)
	returnsSoon(t, "Remove", func() {
		if err := l.Remove(ctx, name); err != nil {
			t.Error(err)
		}
	})
	// Gone from the store at once, its bytes not yet unlinked.
	if got := listNames(t, l); len(got) != 0 {
		t.Fatalf("a removed blob is still listed: %q", got)
	}
	if _, err := l.Open(ctx, name, 0, -1); err == nil {
		t.Fatal("a removed blob still opens")
	}
	if got := diskFilesUnder(t, filepath.Join(dir, "blocks")); len(got) != 0 {
		t.Fatalf("the removed blob's file is still in place: %q", got)
	}
	trash := diskFilesUnder(t, filepath.Join(dir, "trash"))
	if len(trash) != 1 {
		t.Fatalf("trash holds %q, want the removed blob's file", trash)
	}

	close(release)
	if got := <-unlinked; got != trash[0] {
		t.Fatalf("the reaper unlinked %q, want %q", got, trash[0])
	}
	l.reaper.wait()
	if got := diskFilesUnder(t, filepath.Join(dir, "trash")); len(got) != 0 {
		t.Fatalf("trash still holds %q", got)
	}
	// A reader that opened the file first keeps its bytes.
	readsTheRest(t, r, head, big)
	r.Close()

	// Below reapAt (but above smallBlob: a file, not a pack record), the
	// unlink costs less than the move: done at once.
	mid := genData(41, reapAt/2)
	name = putBlob(t, l, mid)
	if err := l.Remove(ctx, name); err != nil {
		t.Fatal(err)
	}
	if got := diskFilesUnder(t, dir); len(got) != 0 && !onlyPacks(got) {
		t.Fatalf("a %d-byte blob's file is left on disk: %q", len(mid), got)
	}
	// Removing an absent blob is not an error.
	if err := l.Remove(ctx, name); err != nil {
		t.Fatalf("removing an absent blob: %v", err)
	}
}

// onlyPacks reports whether every file listed is a pack.
func onlyPacks(files []string) bool {
	for _, f := range files {
		if filepath.Dir(f) != "packs" {
			return false
		}
	}
	return true
}

func TestLocalAbortLeavesTheUnlinkToTheReaper(t *testing.T) {
	ctx := context.Background()
	l, dir := newSpareLocal(t)
	l.spares.maxFiles = 0
	release, unlinked := holdUnlinks(l)
	w, err := l.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(genData(42, 2<<20)); err != nil {
		t.Fatal(err)
	}
	returnsSoon(t, "Abort", func() {
		if err := w.Abort(); err != nil {
			t.Error(err)
		}
	})
	if got := diskFilesUnder(t, filepath.Join(dir, "tmp")); len(got) != 0 {
		t.Fatalf("an aborted write left %q in tmp", got)
	}
	if got := diskFilesUnder(t, filepath.Join(dir, "trash")); len(got) != 1 {
		t.Fatalf("trash holds %q, want the aborted write's file", got)
	}
	close(release)
	<-unlinked
	l.reaper.wait()
	if got := diskFilesUnder(t, filepath.Join(dir, "trash")); len(got) != 0 {
		t.Fatalf("trash still holds %q", got)
	}
}

func TestLocalOpenReapsWhatTheLastRunLeft(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []struct {
		path string
		size int
	}{
		{"trash/gone-x-1", 2 << 20},
		{"trash/gone-x-2", 10},
		{"spare/spare-7", 3 << 20},
		{"spare/spare-8", 10},
	} {
		p := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, genData(43, f.size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := diskFilesUnder(t, filepath.Join(dir, "spare")); len(got) != 0 {
		t.Fatalf("a reopened store kept spares %q", got)
	}
	if n, b := l.spares.held(); n != 0 || b != 0 {
		t.Fatalf("a reopened store's pool holds %d files, %d bytes", n, b)
	}
	l.reaper.wait()
	if got := diskFilesUnder(t, filepath.Join(dir, "trash")); len(got) != 0 {
		t.Fatalf("trash still holds %q", got)
	}
}

// A store written before packs may hold a small blob as a file; if its name
// is packed too, List names it once.
func TestLocalListsAPackedNameOnce(t *testing.T) {
	dir := t.TempDir()
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	packed := putBlob(t, l, genData(60, 1000))
	fileOnly := blobName(genData(61, 1000))
	for _, name := range []string{packed, fileOnly} {
		p, err := l.blobPath(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := listNames(t, l)
	want := []string{packed, fileOnly}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("List named %q, want %q once each", got, want)
	}
}
