package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Listing layouts: "flat" has every key in one package (S3 prefix "pkg/"),
// "tree" spreads them over 100 packages.
const (
	listFlatBucket = "bench-list1"
	listTreeBucket = "bench-list100"
	treePackages   = 100
	pageSize       = 1000
	firstPageCalls = 5
)

// keyspace is one listing layout: keys key(0..have-1) exist.
type keyspace struct {
	bucket     string
	key        func(int) string
	packages   []string
	have       int
	byS3, bulk int // how many were made by S3 PUTs and by the seeder
}

func (k *keyspace) made(s *server) string {
	if s.seeder == nil {
		return ""
	}
	return fmt.Sprintf("keys made by %d S3 PUTs and %d through %s", k.byS3, k.bulk, s.seeder.how())
}

// listSpaces are a server's listing layouts; seed is the one the timed
// S3 PUTs add to (tree, for the servers).
type listSpaces struct {
	flat, tree, seed *keyspace
	ready            bool // every key is made (s3ListSetup finished)
}

// s3ListPrepare readies the listing buckets and their packages.
func (b *bench) s3ListPrepare(ctx context.Context, s *server) error {
	s.lists = nil
	flat := &keyspace{bucket: listFlatBucket, key: func(i int) string { return fmt.Sprintf("pkg/k%07d", i) }, packages: []string{"pkg"}}
	per := b.treePer()
	tree := &keyspace{bucket: listTreeBucket, key: func(i int) string { return fmt.Sprintf("p%03d/k%06d", i/per, i%per) }}
	for i := range treePackages {
		tree.packages = append(tree.packages, fmt.Sprintf("p%03d", i))
	}
	for _, k := range []*keyspace{flat, tree} {
		if err := s.ensureBucket(ctx, k.bucket); err != nil {
			return err
		}
		if err := s.seeder.prepare(ctx, k.bucket, k.packages); err != nil {
			return fmt.Errorf("seed: prepare %s: %w", k.bucket, err)
		}
	}
	s.lists = &listSpaces{flat: flat, tree: tree, seed: tree}
	return nil
}

// treePer is how many keys each of the tree layout's packages holds.
func (b *bench) treePer() int { return max(1, b.cfg.ListKeys/treePackages) }

// s3ListSeed makes the first keys with 0-byte S3 PUTs at SeedConc for
// FixedTime (the figSeed rate); the servers take turns at it.
func (b *bench) s3ListSeed(ctx context.Context, s *server) error {
	if s.lists == nil {
		return errors.New("no listing buckets: their set-up did not finish")
	}
	return b.seedRate(ctx, s, s.lists.seed, b.treePer()*treePackages)
}

// s3ListSetup makes the rest of the listing keys through the server's fast
// seeder and measures the first page's latency at 10k keys and at
// ListKeys. The keys are 0-byte objects. The paging (s3ListPaging) comes
// after, in turns.
func (b *bench) s3ListSetup(ctx context.Context, s *server) error {
	if s.lists == nil {
		return errors.New("no listing buckets: their set-up did not finish")
	}
	n := b.cfg.ListKeys
	flat, tree := s.lists.flat, s.lists.tree
	// One package: first page at 10k keys, then at n.
	if err := b.grow(ctx, s, flat, min(10_000, n)); err != nil {
		return err
	}
	if err := b.firstPage(ctx, s, figFirst10k, flat.have); err != nil {
		return err
	}
	if err := b.grow(ctx, s, flat, n); err != nil {
		return err
	}
	if n > 10_000 {
		if err := b.firstPage(ctx, s, figFirst100k, flat.have); err != nil {
			return err
		}
	}
	if err := b.grow(ctx, s, tree, b.treePer()*treePackages); err != nil {
		return err
	}
	s.lists.ready = true
	return nil
}

// s3ListPaging pages through both layouts: every key of the one package,
// then the 100 packages with delimiter "/" (the root, then each package).
// The servers take turns at it, like the transfers, so that their paging
// rates come from the same minutes.
func (b *bench) s3ListPaging(ctx context.Context, s *server) error {
	if s.lists == nil || !s.lists.ready {
		return errors.New("no listing keys: their set-up did not finish")
	}
	flat, tree := s.lists.flat, s.lists.tree
	name := fmt.Sprintf("S3 ListObjectsV2 paging %d keys, one package", flat.have)
	if err := b.timedListing(ctx, s, figListFlat, name, flat.have, flat.made(s), func(ctx context.Context) (int, error) {
		return listAll(ctx, s, flat.bucket, "", "")
	}); err != nil {
		return err
	}
	if tree == nil { // the null handler's canned pages are of one package
		return nil
	}
	name = fmt.Sprintf("S3 ListObjectsV2 delimiter '/', %d keys in %d packages", tree.have, treePackages)
	return b.timedListing(ctx, s, figListDelim, name, tree.have, tree.made(s), func(ctx context.Context) (int, error) {
		return listTree(ctx, s, listTreeBucket)
	})
}

// s3ListLarge grows the one package to LargeKeys and measures the first
// page there. Only jcsgw: the target is about its first page, and gofakes3
// lists a whole bucket per page (minutes at 1M keys). It comes after the
// paging, which lists the package whole.
func (b *bench) s3ListLarge(ctx context.Context, s *server) error {
	if s.lists == nil || !s.lists.ready {
		return errors.New("no listing keys: their set-up did not finish")
	}
	flat := s.lists.flat
	if b.cfg.LargeKeys <= flat.have {
		return nil
	}
	logf("   growing %s to %d keys (bounded by %v)", flat.bucket, b.cfg.LargeKeys, b.cfg.SeedTime)
	if err := b.grow(ctx, s, flat, b.cfg.LargeKeys); err != nil {
		return err
	}
	return b.firstPage(ctx, s, figFirst1M, flat.have)
}

// seedRate creates keys of k with 0-byte S3 PUTs at SeedConc for
// FixedTime per repetition (never past limit), and records the rate.
func (b *bench) seedRate(ctx context.Context, s *server, k *keyspace, limit int) error {
	id, name := figSeed, fmt.Sprintf("S3 PUT 0 B ×%d (creating listing keys)", b.cfg.SeedConc)
	if s.durable {
		id, name = ceilSeedDurable, durableLabel(fmt.Sprintf("S3 PUT 0 B ×%d", b.cfg.SeedConc))
	}
	a := b.newAcc(s.who, id, name, "ops/s")
	for range b.repetitions(a) {
		left := limit - k.have
		if left <= 0 {
			break
		}
		var next atomic.Int64
		next.Store(int64(k.have))
		m := s.meter()
		r, err := fixedTime(ctx, b.cfg.SeedConc, b.cfg.FixedTime, int64(left), func(ctx context.Context, _, _ int) error {
			rctx, cancel := context.WithTimeout(ctx, smallRequestTimeout)
			defer cancel()
			return s.put(rctx, k.bucket, k.key(int(next.Add(1)-1)), bytes.NewReader(nil), 0)
		})
		k.have += r.ops
		k.byS3 += r.ops
		if err != nil {
			return err
		}
		a.sample(r.rate(), m.stop())
		a.latency(r.lats)
	}
	a.done(b.res)
	return nil
}

// grow creates keys of k up to key number to through the server's seeder,
// in batches on a few workers, until done or SeedTime has passed; the keys
// made are always a contiguous range.
func (b *bench) grow(ctx context.Context, s *server, k *keyspace, to int) error {
	if k.have >= to {
		return nil
	}
	const workers = 8
	deadline := time.Now().Add(b.cfg.SeedTime)
	var next, done atomic.Int64
	next.Store(int64(k.have))
	t0 := time.Now()
	err := parallel(workers, func(int) error {
		for time.Now().Before(deadline) && ctx.Err() == nil {
			from := int(next.Add(filesPerForm) - filesPerForm)
			if from >= to {
				return nil
			}
			keys := make([]string, 0, filesPerForm)
			for i := from; i < min(from+filesPerForm, to); i++ {
				keys = append(keys, k.key(i))
			}
			rctx, cancel := context.WithTimeout(ctx, time.Minute)
			err := s.seeder.put(rctx, k.bucket, keys)
			cancel()
			if err != nil {
				return err
			}
			done.Add(int64(len(keys)))
		}
		return nil
	})
	d := int(done.Load())
	k.have += d
	k.bulk += d
	logf("   %s: %d keys (+%d in %.1fs)", k.bucket, k.have, d, time.Since(t0).Seconds())
	if err == nil && k.have < to {
		logf("   seeding %s stopped at %d of %d keys (time bound)", k.bucket, k.have, to)
	}
	return err
}

// timedListing runs list Reps times, each bounded by ListTime; a listing cut
// short by the bound is reported as a partial rate and not repeated.
func (b *bench) timedListing(ctx context.Context, s *server, id, name string, want int, made string, list func(context.Context) (int, error)) error {
	a := b.newAcc(s.who, id, name, "keys/s")
	if made != "" {
		a.note("%s", made)
	}
	for range b.repetitions(a) {
		lctx, cancel := context.WithTimeout(ctx, b.cfg.ListTime)
		m, t0 := s.meter(), time.Now()
		var got int
		own, ownOK, err := ownCPU(func() (err error) { got, err = list(lctx); return err })
		d := time.Since(t0)
		u := m.stop()
		cancel()
		if err != nil && errors.Is(lctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			a.sample(float64(got)/d.Seconds(), u)
			a.ownRate(float64(got), own, ownOK)
			a.note("partial: %d keys listed in the %v bound", got, b.cfg.ListTime)
			break
		}
		if err != nil {
			return err
		}
		if got < want {
			return fmt.Errorf("%s: listed %d keys, want at least %d", name, got, want)
		}
		a.sample(float64(got)/d.Seconds(), u)
		a.ownRate(float64(got), own, ownOK)
	}
	a.done(b.res)
	return nil
}

// listAll pages through bucket (prefix, delimiter) with ListObjectsV2 and
// counts keys and common prefixes.
func listAll(ctx context.Context, s *server, bucket, prefix, delim string) (int, error) {
	n, _, err := listPages(ctx, s, bucket, prefix, delim, nil)
	return n, err
}

func listPages(ctx context.Context, s *server, bucket, prefix, delim string, onPrefix func(string)) (int, int, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(pageSize)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	if delim != "" {
		in.Delimiter = aws.String(delim)
	}
	n, pages := 0, 0
	for page := 0; page < 10_000_000/pageSize; page++ {
		out, err := s.s3.ListObjectsV2(ctx, in)
		if err != nil {
			return n, pages, fmt.Errorf("ListObjectsV2 %s prefix %q page %d: %w", bucket, prefix, page+1, err)
		}
		pages++
		n += len(out.Contents) + len(out.CommonPrefixes)
		if onPrefix != nil {
			for _, p := range out.CommonPrefixes {
				onPrefix(aws.ToString(p.Prefix))
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return n, pages, nil
		}
		if aws.ToString(out.NextContinuationToken) == "" {
			return n, pages, fmt.Errorf("ListObjectsV2 %s: truncated page without a continuation token", bucket)
		}
		in.ContinuationToken = out.NextContinuationToken
	}
	return n, pages, errors.New("ListObjectsV2: too many pages")
}

// listTree lists the root with delimiter "/", then each package it finds.
func listTree(ctx context.Context, s *server, bucket string) (int, error) {
	var prefixes []string
	n, _, err := listPages(ctx, s, bucket, "", "/", func(p string) { prefixes = append(prefixes, p) })
	if err != nil {
		return n, err
	}
	for _, p := range prefixes {
		k, err := listAll(ctx, s, bucket, p, "/")
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// firstPage measures the latency of the first ListObjectsV2 page of the flat
// bucket (median of firstPageCalls calls per repetition).
func (b *bench) firstPage(ctx context.Context, s *server, id string, keys int) error {
	a := newAcc(s.who, id, fmt.Sprintf("S3 ListObjectsV2 first page (%d) at %d keys", pageSize, keys), "ms").lowerBetter()
	for range b.repetitions(a) {
		var lats []time.Duration
		m := s.meter()
		r0 := time.Now()
		for range firstPageCalls {
			if len(lats) > 0 && time.Since(r0) > 3*time.Second {
				break // a slow server gets fewer calls
			}
			rctx, cancel := context.WithTimeout(ctx, smallRequestTimeout)
			t0 := time.Now()
			out, err := s.s3.ListObjectsV2(rctx, &s3.ListObjectsV2Input{Bucket: aws.String(listFlatBucket), MaxKeys: aws.Int32(pageSize)})
			d := time.Since(t0)
			cancel()
			if err != nil {
				return fmt.Errorf("first page: %w", err)
			}
			if want := min(keys, pageSize); len(out.Contents) < want {
				return fmt.Errorf("first page: %d keys, want %d", len(out.Contents), want)
			} else if len(out.Contents) > pageSize {
				a.note("the first page held %d keys: max-keys %d was ignored", len(out.Contents), pageSize)
			}
			lats = append(lats, d)
		}
		a.sample(ms(percentile(lats, 50)), m.stop())
	}
	a.done(b.res)
	return nil
}
