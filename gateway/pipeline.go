package gateway

import (
	"errors"
	"hash"
	"io"
	"sync"
	"sync/atomic"
)

// copyHashed streams src to dst while d digests the same bytes. Large
// bodies are hashed off the copying goroutine: MD5 on one, SHA-256 and the
// optional checksum on another, so that reading, writing and both hashes
// overlap on different cores. A body that fits in one buffer is hashed in
// place; goroutines would cost more than they save.
//
// size is the body's announced length (-1 if unknown): a small body gets a
// small first buffer, not a megabyte to clear and hand back.
func copyHashed(dst io.Writer, src io.Reader, d *digester, size int64) (int64, error) {
	var first *chunk
	if size >= 0 && size < smallChunk {
		first = getSmallBuf()
	} else {
		first = getBuf()
	}
	n, err := fill(src, first.b)
	if err == io.EOF {
		defer first.release()
		d.Write(first.b[:n])
		if _, werr := dst.Write(first.b[:n]); werr != nil {
			return 0, werr
		}
		return int64(n), nil
	}
	if err != nil {
		first.release()
		return 0, err
	}
	lanes := []chan *chunk{make(chan *chunk, 4), make(chan *chunk, 4)}
	var wg sync.WaitGroup
	run := func(ch chan *chunk, hs ...hash.Hash) {
		defer wg.Done()
		for c := range ch {
			for _, h := range hs {
				h.Write(c.b[:c.n])
			}
			c.release()
		}
	}
	wg.Add(2)
	if d.md5 != nil {
		go run(lanes[0], d.md5)
	} else {
		go run(lanes[0]) // nothing to hash there: the lane just hands buffers back
	}
	if d.ck != nil {
		go run(lanes[1], d.sha, d.ck)
	} else {
		go run(lanes[1], d.sha)
	}
	var total int64
	c := first
	c.n = n
	for {
		if c.n > 0 {
			if _, werr := dst.Write(c.b[:c.n]); werr != nil {
				err = werr
				c.release()
				break
			}
			total += int64(c.n)
			c.refs.Store(2)
			lanes[0] <- c
			lanes[1] <- c
		} else {
			c.release()
		}
		if err != nil {
			break
		}
		c = getBuf()
		c.n, err = fill(src, c.b)
	}
	close(lanes[0])
	close(lanes[1])
	wg.Wait()
	d.n += total
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return total, err
}

// fill reads until b is full, the body ends (io.EOF, however many bytes came
// first) or fails. Unlike io.ReadFull it keeps a body's own
// io.ErrUnexpectedEOF (a cut-off upload) apart from a clean short end.
func fill(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// chunk is a pooled buffer shared by the lanes that still need it.
type chunk struct {
	b    []byte
	n    int
	refs atomic.Int32
	pool *sync.Pool
}

// smallChunk is the buffer size for bodies announced smaller than it.
const smallChunk = 64 << 10

var (
	chunkPool      sync.Pool
	smallChunkPool sync.Pool
)

func init() {
	chunkPool.New = func() any { return &chunk{b: make([]byte, 1<<20), pool: &chunkPool} }
	smallChunkPool.New = func() any { return &chunk{b: make([]byte, smallChunk), pool: &smallChunkPool} }
}

func getBuf() *chunk { return takeChunk(&chunkPool) }

func getSmallBuf() *chunk { return takeChunk(&smallChunkPool) }

func takeChunk(p *sync.Pool) *chunk {
	c := p.Get().(*chunk)
	c.refs.Store(1)
	return c
}

// release gives the buffer back once its last user is done with it.
func (c *chunk) release() {
	if c.refs.Add(-1) == 0 {
		c.n = 0
		c.pool.Put(c)
	}
}
