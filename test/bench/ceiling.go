package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Ceiling figure IDs (Who = "limit"): the small-object workloads run by the
// same client against a handler that stores nothing.
const (
	ceilPutSmall  = "e.put.small"
	ceilGetSmall  = "e.get.small"
	ceilHeadSmall = "e.head.small"
	ceilDelSmall  = "e.del.small"
	ceilSeed      = "e.put.zero"
	ceilList      = "e.list"
	// Limit (e′): the same client against the handler that stores nothing
	// but logs each change durably (syncLog) before answering it.
	ceilDelDurable  = "e2.del.small"
	ceilSeedDurable = "e2.put.zero"
)

// durableCeilings are limit (e′)'s figures, by the workload they bound: the
// changes jcsgw answers only once they are durable and gofakes3 answers
// without syncing anything (a DELETE, a 0-byte PUT; the 4 KiB PUT's durable
// limit is (d)).
var durableCeilings = map[string]string{figDelSmall: ceilDelDurable, figSeed: ceilSeedDurable}

// durableAgainst names limit (e′)'s handler.
const durableAgainst = "a handler that stores nothing but logs each change durably before its answer (limit e′: one write and one fdatasync per group of changes, as jcsgw's log)"

// ceiling is a figure of the same client doing a workload against a
// handler that does less than any server doing that workload can (id), and
// what that handler is.
type ceiling struct {
	id, against string
	// durable: its handler syncs each change, which gofakes3 never does;
	// gofakes3 going past it says nothing of the phase it was taken in.
	durable bool
}

// ceilingsFor are the ceilings measured for a workload, the lowest kind
// first. Small GETs and HEADs have two: the (d) handler serving the files
// it wrote (any server reads the object it stored), and the handler that
// stores nothing (limit e).
func ceilingsFor(id string) []ceiling {
	const files = "the minimal file handler serving 4 KiB files it wrote (limit d)"
	var cs []ceiling
	if fc, ok := fileCeilings[id]; ok {
		cs = append(cs, ceiling{id: fc.id, against: files})
	}
	if c, against := nullCeilingFor(id); c != "" {
		cs = append(cs, ceiling{id: c, against: against})
	}
	if c, ok := durableCeilings[id]; ok {
		cs = append(cs, ceiling{id: c, against: durableAgainst, durable: true})
	}
	return cs
}

// ceilingFor is the least a server does for a workload, as jcsgw does it:
// the figure of the same client doing the same against a handler that does
// less than any server can (for a change jcsgw makes durable, that makes it
// durable: limit e′, where it was measured), and what that handler is.
func ceilingFor(r *Results, id string) (string, string) {
	if c, ok := durableCeilings[id]; ok {
		if f := r.get(whoLimit, c); f != nil && f.Value > 0 && f.ServerCPU > 0 {
			return c, durableAgainst
		}
	}
	return nullCeilingFor(id)
}

// nullCeilingFor is limit (e)'s figure for a workload, and what its handler is.
func nullCeilingFor(id string) (string, string) {
	const null = "a handler that stores nothing (limit e)"
	switch id {
	case figPutSmall:
		return ceilPutSmall, null
	case figGetSmall:
		return ceilGetSmall, null
	case figHeadSmall:
		return ceilHeadSmall, null
	case figDelSmall:
		return ceilDelSmall, null
	case figSeed:
		return ceilSeed, null
	case figListFlat, figListDelim:
		return ceilList, null + " paging canned pages of such keys"
	case figPutMid:
		return limHTTPPutMid, "the minimal file handler at the same concurrency (limit c)"
	case figGetMid:
		return limHTTPGetMid, "the minimal file handler at the same concurrency (limit c)"
	}
	return "", ""
}

// nullHandler answers S3 object requests at once and keeps nothing: a PUT's
// body is read and dropped, a GET gets size bytes of zeros. Whatever rate the
// benchmark's client reaches against it, no server behind Go's net/http can
// beat on this machine: its answers even carry fewer headers for the client
// to parse than a real S3 server's.
type nullHandler struct {
	body []byte
	// pages are the ListObjectsV2 replies: page i holds keys
	// [i*pageSize, (i+1)*pageSize) and, but for the last, a continuation
	// token naming page i+1.
	pages [][]byte
	// changes, if set, has every PUT and DELETE logged durably before its
	// answer.
	changes *syncLog
}

func (h *nullHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" {
		i, _ := strconv.Atoi(r.URL.Query().Get("continuation-token"))
		if i < 0 || i >= len(h.pages) {
			http.Error(w, "no such page", http.StatusBadRequest)
			return
		}
		hd.Set("Content-Type", "application/xml")
		hd.Set("Content-Length", strconv.Itoa(len(h.pages[i])))
		w.Write(h.pages[i])
		return
	}
	hd.Set("ETag", `"d41d8cd98f00b204e9800998ecf8427e"`)
	switch r.Method {
	case http.MethodPut:
		io.Copy(io.Discard, r.Body)
		if !h.durable(w, r) {
			return
		}
		w.WriteHeader(http.StatusOK)
	case http.MethodGet, http.MethodHead:
		hd.Set("Content-Length", strconv.Itoa(len(h.body)))
		hd.Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write(h.body)
		}
	case http.MethodDelete:
		if !h.durable(w, r) {
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// durable logs r's change durably, if the handler logs changes, and says
// whether it may be answered as done.
func (h *nullHandler) durable(w http.ResponseWriter, r *http.Request) bool {
	if h.changes == nil {
		return true
	}
	if err := h.changes.record(r.Method + " " + r.URL.Path); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return false
	}
	return true
}

// nullFlag makes this program serve nullHandler (GETs of the given size,
// listings of the given number of keys) for limit (e), in a process of its
// own as both servers run: in the client's process the hand-offs between
// client and handler are cheaper than any server in its own process can
// have, which overstated the ceiling.
const nullFlag = "-null-serve"

func nullMain(size, listKeys, logDir string) int {
	n, err1 := strconv.Atoi(size)
	keys, err2 := strconv.Atoi(listKeys)
	if err1 != nil || err2 != nil || n < 0 || keys < 0 {
		fmt.Fprintln(os.Stderr, "bench: -null-serve wants a body size, a number of listing keys and optionally a directory")
		return 2
	}
	h := &nullHandler{body: make([]byte, n), pages: cannedPages(keys)}
	if logDir != "" {
		l, err := openSyncLog(filepath.Join(logDir, "changes.log"))
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		defer l.f.Close()
		h.changes = l
	}
	return serveChild(h)
}

// cannedPages are the ListObjectsV2 pages of keys 0-byte objects named as
// the one-package listing's ("pkg/k0000000"...), with what S3 puts in every
// <Contents> and nothing more: Key, LastModified, ETag, Size, StorageClass,
// escaped as encoding/xml (and jcsgw) escape them. Decoding such a page is
// the client's share of any listing, whatever the server.
func cannedPages(keys int) [][]byte {
	var pages [][]byte
	mod := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	for first := 0; first < keys; first += pageSize {
		n := min(pageSize, keys-first)
		last := first+n == keys
		b := []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
			`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>ceiling</Name><Prefix></Prefix>`)
		b = fmt.Appendf(b, "<MaxKeys>%d</MaxKeys><KeyCount>%d</KeyCount><IsTruncated>%t</IsTruncated>", pageSize, n, !last)
		if first > 0 {
			b = fmt.Appendf(b, "<ContinuationToken>%d</ContinuationToken>", len(pages))
		}
		if !last {
			b = fmt.Appendf(b, "<NextContinuationToken>%d</NextContinuationToken>", len(pages)+1)
		}
		for k := first; k < first+n; k++ {
			b = fmt.Appendf(b, "<Contents><Key>pkg/k%07d</Key><LastModified>%s</LastModified>"+
				"<ETag>&#34;d41d8cd98f00b204e9800998ecf8427e&#34;</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents>", k, mod)
		}
		pages = append(pages, append(b, "</ListBucketResult>"...))
	}
	return pages
}

// limitCeiling: (e) the small-object workloads, same client, same
// concurrency and time, and the paging of a listing as large as the
// listing workloads', against nullHandler in a subprocess. It decides
// whether a target is within any server's reach (ceilingBounds): 2×
// gofakes3, 3× the PUT rate, 100,000 keys/s; only the listings show their
// ratio to it.
func (b *bench) limitCeiling(ctx context.Context, _ string) error {
	size := b.cfg.Small
	s, stop, err := b.startNull(false)
	if err != nil {
		return err
	}
	defer stop()

	const bucket = "ceiling"
	small := fmt.Sprintf("%s ×%d", sizeLabel(size), b.cfg.Conc)
	label := func(what string) string { return "(e) handler that stores nothing, " + what + " (aws-sdk client)" }
	runs := []struct {
		acc  *acc
		conc int
		op   func(ctx context.Context, key string) error
	}{
		{newAcc(whoLimit, ceilPutSmall, label("S3 PUT "+small), "ops/s"), b.cfg.Conc,
			func(ctx context.Context, k string) error {
				return s.put(ctx, bucket, k, newBody(nextSeed(), size), size)
			}},
		{newAcc(whoLimit, ceilGetSmall, label("S3 GET "+small), "ops/s"), b.cfg.Conc,
			func(ctx context.Context, k string) error { return s.get(ctx, bucket, k, size) }},
		{newAcc(whoLimit, ceilHeadSmall, label("S3 HEAD "+small), "ops/s"), b.cfg.Conc,
			func(ctx context.Context, k string) error { return s.head(ctx, bucket, k) }},
		{newAcc(whoLimit, ceilDelSmall, label("S3 DELETE "+small), "ops/s"), b.cfg.Conc,
			func(ctx context.Context, k string) error { return s.del(ctx, bucket, k) }},
		{newAcc(whoLimit, ceilSeed, label(fmt.Sprintf("S3 PUT 0 B ×%d", b.cfg.SeedConc)), "ops/s"), b.cfg.SeedConc,
			func(ctx context.Context, k string) error { return s.put(ctx, bucket, k, bytes.NewReader(nil), 0) }},
	}
	// Repetitions per operation: five operations a repetition would pass
	// the repetition time cap after two and leave each figure two samples.
	for _, run := range runs {
		for range b.repetitions(run.acc) {
			m := s.meter()
			r, err := fixedTime(ctx, run.conc, b.cfg.FixedTime, 2_000_000, func(ctx context.Context, w, i int) error {
				rctx, cancel := context.WithTimeout(ctx, smallRequestTimeout)
				defer cancel()
				return run.op(rctx, fmt.Sprintf("k/w%02d/%07d", w, i))
			})
			if err != nil {
				return err
			}
			run.acc.sample(r.rate(), m.stop())
			run.acc.latency(r.lats)
		}
	}
	list := newAcc(whoLimit, ceilList, fmt.Sprintf("(e) handler that stores nothing, S3 ListObjectsV2 paging %d canned keys (aws-sdk client)", b.cfg.ListKeys), "keys/s")
	for range b.repetitions(list) {
		lctx, cancel := context.WithTimeout(ctx, b.cfg.ListTime)
		m, t0 := s.meter(), time.Now()
		var got int
		own, ownOK, err := ownCPU(func() (err error) { got, err = listAll(lctx, s, bucket, "", ""); return err })
		d := time.Since(t0)
		cancel()
		if err != nil {
			return err
		}
		if got != b.cfg.ListKeys {
			return fmt.Errorf("canned listing: %d keys, want %d", got, b.cfg.ListKeys)
		}
		list.sample(float64(got)/d.Seconds(), m.stop())
		list.ownRate(float64(got), own, ownOK)
	}
	for _, run := range runs {
		b.keepHigher(run.acc)
	}
	b.keepHigher(list)
	return nil
}

// startNull starts nullHandler in a subprocess, as a server whose figures
// are limit (e)'s, or with durable, limit (e′)'s: it logs each change in a
// file under the bench's data directory, on the disk the servers use.
func (b *bench) startNull(durable bool) (*server, func(), error) {
	args := []string{nullFlag, strconv.FormatInt(b.cfg.Small, 10), strconv.Itoa(b.cfg.ListKeys)}
	logName := "null.log"
	if durable {
		dir := filepath.Join(b.root, "null-durable")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, nil, err
		}
		args, logName = append(args, dir), "null-durable.log"
	}
	p, err := startSelf(filepath.Join(b.root, logName), args...)
	if err != nil {
		return nil, nil, err
	}
	s := &server{who: whoLimit, durable: durable, url: p.url, pid: p.pid, s3: newS3(p.url, "limit", "limit")}
	// Its listing is the canned pages of the one-package layout's keys;
	// the keys its seeding PUTs name are dropped.
	s.lists = &listSpaces{
		flat:  &keyspace{bucket: "ceiling", have: b.cfg.ListKeys},
		seed:  &keyspace{bucket: "ceiling", key: func(i int) string { return fmt.Sprintf("seed/k%07d", i) }},
		ready: true,
	}
	return s, p.stop, nil
}

// ceilingIDs are the limit (e) figures the null handler gives when it takes
// turns with the servers at their workloads.
var ceilingIDs = map[string]string{
	figPutSmall: ceilPutSmall, figGetSmall: ceilGetSmall, figHeadSmall: ceilHeadSmall, figDelSmall: ceilDelSmall,
	figListFlat: ceilList, figSeed: ceilSeed,
}

// ceilingFigure names the null handler's figure for a workload figure.
func ceilingFigure(id, name string) (string, string) {
	for _, fc := range fileCeilings {
		if id == fc.id {
			return id, name // the (d) handler's, named already
		}
	}
	for _, d := range durableCeilings {
		if id == d {
			return id, name // limit (e′)'s, named already
		}
	}
	if c, ok := ceilingIDs[id]; ok {
		id = c
	}
	return id, "(e) handler that stores nothing, " + name + " (aws-sdk client)"
}

// inTurns records a limit (e) figure taken in turns with the servers. It is
// the one that counts: it shares the minutes of the server figures it
// bounds, and the machine's speed drifts by a third within minutes. The
// take before the servers ran is kept in its note.
func (b *bench) inTurns(a *acc) {
	f := a.finish()
	if f == nil {
		return
	}
	prev := b.res.get(f.Who, f.ID)
	if prev == nil {
		b.res.add(f)
		return
	}
	b.res.mu.Lock()
	defer b.res.mu.Unlock()
	note := fmt.Sprintf("taken before the servers ran: %s; in turns with them: %s, which counts", fmtValue(prev), fmtValue(f))
	if prev.Note != "" {
		note = prev.Note + "; " + note
	}
	f.Name, f.Note = prev.Name, note
	*prev = *f
}

// againCeiling takes limit (e) after both servers ran, where the turns did
// not take it: the machine's speed drifts by a third over minutes, and a
// ceiling taken in a slower phase than a server's figure proves nothing
// about it (one run had jcsgw's 4 KiB GET at 7368 ops/s above its 5665).
// Of a take before and one after, the higher counts, so a bound it
// supports holds in both phases.
func (b *bench) againCeiling(ctx context.Context) {
	if !b.want("limits/ceiling") || ctx.Err() != nil || b.ceilingsInTurns() {
		return
	}
	logf("== limits/ceiling (again)")
	if err := b.limitCeiling(ctx, ""); err != nil {
		logf("   limits/ceiling (again): %v", err)
		b.res.fail(whoLimit, "limits/ceiling (again)", err)
	}
}

// ceilingsInTurns tells whether every limit (e) figure was taken in turns
// with the servers: then a take after them would only be a note (the take
// in turns counts), for about a minute of the run's ten. Otherwise (a turn
// failed, or -only left them out) they are taken after the servers.
func (b *bench) ceilingsInTurns() bool {
	for _, id := range ceilingIDs {
		if f := b.res.get(whoLimit, id); f == nil || !f.Turns {
			return false
		}
	}
	return true
}

// keepHigher records a's figure, or, when the figure was taken before,
// keeps the higher of the two and notes both.
func (b *bench) keepHigher(a *acc) {
	prev := b.res.get(a.f.Who, a.f.ID)
	if prev == nil {
		a.done(b.res)
		return
	}
	f := a.finish()
	if f == nil {
		return
	}
	note := fmt.Sprintf("taken before and after the servers ran: %s and %s; the higher counts", fmtValue(prev), fmtValue(f))
	if prev.Turns {
		note = fmt.Sprintf("taken again after the servers ran: %s (the take in turns counts)", fmtValue(f))
	}
	b.res.mu.Lock()
	defer b.res.mu.Unlock()
	if f.Value > prev.Value && !prev.Turns {
		*prev = *f
	}
	if prev.Note != "" {
		note = prev.Note + "; " + note
	}
	prev.Note = note
}
