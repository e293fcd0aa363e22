package catalog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// The write-ahead log makes a group of transactions durable with one small
// sequential write and one fdatasync, where a bbolt commit writes every
// page the group touched (four tables' leaves for each object, at random
// places) and syncs twice. Its records are applied to the bbolt file later,
// many groups in one commit (a checkpoint).
//
// The log is two files used in turn, one per epoch: while the records of
// epoch e are applied to bbolt, epoch e+1 appends to the other file; e+2
// reuses e's file only after bbolt has durably taken e (and recorded that
// it has, under walApplied). A file is overwritten in place, not
// truncated, so that an append changes no file size and fdatasync writes
// only the record's pages; every record names its epoch and carries a
// checksum, so what is left of older epochs, or of a write cut short, ends
// the replay.

const (
	walMagic  = 0x4a43574c // "JCWL"
	walHeader = 20         // magic u32, epoch u64, payload length u32, crc32c u32
	// walGrow is how far ahead of the records a file is zero-filled, so
	// that appends land inside the file.
	walGrow = 4 << 20

	opPut byte = 1
	opDel byte = 2
	opSeq byte = 3

	// metaTable holds the epoch of the last log the bbolt file has taken.
	metaTable   = "_wal_"
	metaApplied = "applied"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// op is one change of a record: a put, a deletion, or a sequence's value.
type op struct {
	kind  byte
	table string
	key   []byte
	val   []byte
	seq   uint64
}

func appendOp(b []byte, o op) []byte {
	b = append(b, o.kind)
	b = binary.AppendUvarint(b, uint64(len(o.table)))
	b = append(b, o.table...)
	switch o.kind {
	case opSeq:
		b = binary.LittleEndian.AppendUint64(b, o.seq)
	default:
		b = binary.AppendUvarint(b, uint64(len(o.key)))
		b = append(b, o.key...)
		if o.kind == opPut {
			b = binary.AppendUvarint(b, uint64(len(o.val)))
			b = append(b, o.val...)
		}
	}
	return b
}

var errBadRecord = errors.New("catalog: malformed log record")

// decodeOps calls fn for each op of a record's payload. The slices point
// into p.
func decodeOps(p []byte, fn func(op) error) error {
	bytesOf := func() ([]byte, error) {
		n, w := binary.Uvarint(p)
		if w <= 0 || uint64(len(p)-w) < n {
			return nil, errBadRecord
		}
		b := p[w : w+int(n)]
		p = p[w+int(n):]
		return b, nil
	}
	for len(p) > 0 {
		o := op{kind: p[0]}
		p = p[1:]
		t, err := bytesOf()
		if err != nil {
			return err
		}
		o.table = string(t)
		switch o.kind {
		case opSeq:
			if len(p) < 8 {
				return errBadRecord
			}
			o.seq = binary.LittleEndian.Uint64(p)
			p = p[8:]
		case opPut, opDel:
			if o.key, err = bytesOf(); err != nil {
				return err
			}
			if o.kind == opPut {
				if o.val, err = bytesOf(); err != nil {
					return err
				}
			}
		default:
			return errBadRecord
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// wal appends records to the current epoch's file.
type wal struct {
	files [2]*os.File
	epoch uint64
	off   int64 // where the next record goes
	size  int64 // the current file's length
	buf   []byte
}

func walPath(dbPath string, i int) string {
	return fmt.Sprintf("%s.wal%d", dbPath, i)
}

// openWAL opens the log files beside the catalog file; fresh (the catalog
// file has just been made) empties them, since records left from another
// catalog must not be replayed into this one.
func openWAL(dbPath string, fresh bool) (*wal, error) {
	w := &wal{}
	created := false
	flags := os.O_RDWR | os.O_CREATE
	if fresh {
		flags |= os.O_TRUNC
	}
	for i := range w.files {
		p := walPath(dbPath, i)
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			created = true
		}
		f, err := os.OpenFile(p, flags, 0o600)
		if err != nil {
			w.close()
			return nil, fmt.Errorf("catalog: open log: %w", err)
		}
		w.files[i] = f
	}
	if created {
		if err := syncDir(filepath.Dir(dbPath)); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("catalog: sync %s: %w", dir, err)
	}
	return nil
}

func (w *wal) close() error {
	var first error
	for _, f := range w.files {
		if f != nil {
			if err := f.Close(); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// start makes epoch the one appended to, from the start of its file.
func (w *wal) start(epoch uint64) error {
	w.epoch, w.off = epoch, 0
	fi, err := w.file().Stat()
	if err != nil {
		return fmt.Errorf("catalog: log: %w", err)
	}
	w.size = fi.Size()
	return nil
}

func (w *wal) file() *os.File { return w.files[w.epoch%2] }

// append writes one record of ops and makes it durable.
func (w *wal) append(ops []op) error {
	var header [walHeader]byte // filled in below
	b := append(w.buf[:0], header[:]...)
	for _, o := range ops {
		b = appendOp(b, o)
	}
	payload := len(b) - walHeader
	binary.LittleEndian.PutUint32(b[0:], walMagic)
	binary.LittleEndian.PutUint64(b[4:], w.epoch)
	binary.LittleEndian.PutUint32(b[12:], uint32(payload))
	crc := crc32.Update(crc32.Checksum(b[4:16], crcTable), crcTable, b[walHeader:])
	binary.LittleEndian.PutUint32(b[16:], crc)
	if cap(b) <= 1<<20 {
		w.buf = b
	}
	f := w.file()
	if end := w.off + int64(len(b)); end > w.size {
		// Zero-fill ahead once, so the appends after this one change
		// no file size (and their fdatasync no inode).
		// (Written zeros: a hole or an fallocated range would make
		// each append's sync allocate or convert blocks.)
		grow := max(end, w.size+walGrow)
		zero := make([]byte, 64<<10)
		for at := w.size; at < grow; at += int64(len(zero)) {
			if _, err := f.WriteAt(zero[:min(int64(len(zero)), grow-at)], at); err != nil {
				return fmt.Errorf("catalog: log: %w", err)
			}
		}
		w.size = grow
	}
	if _, err := f.WriteAt(b, w.off); err != nil {
		return fmt.Errorf("catalog: log: %w", err)
	}
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		return fmt.Errorf("catalog: log sync: %w", err)
	}
	w.off += int64(len(b))
	return nil
}

// replay calls fn with the payload of each intact record of epoch in its
// file, in order, and stops at the first that is not one.
func (w *wal) replay(epoch uint64, fn func(payload []byte) error) (records int, err error) {
	f := w.files[epoch%2]
	var off int64
	var h [walHeader]byte
	for {
		if _, err := f.ReadAt(h[:], off); err != nil {
			if errors.Is(err, io.EOF) {
				return records, nil
			}
			return records, fmt.Errorf("catalog: read log: %w", err)
		}
		if binary.LittleEndian.Uint32(h[0:]) != walMagic || binary.LittleEndian.Uint64(h[4:]) != epoch {
			return records, nil
		}
		n := int64(binary.LittleEndian.Uint32(h[12:]))
		p := make([]byte, n)
		if _, err := f.ReadAt(p, off+walHeader); err != nil {
			if errors.Is(err, io.EOF) {
				return records, nil // cut short: never acknowledged
			}
			return records, fmt.Errorf("catalog: read log: %w", err)
		}
		if crc32.Update(crc32.Checksum(h[4:16], crcTable), crcTable, p) != binary.LittleEndian.Uint32(h[16:]) {
			return records, nil
		}
		if err := fn(p); err != nil {
			return records, err
		}
		records++
		off += walHeader + n
	}
}
