package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"jcsgw/backends"
	"jcsgw/catalog"
)

type fixture struct {
	svc   *Service
	cat   *catalog.Bolt
	store *backends.Local
	dir   string
}

func open(t testing.TB, dir string, opts ...func(*Config)) *fixture {
	t.Helper()
	cat, err := catalog.OpenBolt(filepath.Join(dir, "catalog.db"))
	require.NoError(t, err)
	store, err := backends.NewLocal(filepath.Join(dir, "store"))
	require.NoError(t, err)
	cfg := Config{Catalog: cat, Default: store}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := New(context.Background(), cfg)
	require.NoError(t, err)
	return &fixture{svc: svc, cat: cat, store: store, dir: dir}
}

func newFixture(t testing.TB) *fixture {
	f := open(t, t.TempDir())
	t.Cleanup(func() { f.cat.Close() })
	return f
}

func (f *fixture) blobs(t *testing.T) []string {
	var names []string
	require.NoError(t, f.store.List(context.Background(), func(n string) error { names = append(names, n); return nil }))
	return names
}

func read(t *testing.T, f *fixture, o Object) []byte {
	rc, err := f.svc.Open(context.Background(), o, 0, -1)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return b
}

func put(t *testing.T, f *fixture, bucket, key string, data []byte) Object {
	o, err := f.svc.PutKey(context.Background(), bucket, key, PutInput{Body: bytes.NewReader(data), Size: int64(len(data))})
	require.NoError(t, err)
	return o
}

func TestKeyMappingRoundTrips(t *testing.T) {
	keys := []string{"a", "a/b", "a/", "a//b", "a/b/c/", "p/../x", "ü/ß", "a-b/x", "x y/z+w", strings.Repeat("k", MaxKeyLen)}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("ab/-._ü/\x01%+")
	for range 5000 {
		n := 1 + r.IntN(20)
		var sb strings.Builder
		for range n {
			sb.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		keys = append(keys, sb.String())
	}
	for _, k := range keys {
		if ValidateKey(k) != nil {
			continue
		}
		pkg, path := SplitKey(k)
		assert.Equal(t, k, JoinKey(pkg, path), "key %q", k)
		if path != "" {
			assert.NoError(t, ValidatePath(pkg, path), "key %q: its path must be valid in its package", k)
		}
		assert.NotContains(t, pkg, "/")
	}
}

func FuzzKeyMapping(f *testing.F) {
	for _, s := range []string{"a", "a/b", "a/", "/a", "a//", "ü/x", "\x00", "a/\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if err := ValidateKey(key); err != nil {
			if CodeOf(err) == CodeInternal || MessageOf(err) == "" {
				t.Fatalf("refusal of %q has no reason", key)
			}
			return
		}
		pkg, path := SplitKey(key)
		if JoinKey(pkg, path) != key {
			t.Fatalf("%q does not round-trip: (%q, %q)", key, pkg, path)
		}
		if path != "" && ValidatePath(pkg, path) != nil {
			t.Fatalf("accepted key %q maps to a refused path %q", key, path)
		}
	})
}

func TestDedupAndRefcounts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateS3Bucket(ctx, "bkt")
	require.NoError(t, err)
	data := []byte("same bytes")
	a := put(t, f, "bkt", "p/a", data)
	b := put(t, f, "bkt", "q/b", data)
	assert.Equal(t, a.FileHash, b.FileHash)
	sum := sha256.Sum256(data)
	assert.Equal(t, FullHash(sum[:]), a.FileHash)
	assert.Len(t, f.blobs(t), 1, "identical content is stored once")

	clones, err := f.svc.Clone(ctx, []Cloning{{ObjectID: a.ID, NewPackageID: a.PackageID, NewPath: "c"}})
	require.NoError(t, err)
	require.NotNil(t, clones[0])
	assert.Len(t, f.blobs(t), 1, "clone copies no bytes")

	require.NoError(t, f.svc.DeleteKey(ctx, "bkt", "p/a"))
	require.NoError(t, f.svc.DeleteKey(ctx, "bkt", "q/b"))
	assert.Len(t, f.blobs(t), 1, "the clone still references the blob")
	assert.Equal(t, data, read(t, f, *clones[0]))
	require.NoError(t, f.svc.DeleteObjects(ctx, []int64{clones[0].ID}))
	assert.Empty(t, f.blobs(t), "the last reference takes the blob with it")

	// Overwrite releases the old content.
	put(t, f, "bkt", "p/x", []byte("v1"))
	put(t, f, "bkt", "p/x", []byte("v2"))
	assert.Len(t, f.blobs(t), 1)
}

type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestCutOffUploadKeepsOldObject(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateS3Bucket(ctx, "bkt")
	require.NoError(t, err)
	old := put(t, f, "bkt", "p/obj", []byte("old content"))

	cut := errors.New("connection reset")
	_, err = f.svc.PutKey(ctx, "bkt", "p/obj", PutInput{Body: &failingReader{data: bytes.Repeat([]byte("n"), 3<<20), err: cut}, Size: 10 << 20})
	require.Error(t, err)
	assert.ErrorIs(t, err, cut)

	// Announced size not met: IncompleteBody, nothing stored.
	_, err = f.svc.PutKey(ctx, "bkt", "p/obj", PutInput{Body: strings.NewReader("short"), Size: 100})
	assert.Equal(t, CodeIncompleteBody, CodeOf(err))

	cur, err := f.svc.ObjectByKey(ctx, "bkt", "p/obj")
	require.NoError(t, err)
	assert.Equal(t, old.FileHash, cur.FileHash)
	assert.Equal(t, []byte("old content"), read(t, f, cur))
	ents, err := os.ReadDir(filepath.Join(f.store.Root(), "tmp"))
	require.NoError(t, err)
	assert.Empty(t, ents, "no temp file is left behind")
	assert.Len(t, f.blobs(t), 1)
}

// The start-up recovery removes temp files before New returns and the
// blobs nothing references (left by a crash) either before it too or, with
// SweepOrphansLater, once Swept is closed; what objects reference stays.
func TestRecoverySweepsTempAndOrphans(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []func(*Config)
	}{{"before New returns", nil}, {"later", []func(*Config){later}}} {
		t.Run(mode.name, func(t *testing.T) {
			dir := t.TempDir()
			f := open(t, dir)
			ctx := context.Background()
			_, err := f.svc.CreateS3Bucket(ctx, "bkt")
			require.NoError(t, err)
			kept := put(t, f, "bkt", "p/kept", []byte("kept"))
			// A crash between placing a blob and committing its object
			// leaves an orphan; one mid-write leaves a temp file.
			orphans(t, f, 50)
			tmp, err := f.store.Create(ctx)
			require.NoError(t, err)
			tmp.Write(bytes.Repeat([]byte("half"), 64<<10)) // large enough for a temp file
			ents, _ := os.ReadDir(filepath.Join(f.store.Root(), "tmp"))
			require.Len(t, ents, 1)
			// A blob file cut short by a crash (as an older version wrote
			// small blobs straight to their names), unreferenced.
			partial := FullHash(bytes.Repeat([]byte{8}, 32))
			pdir := filepath.Join(f.store.Root(), "blocks", partial[4:6])
			require.NoError(t, os.MkdirAll(pdir, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(pdir, partial), []byte("par"), 0o644))
			f.svc.Close()
			require.NoError(t, f.cat.Close())

			f = open(t, dir, mode.opts...)
			defer f.cat.Close()
			defer f.svc.Close()
			ents, _ = os.ReadDir(filepath.Join(f.store.Root(), "tmp"))
			assert.Empty(t, ents, "temp files are swept before New returns")
			if mode.opts == nil {
				select {
				case <-f.svc.Swept():
				default:
					t.Fatal("New returned before the orphans were swept")
				}
			}
			waitSwept(t, f)
			assert.Equal(t, []string{kept.FileHash}, f.blobs(t))
			o, err := f.svc.ObjectByKey(ctx, "bkt", "p/kept")
			require.NoError(t, err)
			assert.Equal(t, []byte("kept"), read(t, f, o))
		})
	}
}

// refList is the S3 listing computed the obvious way, for comparison.
func refList(keys []string, prefix, delim, after string, max int) (objs, cps []string, truncated bool) {
	isCP := map[string]bool{}
	var items []string
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		item, cp := k, false
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				item, cp = k[:len(prefix)+i+len(delim)], true
			}
		}
		if _, dup := isCP[item]; dup || item <= after {
			continue
		}
		isCP[item] = cp
		items = append(items, item)
	}
	sort.Strings(items)
	if len(items) > max {
		items, truncated = items[:max], true
	}
	for _, it := range items {
		if isCP[it] {
			cps = append(cps, it)
		} else {
			objs = append(objs, it)
		}
	}
	return objs, cps, truncated
}

func TestListKeysMatchesReference(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateS3Bucket(ctx, "bkt")
	require.NoError(t, err)
	keys := []string{"a/x", "a-b/x", "a/y/z", "a/y/w", "ab", "b", "b/c-d/e", "c/", "c/d", "z/a/b/c"}
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		segs := []string{"a", "a-b", "b", "c", "x", "-", "/"}
		k := string(rune('a' + r.IntN(4)))
		for range 1 + r.IntN(5) {
			k += segs[r.IntN(len(segs))]
		}
		keys = append(keys, k+string(rune('0'+i%10)))
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	for _, k := range keys {
		var body []byte
		if _, path := SplitKey(k); path != "" {
			body = []byte(k) // folder markers stay empty
		}
		put(t, f, "bkt", k, body)
	}
	for _, prefix := range []string{"", "a", "a/", "b/c"} {
		for _, delim := range []string{"", "/", "-", "x/"} {
			for _, max := range []int{1, 7, 1000} {
				var gotObjs, gotCPs, wantObjs, wantCPs []string
				after := ""
				for page := 0; ; page++ {
					require.Less(t, page, 1000)
					res, err := f.svc.ListKeys(ctx, "bkt", ListKeysInput{Prefix: prefix, Delimiter: delim, After: after, MaxKeys: max})
					require.NoError(t, err)
					wo, wc, wt := refList(keys, prefix, delim, after, max)
					var ko []string
					for _, o := range res.Objects {
						ko = append(ko, o.Key())
					}
					assert.Equal(t, wo, ko, "objects prefix=%q delim=%q max=%d after=%q", prefix, delim, max, after)
					assert.Equal(t, wc, res.CommonPrefixes, "prefixes prefix=%q delim=%q max=%d after=%q", prefix, delim, max, after)
					assert.Equal(t, wt, res.IsTruncated)
					gotObjs, gotCPs = append(gotObjs, ko...), append(gotCPs, res.CommonPrefixes...)
					wantObjs, wantCPs = append(wantObjs, wo...), append(wantCPs, wc...)
					if !res.IsTruncated {
						break
					}
					after = res.NextAfter
				}
				assert.Equal(t, wantObjs, gotObjs)
				assert.Equal(t, wantCPs, gotCPs)
			}
		}
	}
}

// placeCounter counts the blobs the gateway places in a Local store.
type placeCounter struct {
	*backends.Local
	places atomic.Int32
}

func (c *placeCounter) Create(ctx context.Context) (backends.BlobWriter, error) {
	w, err := c.Local.Create(ctx)
	if err != nil {
		return nil, err
	}
	return &countedWriter{BlobWriter: w, c: c}, nil
}

type countedWriter struct {
	backends.BlobWriter
	c *placeCounter
}

func (w *countedWriter) Place(ctx context.Context, name string) (func() error, error) {
	w.c.places.Add(1)
	return w.BlobWriter.(placer).Place(ctx, name)
}

func TestEmptyContentIsPlacedOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cat, err := catalog.OpenBolt(filepath.Join(dir, "catalog.db"))
	require.NoError(t, err)
	t.Cleanup(func() { cat.Close() })
	local, err := backends.NewLocal(filepath.Join(dir, "store"))
	require.NoError(t, err)
	store := &placeCounter{Local: local}
	svc, err := New(ctx, Config{Catalog: cat, Default: store})
	require.NoError(t, err)
	f := &fixture{svc: svc, cat: cat, store: local, dir: dir}
	_, err = svc.CreateS3Bucket(ctx, "bkt")
	require.NoError(t, err)

	keys := []string{"p/a", "p/b", "c", "q/d"}
	for _, k := range keys {
		o := put(t, f, "bkt", k, nil)
		assert.Equal(t, emptySHA, o.FileHash)
		assert.EqualValues(t, 0, o.Size)
	}
	assert.EqualValues(t, 1, store.places.Load(), "empty content is placed once, then referenced")
	assert.Equal(t, []string{emptySHA}, f.blobs(t))

	// Other content is placed every time (a lost blob heals on upload).
	put(t, f, "bkt", "p/x", []byte("x"))
	put(t, f, "bkt", "p/y", []byte("x"))
	assert.EqualValues(t, 3, store.places.Load())

	// An empty object reads as empty even if the shared blob is gone.
	require.NoError(t, local.Remove(ctx, emptySHA))
	o, err := svc.ObjectByKey(ctx, "bkt", "p/a")
	require.NoError(t, err)
	assert.Empty(t, read(t, f, o))

	// With its last reference gone, empty content is placed again.
	for _, k := range keys {
		require.NoError(t, svc.DeleteKey(ctx, "bkt", k))
	}
	put(t, f, "bkt", "p/z", nil)
	assert.EqualValues(t, 4, store.places.Load())
	assert.Contains(t, f.blobs(t), emptySHA)
}

// An implicit package goes with its last object, whatever the order its
// objects are deleted in, and not a moment before; its neighbours stay.
func TestImplicitPackageGoesWithItsLastObject(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateS3Bucket(ctx, "bkt")
	require.NoError(t, err)
	const n = 12
	orders := map[string][]int{"forward": {}, "reverse": {}, "shuffled": {}, "middle out": {}}
	for i := range n {
		orders["forward"] = append(orders["forward"], i)
		orders["reverse"] = append(orders["reverse"], n-1-i)
		orders["middle out"] = append(orders["middle out"], (n/2+(i+1)/2*(1-2*(i%2))+n)%n)
	}
	orders["shuffled"] = rand.New(rand.NewPCG(3, 4)).Perm(n)
	for name, order := range orders {
		pkg := strings.ReplaceAll(name, " ", "-")
		put(t, f, "bkt", "a/x", []byte("before"))
		for i := range n {
			put(t, f, "bkt", fmt.Sprintf("%s/k%02d", pkg, i), []byte{byte(i)})
		}
		put(t, f, "bkt", pkg+"z/x", []byte("after"))
		for j, i := range order {
			_, err := f.svc.PackageByName(ctx, "bkt", pkg)
			require.NoError(t, err, "%s: before deleting the %d. object", name, j+1)
			require.NoError(t, f.svc.DeleteKey(ctx, "bkt", fmt.Sprintf("%s/k%02d", pkg, i)))
		}
		_, err := f.svc.PackageByName(ctx, "bkt", pkg)
		require.ErrorContains(t, err, "does not exist", name)
		for _, other := range []string{"a", pkg + "z"} {
			_, err := f.svc.PackageByName(ctx, "bkt", other)
			require.NoError(t, err, "%s: %s", name, other)
		}
	}
}

// A PUT to a bucket that does not exist is NoSuchBucket whatever is wrong
// with its body, small or large, and leaves nothing stored.
func TestPutToMissingBucket(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	badMD5 := base64.StdEncoding.EncodeToString(make([]byte, 16))
	for _, size := range []int{0, 10, smallPutBody, smallPutBody + 1} {
		data := bytes.Repeat([]byte("d"), size)
		for _, in := range []PutInput{
			{Body: bytes.NewReader(data), Size: int64(size)},
			{Body: bytes.NewReader(data), Size: int64(size), ContentMD5: badMD5},
			{Body: bytes.NewReader(data), Size: int64(size) + 1}, // cut short
		} {
			_, err := f.svc.PutKey(ctx, "nobucket", "p/k", in)
			require.Equal(t, CodeNoSuchBucket, CodeOf(err), "size %d, md5 %q, announced %d: %v", size, in.ContentMD5, in.Size, err)
		}
	}
	require.Eventually(t, func() bool { return len(f.blobs(t)) == 0 }, 5*time.Second, 10*time.Millisecond, "blobs left: %v", f.blobs(t))
}
