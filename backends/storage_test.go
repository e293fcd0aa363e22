package backends

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// storageHarness is a Storage under test plus a view of everything it holds
// (staging files and pending uploads included), for "nothing left behind".
type storageHarness struct {
	st          Storage
	contents    func(t testing.TB) []string
	keepsMtimes bool
}

func localFSHarness(t testing.TB) storageHarness {
	dir := t.TempDir()
	l, err := NewLocalFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return storageHarness{st: l, contents: func(t testing.TB) []string { return diskFiles(t, dir) }, keepsMtimes: true}
}

func s3Harness(t testing.TB) storageHarness {
	f := newFakeS3(t)
	s := f.storage(t, func(c *S3Config) { c.PartSize = 5 << 20 })
	s.listPageSize = 7 // many pages in every walk
	return storageHarness{st: s, contents: func(t testing.TB) []string { return s3Contents(t, s) }}
}

// diskFiles lists every non-directory under dir.
func diskFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestStorageLocalFS(t *testing.T) { runStorageSuite(t, localFSHarness) }
func TestStorageS3(t *testing.T)      { runStorageSuite(t, s3Harness) }

func put(t testing.TB, st Storage, p string, data []byte) {
	t.Helper()
	ctx := context.Background()
	w, err := st.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx, p); err != nil {
		t.Fatalf("commit %s: %v", p, err)
	}
}

func readAll(t testing.TB, st Storage, p string, off, n int64) []byte {
	t.Helper()
	r, err := st.Open(context.Background(), p, off, n)
	if err != nil {
		t.Fatalf("open %s: %v", p, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	return b
}

func walkAll(t testing.TB, st Storage, dir string) []Entry {
	t.Helper()
	var out []Entry
	if err := st.Walk(context.Background(), dir, func(e Entry) error { out = append(out, e); return nil }); err != nil {
		t.Fatalf("walk %q: %v", dir, err)
	}
	return out
}

func runStorageSuite(t *testing.T, newH func(testing.TB) storageHarness) {
	ctx := context.Background()

	t.Run("RoundTrip", func(t *testing.T) {
		h := newH(t)
		for _, n := range []int{0, 1, 1000, 20<<20 + 7} {
			data := genData(uint64(n), n)
			for _, how := range []string{"readfrom", "write", "createat"} {
				if raceEnabled && n > 1<<20 && how != "readfrom" {
					continue
				}
				p := fmt.Sprintf("rt/%s/size-%d", how, n)
				var w BlobWriter
				var err error
				if how == "createat" {
					w, err = CreateFor(ctx, h.st, p)
				} else {
					w, err = h.st.Create(ctx)
				}
				if err != nil {
					t.Fatal(err)
				}
				if how == "write" {
					// odd-sized writes straddle part boundaries
					for rest := data; len(rest) > 0; {
						c := min(len(rest), 1<<20+3)
						if _, err := w.Write(rest[:c]); err != nil {
							t.Fatal(err)
						}
						rest = rest[c:]
					}
				} else if _, err := io.Copy(w, bytes.NewReader(data)); err != nil {
					t.Fatal(err)
				}
				if err := w.Commit(ctx, p); err != nil {
					t.Fatalf("commit %s: %v", p, err)
				}
				if got := readAll(t, h.st, p, 0, -1); !bytes.Equal(got, data) {
					t.Fatalf("%s: read %d bytes back, differ from the %d written", p, len(got), len(data))
				}
				e, err := h.st.Stat(ctx, p)
				if err != nil {
					t.Fatal(err)
				}
				if e.Size != int64(n) || e.IsDir || e.Path != p || e.ModTime.IsZero() {
					t.Fatalf("stat %s = %+v", p, e)
				}
			}
		}
		// Nothing but the committed files is left.
		for _, c := range h.contents(t) {
			if strings.Contains(c, "upload:") || strings.Contains(c, stagingPrefix) {
				t.Errorf("left behind: %s", c)
			}
		}
	})

	t.Run("Ranges", func(t *testing.T) {
		h := newH(t)
		data := genData(7, 1000)
		put(t, h.st, "r/f", data)
		for _, c := range []struct{ off, n int64 }{{0, 10}, {5, 0}, {0, -1}, {990, -1}, {995, 100}, {999, 1}, {1000, -1}, {1000, 5}, {2000, 10}, {123, 456}} {
			want := data[min(c.off, 1000):]
			if c.n >= 0 {
				want = want[:min(int64(len(want)), c.n)]
			}
			if got := readAll(t, h.st, "r/f", c.off, c.n); !bytes.Equal(got, want) {
				t.Errorf("range off=%d n=%d: got %d bytes, want %d", c.off, c.n, len(got), len(want))
			}
		}
		big := genData(8, 12<<20+5)
		put(t, h.st, "r/big", big)
		if got := readAll(t, h.st, "r/big", 6<<20-3, 1<<20); !bytes.Equal(got, big[6<<20-3:7<<20-3]) {
			t.Error("ranged read across a part boundary differs")
		}
		empty := []byte{}
		put(t, h.st, "r/empty", empty)
		for _, c := range []struct{ off, n int64 }{{0, -1}, {0, 10}, {3, -1}} {
			if got := readAll(t, h.st, "r/empty", c.off, c.n); len(got) != 0 {
				t.Errorf("empty file off=%d n=%d: got %d bytes", c.off, c.n, len(got))
			}
		}
	})

	t.Run("MissingAndRemove", func(t *testing.T) {
		h := newH(t)
		if _, err := h.st.Open(ctx, "no/such", 0, -1); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("open missing: %v", err)
		}
		if _, err := h.st.Open(ctx, "no/such", 0, 0); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("open missing, n=0: %v", err)
		}
		if _, err := h.st.Stat(ctx, "no/such"); !errors.Is(err, ErrNotExist) {
			t.Errorf("stat missing: %v", err)
		}
		if err := h.st.Remove(ctx, "no/such"); err != nil {
			t.Errorf("remove missing: %v", err)
		}
		put(t, h.st, "rm/a", []byte("hello"))
		put(t, h.st, "rm/b", []byte("world"))
		if err := h.st.Remove(ctx, "rm/a"); err != nil {
			t.Fatal(err)
		}
		if _, err := h.st.Stat(ctx, "rm/a"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("stat removed: %v", err)
		}
		if got := readAll(t, h.st, "rm/b", 0, -1); string(got) != "world" {
			t.Errorf("sibling after remove: %q", got)
		}
		if err := h.st.Remove(ctx, "rm/a"); err != nil {
			t.Errorf("remove twice: %v", err)
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		h := newH(t)
		for _, v := range []string{"first", "a second, longer version", "", "3"} {
			put(t, h.st, "ow/x", []byte(v))
			if got := readAll(t, h.st, "ow/x", 0, -1); string(got) != v {
				t.Fatalf("after overwrite with %q read %q", v, got)
			}
		}
		big := genData(9, 11<<20)
		put(t, h.st, "ow/x", big)
		if got := readAll(t, h.st, "ow/x", 0, -1); !bytes.Equal(got, big) {
			t.Fatal("overwrite with a multipart-sized file differs")
		}
		if files := walkAll(t, h.st, "ow"); len(files) != 1 {
			t.Fatalf("walk after overwrites: %+v", files)
		}
	})

	t.Run("Walk", func(t *testing.T) {
		h := newH(t)
		want := map[string]int64{}
		add := func(p string, n int) {
			put(t, h.st, p, genData(uint64(len(want)), n))
			want[p] = int64(n)
		}
		for i := range 310 {
			add(fmt.Sprintf("w/d%d/s%d/f%03d", i%7, i%3, i), i%50)
		}
		for _, p := range []string{"w/a-b", "w/a/x", "w/a0", "w/a/b/c", "w/a.txt", "w/b", "w/A", "w/a b/é ü+x", "w/z~"} {
			add(p, 3)
		}
		put(t, h.st, "outside-w", []byte("x"))
		put(t, h.st, "w-sibling/f", []byte("x"))
		if err := h.st.MkdirAll(ctx, "w/empty/dir"); err != nil {
			t.Fatal(err)
		}
		wantDirs := map[string]bool{"w/empty": true, "w/empty/dir": true}
		for p := range want {
			for d := path.Dir(p); d != "w"; d = path.Dir(d) {
				wantDirs[d] = true
			}
		}

		ents := walkAll(t, h.st, "w")
		gotFiles, gotDirs := map[string]int64{}, map[string]bool{}
		for i, e := range ents {
			if i > 0 && entryKey(ents[i-1]) >= entryKey(e) {
				t.Errorf("walk order: %q reported after %q", entryKey(e), entryKey(ents[i-1]))
			}
			if e.IsDir {
				if gotDirs[e.Path] {
					t.Errorf("dir %q reported twice", e.Path)
				}
				gotDirs[e.Path] = true
			} else {
				gotFiles[e.Path] = e.Size
			}
		}
		if len(gotFiles) != len(want) {
			t.Errorf("walk found %d files, want %d", len(gotFiles), len(want))
		}
		for p, n := range want {
			if sz, ok := gotFiles[p]; !ok || sz != n {
				t.Errorf("file %q: found=%v size=%d want %d", p, ok, sz, n)
			}
		}
		for p := range gotFiles {
			if _, ok := want[p]; !ok {
				t.Errorf("walk reported unexpected file %q", p)
			}
		}
		for d := range wantDirs {
			if !gotDirs[d] {
				t.Errorf("walk did not report directory %q", d)
			}
		}
		for d := range gotDirs {
			if !wantDirs[d] {
				t.Errorf("walk reported unexpected directory %q", d)
			}
		}

		// A subtree.
		var sub []string
		for _, e := range walkAll(t, h.st, "w/a") {
			sub = append(sub, entryKey(e))
		}
		if want := []string{"w/a/b/", "w/a/b/c", "w/a/x"}; !slices.Equal(sub, want) {
			t.Errorf("walk w/a = %q, want %q", sub, want)
		}
		// The whole tree includes what is outside w.
		all := walkAll(t, h.st, "")
		if len(all) < len(ents)+3 {
			t.Errorf("walk of the root found %d entries, w alone %d", len(all), len(ents))
		}

		// SkipDir on a directory, SkipAll, an error from fn.
		var skipped []string
		err := h.st.Walk(ctx, "w", func(e Entry) error {
			skipped = append(skipped, e.Path)
			if e.IsDir && e.Path == "w/d0" {
				return fs.SkipDir
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range skipped {
			if strings.HasPrefix(p, "w/d0/") {
				t.Fatalf("SkipDir: %q reported", p)
			}
		}
		if !slices.Contains(skipped, "w/d1/s0/f000") && !slices.Contains(skipped, "w/d1/s1/f001") {
			t.Fatal("SkipDir skipped too much")
		}
		if len(skipped) != len(ents)-countPrefix(ents, "w/d0/") {
			t.Errorf("SkipDir: %d entries, want %d", len(skipped), len(ents)-countPrefix(ents, "w/d0/"))
		}
		calls := 0
		if err := h.st.Walk(ctx, "w", func(e Entry) error {
			calls++
			if calls == 5 {
				return fs.SkipAll
			}
			return nil
		}); err != nil || calls != 5 {
			t.Errorf("SkipAll: err=%v calls=%d", err, calls)
		}
		boom := errors.New("boom")
		if err := h.st.Walk(ctx, "w", func(e Entry) error { return boom }); !errors.Is(err, boom) {
			t.Errorf("walk error from fn: %v", err)
		}
		if err := h.st.Walk(ctx, "no-such-dir", func(Entry) error { return nil }); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("walk missing dir: %v", err)
		}

		// An in-flight write does not show.
		bw, err := CreateFor(ctx, h.st, "w/d1/inflight")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bw.Write(genData(1, 6<<20)); err != nil {
			t.Fatal(err)
		}
		bw2, err := h.st.(StagingCreator).CreateIn(ctx, "w/d2")
		if err != nil {
			t.Fatal(err)
		}
		bw2.Write([]byte("x"))
		for _, e := range walkAll(t, h.st, "w") {
			if strings.Contains(e.Path, ".jcsgw-tmp") || e.Path == "w/d1/inflight" {
				t.Errorf("walk reported in-flight %q", e.Path)
			}
		}
		bw.Abort()
		bw2.Abort()
	})

	t.Run("AbortLeavesNothing", func(t *testing.T) {
		h := newH(t)
		put(t, h.st, "keep", []byte("k"))
		before := h.contents(t)
		big := genData(3, 20<<20+7)
		for _, how := range []string{"create", "createin", "createat", "small"} {
			var w BlobWriter
			var err error
			switch how {
			case "create", "small":
				w, err = h.st.Create(ctx)
			case "createin":
				w, err = h.st.(StagingCreator).CreateIn(ctx, "ab/tmp")
			case "createat":
				w, err = h.st.(PathCreator).CreateAt(ctx, "ab/target")
			}
			if err != nil {
				t.Fatal(err)
			}
			data := big
			if how == "small" {
				data = big[:100]
			}
			if _, err := io.Copy(w, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			if err := w.Abort(); err != nil {
				t.Fatal(err)
			}
			if err := w.Abort(); err != nil {
				t.Fatalf("second abort: %v", err)
			}
			if err := w.Commit(ctx, "ab/late"); err == nil {
				t.Fatal("commit after abort succeeded")
			}
			if after := h.contents(t); !slices.Equal(after, before) {
				t.Fatalf("%s: abort left %q (before %q)", how, after, before)
			}
		}
		if _, err := h.st.Stat(ctx, "ab/late"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("late commit placed a file: %v", err)
		}
		// Commit twice; abort after commit.
		w, _ := h.st.Create(ctx)
		w.Write([]byte("once"))
		if err := w.Commit(ctx, "once"); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(ctx, "twice"); err == nil {
			t.Fatal("second commit succeeded")
		}
		if err := w.Abort(); err != nil {
			t.Fatalf("abort after commit: %v", err)
		}
		if got := readAll(t, h.st, "once", 0, -1); string(got) != "once" {
			t.Fatalf("after abort-after-commit: %q", got)
		}
		// A writer made for one path cannot be committed at another.
		w, err := CreateFor(ctx, h.st, "fixed/a")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(big[:7<<20])
		if err := w.Commit(ctx, "fixed/b"); err == nil {
			t.Fatal("commit at another path succeeded")
		}
		for _, p := range []string{"fixed/a", "fixed/b"} {
			if _, err := h.st.Stat(ctx, p); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s after refused commit: %v", p, err)
			}
		}
	})

	t.Run("InvalidPaths", func(t *testing.T) {
		h := newH(t)
		bad := []string{"../x", "a/../../x", "a/..", "/abs", "/", "a\x00b"}
		for _, p := range bad {
			if _, err := h.st.Open(ctx, p, 0, -1); !errors.Is(err, ErrInvalidPath) {
				t.Errorf("open %q: %v", p, err)
			}
			if _, err := h.st.Stat(ctx, p); !errors.Is(err, ErrInvalidPath) {
				t.Errorf("stat %q: %v", p, err)
			}
			if err := h.st.Remove(ctx, p); !errors.Is(err, ErrInvalidPath) {
				t.Errorf("remove %q: %v", p, err)
			}
			if err := h.st.MkdirAll(ctx, p); !errors.Is(err, ErrInvalidPath) && p != "/" {
				t.Errorf("mkdir %q: %v", p, err)
			}
			if err := h.st.Walk(ctx, p, func(Entry) error { return nil }); !errors.Is(err, ErrInvalidPath) {
				t.Errorf("walk %q: %v", p, err)
			}
			if _, err := h.st.(PathCreator).CreateAt(ctx, p); !errors.Is(err, ErrInvalidPath) {
				t.Errorf("create at %q: %v", p, err)
			}
			w, _ := h.st.Create(ctx)
			w.Write([]byte("x"))
			if err := w.Commit(ctx, p); !errors.Is(err, ErrInvalidPath) {
				t.Errorf("commit at %q: %v", p, err)
			}
		}
		w, _ := h.st.Create(ctx)
		if err := w.Commit(ctx, ""); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("commit at the root: %v", err)
		}
		// "." elements and trailing slashes are only spelling.
		put(t, h.st, "./c/./d/", []byte("cd"))
		if got := readAll(t, h.st, "c/d", 0, -1); string(got) != "cd" {
			t.Errorf("clean path: %q", got)
		}
		if after := h.contents(t); len(after) != 1 {
			t.Errorf("after refused writes: %q", after)
		}
	})

	t.Run("DirsAndModTimes", func(t *testing.T) {
		h := newH(t)
		if err := h.st.MkdirAll(ctx, "m/n/o"); err != nil {
			t.Fatal(err)
		}
		if err := h.st.MkdirAll(ctx, "m/n/o"); err != nil {
			t.Fatalf("mkdir again: %v", err)
		}
		if err := h.st.MkdirAll(ctx, ""); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"m", "m/n", "m/n/o", ""} {
			e, err := h.st.Stat(ctx, p)
			if err != nil || !e.IsDir {
				t.Errorf("stat dir %q = %+v, %v", p, e, err)
			}
		}
		put(t, h.st, "m/f", []byte("f"))
		t0 := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
		err := h.st.SetModTime(ctx, "m/f", t0)
		if h.keepsMtimes {
			if err != nil {
				t.Fatal(err)
			}
			if e, _ := h.st.Stat(ctx, "m/f"); !e.ModTime.Equal(t0) {
				t.Errorf("mtime = %v, want %v", e.ModTime, t0)
			}
		} else if !errors.Is(err, ErrUnsupported) || !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("SetModTime: %v, want ErrUnsupported", err)
		}
		t1 := time.Date(2021, 6, 7, 8, 9, 10, 0, time.UTC)
		for _, n := range []int{10, 7 << 20} {
			p := fmt.Sprintf("m/mt-%d", n)
			w, err := CreateFor(ctx, h.st, p)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(genData(2, n))
			kept, err := CommitModTime(ctx, w, p, t1)
			if err != nil || kept != h.keepsMtimes {
				t.Fatalf("CommitModTime: kept=%v err=%v", kept, err)
			}
			e, err := h.st.Stat(ctx, p)
			if err != nil || e.Size != int64(n) {
				t.Fatalf("stat %s: %+v %v", p, e, err)
			}
			if h.keepsMtimes && !e.ModTime.Equal(t1) {
				t.Errorf("committed mtime = %v, want %v", e.ModTime, t1)
			}
		}
		if h.keepsMtimes {
			if err := h.st.Remove(ctx, "m/n/o"); err != nil {
				t.Errorf("remove empty dir: %v", err)
			}
		} else if err := h.st.Remove(ctx, "m/n/o"); err != nil {
			t.Errorf("remove dir marker: %v", err)
		}
		if _, err := h.st.Stat(ctx, "m/n/o"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("removed empty dir: %v", err)
		}
	})

	t.Run("TestAndProbe", func(t *testing.T) {
		h := newH(t)
		if err := h.st.Test(ctx); err != nil {
			t.Fatal(err)
		}
		if err := Probe(ctx, h.st, "probe/here"); err != nil {
			t.Fatal(err)
		}
		for _, c := range h.contents(t) {
			t.Errorf("probe left %q", c)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		h := newH(t)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Go(func() {
				p := fmt.Sprintf("cc/%d", i)
				w, err := CreateFor(ctx, h.st, p)
				if err == nil {
					_, err = io.Copy(w, genReader(uint64(i), int64(i)<<20+int64(i)))
				}
				if err == nil {
					err = w.Commit(ctx, p)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for i := range 8 {
			want := genData(uint64(i), i<<20+i)
			if got := readAll(t, h.st, fmt.Sprintf("cc/%d", i), 0, -1); !bytes.Equal(got, want) {
				t.Errorf("cc/%d differs", i)
			}
		}
	})

	t.Run("SweepTemp", func(t *testing.T) {
		h := newH(t)
		put(t, h.st, "sw/keep", []byte("keep"))
		w, err := h.st.(StagingCreator).CreateIn(ctx, "sw/tmp")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(genData(4, 6<<20)); err != nil { // a staging file, or a multipart upload
			t.Fatal(err)
		}
		sw := h.st.(TempSweeper)
		if n, err := sw.SweepTemp(ctx, "sw", time.Hour); err != nil || n != 0 {
			t.Fatalf("sweep of fresh temp: n=%d err=%v", n, err)
		}
		if n, err := sw.SweepTemp(ctx, "sw", 0); err != nil || n != 1 {
			t.Fatalf("sweep: n=%d err=%v", n, err)
		}
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if got := h.contents(t); !slices.Equal(got, []string{"sw/keep"}) {
			t.Fatalf("after sweep: %q", got)
		}
		if n, err := sw.SweepTemp(ctx, "no-such", 0); err != nil || n != 0 {
			t.Fatalf("sweep of a missing dir: n=%d err=%v", n, err)
		}
	})
}

func countPrefix(ents []Entry, prefix string) int {
	n := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Path, prefix) {
			n++
		}
	}
	return n
}

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{"": "", ".": "", "a": "a", "a/b/": "a/b", "./a//b/./c": "a/b/c", "a b/c+d": "a b/c+d"} {
		if got, err := CleanPath(in); err != nil || got != want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"..", "../a", "a/../b", "/a", "a\x00"} {
		if _, err := CleanPath(in); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("CleanPath(%q) = %v, want ErrInvalidPath", in, err)
		}
	}
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}
