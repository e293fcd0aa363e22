// Package backends holds the drivers that keep bytes at rest.
package backends

import (
	"context"
	"errors"
	"fmt"
	"golang.org/x/sys/unix"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrNotExist is returned when a blob is not in the store.
var ErrNotExist = fs.ErrNotExist

// Local is a content-addressed shard store in a directory of this machine:
// blobs live at blocks/<2 hex>/<name>, are written under tmp/ first and
// renamed into place only when complete and fsynced, so a crash at any
// instant leaves a blob either absent or whole.
type Local struct {
	root string
	// dirs group the directory fsyncs of concurrently placed blobs.
	dirs dirSyncs
	// packs hold the small blobs (see packs).
	packs *packs
	// spares keeps removed large blobs' files to write new ones over;
	// reaper unlinks the others behind the requests that drop them.
	spares *spares
	reaper *reaper
	// reading counts the open readers of each blob file: a file somebody
	// reads is unlinked when removed, never recycled (its reader would see
	// the new blob's bytes).
	mu      sync.Mutex
	reading map[string]int
	// syncStep and datasync drive the syncs behind large writes (see
	// syncBehind); tests change them.
	syncStep int64
	datasync func(fd int) error
}

// NewLocal opens (creating if needed) a shard store rooted at dir.
func NewLocal(dir string) (*Local, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	for _, sub := range []string{"tmp", "blocks"} {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o755); err != nil {
			return nil, fmt.Errorf("local store: %w", err)
		}
	}
	p, err := openPacks(filepath.Join(abs, "packs"))
	if err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	rp, err := openReaper(osFS{}, filepath.Join(abs, "trash"))
	if err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	sp, err := openSpares(filepath.Join(abs, "spare"), rp)
	if err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	return &Local{root: abs, packs: p, spares: sp, reaper: rp, reading: map[string]int{},
		syncStep: syncStep, datasync: unix.Fdatasync}, nil
}

// Root is the store's directory.
func (l *Local) Root() string { return l.root }

// blobPath maps a blob name to its file. Names are produced by the gateway
// (a hash with a short prefix), but they are still checked here: a name is
// never allowed to become a path that leaves the store.
func (l *Local) blobPath(name string) (string, error) {
	if len(name) < 8 || len(name) > 200 || strings.ContainsAny(name, `/\.`+"\x00") {
		return "", fmt.Errorf("local store: invalid blob name %q", name)
	}
	return filepath.Join(l.root, "blocks", name[4:6], name), nil
}

// BlobWriter receives a blob's bytes; Commit places it under its name,
// Abort throws it away. Exactly one of them must be called.
type BlobWriter interface {
	io.Writer
	Commit(ctx context.Context, name string) error
	Abort() error
}

// smallBlob is the size up to which a blob is held in memory until its
// name is known and then appended to a pack.
const smallBlob = 128 << 10

// smallBufs holds the buffers of small blobs, each with recordRoom before
// the bytes, so that the pack record is made around them: a 4 KiB PUT
// allocated its bytes twice, in a growing buffer and in the record (21.6
// KB a PUT in all, 12.5 KB since). Buffers are kept up to keptSmall bytes
// of blob.
var smallBufs = sync.Pool{New: func() any { b := make([]byte, recordRoom, recordRoom+keptSmall); return &b }}

const keptSmall = 16 << 10

func takeSmall() []byte { return (*smallBufs.Get().(*[]byte))[:recordRoom] }

func giveSmall(b []byte) {
	if poolsSmall(b) {
		smallBufs.Put(&b)
	}
}

// poolsSmall tells whether b goes back to the pool: only the pool's own
// size does, as a buffer grown past it is too large to keep and one cut to
// its blob by Trim too small to serve.
func poolsSmall(b []byte) bool { return b != nil && cap(b) == recordRoom+keptSmall }

// Create starts a new blob. Its bytes stay in memory while they are few;
// a larger blob goes to a temp file in tmp/ as it arrives.
func (l *Local) Create(ctx context.Context) (BlobWriter, error) {
	return &localWriter{l: l}, nil
}

type localWriter struct {
	l *Local
	// small holds the bytes, after recordRoom, until they outgrow
	// smallBlob; f is nil until then. nil: nothing written yet.
	small []byte
	f     *os.File
	n     int64
	done  bool
	// flushed is how far writeback has been started (see Write).
	flushed int64
	// spareSize is the size f had when it was taken from the spares (0
	// for a new file): what lies beyond n is an old blob's, cut at Commit.
	spareSize int64
	// synced is how far the last fdatasync started behind the writes
	// reaches; syncing is closed when it ends, with its error in syncErr.
	synced  int64
	syncing chan struct{}
	syncErr error
}

// spill moves the blob from memory to a file: a spare to write over if
// there is one, else a new temp file in tmp/.
func (w *localWriter) spill() error {
	f, size := w.l.spares.take()
	if f == nil {
		var err error
		if f, err = os.CreateTemp(filepath.Join(w.l.root, "tmp"), "put-*"); err != nil {
			return fmt.Errorf("local store: %w", err)
		}
	}
	w.f, w.spareSize = f, size
	if w.small != nil {
		if _, err := f.Write(w.small[recordRoom:]); err != nil {
			return fmt.Errorf("local store: %w", err)
		}
	}
	giveSmall(w.small)
	w.small = nil
	return nil
}

// writebackStep is how much written data may sit in the page cache before
// its writeback is started.
const writebackStep = 8 << 20

func (w *localWriter) Write(p []byte) (int, error) {
	if w.f == nil {
		if w.n+int64(len(p)) <= smallBlob {
			if w.small == nil {
				w.small = takeSmall()
			}
			w.small = append(w.small, p...)
			w.n += int64(len(p))
			return len(p), nil
		}
		if err := w.spill(); err != nil {
			return 0, err
		}
	}
	n, err := w.f.Write(p)
	w.n += int64(n)
	if w.n-w.flushed >= writebackStep {
		// Start writing the data out now, without waiting for it, so that
		// the disk works while the body is still arriving and the fsync at
		// Commit finds little left: a large blob's commit otherwise waits
		// for all of it at the end. Only a hint: errors surface at the fsync.
		_ = unix.SyncFileRange(int(w.f.Fd()), w.flushed, w.n-w.flushed, unix.SYNC_FILE_RANGE_WRITE)
		w.flushed = w.n
		w.syncBehind()
	}
	return n, err
}

// syncStep is how much of a large blob is written between the fdatasyncs
// started behind its writes.
const syncStep = 64 << 20

// syncBehind starts an fdatasync of what has been written so far, unless
// one is still running. Writeback alone does not make the data durable:
// the disk's cache is flushed only by a sync, and here (a Firecracker VM,
// whose disk is a file on the host) that flush writes out everything the
// guest wrote since the last one. Left to Commit, it held a 1 GiB PUT for
// 200-540 ms after its last byte; with syncs every 64 MiB behind the
// writes, the last one takes 10-40 ms.
func (w *localWriter) syncBehind() {
	if w.n-w.synced < w.l.syncStep {
		return
	}
	if w.syncing != nil {
		select {
		case <-w.syncing:
		default:
			return
		}
		if w.syncErr != nil {
			return
		}
	}
	w.synced = w.n
	done := make(chan struct{})
	w.syncing = done
	fd := int(w.f.Fd())
	go func() {
		defer close(done)
		w.syncErr = w.l.datasync(fd)
	}()
}

// waitSync waits for the fdatasync running behind the writes and returns
// its error. It must not be lost: the kernel reports a failed writeback
// to one sync of the file only, and that may have been this one.
func (w *localWriter) waitSync() error {
	if w.syncing != nil {
		<-w.syncing
	}
	return w.syncErr
}

// ReadFrom lets io.Copy hand the file the source directly (copy_file_range
// or splice when the source is a file or socket).
func (w *localWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.f == nil {
		if err := w.spill(); err != nil {
			return 0, err
		}
	}
	n, err := io.Copy(w.f, r)
	w.n += n
	return n, err
}

// Place puts the blob under name without waiting for it to be durable, and
// returns what makes it so: a small blob is appended to a pack, whose one
// fdatasync the caller may then share with every blob appended before it
// started (the gateway runs it inside the catalog's group commit, just
// before the records that reference the blobs commit). A large blob is
// made durable here, as Commit does, and its function does nothing. The
// function must be called once; a blob whose function failed is not
// stored.
func (w *localWriter) Place(ctx context.Context, name string) (func() error, error) {
	if w.done || w.f != nil {
		if err := w.Commit(ctx, name); err != nil {
			return nil, err
		}
		return func() error { return nil }, nil
	}
	w.done = true
	if _, err := w.l.blobPath(name); err != nil {
		return nil, err
	}
	durable, err := w.pack(name)
	if err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	return durable, nil
}

// Trim gives back the room a small blob's buffer has beyond its bytes, when
// that is most of it: a blob that waits for others before it is placed (a
// form of many files commits them together) then holds its own size, not a
// pooled buffer's 16 KiB. A form of 1,000 files of 100 bytes held 16.5 MB.
func (w *localWriter) Trim() {
	if w.f != nil || w.small == nil || cap(w.small) < 2*len(w.small) {
		return
	}
	b := make([]byte, len(w.small))
	copy(b, w.small)
	giveSmall(w.small)
	w.small = b
}

// pack appends the small blob to a pack, and gives its buffer back.
func (w *localWriter) pack(name string) (func() error, error) {
	b := w.small
	w.small = nil
	if b == nil {
		return w.l.packs.append(name, nil)
	}
	defer giveSmall(b)
	return w.l.packs.appendIn(name, b, recordRoom)
}

func (w *localWriter) Commit(ctx context.Context, name string) error {
	if w.done {
		return errors.New("local store: blob already finished")
	}
	w.done = true
	dst, err := w.l.blobPath(name)
	if err != nil {
		w.discard()
		return err
	}
	dir := filepath.Dir(dst)
	if w.f == nil {
		durable, err := w.pack(name)
		if err == nil {
			err = durable()
		}
		if err != nil {
			return fmt.Errorf("local store: %w", err)
		}
		return nil
	}
	if _, err := os.Stat(dst); err == nil {
		// Identical content is already there: keep one copy. Its writer may
		// not have made its entry durable yet, so wait for a sync of it.
		w.discard()
		if err := w.l.dirs.sync(dir); err != nil {
			return fmt.Errorf("local store: sync dir: %w", err)
		}
		return nil
	}
	if err := w.waitSync(); err != nil {
		w.discard()
		return fmt.Errorf("local store: sync: %w", err)
	}
	if w.spareSize > w.n {
		if err := w.f.Truncate(w.n); err != nil {
			w.discard()
			return fmt.Errorf("local store: %w", err)
		}
	}
	// The data first (fdatasync: the size and blocks, not the times), then
	// the name: renamed into place and made durable with its neighbours'.
	if err := unix.Fdatasync(int(w.f.Fd())); err != nil {
		w.discard()
		return fmt.Errorf("local store: sync: %w", err)
	}
	if err := w.f.Close(); err != nil {
		os.Remove(w.f.Name())
		return fmt.Errorf("local store: close: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		os.Remove(w.f.Name())
		return fmt.Errorf("local store: %w", err)
	}
	if err := os.Rename(w.f.Name(), dst); err != nil {
		os.Remove(w.f.Name())
		return fmt.Errorf("local store: place blob: %w", err)
	}
	if err := w.l.dirs.sync(dir); err != nil {
		return fmt.Errorf("local store: sync dir: %w", err)
	}
	return nil
}

func (w *localWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.discard()
	return nil
}

func (w *localWriter) discard() {
	giveSmall(w.small)
	w.small = nil
	if w.f != nil {
		w.waitSync() // it uses the descriptor
		w.f.Close()
		if !w.l.spares.keep(w.f.Name(), max(w.n, w.spareSize)) {
			w.l.reaper.drop(w.f.Name())
		}
	}
}

// Open reads n bytes of blob name from off (n < 0: to the end).
func (l *Local) Open(ctx context.Context, name string, off, n int64) (io.ReadCloser, error) {
	p, err := l.blobPath(name)
	if err != nil {
		return nil, err
	}
	if rc, ok, err := l.packs.open(name, off, n); ok || err != nil {
		return rc, err
	}
	l.mu.Lock()
	f, err := os.Open(p)
	if err == nil {
		l.reading[p]++
	}
	l.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("local store: open blob: %w", err)
	}
	done := func() {
		l.mu.Lock()
		if l.reading[p]--; l.reading[p] <= 0 {
			delete(l.reading, p)
		}
		l.mu.Unlock()
	}
	if off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			done()
			return nil, fmt.Errorf("local store: %w", err)
		}
	}
	if n < 0 {
		st, err := f.Stat()
		if err != nil {
			f.Close()
			done()
			return nil, fmt.Errorf("local store: %w", err)
		}
		n = max(st.Size()-off, 0)
	}
	return &fileSection{f: f, lr: io.LimitedReader{R: f, N: n}, done: done}, nil
}

// fileSection is a window of an open file. Its WriteTo hands the sink an
// *io.LimitedReader over the *os.File, which is what lets net/http send the
// bytes with sendfile instead of copying them through user space.
type fileSection struct {
	f    *os.File
	lr   io.LimitedReader
	done func() // if not nil, run once at Close
	once sync.Once
}

func (s *fileSection) Read(p []byte) (int, error)         { return s.lr.Read(p) }
func (s *fileSection) WriteTo(w io.Writer) (int64, error) { return io.Copy(w, &s.lr) }
func (s *fileSection) Close() error {
	err := s.f.Close()
	if s.done != nil {
		s.once.Do(s.done)
	}
	return err
}

// Stat reports a blob's size.
func (l *Local) Stat(ctx context.Context, name string) (int64, error) {
	p, err := l.blobPath(name)
	if err != nil {
		return 0, err
	}
	if _, _, n, ok := l.packs.lookup(name); ok {
		return n, nil
	}
	st, err := os.Stat(p)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// Remove deletes a blob; removing an absent one is not an error.
func (l *Local) Remove(ctx context.Context, name string) error {
	p, err := l.blobPath(name)
	if err != nil {
		return err
	}
	// A blob is in a pack or in a file of its own, by its size. (A store
	// written before packs may hold a small one in both: its file is left
	// for the gateway's start-up sweep and collector, which remove the
	// blobs of names nothing references.)
	packed, err := l.packs.remove(name)
	if err != nil {
		return fmt.Errorf("local store: %w", err)
	}
	if packed {
		return nil
	}
	// Unread, the file may become a spare: the check and the move are one
	// step under l.mu, which Open takes to count a reader in. Otherwise it
	// goes to the reaper (or, small, is unlinked here), which needs no
	// lock: a reader that opened the file first keeps its bytes.
	l.mu.Lock()
	kept := false
	if l.reading[p] == 0 {
		st, err := os.Lstat(p)
		kept = err == nil && st.Mode().IsRegular() && l.spares.keep(p, st.Size())
	}
	l.mu.Unlock()
	if kept {
		return nil
	}
	if err := l.reaper.drop(p); err != nil {
		return fmt.Errorf("local store: remove blob: %w", err)
	}
	return nil
}

// List calls fn with the name of every blob in the store.
func (l *Local) List(ctx context.Context, fn func(name string) error) error {
	for _, name := range l.packs.names() {
		if err := fn(name); err != nil {
			return err
		}
	}
	// A file of a name also packed (a store written before packs) was
	// listed with the packs; the index is asked, rather than a set of all
	// packed names made for the walk (with a million small blobs, a map of
	// a million entries at every start and collection).
	return filepath.WalkDir(filepath.Join(l.root, "blocks"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if _, _, _, packed := l.packs.lookup(d.Name()); packed {
			return nil
		}
		return fn(d.Name())
	})
}

// SweepTemp removes temp files older than age: left by writes that a crash
// or a cut connection never finished. It also compacts the packs, the other
// debris of deletes: both are what garbage collection is for.
func (l *Local) SweepTemp(ctx context.Context, age time.Duration) (int, error) {
	if _, err := l.packs.compact(); err != nil {
		return 0, fmt.Errorf("local store: %w", err)
	}
	dir := filepath.Join(l.root, "tmp")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("local store: %w", err)
	}
	n := 0
	cutoff := time.Now().Add(-age)
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || info.ModTime().After(cutoff) {
			continue
		}
		if os.Remove(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	return n, nil
}
