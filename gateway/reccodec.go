package gateway

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// The records read on every request (objects, buckets, packages) are kept
// in a compact binary form: decoding JSON by reflection was a tenth of a
// small GET's CPU. The first byte tells the forms apart, so records written
// as JSON by earlier versions ('{') stay readable; other records stay JSON.
const recBinary = 0x01

// binaryRecord is a record type with a binary form.
type binaryRecord interface {
	appendBin(b []byte) []byte
}

type binaryDecoder interface {
	decodeBin(r *recReader) error
}

var errRecTruncated = errors.New("gateway: binary record is truncated")

func encodeBin(v binaryRecord) []byte {
	// Most records fit: one allocation rather than a slice grown from a byte.
	return v.appendBin(append(make([]byte, 0, 256), recBinary))
}

// decodeBin fills v from a binary record (without its version byte).
func decodeBin(b []byte, v binaryDecoder) error {
	return decodeBinFrom(&recReader{b: b, all: b}, v)
}

func decodeBinFrom(r *recReader, v binaryDecoder) error {
	if err := v.decodeBin(r); err != nil {
		return err
	}
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("gateway: binary record has %d trailing bytes", len(r.b))
	}
	return nil
}

// Writers: varints for numbers, length-prefixed strings, times as Unix
// seconds, nanoseconds and zone offset (what JSON's RFC 3339 form keeps).

func appendInt(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendTime(b []byte, t time.Time) []byte {
	_, off := t.Zone()
	b = binary.AppendVarint(b, t.Unix())
	b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
	return binary.AppendVarint(b, int64(off))
}

// appendMap writes a map in key order, so that equal maps encode equally.
// An empty map reads back as nil, as the JSON form (omitempty) did.
func appendMap(b []byte, m map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b = appendStr(b, k)
		b = appendStr(b, m[k])
	}
	return b
}

// recReader reads what the writers wrote; the first error sticks and later
// reads return zero values.
type recReader struct {
	b   []byte
	err error
	// forRead: a long block list is left encoded (blocksForRead).
	forRead bool
	// all is the whole record, and s a copy of it made at the first str:
	// the strings read are slices of s, one allocation for all of them
	// (an object record has a dozen).
	all []byte
	s   string
}

func (r *recReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *recReader) int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(errRecTruncated)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errRecTruncated)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) raw() []byte {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.fail(errRecTruncated)
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *recReader) str() string {
	p := r.raw()
	if len(p) == 0 {
		return ""
	}
	if r.forRead && len(r.all) > copyWholeUpTo {
		// A record of many blocks, read for a GET: copying it whole
		// (its blocks are most of it) cost more than its dozen strings.
		return string(p)
	}
	if r.s == "" {
		r.s = string(r.all)
	}
	end := len(r.all) - len(r.b) // p ends where what is left begins
	return r.s[end-len(p) : end]
}

func (r *recReader) bytes() []byte {
	p := r.raw()
	if len(p) == 0 {
		return nil
	}
	return slices.Clone(p)
}

func (r *recReader) bool() bool {
	if len(r.b) == 0 {
		r.fail(errRecTruncated)
		return false
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v != 0
}

func (r *recReader) time() time.Time {
	sec, nsec, off := r.int(), r.uint(), r.int()
	if r.err != nil {
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec))
	if off == 0 {
		return t.UTC()
	}
	return t.In(time.FixedZone("", int(off)))
}

func (r *recReader) strMap() map[string]string {
	n := r.uint()
	if n == 0 || r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) { // every entry takes at least two bytes
		r.fail(errRecTruncated)
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := r.str()
		m[k] = r.str()
	}
	return m
}

func (o objRec) appendBin(b []byte) []byte {
	if o.blocksRaw != nil {
		// Its Blocks are nil: written back, the object would lose its bytes.
		panic("gateway: an object record read for a GET is being written")
	}
	b = appendInt(b, o.ID)
	b = appendInt(b, o.PackageID)
	b = appendInt(b, o.BucketID)
	b = appendStr(b, o.Path)
	b = appendInt(b, o.Size)
	b = appendStr(b, o.FileHash)
	b = appendStr(b, o.ETag)
	b = appendStr(b, o.Redundancy)
	b = appendTime(b, o.Created)
	b = appendTime(b, o.Updated)
	b = appendInt(b, o.SpaceID)
	b = o.Meta.appendBin(b)
	b = appendMap(b, o.Tags)
	b = appendBool(b, o.Checksum != nil)
	if o.Checksum != nil {
		b = appendStr(b, o.Checksum.Algorithm)
		b = appendStr(b, o.Checksum.Value)
		b = appendStr(b, o.Checksum.Type)
	}
	b = appendInt(b, int64(o.Parts))
	b = appendBlocks(b, o.Blocks)
	b = binary.AppendUvarint(b, uint64(len(o.PartSizes)))
	for _, s := range o.PartSizes {
		b = appendInt(b, s)
	}
	return b
}

func (o *objRec) decodeBin(r *recReader) error {
	o.ID, o.PackageID, o.BucketID = r.int(), r.int(), r.int()
	o.Path = r.str()
	o.Size = r.int()
	o.FileHash, o.ETag, o.Redundancy = r.str(), r.str(), r.str()
	o.Created, o.Updated = r.time(), r.time()
	o.SpaceID = r.int()
	o.Meta.decodeBin(r)
	o.Tags = r.strMap()
	if r.bool() {
		o.Checksum = &Checksum{Algorithm: r.str(), Value: r.str(), Type: r.str()}
	}
	o.Parts = int(r.int())
	if r.forRead {
		o.Blocks, o.blocksRaw = r.blocksForRead()
	} else {
		o.Blocks = readBlocks(r)
	}
	if n := r.uint(); n > 0 && n <= uint64(len(r.b)) {
		o.PartSizes = make([]int64, n)
		for i := range o.PartSizes {
			o.PartSizes[i] = r.int()
		}
	} else if n > 0 {
		r.fail(errRecTruncated)
	}
	return r.err
}

func (m Meta) appendBin(b []byte) []byte {
	b = appendStr(b, m.ContentType)
	b = appendStr(b, m.ContentEncoding)
	b = appendStr(b, m.ContentDisposition)
	b = appendStr(b, m.ContentLanguage)
	b = appendStr(b, m.CacheControl)
	b = appendStr(b, m.Expires)
	return appendMap(b, m.User)
}

func (m *Meta) decodeBin(r *recReader) {
	m.ContentType, m.ContentEncoding, m.ContentDisposition = r.str(), r.str(), r.str()
	m.ContentLanguage, m.CacheControl, m.Expires = r.str(), r.str(), r.str()
	m.User = r.strMap()
}

// appendBlocks keeps nil and empty apart, as JSON does (null and []).
func appendBlocks(b []byte, blocks []Block) []byte {
	if blocks == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(blocks))+1)
	for _, bl := range blocks {
		b = appendStr(b, bl.Hash)
		b = appendInt(b, bl.Size)
	}
	return b
}

func readBlocks(r *recReader) []Block {
	n := r.uint()
	if n == 0 || r.err != nil {
		return nil
	}
	n--
	if n > uint64(len(r.b)) {
		r.fail(errRecTruncated)
		return nil
	}
	blocks := make([]Block, n)
	for i := range blocks {
		blocks[i] = Block{Hash: r.str(), Size: r.int()}
	}
	return blocks
}

// lazyBlocks is the length from which a block list read for a GET or HEAD
// stays encoded: parsing 1,000 blocks into a slice took 80-100 µs a
// request, where a read needs the few its window touches.
const lazyBlocks = 16

// copyWholeUpTo is the largest record a read for a GET copies whole for
// its strings (see str).
const copyWholeUpTo = 4 << 10

// blocksForRead reads a block list as readBlocks does, but a list of
// lazyBlocks or more is only checked and returned encoded, for
// blocksWindow: a slice of the record itself, so only as long as the
// transaction that read it lasts.
func (r *recReader) blocksForRead() ([]Block, []byte) {
	at := r.b
	n := r.uint()
	if n == 0 || r.err != nil || n-1 < lazyBlocks {
		r.b = at
		return readBlocks(r), nil
	}
	for range n - 1 {
		r.raw()
		r.int()
		if r.err != nil {
			return nil, nil
		}
	}
	return nil, at[:len(at)-len(r.b)]
}

// blocksWindow returns, of an encoded block list (blocksForRead), copies
// of the blocks that bytes [off, off+n) of the object lie in (n > 0), and
// the object's offset at the first of them.
func blocksWindow(raw []byte, off, n int64) ([]Block, int64, error) {
	r := recReader{b: raw, all: raw}
	count := r.uint()
	if r.err != nil || count == 0 {
		return nil, 0, errRecTruncated
	}
	var out []Block
	at, end := int64(0), int64(0) // out starts at at; the blocks read end at end
	for range count - 1 {
		hash := r.raw()
		size := r.int()
		if r.err != nil {
			return nil, 0, r.err
		}
		if len(out) == 0 && off >= end+size {
			end += size // before the window
			at = end
			continue
		}
		out = append(out, Block{Hash: string(hash), Size: size})
		if end += size; end >= off+n {
			break
		}
	}
	return out, at, nil
}

func blocksSize(blocks []Block) int64 {
	var n int64
	for _, b := range blocks {
		n += b.Size
	}
	return n
}

func (b bucketRec) appendBin(out []byte) []byte {
	out = appendInt(out, b.ID)
	out = appendStr(out, b.Name)
	out = appendTime(out, b.Created)
	return appendInt(out, b.Owner)
}

func (b *bucketRec) decodeBin(r *recReader) error {
	b.ID, b.Name, b.Created, b.Owner = r.int(), r.str(), r.time(), r.int()
	return r.err
}

func (p pkgRec) appendBin(out []byte) []byte {
	out = appendInt(out, p.ID)
	out = appendInt(out, p.BucketID)
	out = appendStr(out, p.Name)
	out = appendTime(out, p.Created)
	return appendBool(out, p.Explicit)
}

func (p *pkgRec) decodeBin(r *recReader) error {
	p.ID, p.BucketID, p.Name, p.Created, p.Explicit = r.int(), r.int(), r.str(), r.time(), r.bool()
	return r.err
}
