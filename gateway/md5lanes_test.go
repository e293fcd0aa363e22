package gateway

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Large uploads streaming at once share the multi-buffer MD5; each still
// gets its own content's ETag.
func TestConcurrentUploadsShareMD5Lanes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, err := f.svc.CreateBucket(ctx, "b")
	require.NoError(t, err)
	const n, size = 6, laneMinSize + 12345
	bodies := make([][]byte, n)
	pipes := make([]*io.PipeWriter, n)
	type result struct {
		i   int
		o   Object
		err error
	}
	done := make(chan result, n)
	for i := range n {
		bodies[i] = randBytes(uint64(100+i), size)
		r, w := io.Pipe()
		pipes[i] = w
		go func() {
			o, err := f.svc.PutKey(ctx, "b", fmt.Sprintf("k%d", i), PutInput{Body: r, Size: size})
			done <- result{i, o, err}
		}()
	}
	// Every upload is inside its copy before any ends: a pipe write
	// returns only once the reader took the bytes.
	half := size / 2
	for i, w := range pipes {
		_, err := w.Write(bodies[i][:half])
		require.NoError(t, err)
	}
	assert.Equal(t, int32(n), f.svc.md5.streams.Load(), "six large streams under way")
	for i, w := range pipes {
		_, err := w.Write(bodies[i][half:])
		require.NoError(t, err)
		w.Close()
	}
	for range n {
		r := <-done
		require.NoError(t, r.err)
		sum := md5.Sum(bodies[r.i])
		assert.Equal(t, hex.EncodeToString(sum[:]), r.o.ETag, "upload %d", r.i)
		assert.Equal(t, bodies[r.i], read(t, f, r.o))
	}
	assert.NotNil(t, f.svc.md5.cur, "the streams past the first took lanes")
	assert.Equal(t, int32(0), f.svc.md5.streams.Load())
	f.svc.Close()
}

// A lone large upload keeps crypto/md5, the faster one for a single stream.
func TestLoneUploadKeepsStandardMD5(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, err := f.svc.CreateBucket(ctx, "b")
	require.NoError(t, err)
	body := randBytes(7, laneMinSize+1)
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := f.svc.PutKey(ctx, "b", "k", PutInput{Body: r, Size: int64(len(body))})
		done <- err
	}()
	_, err = w.Write(body[:1<<20])
	require.NoError(t, err)
	assert.Equal(t, int32(1), f.svc.md5.streams.Load(), "one large stream under way")
	_, err = w.Write(body[1<<20:])
	require.NoError(t, err)
	w.Close()
	require.NoError(t, <-done)
	assert.Nil(t, f.svc.md5.cur, "a lone stream took no lane")
	f.svc.Close()
}

// get says which hashes are a lone crypto/md5: the first large stream's and
// a small body's, not a lane's.
func TestMD5LanesSerial(t *testing.T) {
	var m md5Lanes
	_, serial, done1 := m.get(-1)
	assert.True(t, serial, "the first stream")
	_, serial, done2 := m.get(laneMinSize)
	assert.False(t, serial, "the second stream takes a lane")
	_, serial, done3 := m.get(laneMinSize - 1)
	assert.True(t, serial, "a small body")
	done3()
	done2()
	done1()
	m.close()
}

// A lane server is replaced after lanesPerServer hashes and closed with the
// last of them; every hash still sums its own bytes. (md5-simd v1.1.2 keeps
// polling every hash a server ever served: see laneServer.)
func TestMD5LaneServersRotate(t *testing.T) {
	var m md5Lanes
	m.streams.Store(md5LanesFrom) // others are streaming: every get takes a lane
	type open struct {
		h    hash.Hash
		done func()
		ls   *laneServer
		data []byte
	}
	check := func(o open) {
		t.Helper()
		o.h.Write(o.data)
		want := md5.Sum(o.data)
		assert.Equal(t, want[:], o.h.Sum(nil))
		o.done()
	}
	// One hash of the first server stays open across the rotation.
	first, serial, done := m.get(-1)
	require.False(t, serial, "a lane of the multi-buffer hasher")
	held := open{first, done, m.cur, randBytes(40, 100_000)}
	var servers []*laneServer
	for i := range 3*lanesPerServer - 1 {
		h, _, done := m.get(-1)
		if len(servers) == 0 || servers[len(servers)-1] != m.cur {
			servers = append(servers, m.cur)
		}
		check(open{h, done, m.cur, randBytes(uint64(41+i), 5000+i)})
	}
	require.Len(t, servers, 3, "a new server every %d hashes", lanesPerServer)
	assert.Same(t, held.ls, servers[0])
	assert.NotNil(t, servers[0].srv, "a retired server stays open while a hash of it is")
	assert.Nil(t, servers[1].srv, "a retired server is closed with its last hash")
	check(held)
	assert.Nil(t, servers[0].srv, "closed once its last hash is released")
	assert.NotNil(t, servers[2].srv, "the current server stays open")
	m.close()
	assert.Nil(t, servers[2].srv)
}

// Lanes taken and released from many goroutines while servers rotate each
// still sum their own bytes, and every retired server ends up closed.
func TestMD5LanesConcurrentRotation(t *testing.T) {
	var m md5Lanes
	m.streams.Store(md5LanesFrom)
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[*laneServer]bool{}
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3 * lanesPerServer / 4 {
				data := randBytes(uint64(g*1000+i), 1000+g*97+i)
				h, _, done := m.get(-1)
				m.mu.Lock()
				cur := m.cur
				m.mu.Unlock()
				mu.Lock()
				seen[cur] = true
				mu.Unlock()
				h.Write(data)
				want := md5.Sum(data)
				if !assert.Equal(t, want[:], h.Sum(nil)) {
					done()
					return
				}
				done()
			}
		}()
	}
	wg.Wait()
	m.close()
	require.Greater(t, len(seen), 1, "the servers rotated")
	m.mu.Lock()
	defer m.mu.Unlock()
	for ls := range seen {
		assert.Zero(t, ls.open)
		assert.Nil(t, ls.srv, "every server is closed in the end")
	}
}
