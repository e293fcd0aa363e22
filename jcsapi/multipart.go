package jcsapi

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/textproto"
	"strings"
	"sync"
)

// multipartReader reads a multipart/form-data body part by part, as
// mime/multipart does, but through one large pooled buffer. mime/multipart
// always reads through its own 4 KiB bufio, so every Part.Read returns at
// most 4 KiB and every byte is copied twice more on its way to the caller:
// some 0.3 CPU-seconds per GiB uploaded. Here a part's Read returns all of
// the body that is known not to be the delimiter, and once the buffer is
// drained a large Read (the gateway's staging reads 1 MiB at a time) goes
// straight from the source into the caller's buffer, so the body is only
// scanned for the delimiter, never copied by this reader.
//
// The parsing follows mime/multipart (Go 1.26) rule for rule, so parts,
// headers and bodies come out the same. The differences, on purpose:
//   - only the close delimiter ends a form: mime/multipart also ends it
//     cleanly (io.EOF) when the body stops after a boundary line, inside a
//     part's header, or (wrapped io.EOF) at a boundary line cut short;
//   - a part's header block is bounded by maxHeader bytes, not 10 MiB;
//   - quoted-printable parts are refused, not decoded;
//   - lines outside part bodies (preamble, boundary lines with transport
//     padding) may be as long as the buffer, not 4 KiB;
//   - the source is read up to a buffer (256 KiB) ahead, not 4 KiB, so
//     its error may be met (and returned) before a malformed header is.
type multipartReader struct {
	src    io.Reader
	bufp   *[]byte // the pooled buffer, given back by release
	buf    []byte  // buf[r:w] is read from src and not yet consumed
	r, w   int
	srcErr error // src's error once seen (io.EOF at its end); src is not read again

	nl               []byte // "\r\n", or "\n" if the first boundary line ends in a bare LF
	nlDashBoundary   []byte // nl + "--" + boundary: what ends a part's body
	dashBoundary     []byte // "--" + boundary
	dashBoundaryDash []byte // "--" + boundary + "--": the close delimiter

	maxHeader int // bytes of one part's header block, blank line included
	partsRead int
	cur       *formPart

	// Reused to parse each part's header block with net/textproto.
	hdrSrc bytes.Reader
	hdrBuf *bufio.Reader
}

const (
	// multipartBufSize is the pooled buffer: large enough that the
	// connection is read in big gulps, and the most a direct Read takes
	// (what follows a part's body in it must fit back into the buffer).
	multipartBufSize = 256 << 10
	// minDirectRead is the smallest Read that goes straight from the source
	// into the caller's buffer; smaller ones (io.ReadAll of an info part)
	// are served from the buffer.
	minDirectRead = 64 << 10
	// maxBoundary bounds the boundary parameter: RFC 2046 allows 70 bytes,
	// and mime/multipart's 4 KiB buffer could not read much longer ones.
	maxBoundary = 4000
)

var multipartBufs = sync.Pool{New: func() any {
	b := make([]byte, multipartBufSize)
	return &b
}}

// newMultipartReader reads the form in src delimited by boundary (1 to
// maxBoundary bytes), with part header blocks of at most maxHeader bytes.
// release must be called once the form is done with.
func newMultipartReader(src io.Reader, boundary string, maxHeader int) (*multipartReader, error) {
	if boundary == "" || len(boundary) > maxBoundary {
		return nil, fmt.Errorf("the boundary must be 1 to %d bytes long; it is %d", maxBoundary, len(boundary))
	}
	b := []byte("\r\n--" + boundary + "--")
	bufp := multipartBufs.Get().(*[]byte)
	return &multipartReader{
		src:              src,
		bufp:             bufp,
		buf:              *bufp,
		nl:               b[:2],
		nlDashBoundary:   b[:len(b)-2],
		dashBoundary:     b[2 : len(b)-2],
		dashBoundaryDash: b[2:],
		maxHeader:        min(maxHeader, multipartBufSize),
	}, nil
}

// release gives the buffer back to the pool; mr is not usable after.
func (mr *multipartReader) release() {
	if mr.bufp != nil {
		multipartBufs.Put(mr.bufp)
		mr.bufp, mr.buf, mr.r, mr.w = nil, nil, 0, 0
	}
}

// sourceErr is the error other than io.EOF that reading the source met,
// if any: a body the verifier refused must not pass for a complete form
// because its end was read ahead of need.
func (mr *multipartReader) sourceErr() error {
	if mr.srcErr == io.EOF {
		return nil
	}
	return mr.srcErr
}

// errCutOff is what a form that ends before its close delimiter reports.
var errCutOff = fmt.Errorf("the body ends before the form's close delimiter: %w", io.ErrUnexpectedEOF)

// NextPart returns the form's next part, or io.EOF (unwrapped) once the
// close delimiter has been read. The previous part's unread bytes are
// skipped.
func (mr *multipartReader) NextPart() (*formPart, error) {
	if mr.cur != nil {
		mr.cur.Close()
		mr.cur = nil
	}
	expectNewPart := false
	for {
		line, err := mr.readLine()
		if err == io.EOF && mr.isFinalBoundary(line) {
			// The close delimiter without a line end is the end too.
			return nil, io.EOF
		}
		if err == io.EOF {
			return nil, errCutOff
		}
		if err != nil {
			return nil, fmt.Errorf("multipart: reading a boundary line: %w", err)
		}
		if mr.isBoundaryDelimiterLine(line) {
			mr.partsRead++
			h, err := mr.readHeader()
			if err != nil {
				return nil, fmt.Errorf("multipart: part %d: %w", mr.partsRead, err)
			}
			// mime/multipart would decode it; no client is known to send it
			// (RFC 7578 forbids it), and storing the encoded bytes would be
			// silently wrong.
			if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "quoted-printable") {
				return nil, fmt.Errorf("multipart: part %d has Content-Transfer-Encoding quoted-printable, which is not supported: send the bytes unencoded", mr.partsRead)
			}
			mr.cur = &formPart{Header: h, mr: mr}
			return mr.cur, nil
		}
		if mr.isFinalBoundary(line) {
			return nil, io.EOF
		}
		if expectNewPart {
			return nil, fmt.Errorf("multipart: expected a boundary line after part %d, got %q", mr.partsRead, clip(line))
		}
		if mr.partsRead == 0 {
			continue // the preamble
		}
		// The line end that ended the previous part's body: the boundary
		// line follows.
		if bytes.Equal(line, mr.nl) {
			expectNewPart = true
			continue
		}
		return nil, fmt.Errorf("multipart: unexpected line after part %d: %q", mr.partsRead, clip(line))
	}
}

// clip shortens a line quoted in an error.
func clip(b []byte) []byte {
	return b[:min(len(b), 80)]
}

// isFinalBoundary reports whether line is the close delimiter line:
// `^--boundary--[ \t]*(\r\n)?$` (the line end being nl).
func (mr *multipartReader) isFinalBoundary(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, mr.dashBoundaryDash)
	if !ok {
		return false
	}
	rest = bytes.TrimLeft(rest, " \t")
	return len(rest) == 0 || bytes.Equal(rest, mr.nl)
}

// isBoundaryDelimiterLine reports whether line is a boundary line: "--",
// the boundary, optional spaces and tabs (RFC 2046 transport padding) and
// the line end. A first boundary line that ends in a bare LF switches the
// form to bare-LF line ends, as mime/multipart does.
func (mr *multipartReader) isBoundaryDelimiterLine(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, mr.dashBoundary)
	if !ok {
		return false
	}
	rest = bytes.TrimLeft(rest, " \t")
	if mr.partsRead == 0 && len(rest) == 1 && rest[0] == '\n' {
		mr.nl = mr.nl[1:]
		mr.nlDashBoundary = mr.nlDashBoundary[1:]
	}
	return bytes.Equal(rest, mr.nl)
}

// readLine returns the next line through its '\n' or, when the source ends
// first, what is left with the source's error. The line is valid until the
// next read.
func (mr *multipartReader) readLine() ([]byte, error) {
	scanned := 0
	for {
		if i := bytes.IndexByte(mr.buf[mr.r+scanned:mr.w], '\n'); i >= 0 {
			line := mr.buf[mr.r : mr.r+scanned+i+1]
			mr.r += len(line)
			return line, nil
		}
		scanned = mr.w - mr.r
		if mr.srcErr != nil {
			line := mr.buf[mr.r:mr.w]
			mr.r = mr.w
			return line, mr.srcErr
		}
		if scanned == len(mr.buf) {
			return nil, fmt.Errorf("a line is longer than %d bytes", len(mr.buf))
		}
		mr.fill()
	}
}

// readHeader reads a part's header block, through the blank line that ends
// it, and parses it with net/textproto as mime/multipart does.
func (mr *multipartReader) readHeader() (textproto.MIMEHeader, error) {
	from := 0 // where to go on looking for the end, from mr.r
	for {
		b := mr.buf[mr.r:mr.w]
		var end int
		end, from = headerEnd(b, from)
		if end > mr.maxHeader || end < 0 && len(b) >= mr.maxHeader {
			return nil, fmt.Errorf("the header is larger than %d bytes (max-header-bytes)", mr.maxHeader)
		}
		if end >= 0 {
			mr.r += end
			return mr.parseHeader(b[:end])
		}
		if mr.srcErr == io.EOF {
			return nil, errCutOff
		}
		if mr.srcErr != nil {
			return nil, fmt.Errorf("reading the header: %w", mr.srcErr)
		}
		mr.fill()
	}
}

// headerEnd returns the length of the header block at the start of b,
// through its first empty line ("\n" or "\r\n": where textproto stops; a
// line of blanks is a continuation), or -1 if b does not hold all of it,
// and where to go on looking from (the first line start not yet decided
// on) once more is read. from is such a line start.
func headerEnd(b []byte, from int) (end, next int) {
	for from < len(b) {
		if b[from] == '\n' {
			return from + 1, from
		}
		if b[from] == '\r' && from+1 < len(b) && b[from+1] == '\n' {
			return from + 2, from
		}
		i := bytes.IndexByte(b[from:], '\n')
		if i < 0 {
			break
		}
		from += i + 1
	}
	return -1, from
}

// parseHeader parses a header block, blank line included.
func (mr *multipartReader) parseHeader(block []byte) (textproto.MIMEHeader, error) {
	mr.hdrSrc.Reset(block)
	if mr.hdrBuf == nil {
		mr.hdrBuf = bufio.NewReader(&mr.hdrSrc)
	} else {
		mr.hdrBuf.Reset(&mr.hdrSrc)
	}
	h, err := textproto.NewReader(mr.hdrBuf).ReadMIMEHeader()
	if err != nil {
		return nil, fmt.Errorf("the header is malformed: %w", err)
	}
	return h, nil
}

// fill moves the unconsumed bytes to the front of the buffer and reads
// more after them. Callers leave room: they fill only when what is
// buffered cannot be decided on, which is far less than the buffer.
func (mr *multipartReader) fill() {
	if mr.r > 0 {
		mr.w = copy(mr.buf, mr.buf[mr.r:mr.w])
		mr.r = 0
	}
	if mr.srcErr == nil {
		mr.w += mr.read(mr.buf[mr.w:])
	}
}

// read reads from the source into b, retrying reads that return nothing
// as bufio does, and keeps the source's error.
func (mr *multipartReader) read(b []byte) int {
	for range 100 {
		n, err := mr.src.Read(b)
		if err != nil {
			mr.srcErr = err
			return n
		}
		if n > 0 {
			return n
		}
	}
	mr.srcErr = io.ErrNoProgress
	return 0
}

// formPart is one part of a form: its header, and its body to Read.
type formPart struct {
	Header textproto.MIMEHeader
	mr     *multipartReader
	n      int   // body bytes at mr.buf[mr.r:] known to be data, not yet read
	total  int64 // body bytes read so far
	err    error // what Read returns once the n bytes are read: io.EOF at the delimiter
}

// partErr is the error a part's body ends with when the source ends
// before its delimiter.
func partErr(srcErr error) error {
	if srcErr == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return srcErr
}

// scan looks at what is buffered, setting p.n and p.err; it reports
// whether more input is needed to decide.
func (p *formPart) scan() (needMore bool) {
	mr := p.mr
	p.n, p.err = mr.scanBody(mr.buf[mr.r:mr.w], p.total == 0, partErr(mr.srcErr))
	return p.n == 0 && p.err == nil
}

// Read reads the part's body; io.EOF at its delimiter. A large d is
// filled by one Read from the source where possible.
func (p *formPart) Read(d []byte) (int, error) {
	if len(d) == 0 {
		return 0, nil
	}
	mr := p.mr
	for p.n == 0 && p.err == nil && p.scan() {
		if len(d) >= minDirectRead {
			return p.readDirect(d)
		}
		mr.fill()
	}
	if p.n == 0 {
		return 0, p.err
	}
	n := copy(d, mr.buf[mr.r:mr.r+p.n])
	mr.r += n
	p.n -= n
	p.total += int64(n)
	if p.n == 0 {
		return n, p.err
	}
	return n, nil
}

// readDirect is Read once all that is buffered (less than a delimiter) has
// been scanned: it reads from the source straight into d after those
// bytes (Read may use all of d as scratch space), returns the part's body
// from there, and keeps what follows the body in the buffer. d is cut to
// the buffer's size so that what follows always fits.
func (p *formPart) readDirect(d []byte) (int, error) {
	mr := p.mr
	d = d[:min(len(d), len(mr.buf))]
	t := copy(d, mr.buf[mr.r:mr.w])
	mr.r, mr.w = 0, 0
	for {
		if mr.srcErr == nil {
			t += mr.read(d[t:])
		}
		n, err := mr.scanBody(d[:t], p.total == 0, partErr(mr.srcErr))
		if n == 0 && err == nil {
			continue // all of it may be the start of the delimiter
		}
		mr.w = copy(mr.buf, d[n:t])
		p.total += int64(n)
		p.err = err
		return n, err
	}
}

// Close skips the rest of the part's body.
func (p *formPart) Close() error {
	mr := p.mr
	for {
		for p.n == 0 && p.err == nil && p.scan() {
			mr.fill()
		}
		if p.n == 0 {
			return nil
		}
		mr.r += p.n
		p.total += int64(p.n)
		p.n = 0
	}
}

// scanBody reports how many bytes at the start of buf are certainly part
// body, and the error that follows them: io.EOF when the delimiter follows,
// readErr (the source's, if it has ended) when the body runs to the end of
// buf and the source has ended, or nil. (0, nil) means that buf could be
// the start of the delimiter: more input is needed to tell. first means no
// body byte has been read yet, when "--boundary" without a line end before
// it ends the body too.
//
// This is mime/multipart's scanUntilBoundary, except that it scans past
// near-misses ("\r\n--boundaryX") rather than returning at each, so that
// one call covers the whole buffer, and looks for a split delimiter only
// where one can be.
func (mr *multipartReader) scanBody(buf []byte, first bool, readErr error) (int, error) {
	off := 0
	if first {
		if bytes.HasPrefix(buf, mr.dashBoundary) {
			switch matchAfterPrefix(buf, mr.dashBoundary, readErr) {
			case -1:
				off = len(mr.dashBoundary)
			case 0:
				return 0, nil
			case +1:
				return 0, io.EOF
			}
		} else if bytes.HasPrefix(mr.dashBoundary, buf) {
			return 0, readErr
		}
	}
	for {
		i := bytes.Index(buf[off:], mr.nlDashBoundary)
		if i < 0 {
			break
		}
		switch matchAfterPrefix(buf[off+i:], mr.nlDashBoundary, readErr) {
		case -1:
			off += i + len(mr.nlDashBoundary)
			continue
		case 0:
			return off + i, nil
		default:
			return off + i, io.EOF
		}
	}
	rest := buf[off:]
	if bytes.HasPrefix(mr.nlDashBoundary, rest) {
		return off, readErr
	}
	// Keep back a tail that could be the start of a delimiter split across
	// reads; everything before it is body. Such a tail is shorter than the
	// delimiter, so only the end of rest need be looked at (LastIndexByte
	// is a plain byte loop: over all of a large buffer it would cost more
	// than the copy).
	tail := max(0, len(rest)-len(mr.nlDashBoundary)+1)
	if i := bytes.LastIndexByte(rest[tail:], mr.nlDashBoundary[0]); i >= 0 && bytes.HasPrefix(mr.nlDashBoundary, rest[tail+i:]) {
		return off + tail + i, nil
	}
	return len(buf), readErr
}

// matchAfterPrefix decides whether buf, which starts with prefix ("--" or
// line end, then "--boundary"), is a delimiter: +1 if prefix is followed by
// a space, tab, CR, LF, "--" or the end of the input; -1 if by anything
// else; 0 if buf ends too soon to tell and the source has not ended.
func matchAfterPrefix(buf, prefix []byte, readErr error) int {
	if len(buf) == len(prefix) {
		if readErr != nil {
			return +1
		}
		return 0
	}
	switch c := buf[len(prefix)]; c {
	case ' ', '\t', '\r', '\n':
		return +1
	case '-':
		if len(buf) == len(prefix)+1 {
			if readErr != nil {
				return -1
			}
			return 0
		}
		if buf[len(prefix)+1] == '-' {
			return +1
		}
	}
	return -1
}
