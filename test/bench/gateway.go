package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// jcsgw-only figure IDs.
const (
	figV1Put   = "v1.put.big"
	figV1Get   = "v1.get.big"
	figRSS     = "rss.vmrss"
	figHWM     = "rss.vmhwm"
	figRSSPut  = "rss.put"
	figRSSBase = "rss.idle"
	figRSSAnon = "rss.anon"
)

// startJcsgw builds jcsgw (unless -server-bin names it) and runs it as a
// subprocess over a fresh data dir, if any of its workloads is to run.
func (b *bench) startJcsgw(ctx context.Context) (g *gwServer, stop func()) {
	stop = func() {}
	if !b.wantAny(whoGW+"/") || ctx.Err() != nil {
		return nil, stop
	}
	dir := filepath.Join(b.root, "jcsgw")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.res.fail(whoGW, "start", err)
		return nil, stop
	}
	bin := b.cfg.ServerBin
	if bin == "" {
		b.res.Build = sourceVersion(ctx)
		logf("building ./cmd/jcsgw (%s)", b.res.Build)
		var err error
		if bin, err = buildJcsgw(ctx, dir); err != nil {
			removeAll(dir)
			b.res.fail(whoGW, "build", err)
			return nil, stop
		}
	}
	g = &gwServer{dir: dir, bin: bin, server: server{who: whoGW}}
	g.recover = g.restart
	if err := g.start(ctx); err != nil {
		removeAll(dir)
		b.res.fail(whoGW, "start", err)
		return nil, stop
	}
	return g, func() { g.stop(); removeAll(dir) }
}

// runJcsgwOnly measures jcsgw's memory during concurrent uploads, which
// only jcsgw is measured on.
func (b *bench) runJcsgwOnly(ctx context.Context, g *gwServer) {
	s := &g.server
	b.step(ctx, s, "jcsgw/rss", func() error { return b.peakRSS(ctx, s, g.p) })
	if m, err := g.p.memory(); err == nil {
		logf("jcsgw memory now: VmRSS %.1f MiB (anonymous %.1f MiB), VmHWM %.1f MiB", float64(m.rss)/mib, float64(m.anon)/mib, float64(m.hwm)/mib)
	}
}

// gwServer is the jcsgw subprocess behind a server; restart replaces it
// with a fresh one over a new data directory.
type gwServer struct {
	server
	dir, bin string
	data     string // the current data directory
	p        *proc
	gen      int
}

func (g *gwServer) start(ctx context.Context) error {
	g.gen++
	g.data = filepath.Join(g.dir, fmt.Sprintf("data-%d", g.gen))
	p, err := startJcsgw(ctx, g.bin, g.data, filepath.Join(g.dir, fmt.Sprintf("jcsgw-%d.log", g.gen)))
	if err != nil {
		return err
	}
	g.p = p
	g.url, g.ak, g.sk, g.pid = p.url, p.ak, p.sk, p.pid
	g.s3 = newS3(p.url, p.ak, p.sk)
	g.seeder = &jcsSeeder{c: newJCS(p.url, p.ak, p.sk), pkgs: map[string]int64{}}
	logf("jcsgw pid %d on %s (data %s)", p.pid, p.url, g.data)
	return nil
}

func (g *gwServer) stop() {
	if g.p == nil {
		return
	}
	m, err := g.p.memory()
	g.p.stop()
	if err == nil {
		logf("jcsgw pid %d stopped (VmHWM of its life %.1f MiB)", g.p.pid, float64(m.hwm)/mib)
	}
	if tail := g.p.tail(); tail != "" {
		logf("jcsgw log tail:\n%s", lastLines(tail, 6))
	}
	removeAll(g.data)
	g.p = nil
}

func (g *gwServer) restart(ctx context.Context) error {
	g.stop()
	return g.start(ctx)
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// jcsSeeder creates listing keys through /v1: explicit packages, then
// upload forms of many 0-byte files each (one commit per form).
type jcsSeeder struct {
	c    *jcsClient
	mu   sync.Mutex
	pkgs map[string]int64 // bucket/package → packageID
}

const filesPerForm = 1000

func (j *jcsSeeder) how() string {
	return fmt.Sprintf("/v1 upload forms of %d 0-byte files", filesPerForm)
}

func (j *jcsSeeder) prepare(ctx context.Context, bucket string, packages []string) error {
	bid, err := j.c.bucketID(ctx, bucket)
	if err != nil {
		return err
	}
	for _, p := range packages {
		id, err := j.c.createPackage(ctx, bid, p)
		if err != nil {
			return err
		}
		j.mu.Lock()
		j.pkgs[bucket+"/"+p] = id
		j.mu.Unlock()
	}
	return nil
}

func (j *jcsSeeder) put(ctx context.Context, bucket string, keys []string) error {
	byPkg := map[string][]string{}
	for _, k := range keys {
		p, path, _ := strings.Cut(k, "/")
		byPkg[p] = append(byPkg[p], path)
	}
	for p, paths := range byPkg {
		j.mu.Lock()
		id, ok := j.pkgs[bucket+"/"+p]
		j.mu.Unlock()
		if !ok {
			return fmt.Errorf("seed: package %s/%s was not prepared", bucket, p)
		}
		if err := j.c.uploadEmpty(ctx, id, paths); err != nil {
			return err
		}
	}
	return nil
}

// v1Single: the single-stream workload through /v1 (multipart-form upload,
// download by objectID).
func (b *bench) v1Single(ctx context.Context, s *server) error {
	c := newJCS(s.url, s.ak, s.sk)
	size := b.cfg.Big
	put := b.newAcc(s.who, figV1Put, "/v1 upload "+sizeLabel(size), "MB/s")
	get := b.newAcc(s.who, figV1Get, "/v1 download "+sizeLabel(size), "MB/s")
	for rep := range b.repetitions(put, get) {
		// A bucket per repetition: with servers taking turns, each call
		// runs one.
		bucket, pkg := fmt.Sprintf("bench-v1-%d", rep), "big"
		bid, err := c.createBucket(ctx, bucket)
		if err != nil {
			return err
		}
		pid, err := c.createPackage(ctx, bid, pkg)
		if err != nil {
			return err
		}
		path := fmt.Sprintf("dir/obj-%d.bin", rep)
		rctx, cancel := context.WithTimeout(ctx, transferTimeout(2*size))
		m, t0 := s.meter(), time.Now()
		id, err := c.upload(rctx, pid, path, newBody(nextSeed(), size), size)
		if err == nil {
			put.sample(mbps(size, time.Since(t0)), m.stop())
			err = sampleReads(get, size, s.meter, true, func() error { return c.download(rctx, id, size) })
		}
		cancel()
		if err != nil {
			return err
		}
		if err := s.del(ctx, bucket, pkg+"/"+path); err != nil {
			return err
		}
	}
	put.done(b.res)
	get.done(b.res)
	return nil
}

// settle waits, at most settleMax, until the server's VmRSS has moved less
// than a MiB in settleFor, and returns its memory then. The uploads are to
// be measured from what the server holds at rest, not with what the
// workload before them left: the growth to 1,000,000 keys left 118-126
// MiB of heap, which the server (or else Go's scavenger, over tens of
// seconds) gives back once it is idle.
func settle(ctx context.Context, p *proc) (memInfo, error) {
	const settleFor, settleMax, step = 3 * time.Second, 15 * time.Second, 500 * time.Millisecond
	m, err := p.memory()
	if err != nil {
		return m, err
	}
	start := time.Now()
	ref, refAt := m, start
	for time.Since(refAt) < settleFor && time.Since(start) < settleMax {
		select {
		case <-ctx.Done():
			return m, ctx.Err()
		case <-time.After(step):
		}
		if m, err = p.memory(); err != nil {
			return m, err
		}
		if d := m.rss - ref.rss; d > mib || d < -mib {
			ref, refAt = m, time.Now()
		}
	}
	logf("   VmRSS %.1f MiB at rest (moved less than 1 MiB in %v) after %v", float64(m.rss)/mib, settleFor, time.Since(start).Round(100*time.Millisecond))
	return m, nil
}

// peakRSS: Streams concurrent S3 PUTs of Big objects while /proc/PID/status
// is sampled every 50 ms (VmHWM is reset first, so it covers this workload),
// Reps times. Each repetition writes Streams × Big (8 GiB, about 16 s), so
// three pass the repetition cap meant for short workloads; the cap is not
// applied here, as every figure is the median of Reps repetitions.
func (b *bench) peakRSS(ctx context.Context, s *server, p *proc) error {
	const bucket = "bench-big"
	if err := s.ensureBucket(ctx, bucket); err != nil {
		return err
	}
	size, n := b.cfg.Big, b.cfg.Streams
	label := fmt.Sprintf("%d× %s", n, sizeLabel(size))
	mem := func(id, name string) *acc { return newAcc(whoGW, id, name, "MiB").lowerBetter() }
	base := mem(figRSSBase, "VmRSS before the uploads")
	anon := mem(figRSSAnon, "peak RssAnon (heap, no mmap) during "+label+" S3 PUTs")
	rss := mem(figRSS, "peak VmRSS during "+label+" S3 PUTs (50 ms samples)")
	hwm := mem(figHWM, "VmHWM during "+label+" S3 PUTs")
	put := newAcc(whoGW, figRSSPut, "S3 PUT "+label+" concurrent (during the RSS watch)", "MB/s")
	for rep := range b.cfg.Reps {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		idle, err := settle(ctx, p)
		if err != nil {
			return err
		}
		if err := p.resetPeak(); err != nil {
			logf("   cannot reset VmHWM (%v): it covers the whole run", err)
		}
		var (
			maxRSS, maxAnon int64
			wg              sync.WaitGroup
		)
		stop := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for {
				if m, err := p.memory(); err == nil {
					maxRSS, maxAnon = max(maxRSS, m.rss), max(maxAnon, m.anon)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		key := func(i int) string { return fmt.Sprintf("rss/r%d-obj-%d", rep, i) }
		rctx, cancel := context.WithTimeout(ctx, transferTimeout(size*int64(n)))
		m, t0 := s.meter(), time.Now()
		err = parallel(n, func(i int) error { return s.put(rctx, bucket, key(i), newBody(nextSeed(), size), size) })
		d, u := time.Since(t0), m.stop()
		cancel()
		close(stop)
		wg.Wait()
		end, merr := p.memory()
		parallel(n, func(i int) error { return s.del(ctx, bucket, key(i)) })
		if err != nil {
			return err
		}
		if merr != nil {
			return merr
		}
		base.sample(float64(idle.rss)/mib, u)
		anon.sample(float64(maxAnon)/mib, u)
		rss.sample(float64(maxRSS)/mib, u)
		hwm.sample(float64(end.hwm)/mib, u)
		put.sample(mbps(size*int64(n), d), u)
	}
	for _, a := range []*acc{base, anon, rss, hwm, put} {
		a.done(b.res)
	}
	return nil
}
