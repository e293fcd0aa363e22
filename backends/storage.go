package backends

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// Entry describes a file or directory of a Storage. Path is slash-separated
// and relative to the storage root.
type Entry struct {
	Path    string
	Size    int64
	ModTime time.Time
	IsDir   bool
}

// Storage is a file tree over one storage system (a user space). Paths are
// slash-separated and relative to the storage root: "" is the root itself,
// "." elements and a trailing "/" are ignored, and a path that is absolute,
// contains ".." elements or a NUL byte is refused with ErrInvalidPath.
type Storage interface {
	// Create starts a file. The writer's Commit(ctx, path) places it at path
	// atomically, replacing what was there; Abort discards it. Exactly one of
	// them must be called. Readers never see a partly written file.
	Create(ctx context.Context) (BlobWriter, error)
	// Open reads n bytes of the file at path from off (n < 0: to the end).
	// Reading past the end yields fewer (or no) bytes, not an error. An
	// absent file is ErrNotExist.
	Open(ctx context.Context, path string, off, n int64) (io.ReadCloser, error)
	// Stat describes path; ErrNotExist when absent.
	Stat(ctx context.Context, path string) (Entry, error)
	// Remove deletes the file at path (or an empty directory); absent is OK.
	Remove(ctx context.Context, path string) error
	// Walk calls fn for every file and directory under dir (not dir itself),
	// recursively, in ascending order of their key, where a directory's key
	// is its path followed by "/" (which is S3 key order: "a-b" < "a/" <
	// "a/x" < "a0"). Staging files of in-flight writes (names starting with
	// ".jcsgw-tmp") are not reported. fn may return fs.SkipDir (on a
	// directory: skip its contents; on a file: skip the rest of its
	// directory) or fs.SkipAll. An absent dir is ErrNotExist.
	Walk(ctx context.Context, dir string, fn func(Entry) error) error
	// MkdirAll makes a directory and its parents.
	MkdirAll(ctx context.Context, path string) error
	// SetModTime sets a file's modification time, or returns ErrUnsupported.
	SetModTime(ctx context.Context, path string, t time.Time) error
	// Test checks that the storage is reachable and usable with the
	// configured credentials. Its error never contains a secret.
	Test(ctx context.Context) error
}

// StagingCreator is implemented by storages whose writers stage bytes at a
// path of the tree: CreateIn keeps the staging file in dir (which it
// creates), named ".jcsgw-tmp-<random>". Shards uses it to keep temp files
// under <workingDir>/tmp.
type StagingCreator interface {
	CreateIn(ctx context.Context, dir string) (BlobWriter, error)
}

// PathCreator is implemented by storages that can write more directly when
// the destination is known up front (Local: a staging file beside it, so the
// final rename never crosses file systems; S3: a multipart upload straight to
// the final key, which is atomic by nature). The writer's Commit must be
// given the same path.
type PathCreator interface {
	CreateAt(ctx context.Context, path string) (BlobWriter, error)
}

// TempSweeper is implemented by storages that can clean up after writes a
// crash never finished: it removes, recursively under dir, staging files
// (names starting with ".jcsgw-tmp-") last modified before now-age, and on
// S3 also aborts every incomplete multipart upload under dir initiated
// before then. It returns how many it removed.
type TempSweeper interface {
	SweepTemp(ctx context.Context, dir string, age time.Duration) (int, error)
}

// ModTimeCommitter is implemented by writers of storages that keep
// modification times (LocalFS): the file appears at path already carrying
// mtime. S3 writers do not implement it.
type ModTimeCommitter interface {
	CommitModTime(ctx context.Context, path string, mtime time.Time) error
}

// CommitModTime commits w at path with modification time mtime when the
// storage keeps mtimes, and plainly otherwise. kept reports whether mtime was
// applied.
func CommitModTime(ctx context.Context, w BlobWriter, path string, mtime time.Time) (kept bool, err error) {
	if mc, ok := w.(ModTimeCommitter); ok && !mtime.IsZero() {
		return true, mc.CommitModTime(ctx, path, mtime)
	}
	return false, w.Commit(ctx, path)
}

// CreateFor starts a write whose destination is known, using the storage's
// most direct way (PathCreator) when it has one.
func CreateFor(ctx context.Context, st Storage, path string) (BlobWriter, error) {
	if pc, ok := st.(PathCreator); ok {
		return pc.CreateAt(ctx, path)
	}
	return st.Create(ctx)
}

// Probe checks that dir of st can be written: it writes, reads back and
// removes a small staging-named file there.
func Probe(ctx context.Context, st Storage, dir string) error {
	p := path.Join(dir, stagingPrefix+"probe-"+randomSuffix())
	w, err := CreateFor(ctx, st, p)
	if err != nil {
		return err
	}
	const msg = "jcsgw probe"
	if _, err := io.WriteString(w, msg); err != nil {
		w.Abort()
		return err
	}
	if err := w.Commit(ctx, p); err != nil {
		return err
	}
	defer st.Remove(context.WithoutCancel(ctx), p)
	r, err := st.Open(ctx, p, 0, -1)
	if err != nil {
		return err
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return err
	}
	if string(got) != msg {
		return fmt.Errorf("backends: probe of %q read back %d bytes that differ from what was written", dir, len(got))
	}
	return st.Remove(ctx, p)
}

var (
	// ErrUnsupported is returned for operations a storage cannot do (such
	// as SetModTime on S3). errors.Is(err, errors.ErrUnsupported) holds too.
	ErrUnsupported = fmt.Errorf("backends: operation not supported by this storage: %w", errors.ErrUnsupported)
	// ErrInvalidPath is returned for paths that are absolute, contain ".."
	// elements or NUL bytes, or are empty where a file is required.
	ErrInvalidPath = errors.New("backends: invalid path")
	// ErrOutsideRoot is returned when a path would resolve outside a
	// LocalFS root (through ".." or a symbolic link).
	ErrOutsideRoot = errors.New("backends: path escapes the storage root")
)

const (
	// stagingPrefix starts the names of staging files; Walk hides them.
	stagingPrefix = ".jcsgw-tmp-"
	// stagingDir is where Create (no destination known) stages files.
	stagingDir   = ".jcsgw-tmp"
	hiddenPrefix = ".jcsgw-tmp"
)

// CleanPath validates a storage path and returns it in canonical form:
// slash-separated, relative, no "." or empty elements, no trailing slash;
// "" is the root.
func CleanPath(p string) (string, error) {
	if strings.IndexByte(p, 0) >= 0 {
		return "", fmt.Errorf("%w %q: contains a NUL byte", ErrInvalidPath, p)
	}
	if strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("%w %q: must be relative to the storage root, not absolute", ErrInvalidPath, p)
	}
	var b strings.Builder
	for elem := range strings.SplitSeq(p, "/") {
		switch elem {
		case "", ".":
			continue
		case "..":
			return "", fmt.Errorf("%w %q: \"..\" elements are not allowed", ErrInvalidPath, p)
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(elem)
	}
	return b.String(), nil
}

// cleanFilePath is CleanPath for a file: the root is refused.
func cleanFilePath(p string) (string, error) {
	c, err := CleanPath(p)
	if err != nil {
		return "", err
	}
	if c == "" {
		return "", fmt.Errorf("%w %q: a file path is required", ErrInvalidPath, p)
	}
	return c, nil
}

// hiddenName reports whether a path element belongs to the staging machinery.
func hiddenName(name string) bool { return strings.HasPrefix(name, hiddenPrefix) }

func randomSuffix() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// entryKey is the sort key of an entry in Walk order.
func entryKey(e Entry) string {
	if e.IsDir {
		return e.Path + "/"
	}
	return e.Path
}

// parentDir is the directory of a clean path ("" for a top-level name).
func parentDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}
