package backends

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"
)

// Shards is a content-addressed shard store over any Storage, with the
// layout of Local under workingDir: blobs at blocks/<name[4:6]>/<name>,
// staged under tmp/ (on S3, only blobs larger than one part are staged;
// smaller ones are PUT at their final key). Identical content is kept once.
type Shards struct {
	st  Storage
	wd  string
	err error // invalid workingDir, reported by every operation
}

// NewShards returns the shard store of st under workingDir, a path relative
// to the storage root (leading slashes are ignored: it is never outside the
// storage).
func NewShards(st Storage, workingDir string) *Shards {
	wd, err := CleanPath(strings.TrimLeft(workingDir, "/"))
	if err != nil {
		err = fmt.Errorf("shard store: working directory: %w", err)
	}
	return &Shards{st: st, wd: wd, err: err}
}

// Storage is the storage the shards live in.
func (s *Shards) Storage() Storage { return s.st }

// WorkingDir is the cleaned working directory.
func (s *Shards) WorkingDir() string { return s.wd }

func (s *Shards) tmpDir() string { return path.Join(s.wd, "tmp") }

// trashDir holds large blobs removed but not yet unlinked (LocalFS).
func (s *Shards) trashDir() string { return path.Join(s.wd, "trash") }

// laterRemover is a Storage that can take a file out of the store at once
// and free its space behind the caller (LocalFS: see RemoveLater).
type laterRemover interface {
	RemoveLater(ctx context.Context, p, trash string) error
	Reap(trash string) error
}

func (s *Shards) blobPath(name string) (string, error) {
	if s.err != nil {
		return "", s.err
	}
	if len(name) < 8 || len(name) > 200 || strings.ContainsAny(name, `/\.`+"\x00") {
		return "", fmt.Errorf("shard store: invalid blob name %q", name)
	}
	return path.Join(s.wd, "blocks", name[4:6], name), nil
}

// Create starts a blob staged under tmp/.
func (s *Shards) Create(ctx context.Context) (BlobWriter, error) {
	if s.err != nil {
		return nil, s.err
	}
	var (
		w   BlobWriter
		err error
	)
	if sc, ok := s.st.(StagingCreator); ok {
		w, err = sc.CreateIn(ctx, s.tmpDir())
	} else {
		w, err = s.st.Create(ctx)
	}
	if err != nil {
		return nil, err
	}
	return &shardWriter{s: s, w: w}, nil
}

type shardWriter struct {
	s    *Shards
	w    BlobWriter
	done bool
}

func (w *shardWriter) Write(p []byte) (int, error) { return w.w.Write(p) }

func (w *shardWriter) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := w.w.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(w.w, r)
}

// Commit places the blob under name; if a blob of that name is already
// there (identical content, by construction), the new bytes are dropped.
func (w *shardWriter) Commit(ctx context.Context, name string) error {
	if w.done {
		return errors.New("shard store: blob already finished")
	}
	w.done = true
	dst, err := w.s.blobPath(name)
	if err != nil {
		w.w.Abort()
		return err
	}
	if _, err := w.s.st.Stat(ctx, dst); err == nil {
		return w.w.Abort()
	} else if !errors.Is(err, fs.ErrNotExist) {
		w.w.Abort()
		return err
	}
	return w.w.Commit(ctx, dst)
}

func (w *shardWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	return w.w.Abort()
}

// Open reads n bytes of blob name from off (n < 0: to the end).
func (s *Shards) Open(ctx context.Context, name string, off, n int64) (io.ReadCloser, error) {
	p, err := s.blobPath(name)
	if err != nil {
		return nil, err
	}
	return s.st.Open(ctx, p, off, n)
}

// Stat reports a blob's size.
func (s *Shards) Stat(ctx context.Context, name string) (int64, error) {
	p, err := s.blobPath(name)
	if err != nil {
		return 0, err
	}
	e, err := s.st.Stat(ctx, p)
	if err != nil {
		return 0, err
	}
	if e.IsDir {
		return 0, fmt.Errorf("shard store: blob %q: %w", name, fs.ErrNotExist)
	}
	return e.Size, nil
}

// Remove deletes a blob; removing an absent one is not an error.
func (s *Shards) Remove(ctx context.Context, name string) error {
	p, err := s.blobPath(name)
	if err != nil {
		return err
	}
	if s3s, ok := s.st.(*S3Storage); ok {
		return s3s.removeKey(ctx, p) // no directory marker to look for
	}
	if lr, ok := s.st.(laterRemover); ok {
		return lr.RemoveLater(ctx, p, s.trashDir())
	}
	return s.st.Remove(ctx, p)
}

// List calls fn with the name of every blob in the store.
func (s *Shards) List(ctx context.Context, fn func(name string) error) error {
	if s.err != nil {
		return s.err
	}
	err := s.st.Walk(ctx, path.Join(s.wd, "blocks"), func(e Entry) error {
		if e.IsDir {
			return nil
		}
		return fn(path.Base(e.Path))
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil // no blob yet
	}
	return err
}

// SweepTemp removes staging files (and, on S3, multipart uploads) under
// tmp/ older than age: left by writes that a crash or a cut connection
// never finished. Removed blobs that a stop left in trash/ are unlinked in
// the background.
func (s *Shards) SweepTemp(ctx context.Context, age time.Duration) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if lr, ok := s.st.(laterRemover); ok {
		// Unusable, trash/ only makes removals unlink at once.
		_ = lr.Reap(s.trashDir())
	}
	if ts, ok := s.st.(TempSweeper); ok {
		return ts.SweepTemp(ctx, s.tmpDir(), age)
	}
	cutoff := time.Now().Add(-age)
	var stale []string
	err := s.st.Walk(ctx, s.tmpDir(), func(e Entry) error {
		if !e.IsDir && !e.ModTime.After(cutoff) {
			stale = append(stale, e.Path)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	n := 0
	for _, p := range stale {
		if s.st.Remove(ctx, p) == nil {
			n++
		}
	}
	return n, nil
}
