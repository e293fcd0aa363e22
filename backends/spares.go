package backends

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// spares keeps the files of removed large blobs for a short while so that
// new large blobs are written over them instead of into new files: the
// recycling databases do with their log segments.
//
// Writing over a file whose pages are still cached copies into memory the
// machine has already touched, and the file system allocates no blocks
// (and, mounted with discard, trims none when the old file goes). Measured
// on this project's 2-core Firecracker/PVM test machine, where the host
// takes freed guest memory back within seconds (virtio-balloon free page
// reporting): writing 1 GiB into new page cache cost 1.2-1.6 s of CPU,
// over a cached file 0.16-0.25 s. A store with churn (overwrites, deletes,
// aborted uploads) gets that for most of its large writes.
//
// A spare keeps disk space that a removal would have freed, so the pool is
// small (spareMaxFiles, spareMaxBytes), its files go after spareMaxAge,
// none is kept while the file system is short of space, and the directory
// is emptied whenever the store is opened (so a crash leaves none behind
// for long).
type spares struct {
	dir string
	// The pool's bounds; the constants below, changed only by tests.
	maxFiles int
	maxBytes int64
	maxAge   time.Duration
	// roomy reports whether the file system can spare size more bytes.
	roomy func(size int64) bool
	// reaper unlinks the files that leave the pool unused.
	reaper *reaper

	mu    sync.Mutex
	files []spareFile // oldest first
	bytes int64
	seq   uint64
	timer *time.Timer // set while files is not empty
}

type spareFile struct {
	path string
	size int64
	at   time.Time
}

const (
	spareMaxFiles = 128
	spareMaxBytes = 2 << 30
	spareMaxAge   = 30 * time.Second
	// spareMinFree is the share of the file system (in percent) that must
	// stay free beyond the spares for a file to be kept as one.
	spareMinFree = 10
)

// openSpares empties dir (creating it if needed), handing what it held to
// the reaper, and returns its pool.
func openSpares(dir string, r *reaper) (*spares, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if err := r.drop(filepath.Join(dir, e.Name())); err != nil {
			return nil, err
		}
	}
	s := &spares{dir: dir, reaper: r, maxFiles: spareMaxFiles, maxBytes: spareMaxBytes, maxAge: spareMaxAge}
	s.roomy = s.statfsRoomy
	return s, nil
}

func (s *spares) statfsRoomy(size int64) bool {
	var st unix.Statfs_t
	if unix.Statfs(s.dir, &st) != nil {
		return false
	}
	free := int64(st.Bavail) * st.Bsize
	total := int64(st.Blocks) * st.Bsize
	return free-size >= total/100*spareMinFree
}

// keep moves the file at path (size bytes, no longer needed under its name)
// into the pool, or reports false if the pool cannot take it, and then the
// caller removes it.
func (s *spares) keep(path string, size int64) bool {
	if size <= smallBlob {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.files) >= s.maxFiles || s.bytes+size > s.maxBytes || !s.roomy(s.bytes+size) {
		return false
	}
	s.seq++
	dst := filepath.Join(s.dir, "spare-"+strconv.FormatUint(s.seq, 10))
	if os.Rename(path, dst) != nil {
		return false
	}
	s.files = append(s.files, spareFile{path: dst, size: size, at: time.Now()})
	s.bytes += size
	if s.timer == nil {
		s.timer = time.AfterFunc(s.maxAge, s.expire)
	}
	return true
}

// take hands out the most recently kept file (the likeliest to be cached),
// open for writing at offset 0, with its current size; nil if none is left.
func (s *spares) take() (*os.File, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.files) > 0 {
		sp := s.files[len(s.files)-1]
		s.files = s.files[:len(s.files)-1]
		s.bytes -= sp.size
		if f, err := os.OpenFile(sp.path, os.O_WRONLY, 0); err == nil {
			return f, sp.size
		}
		os.Remove(sp.path)
	}
	return nil, 0
}

// expire removes the files kept longer than maxAge and runs again when the
// next one is due.
func (s *spares) expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	cutoff := time.Now().Add(-s.maxAge)
	n := 0
	for _, sp := range s.files {
		if !sp.at.After(cutoff) {
			// A rename, not the unlink, under s.mu: a writer may be
			// waiting in take.
			s.reaper.drop(sp.path)
			s.bytes -= sp.size
			n++
		}
	}
	s.files = append(s.files[:0], s.files[n:]...)
	if len(s.files) == 0 {
		s.timer = nil
		return
	}
	s.timer = time.AfterFunc(time.Until(s.files[0].at.Add(s.maxAge)), s.expire)
}

// held reports how many files and bytes the pool holds.
func (s *spares) held() (int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files), s.bytes
}
