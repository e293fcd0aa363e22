package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
	"time"

	"jcsgw/backends"
	"jcsgw/catalog"
)

// Space sync tasks copy a path of one user space to paths of others, on a
// trigger, by a mode, through filters. They live in the catalog, resume
// after a restart, never overlap themselves and share a bounded pool.

const tSyncTask = "sync_task" // id → syncRec

// Sync task states.
const (
	SyncRunning   = "running"
	SyncIdle      = "idle"
	SyncCancelled = "cancelled"
	SyncFailed    = "failed"
)

// SyncTrigger says when a task runs: Interval {interval seconds}, Once
// (now, then idle) or At {time} (once at an RFC 3339 time).
type SyncTrigger struct {
	Type     string `json:"type"`
	Interval int64  `json:"interval,omitempty"`
	Time     string `json:"time,omitempty"`
}

// SyncMode says what is copied: Diff copies files missing at a destination
// or differing in size (includeSize) or modification time (includeModTime);
// Full copies everything each run.
type SyncMode struct {
	Type           string `json:"type"`
	IncludeSize    bool   `json:"includeSize"`
	IncludeModTime bool   `json:"includeModTime"`
}

// SyncFilter admits files: Size {minSize, maxSize} (inclusive, 0 = no
// bound), Extension {extensions}, Path {include, exclude} (globs).
type SyncFilter struct {
	Type       string   `json:"type"`
	MinSize    int64    `json:"minSize,omitempty"`
	MaxSize    int64    `json:"maxSize,omitempty"`
	Extensions []string `json:"extensions,omitempty"`
	Include    []string `json:"include,omitempty"`
	Exclude    []string `json:"exclude,omitempty"`
}

// SyncOptions tune a run.
type SyncOptions struct {
	NoEmptyDirectories bool `json:"noEmptyDirectories"`
	DeleteExtraneous   bool `json:"deleteExtraneous,omitempty"`
}

// SyncState is what a task has done.
type SyncState struct {
	Status       string     `json:"status"`
	LastRunStart *time.Time `json:"lastRunStart"`
	LastRunEnd   *time.Time `json:"lastRunEnd"`
	Runs         int64      `json:"runs"`
	FailedRuns   int64      `json:"failedRuns"`
	FilesCopied  int64      `json:"filesCopied"`
	BytesCopied  int64      `json:"bytesCopied"`
	FilesSkipped int64      `json:"filesSkipped"`
	FilesFailed  int64      `json:"filesFailed"`
	FilesDeleted int64      `json:"filesDeleted"`
	LastError    string     `json:"lastError"`
	// LastRun counts the most recent run alone.
	LastRun RunStats `json:"lastRun"`
}

// RunStats counts one run. FilesSkipped counts files left alone because
// they were unchanged at a destination; FilesFiltered those the filters
// kept out.
type RunStats struct {
	FilesCopied   int64 `json:"filesCopied"`
	BytesCopied   int64 `json:"bytesCopied"`
	FilesSkipped  int64 `json:"filesSkipped"`
	FilesFiltered int64 `json:"filesFiltered"`
	FilesFailed   int64 `json:"filesFailed"`
	FilesDeleted  int64 `json:"filesDeleted"`
}

// SyncTask is a space sync task with its state.
type SyncTask struct {
	ID               int64        `json:"taskID"`
	Trigger          SyncTrigger  `json:"trigger"`
	Mode             SyncMode     `json:"mode"`
	Filters          []SyncFilter `json:"filters"`
	Options          SyncOptions  `json:"options"`
	SrcUserSpaceID   int64        `json:"srcUserSpaceID"`
	SrcPath          string       `json:"srcPath"`
	DestUserSpaceIDs []int64      `json:"destUserSpaceIDs"`
	DestPathes       []string     `json:"destPathes"`
	State            SyncState    `json:"state"`
}

func validateSync(t *SyncTask, spaceExists func(int64) bool) error {
	switch t.Trigger.Type {
	case "Interval":
		if t.Trigger.Interval < 1 {
			return errorf(CodeBadArgument, "trigger.interval must be at least 1 second")
		}
	case "Once":
	case "At":
		if _, err := time.Parse(time.RFC3339, t.Trigger.Time); err != nil {
			return errorf(CodeBadArgument, "trigger.time must be an RFC 3339 time")
		}
	default:
		return errorf(CodeBadArgument, "trigger.type %q is unknown (Interval, Once, At)", t.Trigger.Type)
	}
	switch t.Mode.Type {
	case "Diff", "Full":
	default:
		return errorf(CodeBadArgument, "mode.type %q is unknown (Diff, Full)", t.Mode.Type)
	}
	for i, f := range t.Filters {
		switch f.Type {
		case "Size":
			if f.MinSize < 0 || f.MaxSize < 0 || (f.MaxSize > 0 && f.MinSize > f.MaxSize) {
				return errorf(CodeBadArgument, "filters[%d]: minSize and maxSize must be non-negative and minSize <= maxSize", i)
			}
		case "Extension":
			if len(f.Extensions) == 0 {
				return errorf(CodeBadArgument, "filters[%d].extensions is empty", i)
			}
		case "Path":
			for _, g := range append(append([]string{}, f.Include...), f.Exclude...) {
				if _, err := path.Match(g, ""); err != nil {
					return errorf(CodeBadArgument, "filters[%d]: bad glob %q", i, g)
				}
			}
		default:
			return errorf(CodeBadArgument, "filters[%d].type %q is unknown (Size, Extension, Path)", i, f.Type)
		}
	}
	if len(t.DestUserSpaceIDs) == 0 {
		return errorf(CodeBadArgument, "destUserSpaceIDs is empty")
	}
	if len(t.DestUserSpaceIDs) != len(t.DestPathes) {
		return errorf(CodeBadArgument, "destUserSpaceIDs and destPathes must have the same length")
	}
	if !spaceExists(t.SrcUserSpaceID) {
		return errorf(CodeBadArgument, "srcUserSpaceID: user space %d does not exist", t.SrcUserSpaceID)
	}
	for i, id := range t.DestUserSpaceIDs {
		if !spaceExists(id) {
			return errorf(CodeBadArgument, "destUserSpaceIDs[%d]: user space %d does not exist", i, id)
		}
	}
	return nil
}

// admit applies the task's filters to a source file.
func (t *SyncTask) admit(rel string, size int64) bool {
	for _, f := range t.Filters {
		switch f.Type {
		case "Size":
			if size < f.MinSize || (f.MaxSize > 0 && size > f.MaxSize) {
				return false
			}
		case "Extension":
			ok := false
			for _, e := range f.Extensions {
				if strings.EqualFold(path.Ext(rel), "."+strings.TrimPrefix(e, ".")) {
					ok = true
				}
			}
			if !ok {
				return false
			}
		case "Path":
			if len(f.Include) > 0 && !globAny(f.Include, rel) {
				return false
			}
			if globAny(f.Exclude, rel) {
				return false
			}
		}
	}
	return true
}

// globAny matches a glob against the whole relative path or its base name,
// so "*.log" and "logs/*" both do what they say.
func globAny(globs []string, rel string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, rel); ok {
			return true
		}
		if ok, _ := path.Match(g, path.Base(rel)); ok {
			return true
		}
		if strings.HasSuffix(g, "/**") && strings.HasPrefix(rel, strings.TrimSuffix(g, "**")) {
			return true
		}
	}
	return false
}

// syncer schedules tasks.
type syncer struct {
	s       *Service
	pool    chan struct{}
	mu      sync.Mutex
	running map[int64]context.CancelFunc
	wg      sync.WaitGroup
	stop    context.CancelFunc
	ctx     context.Context
}

func newSyncer(s *Service, workers int) *syncer {
	ctx, cancel := context.WithCancel(context.Background())
	return &syncer{s: s, pool: make(chan struct{}, workers), running: map[int64]context.CancelFunc{}, ctx: ctx, stop: cancel}
}

// resume starts every task that is not cancelled or done.
func (y *syncer) resume(ctx context.Context) error {
	var tasks []SyncTask
	err := y.s.view(ctx, func(tx catalog.Tx) error {
		return tx.Scan(tSyncTask, nil, func(_, v []byte) bool {
			var t SyncTask
			if json.Unmarshal(v, &t) == nil {
				tasks = append(tasks, t)
			}
			return true
		})
	})
	for _, t := range tasks {
		if t.State.Status == SyncCancelled {
			continue
		}
		if t.Trigger.Type != "Interval" && t.State.LastRunEnd != nil {
			continue // a one-shot task that has run
		}
		y.start(t)
	}
	return err
}

func (y *syncer) start(t SyncTask) {
	ctx, cancel := context.WithCancel(y.ctx)
	y.mu.Lock()
	y.running[t.ID] = cancel
	y.mu.Unlock()
	y.wg.Add(1)
	go func() {
		defer y.wg.Done()
		y.loop(ctx, t)
	}()
}

// loop runs one task's schedule: runs of a task never overlap.
func (y *syncer) loop(ctx context.Context, t SyncTask) {
	next := time.Now()
	if t.Trigger.Type == "At" {
		next, _ = time.Parse(time.RFC3339, t.Trigger.Time)
	} else if t.Trigger.Type == "Interval" && t.State.LastRunEnd != nil {
		next = t.State.LastRunStart.Add(time.Duration(t.Trigger.Interval) * time.Second)
	}
	for {
		timer := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		select {
		case y.pool <- struct{}{}:
		case <-ctx.Done():
			return
		}
		start := time.Now()
		y.run(ctx, t.ID)
		<-y.pool
		if t.Trigger.Type != "Interval" || ctx.Err() != nil {
			return
		}
		next = start.Add(time.Duration(t.Trigger.Interval) * time.Second)
	}
}

func (y *syncer) cancel(id int64) {
	y.mu.Lock()
	if c, ok := y.running[id]; ok {
		c()
		delete(y.running, id)
	}
	y.mu.Unlock()
}

// close stops every task at a file boundary and waits for them.
func (y *syncer) close() {
	y.stop()
	y.wg.Wait()
}

func (y *syncer) saveState(id int64, fn func(*SyncState)) {
	y.s.cat.Update(context.Background(), func(tx catalog.Tx) error {
		v := tx.Get(tSyncTask, u64(id))
		if v == nil {
			return nil
		}
		var t SyncTask
		if err := json.Unmarshal(v, &t); err != nil {
			return err
		}
		if t.State.Status == SyncCancelled {
			return nil
		}
		fn(&t.State)
		b, _ := json.Marshal(t)
		return tx.Put(tSyncTask, u64(id), b)
	})
}

// runStats counts one run.
type runStats struct {
	copied, bytes, skipped, filtered, failed, deleted int64
	lastErr                                           string
}

func (y *syncer) run(ctx context.Context, id int64) {
	t, err := y.s.SyncTaskByID(ctx, id)
	if err != nil {
		return
	}
	now := time.Now()
	y.saveState(id, func(st *SyncState) { st.Status, st.LastRunStart = SyncRunning, &now })
	var rs runStats
	err = y.s.syncOnce(ctx, &t, &rs)
	end := time.Now()
	y.saveState(id, func(st *SyncState) {
		st.Runs++
		st.LastRunEnd = &end
		st.LastRun = RunStats{FilesCopied: rs.copied, BytesCopied: rs.bytes, FilesSkipped: rs.skipped,
			FilesFiltered: rs.filtered, FilesFailed: rs.failed, FilesDeleted: rs.deleted}
		st.FilesCopied += rs.copied
		st.BytesCopied += rs.bytes
		st.FilesSkipped += rs.skipped + rs.filtered
		st.FilesFailed += rs.failed
		st.FilesDeleted += rs.deleted
		st.LastError = rs.lastErr
		st.Status = SyncIdle
		if err != nil && !errors.Is(err, context.Canceled) {
			st.Status, st.LastError = SyncFailed, err.Error()
			st.FailedRuns++
		}
	})
}

// syncOnce copies the source tree to every destination once.
func (s *Service) syncOnce(ctx context.Context, t *SyncTask, rs *runStats) error {
	src, err := s.storage(t.SrcUserSpaceID)
	if err != nil {
		return err
	}
	root := strings.Trim(path.Clean("/"+t.SrcPath), "/")
	type dest struct {
		st         Storage
		root       string
		exactTimes bool
	}
	dests := make([]dest, len(t.DestUserSpaceIDs))
	for i, id := range t.DestUserSpaceIDs {
		st, err := s.storage(id)
		if err != nil {
			return err
		}
		dests[i] = dest{st, strings.Trim(path.Clean("/"+t.DestPathes[i]), "/"), !objectStore(st)}
	}
	// The paths copied, kept only to find the extraneous ones: a map entry
	// per file of the source would otherwise be held for nothing.
	var seen map[string]bool
	if t.Options.DeleteExtraneous {
		seen = map[string]bool{}
	}
	err = src.Walk(ctx, root, func(e backends.Entry) error {
		if err := ctx.Err(); err != nil {
			return err // stop at a file boundary
		}
		p := strings.Trim(e.Path, "/")
		if p == root {
			return nil
		}
		rel := strings.TrimPrefix(p, root+"/")
		if root == "" {
			rel = p
		}
		if e.IsDir {
			if !t.Options.NoEmptyDirectories {
				for _, d := range dests {
					if err := d.st.MkdirAll(ctx, path.Join(d.root, rel)); err != nil {
						rs.failed++
						rs.lastErr = fmt.Sprintf("%s: %v", rel, err)
					}
				}
			}
			return nil
		}
		if !t.admit(rel, e.Size) {
			rs.filtered++
			return nil
		}
		if seen != nil {
			seen[rel] = true
		}
		for _, d := range dests {
			dst := path.Join(d.root, rel)
			if t.Mode.Type == "Diff" {
				if cur, err := d.st.Stat(ctx, dst); err == nil && unchanged(t.Mode, e, cur, d.exactTimes) {
					rs.skipped++
					continue
				}
			}
			n, err := copyFile(ctx, src, e, d.st, dst)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				rs.failed++
				rs.lastErr = fmt.Sprintf("%s: %v", rel, err)
				continue
			}
			rs.copied++
			rs.bytes += n
		}
		return nil
	})
	if err != nil {
		return err
	}
	if t.Options.DeleteExtraneous {
		for _, d := range dests {
			var extra []string
			d.st.Walk(ctx, d.root, func(e backends.Entry) error {
				p := strings.Trim(e.Path, "/")
				rel := strings.TrimPrefix(p, d.root+"/")
				if d.root == "" {
					rel = p
				}
				if !e.IsDir && p != d.root && !seen[rel] {
					extra = append(extra, e.Path)
				}
				return ctx.Err()
			})
			for _, p := range extra {
				if err := d.st.Remove(ctx, p); err == nil {
					rs.deleted++
				}
			}
		}
	}
	return ctx.Err()
}

// objectStore reports whether st is an object store (the S3 family): it
// stamps its own LastModified instead of keeping the modification times it
// is given, and its directories are implied by the keys under them (a
// directory is made only to keep an empty one, as a marker key).
func objectStore(st Storage) bool {
	_, ok := st.(*backends.S3Storage)
	return ok
}

// unchanged reports whether the file cur at a destination already matches
// the source file src, for Diff mode. Times are compared to the second. On a
// destination that keeps modification times, the copy carries the source's,
// so they must be equal. On one that stamps its own (the time of the copy),
// the copy is current when it is strictly newer than the source: comparing
// for equality there would copy every file on every run, and a source
// changed within the second of its copy is copied once more, never missed.
func unchanged(m SyncMode, src, cur backends.Entry, exactTimes bool) bool {
	if cur.IsDir || (m.IncludeSize && cur.Size != src.Size) {
		return false
	}
	if m.IncludeModTime {
		s, d := src.ModTime.Truncate(time.Second), cur.ModTime.Truncate(time.Second)
		if exactTimes {
			return d.Equal(s)
		}
		return d.After(s)
	}
	return true
}

// copyFile streams one file between spaces, atomically at the destination,
// keeping its modification time where the destination can store it.
func copyFile(ctx context.Context, src Storage, e backends.Entry, dst Storage, to string) (int64, error) {
	if dir := path.Dir(to); dir != "." && !objectStore(dst) {
		if err := dst.MkdirAll(ctx, dir); err != nil {
			return 0, err
		}
	}
	rc, err := src.Open(ctx, e.Path, 0, -1)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	w, err := backends.CreateFor(ctx, dst, to)
	if err != nil {
		return 0, err
	}
	bp := bufPool.Get().(*[]byte)
	n, err := io.CopyBuffer(w, &ctxReader{ctx, rc}, *bp)
	bufPool.Put(bp)
	if err == nil && n != e.Size {
		err = fmt.Errorf("read %d bytes of %d: the source changed during the copy", n, e.Size)
	}
	if err != nil {
		w.Abort()
		return 0, err
	}
	// The file appears with the source's mtime where the destination keeps
	// mtimes; object stores stamp their own.
	if _, err := backends.CommitModTime(ctx, w, to, e.ModTime); err != nil {
		return 0, err
	}
	return n, nil
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// CreateSyncTask validates and stores a task, then schedules it.
func (s *Service) CreateSyncTask(ctx context.Context, t SyncTask) (SyncTask, error) {
	exists := func(id int64) bool { _, err := s.storage(id); return err == nil }
	if err := validateSync(&t, exists); err != nil {
		return SyncTask{}, err
	}
	if t.Filters == nil {
		t.Filters = []SyncFilter{}
	}
	t.State = SyncState{Status: SyncIdle}
	err := s.update(ctx, func(tx catalog.Tx, _ *refs) error {
		id, err := tx.NextID("sync_task")
		if err != nil {
			return err
		}
		t.ID = id
		b, _ := json.Marshal(t)
		return tx.Put(tSyncTask, u64(id), b)
	})
	if err != nil {
		return SyncTask{}, err
	}
	s.sync.start(t)
	return t, nil
}

// SyncTaskByID returns a task with its state.
func (s *Service) SyncTaskByID(ctx context.Context, id int64) (SyncTask, error) {
	var t SyncTask
	err := s.view(ctx, func(tx catalog.Tx) error {
		v := tx.Get(tSyncTask, u64(id))
		if v == nil {
			return errorf(CodeTaskNotFound, "sync task %d does not exist", id)
		}
		return json.Unmarshal(v, &t)
	})
	return t, err
}

// CancelSyncTask stops a task for good; a copy in flight stops at a file
// boundary and leaves no torn file.
func (s *Service) CancelSyncTask(ctx context.Context, id int64) error {
	err := s.update(ctx, func(tx catalog.Tx, _ *refs) error {
		v := tx.Get(tSyncTask, u64(id))
		if v == nil {
			return errorf(CodeTaskNotFound, "sync task %d does not exist", id)
		}
		var t SyncTask
		if err := json.Unmarshal(v, &t); err != nil {
			return err
		}
		t.State.Status = SyncCancelled
		b, _ := json.Marshal(t)
		return tx.Put(tSyncTask, u64(id), b)
	})
	if err != nil {
		return err
	}
	s.sync.cancel(id)
	return nil
}
