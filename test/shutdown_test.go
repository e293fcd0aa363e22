package test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/require"
)

// pacedBody is a deterministic pseudo-random body of n bytes, hashed as
// it is sent. It sends a chunk every interval, stops once half is sent
// until released, and says when it got there.
type pacedBody struct {
	left, half int64
	rng        *rand.ChaCha8
	sha, md5   hash.Hash
	interval   time.Duration
	halfway    chan struct{}
	release    chan struct{}
	once       sync.Once
}

func newPacedBody(n int64, interval time.Duration) *pacedBody {
	return &pacedBody{
		left: n, half: n / 2, rng: rand.NewChaCha8([32]byte{'j', 'c', 's'}),
		sha: sha256.New(), md5: md5.New(), interval: interval,
		halfway: make(chan struct{}), release: make(chan struct{}),
	}
}

func (b *pacedBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	if b.left <= b.half {
		b.once.Do(func() { close(b.halfway) })
		<-b.release
	}
	time.Sleep(b.interval)
	n := min(int64(len(p)), b.left, 256<<10)
	if b.left > b.half {
		n = min(n, b.left-b.half)
	}
	b.rng.Read(p[:n])
	b.sha.Write(p[:n])
	b.md5.Write(p[:n])
	b.left -= n
	return int(n), nil
}

// TestShutdownFinishesUploadsInFlight starts a 100 MiB S3 PUT, shuts the
// server down while it is half sent, and checks that new connections are
// refused from then on, that the upload still completes with 200, and that
// the object is byte-exact after a restart on the same data dir.
func TestShutdownFinishesUploadsInFlight(t *testing.T) {
	s := StartServer(t, nil)
	s3OK(t, s3Do(t, s, http.MethodPut, "/shut", nil, nil, nil, 0))

	const size = 100 << 20
	body := newPacedBody(size, time.Millisecond)
	req, err := http.NewRequest(http.MethodPut, s.URL+"/shut/big.bin", io.NopCloser(body))
	require.NoError(t, err)
	req.ContentLength = size
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	creds := aws.Credentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey}
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()))
	type result struct {
		status int
		etag   string
		body   []byte
		err    error
	}
	done := make(chan result, 1)
	client := &http.Client{Transport: &http.Transport{}}
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{status: resp.StatusCode, etag: resp.Header.Get("ETag"), body: b}
	}()

	select {
	case <-body.halfway:
	case r := <-done:
		t.Fatalf("the upload ended before it was half sent: %+v", r)
	case <-time.After(time.Minute):
		t.Fatal("the upload did not get halfway in a minute")
	}
	shutdown := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shutdown <- s.Jcsgw().Shutdown(ctx)
	}()

	// From the moment shutdown begins, the listener is gone.
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 10*time.Second, 5*time.Millisecond, "new connections are still accepted")
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	_, err = fresh.Get(s.URL + "/healthz")
	require.Error(t, err, "a new connection was served during shutdown")
	select {
	case err := <-shutdown:
		t.Fatalf("shutdown returned with an upload in flight: %v", err)
	default:
	}

	// The rest of the body goes through, and the upload succeeds.
	close(body.release)
	var r result
	select {
	case r = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the upload did not finish")
	}
	require.NoError(t, r.err)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, `"`+hex.EncodeToString(body.md5.Sum(nil))+`"`, r.etag)
	require.NoError(t, <-shutdown)

	// The harness's bookkeeping of the stopped server, then a new server
	// over the same data dir and address.
	require.NoError(t, <-s.done)
	s.srv = nil
	s.HTTP.CloseIdleConnections()
	s.Restart()

	resp := s3Do(t, s, http.MethodGet, "/shut/big.bin", nil, nil, nil, 0)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, strconv.Itoa(size), resp.Header.Get("Content-Length"))
	got := sha256.New()
	n, err := io.Copy(got, resp.Body)
	require.NoError(t, err)
	require.Equal(t, int64(size), n)
	require.True(t, bytes.Equal(body.sha.Sum(nil), got.Sum(nil)), "the object read back differs from what was sent")
}
