package gateway

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLimitsDefaultsAndValidate(t *testing.T) {
	d := DefaultLimits()
	assert.Equal(t, int64(5<<40), d.MaxObjectSize)
	assert.Equal(t, int64(5<<30), d.MaxPutSize)
	assert.Equal(t, int64(5<<30), d.MaxPartSize)
	assert.Equal(t, 10000, d.MaxParts)
	assert.Equal(t, 1024, d.MaxKeyLength)
	assert.Equal(t, 2048, d.MaxUserMetadata)
	assert.Equal(t, 64<<10, d.MaxHeaderBytes)
	assert.Equal(t, int64(1<<20), d.MaxJSONBody)
	assert.Equal(t, 1000, d.MaxDeleteKeys)
	assert.Equal(t, 1000, d.MaxListKeys)
	assert.Equal(t, d, Limits{}.WithDefaults())
	require.NoError(t, d.Validate())
	require.NoError(t, Limits{}.Validate())

	l := Limits{MaxPutSize: 10}.WithDefaults()
	assert.Equal(t, int64(10), l.MaxPutSize)
	assert.Equal(t, d.MaxObjectSize, l.MaxObjectSize)
	assert.Equal(t, int64(10), l.PutLimit())
	assert.Equal(t, int64(7), Limits{MaxPutSize: 10, MaxObjectSize: 7, MaxPartSize: 9}.PartLimit())

	assert.ErrorContains(t, Limits{MaxPutSize: -1}.Validate(), "MaxPutSize")
	assert.ErrorContains(t, Limits{MaxKeyLength: 2000}.Validate(), "MaxKeyLength")
	assert.ErrorContains(t, Limits{MaxParts: 10001}.Validate(), "MaxParts")
	assert.ErrorContains(t, Limits{MaxListKeys: 5000}.Validate(), "MaxListKeys")
}

func TestLimitBody(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10} {
		data := bytes.Repeat([]byte("x"), n)
		got, err := io.ReadAll(LimitBody(iotest.OneByteReader(bytes.NewReader(data)), "the body", 10))
		require.NoError(t, err, n)
		assert.Equal(t, data, got)
	}
	for _, n := range []int{11, 12, 5000} {
		src := &countReader{r: bytes.NewReader(bytes.Repeat([]byte("y"), n))}
		got, err := io.ReadAll(LimitBody(src, "the body", 10))
		require.Error(t, err, n)
		assert.Equal(t, CodeEntityTooLarge, CodeOf(err))
		assert.Contains(t, MessageOf(err), "10 bytes")
		assert.LessOrEqual(t, len(got), 10)
		assert.LessOrEqual(t, src.n, 11, "read past the limit")
	}
	r := LimitBody(strings.NewReader("abc"), "x", -5)
	_, err := io.ReadAll(r)
	assert.Equal(t, CodeEntityTooLarge, CodeOf(err))
	assert.Nil(t, LimitBody(nil, "x", 1))

	assert.NoError(t, CheckSize("the object", -1, 5))
	assert.NoError(t, CheckSize("the object", 5, 5))
	err = CheckSize("the object", 6, 5)
	assert.Equal(t, CodeEntityTooLarge, CodeOf(err))
	assert.Equal(t, "the object is 6 bytes, larger than the limit of 5 bytes", MessageOf(err))
	assert.Equal(t, CodeKeyTooLong, CodeOf(DefaultLimits().CheckKeyLength(strings.Repeat("k", 1025))))
	assert.NoError(t, DefaultLimits().CheckKeyLength(strings.Repeat("k", 1024)))
}

type countReader struct {
	r io.Reader
	n int
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
