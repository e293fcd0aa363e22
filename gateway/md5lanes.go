package gateway

import (
	"crypto/md5"
	"hash"
	"sync"
	"sync/atomic"

	md5simd "github.com/minio/md5-simd"
)

// md5Lanes hands out the MD5 hashes of uploads (the S3 ETag). A lone stream
// gets the standard library's, the fastest for one. When another large
// body is already streaming (multipart parts in flight, parallel PUTs) a
// new one gets a lane of one multi-buffer hasher instead, which digests 8
// (AVX2) or 16 (AVX-512) streams in one pass on one core: on this project's
// 2-core machine 8 streams hash at 2.0 GB/s on one core against 0.75 GB/s
// per core for crypto/md5, leaving the other core to SHA-256 and the
// network. MD5 is the costliest digest an upload computes.
type md5Lanes struct {
	streams atomic.Int32 // large bodies being hashed now

	mu  sync.Mutex
	cur *laneServer // where new lanes go; nil until the first
}

// laneServer is one multi-buffer hasher and the lanes it handed out.
//
// md5-simd v1.1.2, the newest release, never forgets a closed hash: its
// server deletes the client with the zero uid instead of the closed one's
// (minio/md5-simd#27, fixed upstream after the release), and every round
// then polls every hash it ever served. Over a long run that starved the
// live lanes: make bench's 8 concurrent 1 GiB PUTs stalled for minutes at
// 37 MiB each after the earlier workloads had used a few thousand lanes.
// So a server hands out at most lanesPerServer hashes and is then
// replaced; it is closed once its last hash is released.
type laneServer struct {
	srv     md5simd.Server
	served  int // hashes handed out
	open    int // of those, not yet released
	retired bool
}

// lanesPerServer bounds the closed hashes a server keeps polling: each
// costs its loop a map step and a receive per round (a round digests up
// to 32 KiB per live lane), and a new server costs 1.5 MiB of buffers.
const lanesPerServer = 64

// md5LanesFrom is how many large streams must be under way, this one
// included, before a new one takes a lane. From the second on: parts in
// flight start and end in waves, and with lanes only from the fourth, the
// first three of each wave took crypto/md5 and a core each (a quarter of
// a multipart upload's bytes). Measured in make bench, 4 runs each: 8
// concurrent 64 MiB PUTs 442-510 -> 518-537 MB/s, with less server CPU.
const md5LanesFrom = 2

// laneMinSize is the smallest announced body that may take a lane; smaller
// ones are over before a lane pays for itself. Unknown sizes (-1) may.
const laneMinSize = 4 << 20

// get returns an MD5 hash for a body of size bytes (-1 if unknown), whether
// it is a lone crypto/md5 (serial) rather than a multi-buffer lane, and the
// function to call once its sum is taken.
func (m *md5Lanes) get(size int64) (h hash.Hash, serial bool, release func()) {
	if size >= 0 && size < laneMinSize {
		return md5.New(), true, func() {}
	}
	n := m.streams.Add(1)
	if n < md5LanesFrom {
		return md5.New(), true, func() { m.streams.Add(-1) }
	}
	m.mu.Lock()
	if m.cur == nil || m.cur.served >= lanesPerServer {
		if m.cur != nil {
			m.cur.retired = true
			m.closeIfDoneLocked(m.cur)
		}
		m.cur = &laneServer{srv: md5simd.NewServer()}
	}
	ls := m.cur
	ls.served++
	ls.open++ // keeps ls.srv open
	m.mu.Unlock()
	lane := ls.srv.NewHash()
	return lane, false, func() {
		lane.Close()
		m.streams.Add(-1)
		m.mu.Lock()
		ls.open--
		m.closeIfDoneLocked(ls)
		m.mu.Unlock()
	}
}

func (m *md5Lanes) closeIfDoneLocked(ls *laneServer) {
	if ls.retired && ls.open == 0 && ls.srv != nil {
		ls.srv.Close()
		ls.srv = nil
	}
}

// close stops the multi-buffer hasher in use, if one was started (a retired
// one stops with its last hash).
func (m *md5Lanes) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur != nil {
		m.cur.retired = true
		m.closeIfDoneLocked(m.cur)
	}
}
