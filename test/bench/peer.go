package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/spf13/afero"
)

// peer is gofakes3 on 127.0.0.1 in this process, over its on-disk afero
// backend (objects are files under a temporary directory), so it pays for
// the disk as jcsgw does. It does not fsync; it keeps multipart parts in
// memory until Complete.
type peer struct {
	srv     *http.Server
	url     string
	backend gofakes3.Backend
}

func startPeer(dir string) (*peer, error) {
	fs := afero.NewBasePathFs(afero.NewOsFs(), dir)
	backend, err := s3afero.MultiBucket(fs)
	if err != nil {
		return nil, err
	}
	faker := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &peer{url: "http://" + l.Addr().String(), backend: backend,
		srv: &http.Server{Handler: faker.Server(), ReadHeaderTimeout: 10 * time.Second}}
	go p.srv.Serve(l)
	return p, nil
}

func (p *peer) close() { p.srv.Close() }

// runPeer runs the S3 workloads against gofakes3.
func (b *bench) runPeer(ctx context.Context) {
	if !b.wantAny(whoPeer+"/") || ctx.Err() != nil {
		return
	}
	dir := filepath.Join(b.root, "gofakes3")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.res.fail(whoPeer, "start", err)
		return
	}
	defer removeAll(dir)
	p, err := startPeer(dir)
	if err != nil {
		b.res.fail(whoPeer, "start", err)
		return
	}
	defer p.close()
	logf("gofakes3 on %s (data %s)", p.url, dir)
	s := &server{who: whoPeer, url: p.url, s3: newS3(p.url, "bench", "bench"), seeder: backendSeeder{p.backend}}
	b.runS3(ctx, s)
}

// backendSeeder creates gofakes3's listing keys by calling its backend
// directly, in this process.
type backendSeeder struct{ be gofakes3.Backend }

func (backendSeeder) how() string { return "direct gofakes3 backend PutObject calls" }

func (backendSeeder) prepare(context.Context, string, []string) error { return nil }

func (s backendSeeder) put(ctx context.Context, bucket string, keys []string) error {
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := s.be.PutObject(bucket, k, map[string]string{}, bytes.NewReader(nil), 0, nil); err != nil {
			return fmt.Errorf("seed %s/%s: %w", bucket, k, err)
		}
	}
	return nil
}
