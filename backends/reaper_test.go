package backends

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// holdUnlinks makes l's reaper wait for release before each unlink, and
// reports each unlink it then did on the returned channel.
func holdUnlinks(l *Local) (release chan struct{}, unlinked chan string) {
	return holdReaper(l.reaper, os.Remove)
}

// holdReaper makes r wait for release before each unlink (done with
// remove), and reports the base name of each file it then unlinked.
func holdReaper(r *reaper, remove func(string) error) (release chan struct{}, unlinked chan string) {
	release, unlinked = make(chan struct{}), make(chan string, 16)
	r.unlink = func(p string) error {
		<-release
		err := remove(p)
		unlinked <- filepath.Base(p)
		return err
	}
	return release, unlinked
}

// releaseOne lets a held reaper go, and fails t unless it unlinked the
// file named want and left trash empty.
func releaseOne(t *testing.T, r *reaper, release chan struct{}, unlinked chan string, want, trash string) {
	t.Helper()
	close(release)
	if got := <-unlinked; got != want {
		t.Fatalf("the reaper unlinked %q, want %q", got, want)
	}
	r.wait()
	if got := diskFilesUnder(t, trash); len(got) != 0 {
		t.Fatalf("trash still holds %q", got)
	}
}

// openAndReadHead opens a blob and reads its first 1000 bytes.
func openAndReadHead(t *testing.T, l shardStore, name string) (io.ReadCloser, []byte) {
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

// removeWithoutWaiting removes a blob whose file's unlink is held up: it
// fails t if Remove waits for the unlink, or if the blob is still listed.
func removeWithoutWaiting(t *testing.T, st shardStore, name string) {
	t.Helper()
	returnsSoon(t, "Remove", func() {
		if err := st.Remove(context.Background(), name); err != nil {
			t.Error(err)
		}
	})
	if got := listNames(t, st); len(got) != 0 {
		t.Fatalf("a removed blob is still listed: %q", got)
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
	removeWithoutWaiting(t, l, name)
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

	releaseOne(t, l.reaper, release, unlinked, trash[0], filepath.Join(dir, "trash"))
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

// newReapingShards is a shard store over a LocalFS rooted at a temp dir,
// with its working dir and trash directory on disk.
func newReapingShards(t *testing.T) (s *Shards, l *LocalFS, wd, trash string) {
	t.Helper()
	dir := t.TempDir()
	l, err := NewLocalFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	s = NewShards(l, "spaces/ws")
	wd = filepath.Join(dir, "spaces", "ws")
	return s, l, wd, filepath.Join(wd, "trash")
}

// holdFSUnlinks is holdUnlinks for the reaper of a LocalFS's trash.
func holdFSUnlinks(t *testing.T, l *LocalFS, trash string) (r *reaper, release chan struct{}, unlinked chan string) {
	t.Helper()
	r, err := l.reaperFor(trash)
	if err != nil {
		t.Fatal(err)
	}
	release, unlinked = holdReaper(r, l.root.Remove)
	return r, release, unlinked
}

func TestShardsLocalFSRemoveLeavesTheUnlinkToTheReaper(t *testing.T) {
	ctx := context.Background()
	s, l, wd, trash := newReapingShards(t)
	r, release, unlinked := holdFSUnlinks(t, l, "spaces/ws/trash")

	big := genData(50, 3<<20)
	name := putBlob(t, s, big)
	rc, head := openAndReadHead(t, s, name)
	removeWithoutWaiting(t, s, name)
	if _, err := s.Stat(ctx, name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat of a removed blob: %v, want not-exist", err)
	}
	moved := diskFilesUnder(t, trash)
	if len(moved) != 1 {
		t.Fatalf("trash holds %q, want the removed blob's file", moved)
	}
	releaseOne(t, r, release, unlinked, filepath.Base(moved[0]), trash)
	readsTheRest(t, rc, head, big)
	rc.Close()

	// A small blob is unlinked at once: nothing reaches the trash.
	small := genData(51, reapAt/2)
	name = putBlob(t, s, small)
	if err := s.Remove(ctx, name); err != nil {
		t.Fatal(err)
	}
	if got := diskFilesUnder(t, filepath.Join(wd, "blocks")); len(got) != 0 {
		t.Fatalf("a removed small blob is still on disk: %q", got)
	}
	if got := diskFilesUnder(t, trash); len(got) != 0 {
		t.Fatalf("a small blob went to the trash: %q", got)
	}
	// Removing an absent blob is not an error.
	if err := s.Remove(ctx, name); err != nil {
		t.Fatalf("removing an absent blob: %v", err)
	}
}

func TestShardsLocalFSSweepReapsLeftovers(t *testing.T) {
	ctx := context.Background()
	s, l, _, trash := newReapingShards(t)
	if err := os.MkdirAll(trash, 0o755); err != nil {
		t.Fatal(err)
	}
	left := filepath.Join(trash, "gone-earlier-1")
	if err := os.WriteFile(left, genData(52, 2<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file of the space owner's own, not moved there by a reaper: kept.
	own := filepath.Join(trash, "notes.txt")
	if err := os.WriteFile(own, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SweepTemp(ctx, 0); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	r := l.reapers["spaces/ws/trash"]
	l.mu.Unlock()
	if r == nil {
		t.Fatal("the sweep did not hand trash/ to a reaper")
	}
	r.wait()
	if got := diskFilesUnder(t, trash); len(got) != 1 || got[0] != filepath.Base(own) {
		t.Fatalf("after the sweep trash holds %q, want only %q", got, own)
	}
}

// A trash that leads out of the root (a symbolic link) is refused like any
// other path that does: the blob is unlinked in place, nothing is moved
// out of the root.
func TestShardsLocalFSTrashOutsideTheRoot(t *testing.T) {
	ctx := context.Background()
	s, _, wd, trash := newReapingShards(t)
	outside := t.TempDir()
	big := genData(53, 2<<20)
	name := putBlob(t, s, big)
	if err := os.Symlink(outside, trash); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, name); err != nil {
		t.Fatal(err)
	}
	if got := diskFilesUnder(t, filepath.Join(wd, "blocks")); len(got) != 0 {
		t.Fatalf("the removed blob is still on disk: %q", got)
	}
	if got := diskFilesUnder(t, outside); len(got) != 0 {
		t.Fatalf("a file was moved out of the root: %q", got)
	}
}
