package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3 figure IDs; the same ID on gofakes3 and jcsgw is the same workload.
const (
	figPutBig    = "s3.put.big"
	figGetBig    = "s3.get.big"
	figPutMid    = "s3.put.mid8"
	figGetMid    = "s3.get.mid8"
	figMPU       = "s3.mpu.big"
	figPutSmall  = "s3.put.small"
	figGetSmall  = "s3.get.small"
	figHeadSmall = "s3.head.small"
	figDelSmall  = "s3.del.small"
	figListFlat  = "s3.list.flat"
	figListDelim = "s3.list.delim"
	figFirst10k  = "s3.first.10k"
	figFirst100k = "s3.first.100k"
	figFirst1M   = "s3.first.1m"
	figSeed      = "s3.seed" // 0-byte PUT rate while creating the listing keys (information)
)

// workloads are every workload name, for -only.
var workloads = []string{
	"limits/disk", "limits/hash", "limits/http", "limits/http4k",
	"gofakes3/s3/single", "gofakes3/s3/concurrent", "gofakes3/s3/multipart", "gofakes3/s3/small", "gofakes3/s3/list",
	"jcsgw/s3/single", "jcsgw/s3/concurrent", "jcsgw/s3/multipart", "jcsgw/s3/small", "jcsgw/s3/list",
	"jcsgw/v1/single", "jcsgw/rss",
}

// wantAny tells whether any workload starting with prefix is to run.
func (b *bench) wantAny(prefix string) bool {
	for _, w := range workloads {
		if strings.HasPrefix(w, prefix) && b.want(w) {
			return true
		}
	}
	return false
}

// smallRequestTimeout bounds one small request.
const smallRequestTimeout = 30 * time.Second

// smallMaxOps bounds one fixed-time small-object loop.
const smallMaxOps = 2_000_000

// transferTimeout bounds moving n bytes: 30 s plus n at 25 MB/s, a rate
// far below what any server here should reach, so that a stuck server costs
// little time.
func transferTimeout(n int64) time.Duration {
	return 30*time.Second + time.Duration(float64(n)/25e6*float64(time.Second))
}

// runServers runs gofakes3 and jcsgw side by side (each in a process of its
// own) and the workloads that -only selects against them: the S3 ones on
// both, taking turns where they repeat cleanly, then jcsgw's own.
func (b *bench) runServers(ctx context.Context) {
	peer, stopPeer := b.startPeer(ctx)
	defer stopPeer()
	gw, stopGW := b.startJcsgw(ctx)
	defer stopGW()
	var servers []*server
	if peer != nil {
		servers = append(servers, peer)
	}
	var stopNulls []func()
	for _, durable := range []bool{false, true} {
		if null, stop := b.nullForTurns(ctx, durable); null != nil {
			defer stop() // stop may run twice: it waits once
			servers, stopNulls = append(servers, null), append(stopNulls, stop)
		}
	}
	if files, stop := b.filesForTurns(ctx); files != nil {
		defer stop()
		servers = append(servers, files)
	}
	if gw != nil {
		servers = append(servers, &gw.server)
	}
	b.takeTurns(ctx, servers, [][]workload{
		// jcsgw's /v1 transfers are set beside gofakes3's S3 ones, so
		// they take the same turns, and come first: each turn runs jcsgw's
		// /v1, gofakes3's S3, jcsgw's S3, so that gofakes3's figure, which
		// both are held against, sits next to each of them in time.
		{{name: "v1/single", fn: b.v1Single, only: whoGW}, {name: "s3/single", fn: b.s3Single}},
		{{name: "s3/concurrent", fn: b.s3Concurrent}},
		{{name: "s3/multipart", fn: b.s3Multipart}},
		{{name: "s3/small", fn: b.s3Small, limit: true}, {name: "s3/small", fn: b.fileSmall, files: true},
			{name: "s3/small", fn: b.durableDeletes, durable: true}},
	})
	// The listing keys: the servers take turns at the timed S3 PUTs that
	// make the first ones, then each makes the rest through its fast
	// seeder (gofakes3 first), then they take turns paging through them.
	for _, s := range servers {
		if s.who != whoLimit {
			b.step(ctx, s, s.who+"/s3/list", func() error { return b.s3ListPrepare(ctx, s) })
		}
	}
	b.takeTurns(ctx, servers, [][]workload{{{name: "s3/list", fn: b.s3ListSeed, limit: true, durable: true}}})
	for _, s := range servers {
		if s.who != whoLimit {
			b.step(ctx, s, s.who+"/s3/list", func() error { return b.s3ListSetup(ctx, s) })
		}
	}
	b.takeTurns(ctx, servers, [][]workload{{{name: "s3/list", fn: b.s3ListPaging, limit: true}}})
	for _, stop := range stopNulls {
		stop()
	}
	stopPeer()
	if gw != nil {
		b.step(ctx, &gw.server, gw.who+"/s3/list", func() error { return b.s3ListLarge(ctx, &gw.server) })
		b.runJcsgwOnly(ctx, gw)
	}
}

// nullForTurns starts the handler that stores nothing for the turns, when
// limit (e) is measured (with durable, the one that logs each change
// durably: limit e′); nil if it is not or cannot start.
func (b *bench) nullForTurns(ctx context.Context, durable bool) (*server, func()) {
	if !b.want("limits/ceiling") || ctx.Err() != nil {
		return nil, nil
	}
	s, stop, err := b.startNull(durable)
	if err != nil {
		what := "limits/ceiling (in turns)"
		if durable {
			what = "limits/ceiling durable (in turns)"
		}
		b.res.fail(whoLimit, what, err)
		return nil, nil
	}
	return s, stop
}

// filesForTurns starts the (d) handler over a directory of its own for its
// turns at the small GETs and HEADs, when limit (d) is measured; nil if it
// is not or cannot start.
func (b *bench) filesForTurns(ctx context.Context) (*server, func()) {
	if !b.want("limits/http4k") || !b.want("jcsgw/s3/small") || ctx.Err() != nil {
		return nil, nil
	}
	dir := filepath.Join(b.root, "files-turns")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.res.fail(whoLimit, "limits/http4k (in turns)", err)
		return nil, nil
	}
	p, err := startFileServer(dir)
	if err != nil {
		b.res.fail(whoLimit, "limits/http4k (in turns)", err)
		return nil, nil
	}
	return &server{who: whoLimit, files: true, url: p.url, pid: p.pid, s3: newS3(p.url, "limit", "limit")}, p.stop
}

// workload is one workload, run against any server or only one.
type workload struct {
	name string
	fn   func(context.Context, *server) error
	only string // who, if not every server
	// limit: the handler that stores nothing (limit e) takes its turns
	// too, so that the ceiling that bounds the servers' figures is taken
	// in their minutes.
	limit bool
	// files: the workload runs on the (d) handler's turn only, and the
	// others never do.
	files bool
	// durable: limit (e′)'s handler takes its turn at it; it takes no
	// other.
	durable bool
}

// takeTurns runs each group's repetitions on the servers in turn
// (gofakes3's first, then jcsgw's first, then the second of each...; a
// group's workloads one after the other in each repetition), so that both
// servers' figures come from the same minutes: the machine's speed drifts
// by a third within minutes, and with every gofakes3 figure taken before
// every jcsgw one a drift moved all the ratios together. A server whose
// repetitions of a workload pass RepCap runs no more of them.
func (b *bench) takeTurns(ctx context.Context, servers []*server, groups [][]workload) {
	b.oneRep = true
	defer func() {
		b.oneRep = false
		for _, a := range b.accs {
			a.gathering = false
			if a.f.Who == whoLimit {
				b.inTurns(a)
			} else {
				a.done(b.res)
			}
		}
		b.accs = nil
	}()
	type turn struct {
		w workload
		s *server
	}
	for _, group := range groups {
		var turns []turn
		for _, w := range group {
			for _, s := range servers {
				// The (d) handler runs its own workload only; limit (e)
				// runs those marked limit, limit (e′) those marked
				// durable; a workload for limit (e′) alone is marked
				// neither limit nor for a server.
				if s.durable {
					if !w.durable {
						continue
					}
				} else if s.files != w.files || (s.who == whoLimit && !s.files && !w.limit) || (w.durable && !w.limit && s.who != whoLimit) {
					continue
				}
				if w.only == "" || w.only == s.who {
					turns = append(turns, turn{w, s})
				}
			}
		}
		spent, reps := make([]time.Duration, len(turns)), make([]int, len(turns))
		mine := make([][]*acc, len(turns)) // the figures each turn began
		for rep := range b.cfg.Reps {
			for i, t := range turns {
				if rep > 0 && spent[i] > b.cfg.RepCap {
					for _, a := range mine[i] {
						a.note("%d of %d repetitions (time cap %v)", reps[i], b.cfg.Reps, b.cfg.RepCap)
					}
					continue
				}
				b.rep = rep
				n, t0 := len(b.accs), time.Now()
				b.step(ctx, t.s, t.s.who+"/"+t.w.name, func() error { return t.w.fn(ctx, t.s) })
				spent[i] += time.Since(t0)
				reps[i]++
				mine[i] = append(mine[i], b.accs[n:]...)
			}
		}
	}
}

// wanted tells whether -only selects a server's step. A limit's turn goes
// with the turns of the servers it bounds: -only 'limits/ceiling|jcsgw/s3/small'
// takes limit (e) in turns with jcsgw's small-object workload.
func (b *bench) wanted(s *server, name string) bool {
	if s.who != whoLimit {
		return b.want(name)
	}
	_, rest, _ := strings.Cut(name, "/")
	return b.want(whoGW+"/"+rest) || b.want(whoPeer+"/"+rest)
}

// step runs one workload if -only selects it and records its failure; after
// a failure the server is replaced by a fresh one if it can be.
func (b *bench) step(ctx context.Context, s *server, name string, fn func() error) {
	if !b.wanted(s, name) || ctx.Err() != nil {
		return
	}
	// gofakes3 writes without fsync: what it left dirty (200,000 listing
	// keys' files, say) would be written back during the next workload,
	// by kernel threads whose CPU no figure shows, on another server's
	// time. A delimiter listing of jcsgw's ran at 41-56k keys/s right
	// after gofakes3's listing, against 65-91k otherwise.
	syscall.Sync()
	logf("== %s", name)
	t0 := time.Now()
	err := parallel(1, func(int) error { return fn() }) // turns a panic into an error
	logf("   %s took %.1fs", name, time.Since(t0).Seconds())
	if err == nil {
		return
	}
	logf("   %s failed: %v", name, err)
	who, rest, _ := strings.Cut(name, "/")
	b.res.fail(who, rest, err)
	if s.recover != nil && ctx.Err() == nil {
		logf("   restarting %s over a fresh data directory, so later figures are not skewed", s.who)
		if err := s.recover(ctx); err != nil {
			b.res.fail(who, "restart", err)
		}
	}
}

// s3Single: one stream PUTs a big object, then GETs it, per repetition.
func (b *bench) s3Single(ctx context.Context, s *server) error {
	const bucket = "bench-big"
	if err := s.ensureBucket(ctx, bucket); err != nil {
		return err
	}
	size := b.cfg.Big
	put := b.newAcc(s.who, figPutBig, "S3 PUT "+sizeLabel(size), "MB/s")
	get := b.newAcc(s.who, figGetBig, "S3 GET "+sizeLabel(size), "MB/s")
	for rep := range b.repetitions(put, get) {
		key := fmt.Sprintf("single/obj-%d", rep)
		rctx, cancel := context.WithTimeout(ctx, transferTimeout(2*size))
		m, t0 := s.meter(), time.Now()
		err := s.put(rctx, bucket, key, newBody(nextSeed(), size), size)
		if err == nil {
			put.sample(mbps(size, time.Since(t0)), m.stop())
			err = sampleReads(get, size, s.meter, true, func() error { return s.get(rctx, bucket, key, size) })
		}
		cancel()
		if err != nil {
			return err
		}
		if err := s.del(ctx, bucket, key); err != nil {
			return err
		}
	}
	put.done(b.res)
	get.done(b.res)
	return nil
}

// s3Concurrent: Streams concurrent PUTs of Mid-sized objects, then as many
// concurrent GETs of them (readsPerRep times); aggregate MB/s.
func (b *bench) s3Concurrent(ctx context.Context, s *server) error {
	const bucket = "bench-big"
	if err := s.ensureBucket(ctx, bucket); err != nil {
		return err
	}
	size, n := b.cfg.Mid, b.cfg.Streams
	label := fmt.Sprintf("%d× %s", n, sizeLabel(size))
	put := b.newAcc(s.who, figPutMid, "S3 PUT "+label+" concurrent", "MB/s")
	get := b.newAcc(s.who, figGetMid, "S3 GET "+label+" concurrent", "MB/s")
	for rep := range b.repetitions(put, get) {
		if err := b.concurrentRep(ctx, s, bucket, fmt.Sprintf("conc/r%d-", rep), put, get); err != nil {
			return err
		}
	}
	put.done(b.res)
	get.done(b.res)
	return nil
}

// concurrentRep is one repetition of the concurrent transfers against s:
// Streams PUTs of Mid-sized objects named prefix+i at once, then as many
// GETs of them (readsPerRep times), aggregate MB/s; the objects are
// deleted after.
func (b *bench) concurrentRep(ctx context.Context, s *server, bucket, prefix string, put, get *acc) error {
	size, n := b.cfg.Mid, b.cfg.Streams
	total := size * int64(n)
	key := func(i int) string { return prefix + strconv.Itoa(i) }
	rctx, cancel := context.WithTimeout(ctx, transferTimeout(2*total))
	defer cancel()
	m, t0 := s.meter(), time.Now()
	err := parallel(n, func(i int) error { return s.put(rctx, bucket, key(i), newBody(nextSeed(), size), size) })
	if err == nil {
		put.sample(mbps(total, time.Since(t0)), m.stop())
		err = sampleReads(get, total, s.meter, false, func() error {
			return parallel(n, func(i int) error { return s.get(rctx, bucket, key(i), size) })
		})
	}
	parallel(n, func(i int) error { return s.del(ctx, bucket, key(i)) })
	return err
}

// s3Multipart: one big object in Part-sized parts, InFlight at a time,
// timed from CreateMultipartUpload to CompleteMultipartUpload.
func (b *bench) s3Multipart(ctx context.Context, s *server) error {
	const bucket = "bench-big"
	if err := s.ensureBucket(ctx, bucket); err != nil {
		return err
	}
	size, part := b.cfg.Big, b.cfg.Part
	a := b.newAcc(s.who, figMPU, fmt.Sprintf("S3 multipart %s (%s parts, %d in flight)", sizeLabel(size), sizeLabel(part), b.cfg.InFlight), "MB/s")
	for rep := range b.repetitions(a) {
		key := fmt.Sprintf("mpu/obj-%d", rep)
		rctx, cancel := context.WithTimeout(ctx, transferTimeout(size))
		m, t0 := s.meter(), time.Now()
		err := s.multipart(rctx, bucket, key, newBody(nextSeed(), size), part, b.cfg.InFlight)
		if err == nil {
			a.sample(mbps(size, time.Since(t0)), m.stop())
		}
		cancel()
		if err != nil {
			return err
		}
		if err := s.del(ctx, bucket, key); err != nil {
			return err
		}
	}
	a.done(b.res)
	return nil
}

func (s *server) multipart(ctx context.Context, bucket, key string, whole *body, partSize int64, inFlight int) (err error) {
	up, err := s.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("CreateMultipartUpload: %w", err)
	}
	defer func() {
		if err != nil {
			actx, cancel := context.WithTimeout(context.Background(), smallRequestTimeout)
			defer cancel()
			s.s3.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId})
		}
	}()
	nparts := int((whole.size + partSize - 1) / partSize)
	parts := make([]types.CompletedPart, nparts)
	var next atomic.Int64
	err = parallel(min(inFlight, nparts), func(int) error {
		for {
			i := int(next.Add(1) - 1)
			if i >= nparts {
				return nil
			}
			off := int64(i) * partSize
			n := min(partSize, whole.size-off)
			out, err := s.s3.UploadPart(ctx, &s3.UploadPartInput{
				Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), Body: whole.part(off, n), ContentLength: aws.Int64(n),
			})
			if err != nil {
				return fmt.Errorf("UploadPart %d: %w", i+1, err)
			}
			parts[i] = types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))}
		}
	})
	if err != nil {
		return err
	}
	_, err = s.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return fmt.Errorf("CompleteMultipartUpload: %w", err)
	}
	return nil
}

// s3Small: Small-object PUT, GET, HEAD and DELETE, each at Conc for
// FixedTime (DELETE ends sooner if it runs out of objects).
func (b *bench) s3Small(ctx context.Context, s *server) error {
	const bucket = "bench-small"
	if err := s.ensureBucket(ctx, bucket); err != nil {
		return err
	}
	size, conc, dur := b.cfg.Small, b.cfg.Conc, b.cfg.FixedTime
	label := fmt.Sprintf("%s ×%d", sizeLabel(size), conc)
	put := b.newAcc(s.who, figPutSmall, "S3 PUT "+label, "ops/s")
	get := b.newAcc(s.who, figGetSmall, "S3 GET "+label, "ops/s")
	head := b.newAcc(s.who, figHeadSmall, "S3 HEAD "+label, "ops/s")
	del := b.newAcc(s.who, figDelSmall, "S3 DELETE "+label, "ops/s")
	for rep := range b.repetitions(put, get, head, del) {
		// Reads pick any written key; the DELETEs take them in turn.
		var mu sync.Mutex
		var all []string

		m := s.meter()
		r, err := fixedTime(ctx, conc, dur, smallMaxOps, func(ctx context.Context, w, i int) error {
			rctx, cancel := context.WithTimeout(ctx, smallRequestTimeout)
			defer cancel()
			k := smallKey(rep, w, i)
			if err := s.put(rctx, bucket, k, newBody(nextSeed(), size), size); err != nil {
				return err
			}
			mu.Lock()
			all = append(all, k)
			mu.Unlock()
			return nil
		})
		if err != nil {
			return err
		}
		put.sample(r.rate(), m.stop())
		put.latency(r.lats)
		if len(all) == 0 {
			return errors.New("no object was written")
		}

		if err := b.smallReads(ctx, s, bucket, all, get, head); err != nil {
			return err
		}

		// The workers share one queue of keys, so that all of them
		// delete until the keys run out: with a list each, as the PUTs
		// wrote them, those with fewer keys stopped first and the run ended
		// at a concurrency below the one measured (the PUT run writes fewer
		// keys than a DELETE run of its length takes).
		var next atomic.Int64
		m = s.meter()
		r, err = fixedTime(ctx, conc, dur, smallMaxOps, func(ctx context.Context, _, _ int) error {
			i := next.Add(1) - 1
			if i >= int64(len(all)) {
				return errExhausted
			}
			rctx, cancel := context.WithTimeout(ctx, smallRequestTimeout)
			defer cancel()
			return s.del(rctx, bucket, all[i])
		})
		if err != nil {
			return err
		}
		del.sample(r.rate(), m.stop())
		del.latency(r.lats)
		if r.ops >= len(all) {
			del.note("deleted every object the PUT run made before the time was up")
		}
	}
	for _, a := range []*acc{put, get, head, del} {
		a.done(b.res)
	}
	return nil
}

// smallKey names the small-object workload's objects: repetition rep's,
// written by worker w as its i-th.
func smallKey(rep, w, i int) string { return fmt.Sprintf("small/r%d/w%02d/%07d", rep, w, i) }

// durableDeletes is limit (e′)'s turn at the small-object workload: its
// DELETEs alone, each logged durably, at the concurrency and for the time of
// the servers' DELETE runs, of keys named as theirs. It stores nothing, so
// it needs no PUTs first.
func (b *bench) durableDeletes(ctx context.Context, s *server) error {
	const bucket = "bench-small"
	conc := b.cfg.Conc
	del := b.newAcc(s.who, ceilDelDurable, durableLabel(fmt.Sprintf("S3 DELETE %s ×%d", sizeLabel(b.cfg.Small), conc)), "ops/s")
	for rep := range b.repetitions(del) {
		m := s.meter()
		r, err := fixedTime(ctx, conc, b.cfg.FixedTime, smallMaxOps, func(ctx context.Context, w, i int) error {
			rctx, cancel := context.WithTimeout(ctx, smallRequestTimeout)
			defer cancel()
			return s.del(rctx, bucket, smallKey(rep, w, i))
		})
		if err != nil {
			return err
		}
		del.sample(r.rate(), m.stop())
		del.latency(r.lats)
	}
	del.done(b.res)
	return nil
}

// durableLabel names a figure of limit (e′)'s.
func durableLabel(what string) string {
	return "(e′) handler that stores nothing but logs each change durably, " + what + " (aws-sdk client)"
}

// smallReads runs the small-object GETs, then HEADs, each for the fixed
// time at the fixed concurrency, of keys picked at random among keys.
func (b *bench) smallReads(ctx context.Context, s *server, bucket string, keys []string, get, head *acc) error {
	size, conc, dur := b.cfg.Small, b.cfg.Conc, b.cfg.FixedTime
	for _, ph := range []struct {
		a  *acc
		op func(context.Context, string) error
	}{
		{get, func(ctx context.Context, k string) error { return s.get(ctx, bucket, k, size) }},
		{head, func(ctx context.Context, k string) error { return s.head(ctx, bucket, k) }},
	} {
		m := s.meter()
		r, err := fixedTime(ctx, conc, dur, smallMaxOps, func(ctx context.Context, _, _ int) error {
			rctx, cancel := context.WithTimeout(ctx, smallRequestTimeout)
			defer cancel()
			return ph.op(rctx, keys[rand.IntN(len(keys))])
		})
		if err != nil {
			return err
		}
		ph.a.sample(r.rate(), m.stop())
		ph.a.latency(r.lats)
	}
	return nil
}

// fileSmall is the small-object turn of the (d) handler: it writes 4 KiB
// files through the same client (unmeasured: limit (d) is that), then serves
// them back, GETs and then HEADs for the fixed time each, as the servers'
// turns do. A server's small GET reads an object it stored; this handler
// does only that, with the standard library: no authentication, no
// catalog, no log. What it reaches, no such server can pass here.
func (b *bench) fileSmall(ctx context.Context, s *server) error {
	size, conc, dur := b.cfg.Small, b.cfg.Conc, b.cfg.FixedTime
	label := fmt.Sprintf(" (ServeContent) %s ×%d (aws-sdk client)", sizeLabel(size), conc)
	get := b.newAcc(whoLimit, limFileGet4K, "(d) minimal handler GET"+label, "ops/s")
	head := b.newAcc(whoLimit, limFileHead4K, "(d) minimal handler HEAD"+label, "ops/s")
	const bucket = "files"
	for rep := range b.repetitions(get, head) {
		var mu sync.Mutex
		var all []string
		_, err := fixedTime(ctx, conc, min(dur/2, time.Second), 1_000_000, func(ctx context.Context, w, i int) error {
			k := fmt.Sprintf("small/r%d/w%02d/%07d", rep, w, i)
			if err := s.put(ctx, bucket, k, newBody(nextSeed(), size), size); err != nil {
				return err
			}
			mu.Lock()
			all = append(all, k)
			mu.Unlock()
			return nil
		})
		if err != nil {
			return err
		}
		if len(all) == 0 {
			return errors.New("no file was written")
		}
		if err := b.smallReads(ctx, s, bucket, all, get, head); err != nil {
			return err
		}
	}
	get.done(b.res)
	head.done(b.res)
	return nil
}
