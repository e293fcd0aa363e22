package backends

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// LocalFS is a Storage over a directory tree of this machine. Every path
// resolves inside the root through an os.Root: ".." elements are refused up
// front, and a symbolic link may only be followed when it stays inside the
// root (absolute link targets are refused altogether), so no operation can
// reach a file outside it.
type LocalFS struct {
	root *os.Root
	dir  string

	mu      sync.Mutex
	reapers map[string]*reaper // by trash directory (RemoveLater)
}

var (
	_ Storage        = (*LocalFS)(nil)
	_ StagingCreator = (*LocalFS)(nil)
	_ PathCreator    = (*LocalFS)(nil)
	_ TempSweeper    = (*LocalFS)(nil)
)

// NewLocalFS opens the directory rootPath ("" means "/") as a storage. It
// must be an absolute path to an existing directory.
func NewLocalFS(rootPath string) (*LocalFS, error) {
	if rootPath == "" {
		rootPath = "/"
	}
	if !filepath.IsAbs(rootPath) {
		return nil, fmt.Errorf("local storage: root %q is not an absolute path", rootPath)
	}
	dir := filepath.Clean(rootPath)
	r, err := os.OpenRoot(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("local storage: root directory %q does not exist", dir)
		}
		return nil, fmt.Errorf("local storage: open root: %w", err)
	}
	return &LocalFS{root: r, dir: dir}, nil
}

// CheckLocalRoot enforces the operator's list of allowed local roots
// (--local-roots): root must be absolute and, when allowed is not empty,
// equal to or beneath one of its entries once symbolic links in both are
// resolved (for the parts that exist).
func CheckLocalRoot(root string, allowed []string) error {
	if root == "" {
		root = "/"
	}
	if !filepath.IsAbs(root) {
		return fmt.Errorf("local storage: root %q is not an absolute path", root)
	}
	if len(allowed) == 0 {
		return nil
	}
	r := resolveExisting(filepath.Clean(root))
	for _, a := range allowed {
		a = strings.TrimSpace(a)
		if a == "" || !filepath.IsAbs(a) {
			continue
		}
		ra := resolveExisting(filepath.Clean(a))
		if within(ra, r) {
			return nil
		}
	}
	return fmt.Errorf("local storage: root %q is not under an allowed local root (%s)", root, strings.Join(allowed, ", "))
}

// resolveExisting resolves symbolic links in the longest existing prefix of
// an absolute clean path and appends the rest.
func resolveExisting(p string) string {
	rest := ""
	for cur := p; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// within reports whether p is base or beneath it.
func within(base, p string) bool {
	rel, err := filepath.Rel(base, p)
	if err != nil {
		return false
	}
	return rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)))
}

// Root is the absolute directory the storage is rooted at.
func (l *LocalFS) Root() string { return l.dir }

// Close releases the root directory handle.
func (l *LocalFS) Close() error { return l.root.Close() }

// osName maps a clean storage path to a name for the os.Root.
func osName(p string) string {
	if p == "" {
		return "."
	}
	return filepath.FromSlash(p)
}

// fsErr wraps an error of an os.Root operation, making escapes recognisable.
func (l *LocalFS) fsErr(op, p string, err error) error {
	if err == nil {
		return nil
	}
	if strings.Contains(err.Error(), "path escapes from parent") {
		return fmt.Errorf("local storage: %s %q: %w (%v)", op, p, ErrOutsideRoot, err)
	}
	return fmt.Errorf("local storage: %s %q: %w", op, p, err)
}

// Create starts a file staged in the root's .jcsgw-tmp directory. When the
// destination is known, CreateAt avoids needing that directory (and a copy
// if the destination lies on another file system).
func (l *LocalFS) Create(ctx context.Context) (BlobWriter, error) {
	return l.createIn(stagingDir, "")
}

// CreateIn starts a file staged in dir.
func (l *LocalFS) CreateIn(ctx context.Context, dir string) (BlobWriter, error) {
	d, err := CleanPath(dir)
	if err != nil {
		return nil, err
	}
	return l.createIn(d, "")
}

// CreateAt starts a file for path, staged beside it.
func (l *LocalFS) CreateAt(ctx context.Context, p string) (BlobWriter, error) {
	c, err := cleanFilePath(p)
	if err != nil {
		return nil, err
	}
	return l.createIn(parentDir(c), c)
}

func (l *LocalFS) createIn(dir, target string) (BlobWriter, error) {
	if dir != "" {
		if err := l.root.MkdirAll(osName(dir), 0o755); err != nil {
			return nil, l.fsErr("create staging directory", dir, err)
		}
	}
	for range 10 {
		tmp := path.Join(dir, stagingPrefix+randomSuffix())
		f, err := l.root.OpenFile(osName(tmp), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, l.fsErr("create", tmp, err)
		}
		return &localFSWriter{l: l, f: f, tmp: tmp, target: target}, nil
	}
	return nil, fmt.Errorf("local storage: could not pick a staging file name in %q", dir)
}

type localFSWriter struct {
	l      *LocalFS
	f      *os.File
	tmp    string // staging path
	target string // fixed destination (CreateAt), or ""
	done   bool
}

func (w *localFSWriter) Write(p []byte) (int, error) { return w.f.Write(p) }

// ReadFrom lets io.Copy use copy_file_range/splice into the file.
func (w *localFSWriter) ReadFrom(r io.Reader) (int64, error) { return io.Copy(w.f, r) }

func (w *localFSWriter) Commit(ctx context.Context, p string) error {
	return w.commit(p, time.Time{})
}

// CommitModTime commits with the file's modification time set to mtime
// before it appears at p.
func (w *localFSWriter) CommitModTime(ctx context.Context, p string, mtime time.Time) error {
	return w.commit(p, mtime)
}

func (w *localFSWriter) commit(p string, mtime time.Time) error {
	if w.done {
		return errors.New("local storage: file already finished")
	}
	w.done = true
	dst, err := cleanFilePath(p)
	if err == nil && w.target != "" && dst != w.target {
		err = fmt.Errorf("local storage: writer was created for %q, cannot commit it at %q", w.target, dst)
	}
	if err != nil {
		w.discard()
		return err
	}
	if err := w.f.Sync(); err != nil {
		w.discard()
		return fmt.Errorf("local storage: sync: %w", err)
	}
	if err := w.f.Close(); err != nil {
		w.l.root.Remove(osName(w.tmp))
		return fmt.Errorf("local storage: close: %w", err)
	}
	l := w.l
	if !mtime.IsZero() {
		if err := l.root.Chtimes(osName(w.tmp), time.Time{}, mtime); err != nil {
			l.root.Remove(osName(w.tmp))
			return l.fsErr("set modification time of", dst, err)
		}
	}
	dir := parentDir(dst)
	if dir != "" {
		if err := l.root.MkdirAll(osName(dir), 0o755); err != nil {
			l.root.Remove(osName(w.tmp))
			return l.fsErr("create directory", dir, err)
		}
	}
	err = l.root.Rename(osName(w.tmp), osName(dst))
	if errors.Is(err, syscall.EXDEV) {
		// The staging directory is on another file system: copy the bytes
		// into a staging file beside the destination, then rename that.
		err = l.copyInto(w.tmp, dst, mtime)
	}
	l.root.Remove(osName(w.tmp)) // gone after a rename; harmless then
	if err != nil {
		return l.fsErr("place file at", dst, err)
	}
	return l.syncDir(dir)
}

func (l *LocalFS) copyInto(src, dst string, mtime time.Time) error {
	in, err := l.root.Open(osName(src))
	if err != nil {
		return err
	}
	defer in.Close()
	bw, err := l.createIn(parentDir(dst), dst)
	if err != nil {
		return err
	}
	w := bw.(*localFSWriter)
	if _, err := io.Copy(w.f, in); err != nil {
		w.discard()
		return err
	}
	if err := w.f.Sync(); err != nil {
		w.discard()
		return err
	}
	w.done = true
	if err := w.f.Close(); err != nil {
		l.root.Remove(osName(w.tmp))
		return err
	}
	if !mtime.IsZero() {
		l.root.Chtimes(osName(w.tmp), time.Time{}, mtime)
	}
	if err := l.root.Rename(osName(w.tmp), osName(dst)); err != nil {
		l.root.Remove(osName(w.tmp))
		return err
	}
	return nil
}

func (w *localFSWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.discard()
	return nil
}

func (w *localFSWriter) discard() {
	w.f.Close()
	w.l.root.Remove(osName(w.tmp))
}

func (l *LocalFS) syncDir(dir string) error {
	d, err := l.root.Open(osName(dir))
	if err != nil {
		return l.fsErr("open directory", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return l.fsErr("sync directory", dir, err)
	}
	return nil
}

// Open reads n bytes of the file at p from off (n < 0: to the end).
func (l *LocalFS) Open(ctx context.Context, p string, off, n int64) (io.ReadCloser, error) {
	c, err := cleanFilePath(p)
	if err != nil {
		return nil, err
	}
	f, err := l.root.Open(osName(c))
	if err != nil {
		return nil, l.fsErr("open", c, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, l.fsErr("stat", c, err)
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("local storage: open %q: is a directory", c)
	}
	off = max(off, 0)
	if off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return nil, l.fsErr("seek", c, err)
		}
	}
	if n < 0 {
		n = max(st.Size()-off, 0)
	}
	return &fileSection{f: f, lr: io.LimitedReader{R: f, N: n}}, nil
}

// Stat describes p; a symbolic link is described by its target.
func (l *LocalFS) Stat(ctx context.Context, p string) (Entry, error) {
	c, err := CleanPath(p)
	if err != nil {
		return Entry{}, err
	}
	st, err := l.root.Stat(osName(c))
	if err != nil {
		return Entry{}, l.fsErr("stat", c, err)
	}
	return infoEntry(c, st), nil
}

func infoEntry(p string, st fs.FileInfo) Entry {
	e := Entry{Path: p, ModTime: st.ModTime(), IsDir: st.IsDir()}
	if !e.IsDir {
		e.Size = st.Size()
	}
	return e
}

// Remove deletes the file (or empty directory) at p; absent is OK. A
// symbolic link is removed itself, never its target.
func (l *LocalFS) Remove(ctx context.Context, p string) error {
	c, err := cleanFilePath(p)
	if err != nil {
		return err
	}
	if err := l.root.Remove(osName(c)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return l.fsErr("remove", c, err)
	}
	return nil
}

// RemoveLater removes the file at p as Remove does, but a large one is
// only moved into the directory trash (made if needed, on the same file
// system) and unlinked there by a goroutine: an unlink frees blocks and
// drops cached pages in proportion to the file's size (a third of a second
// for 1 GiB on this project's VM), which the caller need not wait for.
// Should trash be unusable, the file is removed at once.
func (l *LocalFS) RemoveLater(ctx context.Context, p, trash string) error {
	c, err := cleanFilePath(p)
	if err != nil {
		return err
	}
	r, err := l.reaperFor(trash)
	if err != nil {
		return l.Remove(ctx, p)
	}
	if err := r.drop(osName(c)); err != nil {
		return l.fsErr("remove", c, err)
	}
	return nil
}

// Reap starts unlinking what the directory trash holds: files that
// RemoveLater moved there before a crash or a stop.
func (l *LocalFS) Reap(trash string) error {
	_, err := l.reaperFor(trash)
	return err
}

// reaperFor returns the reaper of the directory trash, opening it (and
// handing it the files already there) the first time.
func (l *LocalFS) reaperFor(trash string) (*reaper, error) {
	t, err := cleanFilePath(trash)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if r := l.reapers[t]; r != nil {
		return r, nil
	}
	r, err := openReaper(rootFS{l.root}, osName(t))
	if err != nil {
		return nil, l.fsErr("open trash", t, err)
	}
	if l.reapers == nil {
		l.reapers = map[string]*reaper{}
	}
	l.reapers[t] = r
	return r, nil
}

// MkdirAll makes the directory p and its parents.
func (l *LocalFS) MkdirAll(ctx context.Context, p string) error {
	c, err := CleanPath(p)
	if err != nil {
		return err
	}
	return l.fsErr("make directory", c, l.root.MkdirAll(osName(c), 0o755))
}

// SetModTime sets the modification time of p (its access time is kept).
func (l *LocalFS) SetModTime(ctx context.Context, p string, t time.Time) error {
	c, err := CleanPath(p)
	if err != nil {
		return err
	}
	return l.fsErr("set modification time of", c, l.root.Chtimes(osName(c), time.Time{}, t))
}

// Test checks that the root exists, is a directory and can be written, by
// creating and removing a probe file in it.
func (l *LocalFS) Test(ctx context.Context) error {
	st, err := l.root.Stat(".")
	if err != nil {
		return fmt.Errorf("local storage: root %q: %w", l.dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("local storage: root %q is not a directory", l.dir)
	}
	name := stagingPrefix + "test-" + randomSuffix()
	f, err := l.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("local storage: root %q is not writable: %w", l.dir, err)
	}
	f.Close()
	if err := l.root.Remove(name); err != nil {
		return fmt.Errorf("local storage: root %q: remove probe file: %w", l.dir, err)
	}
	return nil
}

// Walk visits everything under dir in key order (see Storage). Symbolic
// links to files inside the root are reported as those files; links to
// directories, dangling links and links leading out of the root are skipped.
func (l *LocalFS) Walk(ctx context.Context, dir string, fn func(Entry) error) error {
	return l.walk(ctx, dir, true, fn)
}

func (l *LocalFS) walk(ctx context.Context, dir string, hide bool, fn func(Entry) error) error {
	d, err := CleanPath(dir)
	if err != nil {
		return err
	}
	st, err := l.root.Stat(osName(d))
	if err != nil {
		return l.fsErr("walk", d, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("local storage: walk %q: not a directory", d)
	}
	err = l.walkDir(ctx, d, hide, fn)
	if err == fs.SkipAll || err == fs.SkipDir {
		return nil
	}
	return err
}

type localItem struct {
	key string
	e   Entry
}

func (l *LocalFS) walkDir(ctx context.Context, dir string, hide bool, fn func(Entry) error) error {
	f, err := l.root.Open(osName(dir))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed while walking
		}
		return l.fsErr("walk", dir, err)
	}
	ents, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return l.fsErr("walk", dir, err)
	}
	items := make([]localItem, 0, len(ents))
	for _, de := range ents {
		name := de.Name()
		if hide && hiddenName(name) {
			continue
		}
		p := name
		if dir != "" {
			p = dir + "/" + name
		}
		var info fs.FileInfo
		if de.Type()&fs.ModeSymlink != 0 {
			info, err = l.root.Stat(osName(p))
			if err != nil || info.IsDir() {
				continue
			}
		} else {
			info, err = de.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return l.fsErr("walk", p, err)
			}
		}
		if !info.IsDir() && !info.Mode().IsRegular() {
			continue // devices, sockets, pipes
		}
		e := infoEntry(p, info)
		items = append(items, localItem{key: entryKey(e), e: e})
	}
	slices.SortFunc(items, func(a, b localItem) int { return strings.Compare(a.key, b.key) })
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := fn(it.e)
		switch {
		case err == fs.SkipDir && it.e.IsDir:
			continue
		case err != nil:
			return err // SkipDir on a file skips the rest of this directory
		}
		if it.e.IsDir {
			if err := l.walkDir(ctx, it.e.Path, hide, fn); err != nil && err != fs.SkipDir {
				return err
			}
		}
	}
	return nil
}

// SweepTemp removes staging files under dir older than age.
func (l *LocalFS) SweepTemp(ctx context.Context, dir string, age time.Duration) (int, error) {
	cutoff := time.Now().Add(-age)
	n := 0
	err := l.walk(ctx, dir, false, func(e Entry) error {
		if !e.IsDir && strings.HasPrefix(path.Base(e.Path), stagingPrefix) && !e.ModTime.After(cutoff) {
			if l.root.Remove(osName(e.Path)) == nil {
				n++
			}
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return n, err
}
