package gateway

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func randStr(r *rand.Rand) string {
	const chars = "ab/é\x00<&\"'z0"
	b := make([]rune, r.IntN(6))
	runes := []rune(chars)
	for i := range b {
		b[i] = runes[r.IntN(len(runes))]
	}
	return string(b)
}

func randMap(r *rand.Rand) map[string]string {
	switch r.IntN(3) {
	case 0:
		return nil
	case 1:
		return map[string]string{}
	}
	m := map[string]string{}
	for range 1 + r.IntN(3) {
		m[randStr(r)] = randStr(r)
	}
	return m
}

func randTime(r *rand.Rand) time.Time {
	switch r.IntN(3) {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(r.Int64N(4e9), r.Int64N(1e9)).UTC()
	}
	off := 3600 * (r.IntN(26) - 12)
	if off == 0 {
		off = 1800 // a zero offset reads back as UTC, in JSON too
	}
	return time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(time.FixedZone("", off))
}

func randObj(r *rand.Rand) objRec {
	o := objRec{
		ID: r.Int64N(1 << 31), PackageID: r.Int64N(1 << 31), BucketID: r.Int64N(1 << 31),
		Path: randStr(r), Size: r.Int64N(1<<42) - 5, FileHash: randStr(r), ETag: randStr(r),
		Redundancy: randStr(r), Created: randTime(r), Updated: randTime(r), SpaceID: r.Int64N(9),
		Meta: Meta{ContentType: randStr(r), ContentEncoding: randStr(r), ContentDisposition: randStr(r),
			ContentLanguage: randStr(r), CacheControl: randStr(r), Expires: randStr(r), User: randMap(r)},
		Tags: randMap(r), Parts: r.IntN(10000),
	}
	if r.IntN(2) == 0 {
		o.Checksum = &Checksum{Algorithm: randStr(r), Value: randStr(r), Type: randStr(r)}
	}
	if n := r.IntN(4); n > 0 {
		o.Blocks = []Block{}
		for range n - 1 {
			o.Blocks = append(o.Blocks, Block{Hash: randStr(r), Size: r.Int64N(1 << 30)})
		}
	}
	for range r.IntN(3) {
		o.PartSizes = append(o.PartSizes, r.Int64N(5<<30))
	}
	return o
}

// What the binary form reads back is what JSON read back before it: the
// same values, times in the same zone, empty maps as nil, nil and empty
// block lists apart (null and []).
func TestRecordCodecRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		o := randObj(r)
		b := enc(o)
		require.Equal(t, byte(recBinary), b[0])
		got, err := dec[objRec](b)
		require.NoError(t, err)
		want := o
		if len(want.Tags) == 0 {
			want.Tags = nil // omitempty: JSON never kept an empty map
		}
		if len(want.Meta.User) == 0 {
			want.Meta.User = nil
		}
		assert.Equal(t, want, got)

		viaJSON, err := dec[objRec](mustJSON(t, o))
		require.NoError(t, err)
		assert.Equal(t, viaJSON, got, "binary and JSON forms decode differently")

		bk := bucketRec{ID: r.Int64N(99), Name: randStr(r), Created: randTime(r), Owner: r.Int64N(3)}
		gotB, err := dec[bucketRec](enc(bk))
		require.NoError(t, err)
		assert.Equal(t, bk, gotB)
		pk := pkgRec{ID: r.Int64N(99), BucketID: r.Int64N(99), Name: randStr(r), Created: randTime(r), Explicit: r.IntN(2) == 0}
		gotP, err := dec[pkgRec](enc(pk))
		require.NoError(t, err)
		assert.Equal(t, pk, gotP)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// Records written as JSON by earlier versions are still read.
func TestRecordCodecReadsJSON(t *testing.T) {
	legacy := `{"id":7,"p":2,"b":1,"k":"a/b","s":3,"h":"FullAB","e":"etag","r":"none",` +
		`"c":"2026-01-02T03:04:05.000006Z","u":"2026-01-02T03:04:05.000006+08:00","sp":1,` +
		`"m":{"ct":"text/plain","u":{"k":"v"}},"bl":[{"h":"FullAB","s":3}]}`
	o, err := dec[objRec]([]byte(legacy))
	require.NoError(t, err)
	assert.Equal(t, "a/b", o.Path)
	assert.Equal(t, map[string]string{"k": "v"}, o.Meta.User)
	back, err := dec[objRec](enc(o))
	require.NoError(t, err)
	assert.Equal(t, o, back)
}

// Every cut of a record is an error, never a panic or a silent success.
func TestRecordCodecTruncated(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		b := enc(randObj(r))
		for n := 1; n < len(b); n++ {
			_, err := dec[objRec](b[:n])
			require.Error(t, err, "record cut to %d of %d bytes", n, len(b))
		}
		_, err := dec[objRec](append(b, 0))
		require.Error(t, err, "trailing byte accepted")
	}
}

func FuzzRecordDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 8 {
		f.Add(enc(randObj(r)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := dec[objRec](b)
		if err != nil || len(b) == 0 || b[0] != recBinary {
			return
		}
		// Whatever decodes must encode back to a record that decodes the same.
		again, err := dec[objRec](enc(o))
		require.NoError(t, err)
		require.Equal(t, o, again)
	})
}

// manyBlocks is the record of an object of n parts, as an S3 multipart
// upload of n parts leaves it.
func manyBlocks(n int) objRec {
	o := objRec{ID: 9, PackageID: 3, BucketID: 1, Path: "videos/big.mp4", Size: int64(n) * (5 << 20),
		FileHash: "Full" + strings.Repeat("AB", 32), ETag: "0123456789abcdef0123456789abcdef-1000",
		Redundancy: RedundancyNone, Created: time.Unix(1e9, 0).UTC(), Updated: time.Unix(1e9, 0).UTC(),
		SpaceID: 1, Meta: Meta{ContentType: "video/mp4"}, Parts: n}
	for i := range n {
		o.Blocks = append(o.Blocks, Block{Hash: fmt.Sprintf("Full%064X", i), Size: 5 << 20})
		o.PartSizes = append(o.PartSizes, 5<<20)
	}
	return o
}

// The cost of reading a 1,000-part object's record for a GET or HEAD.
func BenchmarkDecodeObjectRecord1000Parts(b *testing.B) {
	v := enc(manyBlocks(1000))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec[objRec](v); err != nil {
			b.Fatal(err)
		}
	}
}

// The same record read for a GET (decObjForRead), with the window of a 4 KiB
// range near its end picked out of the encoded list, as Open does.
func BenchmarkReadObjectRecord1000PartsForGET(b *testing.B) {
	v := enc(manyBlocks(1000))
	off := int64(999) * (5 << 20)
	b.ReportAllocs()
	for b.Loop() {
		o, err := decObjForRead(v)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := blocksWindow(o.blocksRaw, off, 4096); err != nil {
			b.Fatal(err)
		}
	}
}
