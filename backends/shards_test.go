package backends

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// shardStore is the gateway's ShardStore interface (gateway/service.go).
type shardStore interface {
	Create(ctx context.Context) (BlobWriter, error)
	Open(ctx context.Context, name string, off, n int64) (io.ReadCloser, error)
	Remove(ctx context.Context, name string) error
	List(ctx context.Context, fn func(name string) error) error
	SweepTemp(ctx context.Context, age time.Duration) (int, error)
}

var (
	_ shardStore = (*Local)(nil)
	_ shardStore = (*Shards)(nil)
)

type shardHarness struct {
	store shardStore
	// blobs lists the blob files at rest; temps the staging debris
	// (temp files and pending multipart uploads).
	blobs      func(t testing.TB) []string
	temps      func(t testing.TB) []string
	plantStale func(t testing.TB)
}

func diskFilesUnder(t testing.TB, dir string) []string {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return diskFiles(t, dir)
}

func TestShardsLocal(t *testing.T) {
	runShardSuite(t, func(t testing.TB) shardHarness {
		dir := t.TempDir()
		l, err := NewLocal(dir)
		if err != nil {
			t.Fatal(err)
		}
		return shardHarness{
			store: l,
			// Blob files, and the blobs a fresh reader finds in the packs:
			// what is at rest, in the layout blocks/<name[4:6]>/<name>.
			blobs: func(t testing.TB) []string {
				files := diskFilesUnder(t, filepath.Join(dir, "blocks"))
				p, err := openPacks(filepath.Join(dir, "packs"))
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range p.names() {
					files = append(files, filepath.Join(dir, "blocks", n[4:6], n))
				}
				sort.Slice(files, func(i, j int) bool { return filepath.Base(files[i]) < filepath.Base(files[j]) })
				return files
			},
			temps:      func(t testing.TB) []string { return diskFilesUnder(t, filepath.Join(dir, "tmp")) },
			plantStale: func(t testing.TB) { os.WriteFile(filepath.Join(dir, "tmp", "put-stale"), []byte("x"), 0o644) },
		}
	})
}

func TestShardsLocalFS(t *testing.T) {
	runShardSuite(t, func(t testing.TB) shardHarness {
		dir := t.TempDir()
		l, err := NewLocalFS(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		wd := filepath.Join(dir, "spaces", "ws")
		return shardHarness{
			store: NewShards(l, "/spaces/ws/"),
			blobs: func(t testing.TB) []string { return diskFilesUnder(t, filepath.Join(wd, "blocks")) },
			temps: func(t testing.TB) []string {
				if other := diskFiles(t, dir); len(other) != len(diskFilesUnder(t, wd)) {
					t.Errorf("files outside the working dir: %q", other)
				}
				return diskFilesUnder(t, filepath.Join(wd, "tmp"))
			},
			plantStale: func(t testing.TB) {
				os.MkdirAll(filepath.Join(wd, "tmp"), 0o755)
				os.WriteFile(filepath.Join(wd, "tmp", stagingPrefix+"stale"), []byte("x"), 0o644)
			},
		}
	})
}

func TestShardsS3(t *testing.T) {
	runShardSuite(t, func(t testing.TB) shardHarness {
		f := newFakeS3(t)
		s := f.storage(t, func(c *S3Config) { c.PartSize = 5 << 20 })
		s.listPageSize = 5
		under := func(prefix string) func(t testing.TB) []string {
			return func(t testing.TB) []string {
				var out []string
				for _, k := range s3Contents(t, s) {
					if strings.HasPrefix(strings.TrimPrefix(k, "upload:"), prefix) {
						out = append(out, k)
					} else if !strings.HasPrefix(k, "ws/blocks/") && !strings.HasPrefix(k, "ws/tmp/") {
						t.Errorf("key outside the working dir: %q", k)
					}
				}
				return out
			}
		}
		return shardHarness{
			store: NewShards(s, "ws"),
			blobs: under("ws/blocks/"),
			temps: under("ws/tmp/"),
			plantStale: func(t testing.TB) {
				k := "ws/tmp/" + stagingPrefix + "stale"
				if _, err := s.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &s.bucket, Key: &k, Body: strings.NewReader("x"), ContentLength: aws.Int64(1)}); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}

func blobName(data []byte) string {
	sum := sha256.Sum256(data)
	return "Full" + strings.ToUpper(hex.EncodeToString(sum[:]))
}

func putBlob(t testing.TB, st shardStore, data []byte) string {
	t.Helper()
	ctx := context.Background()
	w, err := st.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	name := blobName(data)
	if err := w.Commit(ctx, name); err != nil {
		t.Fatalf("commit %s: %v", name, err)
	}
	return name
}

func listNames(t testing.TB, st shardStore) []string {
	t.Helper()
	var out []string
	if err := st.List(context.Background(), func(n string) error { out = append(out, n); return nil }); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func readBlob(t testing.TB, st shardStore, name string, off, n int64) []byte {
	t.Helper()
	r, err := st.Open(context.Background(), name, off, n)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func runShardSuite(t *testing.T, newH func(testing.TB) shardHarness) {
	ctx := context.Background()

	t.Run("PutListOpenRemove", func(t *testing.T) {
		h := newH(t)
		if got := listNames(t, h.store); len(got) != 0 {
			t.Fatalf("empty store lists %q", got)
		}
		var names []string
		blobs := map[string][]byte{}
		for i, n := range []int{0, 1, 10 << 10, 9 << 20} {
			data := genData(uint64(100+i), n)
			name := putBlob(t, h.store, data)
			names = append(names, name)
			blobs[name] = data
		}
		sort.Strings(names)
		if got := listNames(t, h.store); !slices.Equal(got, names) {
			t.Fatalf("list = %q, want %q", got, names)
		}
		for name, data := range blobs {
			if got := readBlob(t, h.store, name, 0, -1); !bytes.Equal(got, data) {
				t.Fatalf("%s differs", name)
			}
			if len(data) > 100 {
				if got := readBlob(t, h.store, name, 50, 20); !bytes.Equal(got, data[50:70]) {
					t.Fatalf("%s range differs", name)
				}
			}
		}
		var layout []string
		for _, p := range h.blobs(t) {
			if i := strings.LastIndex(p, "blocks/"); i >= 0 {
				p = p[i+len("blocks/"):]
			}
			layout = append(layout, p)
		}
		var want []string
		for _, n := range names {
			want = append(want, n[4:6]+"/"+n)
		}
		if !slices.Equal(layout, want) {
			t.Fatalf("layout %q, want %q", layout, want)
		}
		if tmp := h.temps(t); len(tmp) != 0 {
			t.Fatalf("temp left: %q", tmp)
		}

		missing := blobName([]byte("never stored"))
		if _, err := h.store.Open(ctx, missing, 0, -1); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("open missing: %v", err)
		}
		if err := h.store.Remove(ctx, missing); err != nil {
			t.Errorf("remove missing: %v", err)
		}
		if err := h.store.Remove(ctx, names[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := h.store.Open(ctx, names[0], 0, -1); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("open removed: %v", err)
		}
		if got := listNames(t, h.store); !slices.Equal(got, names[1:]) {
			t.Fatalf("list after remove = %q", got)
		}
	})

	t.Run("Dedup", func(t *testing.T) {
		h := newH(t)
		small, big := genData(1, 100), genData(2, 7<<20)
		for range 2 {
			putBlob(t, h.store, small)
			putBlob(t, h.store, big)
		}
		// Concurrent writers of the same content, small (held in memory by
		// Local and written straight to its name) and big (a temp file).
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			data := big
			if i%2 == 0 {
				data = small
			}
			wg.Go(func() {
				w, err := h.store.Create(ctx)
				if err == nil {
					_, err = w.Write(data)
				}
				if err == nil {
					err = w.Commit(ctx, blobName(data))
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
		if got := listNames(t, h.store); len(got) != 2 {
			t.Fatalf("list after duplicate commits = %q", got)
		}
		if got := h.blobs(t); len(got) != 2 {
			t.Fatalf("blob files after duplicate commits = %q", got)
		}
		if tmp := h.temps(t); len(tmp) != 0 {
			t.Fatalf("temp left: %q", tmp)
		}
		if got := readBlob(t, h.store, blobName(big), 0, -1); !bytes.Equal(got, big) {
			t.Fatal("deduplicated blob differs")
		}
	})

	t.Run("ManyWrites", func(t *testing.T) {
		// A blob written in pieces that outgrow the in-memory size midway,
		// and one that stays small; aborted blobs leave nothing.
		h := newH(t)
		for _, n := range []int{100 << 10, 300 << 10, 3 << 10} {
			data := genData(uint64(n), n)
			w, err := h.store.Create(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for off := 0; off < n; off += 64 << 10 {
				if _, err := w.Write(data[off:min(off+64<<10, n)]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Commit(ctx, blobName(data)); err != nil {
				t.Fatal(err)
			}
			if got := readBlob(t, h.store, blobName(data), 0, -1); !bytes.Equal(got, data) {
				t.Fatalf("%d-byte blob differs", n)
			}
			a, err := h.store.Create(ctx)
			if err != nil {
				t.Fatal(err)
			}
			a.Write(genData(uint64(n)+1, n))
			if err := a.Abort(); err != nil {
				t.Fatal(err)
			}
		}
		if got := listNames(t, h.store); len(got) != 3 {
			t.Fatalf("list = %q", got)
		}
		if tmp := h.temps(t); len(tmp) != 0 {
			t.Fatalf("temp left: %q", tmp)
		}
	})

	t.Run("BadNames", func(t *testing.T) {
		h := newH(t)
		for _, name := range []string{"short", "Full/../../../etc/passwd", "..FullABCDEF", "Full.ABCDEFGH", "Full\x00ABCDEFGH", strings.Repeat("A", 201)} {
			w, err := h.store.Create(ctx)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(genData(3, 6<<20))
			if err := w.Commit(ctx, name); err == nil {
				t.Errorf("commit as %q succeeded", name)
			}
			if w, err = h.store.Create(ctx); err != nil {
				t.Fatal(err)
			}
			w.Write(genData(4, 10))
			if err := w.Commit(ctx, name); err == nil {
				t.Errorf("commit as %q succeeded", name)
			}
			if _, err := h.store.Open(ctx, name, 0, -1); err == nil {
				t.Errorf("open %q succeeded", name)
			}
		}
		if got := h.blobs(t); len(got) != 0 {
			t.Errorf("blobs: %q", got)
		}
		if tmp := h.temps(t); len(tmp) != 0 {
			t.Errorf("temp left: %q", tmp)
		}
	})

	t.Run("SweepTemp", func(t *testing.T) {
		h := newH(t)
		kept := putBlob(t, h.store, []byte("kept blob"))
		w, err := h.store.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(genData(5, 6<<20)); err != nil { // an unfinished write: temp file or multipart upload
			t.Fatal(err)
		}
		h.plantStale(t)
		if got := h.temps(t); len(got) != 2 {
			t.Fatalf("temps before sweep: %q", got)
		}
		if n, err := h.store.SweepTemp(ctx, time.Hour); err != nil || n != 0 {
			t.Fatalf("sweep of fresh temps: n=%d err=%v", n, err)
		}
		if got := h.temps(t); len(got) != 2 {
			t.Fatalf("fresh temps swept: %q", got)
		}
		time.Sleep(10 * time.Millisecond)
		if n, err := h.store.SweepTemp(ctx, 0); err != nil || n != 2 {
			t.Fatalf("sweep: n=%d err=%v", n, err)
		}
		if got := h.temps(t); len(got) != 0 {
			t.Fatalf("after sweep: %q", got)
		}
		w.Abort()
		if got := listNames(t, h.store); !slices.Equal(got, []string{kept}) {
			t.Fatalf("sweep touched blobs: %q", got)
		}
		if n, err := h.store.SweepTemp(ctx, 0); err != nil || n != 0 {
			t.Fatalf("second sweep: n=%d err=%v", n, err)
		}
	})
}

func TestShardsBadWorkingDir(t *testing.T) {
	l, _ := NewLocalFS(t.TempDir())
	defer l.Close()
	s := NewShards(l, "a/../../b")
	if _, err := s.Create(context.Background()); !errors.Is(err, ErrInvalidPath) {
		t.Errorf("create: %v", err)
	}
	if err := s.List(context.Background(), func(string) error { return nil }); !errors.Is(err, ErrInvalidPath) {
		t.Errorf("list: %v", err)
	}
}
