package main

import (
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
)

// blockSize is the length of the pseudo-random block every body repeats.
const blockSize = 1 << 20

// baseBlock is generated once; bodies are views of it, never whole buffers.
var baseBlock = func() []byte {
	b := make([]byte, blockSize)
	r := rand.New(rand.NewPCG(0x6a637367, 0x62656e63))
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b
}()

// body is a generated object of size bytes: the base block repeated from a
// seed-dependent rotation, with the seed written over its first 8 bytes, so
// that no two seeds give the same content (jcsgw deduplicates identical
// content, which would flatter it). It is an io.ReadSeeker and io.ReaderAt,
// so SDKs can size and rewind it, and sections of it are bodies too.
type body struct {
	size  int64
	off   int64
	shift int64
	hdr   [8]byte
}

func newBody(seed uint64, size int64) *body {
	b := &body{size: size, shift: int64(seed*0x9E3779B97F4A7C15>>1) % blockSize}
	binary.BigEndian.PutUint64(b.hdr[:], seed)
	return b
}

func (b *body) ReadAt(p []byte, off int64) (int, error) {
	if off >= b.size {
		return 0, io.EOF
	}
	want := len(p)
	if rem := b.size - off; int64(len(p)) > rem {
		p = p[:rem]
	}
	n := 0
	for n < len(p) {
		pos := (off + int64(n) + b.shift) % blockSize
		n += copy(p[n:], baseBlock[pos:])
	}
	if off < int64(len(b.hdr)) {
		copy(p, b.hdr[off:])
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

func (b *body) Read(p []byte) (int, error) {
	if b.off >= b.size {
		return 0, io.EOF
	}
	n, _ := b.ReadAt(p, b.off)
	b.off += int64(n)
	return n, nil
}

func (b *body) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.off
	case io.SeekEnd:
		offset += b.size
	default:
		return 0, errors.New("body: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("body: negative position")
	}
	b.off = offset
	return offset, nil
}

// Len is what is left to read (some clients size bodies with it).
func (b *body) Len() int {
	if b.off >= b.size {
		return 0
	}
	return int(b.size - b.off)
}

// part is bytes [off, off+n) of b as a fresh seekable body.
func (b *body) part(off, n int64) *io.SectionReader { return io.NewSectionReader(b, off, n) }

// drainBufs are drain's read buffers. io.Discard alone reads in 8 KiB
// chunks, each copied out of the transport's read buffer; a read of at
// least that buffer's size goes from the socket into this one directly
// (bufio.Reader skips its own buffer), and the client spends less CPU per
// byte of a large GET, which is the server's to spend.
var drainBufs = sync.Pool{New: func() any { b := make([]byte, drainBuf); return &b }}

const drainBuf = 1 << 20

// drain reads r to its end and returns how many bytes it carried.
func drain(r io.Reader) (int64, error) {
	buf := drainBufs.Get().(*[]byte)
	defer drainBufs.Put(buf)
	return io.CopyBuffer(struct{ io.Writer }{io.Discard}, struct{ io.Reader }{r}, *buf)
}
