package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/spf13/afero"
)

// peerFlag makes this program the peer: gofakes3 over its on-disk afero
// backend (objects are files under the given directory, so it pays for the
// disk as jcsgw does; it does not fsync and keeps multipart parts in memory
// until Complete). It runs in a process of its own with Go's default
// collector settings, as gofakes3's server command does. In the bench
// process it shared the client's heap, collector and scheduler: its
// hand-offs with the client were cheaper than any server in its own
// process can have (4 KiB GET 6337/6662 ops/s there against 4447/3134 as a
// subprocess, alternating), its figures moved with the client's state, and
// its CPU could not be told from the client's.
const peerFlag = "-peer-serve"

// seedPath is the peer's own route for creating listing keys by calling its
// backend directly; S3 bucket names cannot start with "_".
const seedPath = "/_bench/seed"

// peerMain serves gofakes3 over dir on a free loopback port, prints its URL
// on stdout and serves until stdin closes (the bench ended) or it is killed.
func peerMain(dir string) int {
	backend, err := s3afero.MultiBucket(afero.NewBasePathFs(afero.NewOsFs(), dir))
	if err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		return 1
	}
	faker := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	s3h := faker.Server()
	mux := http.NewServeMux()
	mux.Handle("/", s3h)
	mux.HandleFunc("POST "+seedPath, func(w http.ResponseWriter, r *http.Request) {
		bucket := r.URL.Query().Get("bucket")
		sc := bufio.NewScanner(r.Body)
		for sc.Scan() {
			if _, err := backend.PutObject(bucket, sc.Text(), map[string]string{}, bytes.NewReader(nil), 0, nil); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		if err := sc.Err(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	return serveChild(mux)
}

// startSelf runs this program with args as a loopback server that prints
// its URL as its first line on stdout and serves until its stdin closes;
// its stderr goes to logPath.
func startSelf(logPath string, args ...string) (*proc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p := &proc{log: logPath, exited: make(chan error, 1)}
	logf2, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(exe, args...)
	p.cmd.Stderr = logf2
	stdin, err := p.cmd.StdinPipe()
	if err != nil {
		logf2.Close()
		return nil, err
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		logf2.Close()
		return nil, err
	}
	// stdin stays open (the closure keeps it) until the child ends.
	if err := p.spawn(func() { stdin.Close(); logf2.Close() }); err != nil {
		logf2.Close()
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("%s did not start: %v (log: %s)", args[0], err, p.tail())
	}
	p.url = strings.TrimSpace(line)
	p.addr = strings.TrimPrefix(p.url, "http://")
	return p, nil
}

// serveChild serves h on a free loopback port for startSelf: the URL on
// stdout, then serving until stdin closes.
func serveChild(h http.Handler) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		return 1
	}
	fmt.Printf("http://%s\n", l.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	io.Copy(io.Discard, os.Stdin)
	srv.Close()
	return 0
}

// startPeer starts gofakes3 in a subprocess over a fresh directory, if any
// of its workloads is to run; stop ends it and removes its data.
func (b *bench) startPeer(ctx context.Context) (s *server, stop func()) {
	stop = func() {}
	if !b.wantAny(whoPeer+"/") || ctx.Err() != nil {
		return nil, stop
	}
	dir := filepath.Join(b.root, "gofakes3")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.res.fail(whoPeer, "start", err)
		return nil, stop
	}
	p, err := startSelf(filepath.Join(b.root, "gofakes3.log"), peerFlag, dir)
	if err != nil {
		removeAll(dir)
		b.res.fail(whoPeer, "start", err)
		return nil, stop
	}
	logf("gofakes3 on %s (data %s, pid %d)", p.url, dir, p.pid)
	var once sync.Once
	stop = func() { once.Do(func() { p.stop(); removeAll(dir) }) }
	return &server{who: whoPeer, url: p.url, pid: p.pid, s3: newS3(p.url, "bench", "bench"), seeder: peerSeeder{url: p.url}}, stop
}

// peerSeeder creates gofakes3's listing keys through its backend, in its
// process: one request per batch of keys.
type peerSeeder struct{ url string }

func (peerSeeder) how() string { return "direct gofakes3 backend PutObject calls" }

func (peerSeeder) prepare(context.Context, string, []string) error { return nil }

func (s peerSeeder) put(ctx context.Context, bucket string, keys []string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+seedPath+"?bucket="+url.QueryEscape(bucket),
		strings.NewReader(strings.Join(keys, "\n")))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("seed %s: %w", bucket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("seed %s: %s: %s", bucket, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
