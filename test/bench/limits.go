package main

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Limit figure IDs (Who = "limit").
const (
	limDiskWrite    = "a.write"
	limDiskRead     = "a.read"
	limHash         = "b.hash"
	limHTTPPut      = "c.put"
	limHTTPGet      = "c.get"
	limHTTP4K       = "d.put4k"
	limHTTP4KPlain  = "d.put4k.plain"
	limHTTPPutPlain = "c.put.plain"
	limHTTPGetPlain = "c.get.plain"
	limHTTPPutMid   = "c.put.mid8"
	limHTTPGetMid   = "c.get.mid8"
	// The (d) handler serving its 4 KiB files back (ServeContent), taken
	// in turns with the servers' small GETs and HEADs.
	limFileGet4K  = "d.get4k"
	limFileHead4K = "d.head4k"
)

// fileCeilings are the (d) handler's read figures, by the small-object
// workload each bounds, and the short name the table gives them.
var fileCeilings = map[string]struct{ id, short string }{
	figGetSmall:  {limFileGet4K, "d-GET"},
	figHeadSmall: {limFileHead4K, "d-HEAD"},
}

// runLimits measures what the machine allows: (a) disk, (b) hashing,
// (c) a minimal Go HTTP file server, (d) the same with small fsynced files,
// (e) the client's own ceiling on small requests (see limitCeiling).
func (b *bench) runLimits(ctx context.Context) {
	steps := []struct {
		name string
		fn   func(context.Context, string) error
	}{
		{"limits/disk", b.limitDisk},
		{"limits/hash", b.limitHash},
		{"limits/http", b.limitHTTP},
		{"limits/http4k", b.limitHTTP4K},
		{"limits/ceiling", b.limitCeiling},
	}
	for _, st := range steps {
		if !b.want(st.name) || ctx.Err() != nil {
			continue
		}
		if st.name == "limits/ceiling" && b.want("jcsgw/s3/small") && b.want("jcsgw/s3/list") {
			// Taken in turns with the servers, the take that counts; a
			// take apart beforehand was only a note, for a minute of the
			// run's ten. Should the turns fail, it is taken after them.
			logf("== %s: in turns with the servers", st.name)
			continue
		}
		logf("== %s", st.name)
		dir, err := os.MkdirTemp(b.root, "limit-")
		if err == nil {
			err = st.fn(ctx, dir)
			removeAll(dir)
		}
		if err != nil {
			logf("   %s: %v", st.name, err)
			b.res.fail(whoLimit, st.name, err)
		}
	}
}

// limitDisk: (a) write+fsync, then read, of one big file.
func (b *bench) limitDisk(ctx context.Context, dir string) error {
	size := b.cfg.Big
	w := newAcc(whoLimit, limDiskWrite, "(a) disk write+fsync "+sizeLabel(size), "MB/s")
	r := newAcc(whoLimit, limDiskRead, "(a) disk read "+sizeLabel(size)+" (page cache warm)", "MB/s")
	buf := make([]byte, mib)
	for rep := range b.repetitions(w, r) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		path := filepath.Join(dir, fmt.Sprintf("disk-%d", rep))
		m := meterCPU(0)
		t0 := time.Now()
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		src := newBody(nextSeed(), size)
		_, err = io.CopyBuffer(struct{ io.Writer }{f}, src, buf)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		w.sample(mbps(size, time.Since(t0)), m.stop())

		m = meterCPU(0)
		t0 = time.Now()
		if f, err = os.Open(path); err != nil {
			return err
		}
		var n int64
		for {
			k, err := f.Read(buf)
			n += int64(k)
			if err == io.EOF {
				break
			}
			if err != nil {
				f.Close()
				return err
			}
		}
		f.Close()
		if n != size {
			return fmt.Errorf("read %d bytes, want %d", n, size)
		}
		r.sample(mbps(size, time.Since(t0)), m.stop())
		os.Remove(path)
	}
	w.done(b.res)
	r.done(b.res)
	return nil
}

// limitHash: (b) SHA-256 and MD5 fed the same buffers one after the other,
// as jcsgw's digester does, in one pass.
func (b *bench) limitHash(ctx context.Context, _ string) error {
	size := b.cfg.Big
	a := newAcc(whoLimit, limHash, "(b) SHA-256+MD5 one pass "+sizeLabel(size), "MB/s")
	const chunk = 256 * kib
	for range b.repetitions(a) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		m := meterCPU(0)
		t0 := time.Now()
		sh, md := sha256.New(), md5.New()
		for off := int64(0); off < size; off += chunk {
			p := baseBlock[off%blockSize:][:chunk]
			sh.Write(p)
			md.Write(p)
		}
		sh.Sum(nil)
		md.Sum(nil)
		a.sample(mbps(size, time.Since(t0)), m.stop())
	}
	a.done(b.res)
	return nil
}

// fileServer is the minimal Go HTTP handler of limits (c) and (d): PUT
// streams the body to a new file and fsyncs it, GET and HEAD serve it with
// http.ServeContent, DELETE removes it. It runs in a process of its own
// (fileFlag), as every server the bench measures does: in the client's
// process, hand-offs between client and handler are cheaper than any
// server in its own process can have.
type fileServer struct {
	dir string
}

const fileFlag = "-file-serve"

func fileMain(dir string) int { return serveChild(&fileServer{dir: dir}) }

// startFileServer runs the handler over dir in a subprocess.
func startFileServer(dir string) (*proc, error) {
	return startSelf(dir+".log", fileFlag, dir)
}

func (fs *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// An S3 client's path-style /bucket/key names the file bucket_key.
	name := strings.ReplaceAll(strings.TrimPrefix(r.URL.Path, "/"), "/", "_")
	if name == "" || strings.ContainsAny(name, "\\") || strings.HasPrefix(name, ".") {
		http.Error(w, "bad name", http.StatusBadRequest)
		return
	}
	path := filepath.Join(fs.dir, name)
	switch r.Method {
	case http.MethodPut:
		f, err := os.Create(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, err = io.Copy(f, r.Body)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	case http.MethodGet, http.MethodHead:
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		// Named, as S3 names it: without a type ServeContent reads the
		// first 512 bytes to sniff one, and seeks back, on every request.
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, name, st.ModTime(), f)
	case http.MethodDelete:
		os.Remove(path)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "method", http.StatusMethodNotAllowed)
	}
}

// plainPut and plainGet are the limit's client: net/http, nothing else.
func plainPut(ctx context.Context, hc *http.Client, url string, body io.Reader, size int64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, body)
	if err != nil {
		return err
	}
	req.ContentLength = size
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT %s: HTTP %d", url, resp.StatusCode)
	}
	return nil
}

func plainGet(ctx context.Context, hc *http.Client, url string, size int64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := drain(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || n != size {
		return fmt.Errorf("GET %s: HTTP %d, %d bytes, want %d", url, resp.StatusCode, n, size)
	}
	return nil
}

// limitHTTP: (c) PUT then GET of one big file through the minimal handler.
func (b *bench) limitHTTP(ctx context.Context, dir string) error {
	fs, err := startFileServer(dir)
	if err != nil {
		return err
	}
	defer fs.stop()
	// As for (d): the limit is taken with the S3 workloads' client, and the
	// plain net/http client's figures are kept beside it.
	sdk := &server{who: whoLimit, pid: fs.pid, s3: newS3(fs.url, "limit", "limit")}
	hc := &http.Client{Transport: transport()}
	size := b.cfg.Big
	put := newAcc(whoLimit, limHTTPPut, "(c) minimal handler PUT+fsync "+sizeLabel(size)+" (aws-sdk client)", "MB/s")
	get := newAcc(whoLimit, limHTTPGet, "(c) minimal handler GET (ServeContent) "+sizeLabel(size)+" (aws-sdk client)", "MB/s")
	plainP := newAcc(whoLimit, limHTTPPutPlain, "(c) minimal handler PUT+fsync "+sizeLabel(size)+" (plain net/http client)", "MB/s")
	plainG := newAcc(whoLimit, limHTTPGetPlain, "(c) minimal handler GET (ServeContent) "+sizeLabel(size)+" (plain net/http client)", "MB/s")
	meter := sdk.meter
	for rep := range b.repetitions(put, get, plainP, plainG) {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		for _, run := range []struct {
			put, get *acc
			name     string
			doPut    func(*body) error
			doGet    func() error
		}{
			{put, get, fmt.Sprintf("limit_big-%d", rep),
				func(payload *body) error {
					return sdk.put(rctx, "limit", fmt.Sprintf("big-%d", rep), payload, size)
				},
				func() error { return sdk.get(rctx, "limit", fmt.Sprintf("big-%d", rep), size) }},
			{plainP, plainG, fmt.Sprintf("plain-%d", rep),
				func(payload *body) error {
					return plainPut(rctx, hc, fmt.Sprintf("%s/plain-%d", fs.url, rep), payload, size)
				},
				func() error { return plainGet(rctx, hc, fmt.Sprintf("%s/plain-%d", fs.url, rep), size) }},
		} {
			m, t0 := meter(), time.Now()
			err = run.doPut(newBody(nextSeed(), size))
			if err == nil {
				run.put.sample(mbps(size, time.Since(t0)), m.stop())
				err = sampleReads(run.get, size, meter, true, run.doGet)
			}
			os.Remove(filepath.Join(dir, run.name))
			if err != nil {
				break
			}
		}
		cancel()
		if err != nil {
			return err
		}
	}
	for _, a := range []*acc{put, get, plainP, plainG} {
		a.done(b.res)
	}
	return b.limitHTTPConcurrent(ctx, sdk)
}

// limitHTTPConcurrent: (c) as the concurrent workload runs, Streams PUTs of
// Mid-sized files at once, then as many GETs of them; aggregate MB/s. The
// single-stream figure is no limit for it: concurrent GETs went 1.3-1.7×
// past it.
func (b *bench) limitHTTPConcurrent(ctx context.Context, sdk *server) error {
	size, n := b.cfg.Mid, b.cfg.Streams
	label := fmt.Sprintf("%d× %s", n, sizeLabel(size))
	put := newAcc(whoLimit, limHTTPPutMid, "(c) minimal handler PUT+fsync "+label+" concurrent (aws-sdk client)", "MB/s")
	get := newAcc(whoLimit, limHTTPGetMid, "(c) minimal handler GET (ServeContent) "+label+" concurrent (aws-sdk client)", "MB/s")
	for rep := range b.repetitions(put, get) {
		if err := b.concurrentRep(ctx, sdk, "limit", fmt.Sprintf("mid-%d-", rep), put, get); err != nil {
			return err
		}
	}
	put.done(b.res)
	get.done(b.res)
	return nil
}

// limitHTTP4K: (d) 4 KiB PUTs, each a new fsynced file, at fixed concurrency
// for a fixed time.
func (b *bench) limitHTTP4K(ctx context.Context, dir string) error {
	fs, err := startFileServer(dir)
	if err != nil {
		return err
	}
	defer fs.stop()
	size := b.cfg.Small
	label := fmt.Sprintf("(d) minimal handler PUT+fsync %s ×%d", sizeLabel(size), b.cfg.Conc)
	// The limit is taken with the client every S3 workload uses, so that
	// its ratio compares servers and not clients; the SDK costs about
	// 0.2 ms of CPU per request on this machine, which the cores running
	// the server cannot also spend. The plain net/http client's figure is
	// kept beside it for reference.
	sdk := newS3(fs.url, "limit", "limit")
	hc := &http.Client{Transport: transport()}
	a := newAcc(whoLimit, limHTTP4K, label+" (aws-sdk client)", "ops/s")
	plain := newAcc(whoLimit, limHTTP4KPlain, label+" (plain net/http client)", "ops/s")
	var seq atomic.Int64
	for range b.repetitions(a, plain) {
		for _, run := range []struct {
			acc *acc
			put func(ctx context.Context) error
		}{
			{a, func(ctx context.Context) error {
				_, err := sdk.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("limit"),
					Key: aws.String(fmt.Sprintf("small-%d", seq.Add(1))), Body: newBody(nextSeed(), size), ContentLength: aws.Int64(size)})
				return err
			}},
			{plain, func(ctx context.Context) error {
				return plainPut(ctx, hc, fmt.Sprintf("%s/small-%d", fs.url, seq.Add(1)), newBody(nextSeed(), size), size)
			}},
		} {
			m := meterCPU(fs.pid)
			r, err := fixedTime(ctx, b.cfg.Conc, b.cfg.FixedTime, 1_000_000, func(ctx context.Context, _, _ int) error { return run.put(ctx) })
			if err != nil {
				return err
			}
			run.acc.sample(r.rate(), m.stop())
			run.acc.latency(r.lats)
		}
	}
	plain.done(b.res)
	a.done(b.res)
	return nil
}
