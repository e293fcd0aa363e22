package gateway

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCopyHashedMatchesDirectDigests(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 1<<20 - 1, 1 << 20, 1<<20 + 1, 3<<20 + 12345} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		for _, src := range []struct {
			name string
			r    func() *bytes.Reader
		}{{"whole", func() *bytes.Reader { return bytes.NewReader(data) }}} {
			var dst bytes.Buffer
			d := newDigester(ChecksumCRC32)
			got, err := copyHashed(&dst, iotest.HalfReader(src.r()), d)
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
	_, err := copyHashed(&bytes.Buffer{}, iotest.TimeoutReader(bytes.NewReader(make([]byte, 3<<20))), d)
	assert.ErrorIs(t, err, iotest.ErrTimeout)
}

func TestCopyHashedKeepsUnexpectedEOF(t *testing.T) {
	for _, n := range []int{10, 2 << 20} {
		d := newDigester("")
		r := io.MultiReader(bytes.NewReader(make([]byte, n)), iotest.ErrReader(io.ErrUnexpectedEOF))
		_, err := copyHashed(&bytes.Buffer{}, r, d)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "a cut-off body of %d bytes must fail", n)
	}
}
