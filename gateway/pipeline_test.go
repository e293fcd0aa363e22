package gateway

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCopyHashedMatchesDirectDigests(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 4096, smallChunk, 1<<20 - 1, 1 << 20, 1<<20 + 1, 3<<20 + 12345} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		// The announced size picks the first buffer; a wrong one (too small)
		// must not change the result.
		for i, size := range []int64{-1, int64(n), 0, 100} {
			var dst bytes.Buffer
			d := newDigester(ChecksumCRC32)
			d.md5Serial = i%2 == 0 // either depth of the MD5 lane's queue
			got, err := copyHashed(&dst, iotest.HalfReader(bytes.NewReader(data)), d, size)
			require.NoError(t, err)
			assert.Equal(t, int64(n), got)
			assert.Equal(t, int64(n), d.n)
			assert.True(t, bytes.Equal(data, dst.Bytes()), "size %d: bytes differ", n)
			sum := sha256.Sum256(data)
			m := md5.Sum(data)
			assert.Equal(t, FullHash(sum[:]), d.fileHash(), "size %d", n)
			assert.Equal(t, hex.EncodeToString(m[:]), d.md5Hex(), "size %d", n)
			ck := binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(data))
			assert.Equal(t, base64.StdEncoding.EncodeToString(ck), d.checksum(), "size %d", n)
		}
	}
}

func TestCopyHashedPassesErrorsOn(t *testing.T) {
	d := newDigester("")
	_, err := copyHashed(&bytes.Buffer{}, iotest.TimeoutReader(bytes.NewReader(make([]byte, 3<<20))), d, -1)
	assert.ErrorIs(t, err, iotest.ErrTimeout)
}

func TestCopyHashedKeepsUnexpectedEOF(t *testing.T) {
	for _, n := range []int{10, 2 << 20} {
		d := newDigester("")
		r := io.MultiReader(bytes.NewReader(make([]byte, n)), iotest.ErrReader(io.ErrUnexpectedEOF))
		_, err := copyHashed(&bytes.Buffer{}, r, d, -1)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "a cut-off body of %d bytes must fail", n)
	}
}

// A small body announced as small is copied through a small pooled buffer:
// no megabyte is allocated (and cleared) per request.
func TestCopyHashedSmallBodyAllocatesLittle(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 4096)
	run := func() {
		d := newDigester("")
		if _, err := copyHashed(io.Discard, bytes.NewReader(body), d, int64(len(body))); err != nil {
			t.Fatal(err)
		}
	}
	run() // fill the pool
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		run()
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / 100; per > 32<<10 {
		t.Fatalf("%d bytes allocated per 4 KiB copy", per)
	}
}

// failAfter is a writer that fails once it has taken limit bytes.
type failAfter struct {
	limit, n int
	err      error
}

func (w *failAfter) Write(p []byte) (int, error) {
	if w.n+len(p) > w.limit {
		return 0, w.err
	}
	w.n += len(p)
	return len(p), nil
}

// A failing write (a full disk) ends the copy with its error, without
// reading the whole body first, and leaves no lane blocked.
func TestCopyHashedStopsOnWriteError(t *testing.T) {
	full := errors.New("no space left on device")
	body := &countingReader{r: bytes.NewReader(make([]byte, 64<<20))}
	_, err := copyHashed(&failAfter{limit: 2 << 20, err: full}, body, newDigester("SHA256"), -1)
	assert.ErrorIs(t, err, full)
	assert.Less(t, body.n, int64(32<<20), "the reader stops soon after the write fails")
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
