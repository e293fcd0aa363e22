package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
)

// A server killed (SIGKILL) in the middle of concurrent PUTs, overwrites
// and DELETEs keeps every write it acknowledged, and only those: after a
// restart on the same data directory each key holds its last acknowledged
// content, byte for byte, or is gone if that was a DELETE; a key whose
// request was cut off by the kill holds either its state before that
// request or the one it asked for; and a listing shows exactly the keys
// that exist. Three kills in a row, so that a log already replayed once is
// replayed again with new records after it. (A kill keeps the page cache,
// so this checks what the server writes and replays, not the disk's
// flushes.)
func TestKillKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a server process")
	}
	bin := filepath.Join(t.TempDir(), "jcsgw")
	build := exec.Command("go", "build", "-o", bin, "./cmd/jcsgw")
	build.Dir = ".."
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	data := t.TempDir()
	const ak, sk = "CRASHTESTKEY", "crash-test-secret-key"

	type state struct {
		body    []byte // nil: deleted (or never written)
		present bool
	}
	acked := map[string]state{}   // the last acknowledged state of each key
	pending := map[string]state{} // a request in flight: the state it asks for
	var mu sync.Mutex

	for round := range 3 {
		srv := startProcess(t, bin, data, ak, sk)
		cl := processClient(srv.url, ak, sk)
		ctx := context.Background()
		if round == 0 {
			_, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("crash")})
			require.NoError(t, err)
		}
		// Everything acknowledged before, and nothing else, is there.
		verify := func() {
			mu.Lock()
			defer mu.Unlock()
			for key := range pending {
				if _, known := acked[key]; !known {
					acked[key] = state{} // a first write: absent unless it took effect
				}
			}
			listed := map[string]bool{}
			p := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: aws.String("crash")})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				require.NoError(t, err)
				for _, o := range page.Contents {
					listed[aws.ToString(o.Key)] = true
				}
			}
			for key, want := range acked {
				got, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("crash"), Key: aws.String(key)})
				var body []byte
				if err == nil {
					body, err = io.ReadAll(got.Body)
					got.Body.Close()
					require.NoError(t, err)
				}
				present := err == nil
				ok := present == want.present && (!present || bytes.Equal(body, want.body))
				if p, inFlight := pending[key]; !ok && inFlight {
					ok = present == p.present && (!present || bytes.Equal(body, p.body))
					if ok {
						acked[key] = p // the cut-off request took effect
					}
				}
				require.True(t, ok, "round %d: key %s: present %v (%d bytes), acknowledged present %v (%d bytes)",
					round, key, present, len(body), want.present, len(want.body))
				require.Equal(t, present, listed[key], "round %d: key %s listed", round, key)
				delete(listed, key)
			}
			require.Empty(t, listed, "round %d: listed keys nobody acknowledged", round)
			clear(pending)
		}
		if round > 0 {
			verify()
		}

		// Sixteen writers, each on keys of its own, until the kill.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					key := fmt.Sprintf("w%02d/k%03d", w, rng.IntN(40))
					next := state{present: true}
					if rng.IntN(4) == 0 {
						next = state{}
					} else if rng.IntN(3) > 0 {
						next.body = make([]byte, []int{0, 4096, 200 << 10}[rng.IntN(3)])
						for j := range next.body {
							next.body[j] = byte(rng.Uint32())
						}
					} else {
						next.body = []byte{}
					}
					mu.Lock()
					pending[key] = next
					mu.Unlock()
					var err error
					if next.present {
						_, err = cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("crash"), Key: aws.String(key),
							Body: bytes.NewReader(next.body), ContentLength: aws.Int64(int64(len(next.body)))})
					} else {
						_, err = cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("crash"), Key: aws.String(key)})
					}
					if err != nil {
						return // the kill: this request stays pending
					}
					mu.Lock()
					acked[key] = next
					delete(pending, key)
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(700+300*round) * time.Millisecond)
		srv.kill(t)
		close(stop)
		wg.Wait()
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		require.Greater(t, n, 100, "round %d: too few writes to tell anything", round)
		if round == 2 {
			srv = startProcess(t, bin, data, ak, sk)
			cl = processClient(srv.url, ak, sk)
			verify()
			srv.kill(t)
		}
	}
}

type process struct {
	cmd *exec.Cmd
	url string
}

// startProcess runs the jcsgw binary on data and waits until it answers.
func startProcess(t *testing.T, bin, data, ak, sk string) *process {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve", "-addr", addr, "-data", data)
	cmd.Env = append(os.Environ(), "JCSGW_ACCESS_KEY="+ak, "JCSGW_SECRET_KEY="+sk)
	logf, err := os.OpenFile(filepath.Join(data, "..", fmt.Sprintf("server-%d.log", time.Now().UnixNano())), os.O_CREATE|os.O_WRONLY, 0o600)
	require.NoError(t, err)
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	p := &process{cmd: cmd, url: "http://" + addr}
	t.Cleanup(func() { p.kill(t) })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(p.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		require.True(t, time.Now().Before(deadline), "the server did not start: %v", err)
	}
}

func (p *process) kill(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("kill: %v", err)
	}
	p.cmd.Wait()
}

func processClient(url, ak, sk string) *s3.Client {
	return s3.New(s3.Options{
		Region:                     "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider(ak, sk, ""),
		BaseEndpoint:               aws.String(url),
		UsePathStyle:               true,
		Retryer:                    aws.NopRetryer{},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		HTTPClient:                 &http.Client{Timeout: 30 * time.Second},
	})
}
