package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// windowOf is the reference blocksWindow: the blocks of a decoded list
// that bytes [off, off+n) lie in, and the object's offset at the first.
func windowOf(blocks []Block, off, n int64) ([]Block, int64) {
	var out []Block
	var at, pos int64
	for _, b := range blocks {
		start, end := pos, pos+b.Size
		pos = end
		if len(out) == 0 && end <= off {
			continue
		}
		if start >= off+n {
			break
		}
		if len(out) == 0 {
			at = start
		}
		out = append(out, b)
	}
	return out, at
}

// A record read for a GET keeps a long block list encoded, and the window
// Open takes of it is the one the decoded list gives, for every window.
func TestObjectRecordReadForGET(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, count := range []int{0, 1, lazyBlocks - 1, lazyBlocks, lazyBlocks + 1, 40} {
		o := randObj(r)
		o.Blocks = nil
		var total int64
		for i := range count {
			size := r.Int64N(5) // small sizes, zeros among them
			if i%7 == 3 {
				size = 1000
			}
			o.Blocks = append(o.Blocks, Block{Hash: fmt.Sprintf("Full%064X", i), Size: size})
			total += size
		}
		if count == 0 && r.IntN(2) == 0 {
			o.Blocks = []Block{}
		}
		o.Size = total
		full, err := dec[objRec](enc(o))
		require.NoError(t, err)
		got, err := decObjForRead(enc(o))
		require.NoError(t, err)
		if count < lazyBlocks {
			assert.Equal(t, full, got, "%d blocks: a short list is decoded as always", count)
			continue
		}
		assert.Nil(t, got.Blocks, "%d blocks stay encoded", count)
		require.NotEmpty(t, got.blocksRaw)
		got.Blocks, got.blocksRaw = full.Blocks, nil
		assert.Equal(t, full, got, "%d blocks: every other field as a full decode", count)

		raw := decodedRaw(t, o)
		for off := int64(0); off < total; off++ {
			for _, n := range []int64{1, 2, 999, 1000, 1001, total - off} {
				if n <= 0 || off+n > total {
					continue
				}
				wantB, wantAt := windowOf(full.Blocks, off, n)
				gotB, gotAt, err := blocksWindow(raw, off, n)
				require.NoError(t, err)
				require.Equal(t, wantB, gotB, "blocks of [%d, +%d) of %d blocks", off, n, count)
				require.Equal(t, wantAt, gotAt, "offset of [%d, +%d) of %d blocks", off, n, count)
			}
		}
	}
}

func decodedRaw(t *testing.T, o objRec) []byte {
	t.Helper()
	got, err := decObjForRead(enc(o))
	require.NoError(t, err)
	return got.blocksRaw
}

// A record read for a GET lacks its blocks: writing it back would lose the
// object's bytes, so it is refused outright.
func TestObjectRecordReadForGETIsNeverWritten(t *testing.T) {
	got, err := decObjForRead(enc(manyBlocks(lazyBlocks)))
	require.NoError(t, err)
	require.NotEmpty(t, got.blocksRaw)
	assert.Panics(t, func() { enc(got) })
}

// A truncated list is an error, not a short read.
func TestBlocksWindowTruncated(t *testing.T) {
	raw := decodedRaw(t, manyBlocks(lazyBlocks+2))
	for _, cut := range []int{0, 1, 5, len(raw) / 2} {
		_, _, err := blocksWindow(raw[:cut], 5<<20*int64(lazyBlocks+1), 10)
		assert.ErrorIs(t, err, errRecTruncated, "cut at %d", cut)
	}
}

// End to end: an object of many parts read through ObjectToRead and Open,
// byte for byte, in windows that start, end and cross parts; a window not
// readied is refused, never read short.
func TestOpenObjectToRead(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	parts := map[int][]byte{}
	var whole []byte
	for i := 1; i <= 40; i++ {
		parts[i] = randBytes(uint64(100+i), 1000+i*37)
		whole = append(whole, parts[i]...)
	}
	o := jcsUpload(t, f, "many", parts)
	done, err := f.svc.CompleteMultipartObject(ctx, o.ID, sortedKeys(parts))
	require.NoError(t, err)
	require.Len(t, done.Blocks, 40)
	size := int64(len(whole))

	rnd := rand.New(rand.NewPCG(3, 4))
	windows := [][2]int64{{0, size}, {0, 1}, {1036, 2}, {1037, 1}, {size - 1, 1}, {5000, 20000}}
	for range 50 {
		off := rnd.Int64N(size)
		windows = append(windows, [2]int64{off, 1 + rnd.Int64N(size-off)})
	}
	for _, w := range windows {
		got, off, n, err := f.svc.ObjectToRead(ctx, "jb-many", done.Key(), func(o *Object) (int64, int64, error) {
			assert.Equal(t, done.Size, o.Size)
			assert.Equal(t, done.ETag, o.ETag)
			return w[0], w[1], nil
		})
		require.NoError(t, err)
		require.Equal(t, w, [2]int64{off, n})
		require.True(t, got.window, "a 40-part object's blocks are taken for the window only")
		b := readWindow(t, f, got, off, n)
		require.True(t, bytes.Equal(whole[off:off+n], b), "window [%d, +%d)", off, n)
		// Bytes outside the blocks readied: refused.
		var outside []int64
		if got.windowAt > 0 {
			outside = append(outside, 0)
		}
		if end := got.windowAt + blocksSize(got.Blocks); end < size {
			outside = append(outside, end)
		}
		if len(got.Blocks) < 40 {
			require.NotEmpty(t, outside)
		}
		for _, at := range outside {
			_, err := f.svc.Open(ctx, got, at, 1)
			require.Error(t, err)
			assert.Equal(t, CodeOperationFailed, CodeOf(err), "byte %d, window [%d, +%d)", at, off, n)
		}
	}
	// A HEAD (nothing to read) takes no block; an error from the window
	// comes back with the object.
	got, _, _, err := f.svc.ObjectToRead(ctx, "jb-many", done.Key(), func(o *Object) (int64, int64, error) {
		return 0, 0, nil
	})
	require.NoError(t, err)
	assert.Empty(t, got.Blocks)
	_, err = f.svc.Open(ctx, got, 0, 1)
	assert.Equal(t, CodeOperationFailed, CodeOf(err), "an object readied for no bytes opens for none")
	refuse := errorf(CodePreconditionFailed, "no")
	got, _, _, err = f.svc.ObjectToRead(ctx, "jb-many", done.Key(), func(o *Object) (int64, int64, error) {
		return 0, 0, refuse
	})
	assert.Equal(t, refuse, err)
	assert.Equal(t, done.ETag, got.ETag)
	// JCS downloads, by ID and by path: windows given up front, n < 0 to
	// the end, an offset past the end refused, at the end empty.
	for _, w := range append(windows, [2]int64{0, -1}, [2]int64{size - 5, -1}, [2]int64{7, size * 2}) {
		byID, err := f.svc.ObjectToDownload(ctx, done.ID, w[0], w[1])
		require.NoError(t, err)
		byPath, err := f.svc.ObjectToDownloadByPath(ctx, done.PackageID, done.Path, w[0], w[1])
		require.NoError(t, err)
		end := size
		if w[1] >= 0 && w[0]+w[1] < size {
			end = w[0] + w[1]
		}
		for _, o := range []Object{byID, byPath} {
			require.True(t, o.window)
			b := readWindow(t, f, o, w[0], w[1])
			require.True(t, bytes.Equal(whole[w[0]:end], b), "download [%d, %d)", w[0], end)
		}
	}
	past, err := f.svc.ObjectToDownload(ctx, done.ID, size+1, 10)
	require.NoError(t, err)
	_, err = f.svc.Open(ctx, past, size+1, 10)
	assert.Equal(t, CodeInvalidRange, CodeOf(err))
	atEnd, err := f.svc.ObjectToDownloadByPath(ctx, done.PackageID, done.Path, size, -1)
	require.NoError(t, err)
	assert.Equal(t, []byte{}, readWindow(t, f, atEnd, size, -1))

	// The full read path is unchanged.
	full, err := f.svc.ObjectByKey(ctx, "jb-many", done.Key())
	require.NoError(t, err)
	assert.Len(t, full.Blocks, 40)
	assert.Equal(t, whole, read(t, f, full))
}

func sortedKeys(m map[int][]byte) []int {
	var out []int
	for i := 1; i <= len(m); i++ {
		if _, ok := m[i]; ok {
			out = append(out, i)
		}
	}
	return out
}

func readWindow(t *testing.T, f *fixture, o Object, off, n int64) []byte {
	t.Helper()
	rc, err := f.svc.Open(context.Background(), o, off, n)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return b
}
