package gateway

import (
	"errors"
	"hash"
	"io"
	"sync"
	"sync/atomic"
)

// copyHashed streams src to dst while d digests the same bytes. Large
// bodies go through three lanes, each a goroutine: dst's writes, MD5, and
// SHA-256 with the optional checksum. The reading goroutine only reads, so
// reading the network, writing the disk and both hashes overlap on
// different cores, and a write that waits on the disk does not stall the
// socket. A body that fits in one buffer is handled in place; goroutines
// would cost more than they save.
//
// size is the body's announced length (-1 if unknown): a small body gets a
// small first buffer, not a large one to clear and hand back.
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
	const (
		laneWrite = iota
		laneMD5
		laneSHA
		nLanes
	)
	var lanes [nLanes]chan *chunk
	for i := range lanes {
		// One queued chunk per lane keeps every lane busy; more only hold
		// memory: a chunk lives until its slowest lane is done, and the
		// multi-buffer MD5 lane lags while it gathers streams. Measured
		// with make bench, 2 runs each: queues of 1 and 512 KiB chunks
		// (instead of 2 and 1 MiB) gave the same large PUT rates within
		// noise, and TestS3LargeMultipartBoundedHeap peaks at 71-74 MiB
		// instead of 88-101. The exception is a lone crypto/md5 lane, the
		// upload's critical path (serialMD5Queue).
		depth := 1
		if i == laneMD5 && d.md5Serial {
			depth = serialMD5Queue
		}
		lanes[i] = make(chan *chunk, depth)
	}
	var wg sync.WaitGroup
	hashLane := func(ch chan *chunk, hs ...hash.Hash) {
		defer wg.Done()
		for c := range ch {
			for _, h := range hs {
				if h != nil {
					h.Write(c.b[:c.n])
				}
			}
			c.release()
		}
	}
	// The write lane keeps the first error and drops what comes after it;
	// the reader sees failed and stops.
	var failed atomic.Bool
	var werr error
	writeLane := func(ch chan *chunk) {
		defer wg.Done()
		for c := range ch {
			if werr == nil {
				if _, werr = dst.Write(c.b[:c.n]); werr != nil {
					failed.Store(true)
				}
			}
			c.release()
		}
	}
	wg.Add(nLanes)
	go writeLane(lanes[laneWrite])
	go hashLane(lanes[laneMD5], d.md5)
	go hashLane(lanes[laneSHA], d.sha, d.ck)
	var total int64
	c := first
	c.n = n
	for {
		if c.n > 0 {
			total += int64(c.n)
			c.refs.Store(nLanes)
			for _, l := range lanes {
				l <- c
			}
		} else {
			c.release()
		}
		if err != nil || failed.Load() {
			break
		}
		c = getBuf()
		c.n, err = fill(src, c.b)
	}
	for _, l := range lanes {
		close(l)
	}
	wg.Wait()
	d.n += total
	if werr != nil {
		return total, werr
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return total, err
}

// serialMD5Queue is the MD5 lane's queue when that lane hashes a lone
// stream with crypto/md5: then it is the upload's critical path (MD5 of one
// stream is serial, about 2 s of a core per GiB here, more than any other
// lane), and with one queued chunk it ran dry whenever the reader waited
// for a CPU, which on two busy cores was often (scheduler delay: 0.7 s per
// GiB in an execution trace). Eight chunks (4 MiB) let it run on meanwhile:
// 1 GiB S3 PUTs, the two builds alternating, 24 each: median 412 -> 432
// MB/s, faster in 5 of 6 rounds (an earlier set with the depth as a switch,
// 12 each: 357 -> 398); 16 gave the same as 8. A multi-buffer lane
// keeps one: it lags while it gathers streams, and 8 concurrent uploads
// would hold 32 MiB more.
const serialMD5Queue = 8

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

// chunkSize is the buffer an upload is read into and handed to the lanes.
const chunkSize = 512 << 10

// smallChunk is the buffer size for bodies announced smaller than it.
const smallChunk = 64 << 10

var (
	chunkPool      sync.Pool
	smallChunkPool sync.Pool
)

func init() {
	chunkPool.New = func() any { return &chunk{b: make([]byte, chunkSize), pool: &chunkPool} }
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
