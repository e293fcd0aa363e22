package auth

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
)

// verifiedBody is what VerifyS3/VerifyJCS install as r.Body. It keeps the
// original body for Close and the chunk decoder (if any) so that Trailers can
// find what it recorded.
type verifiedBody struct {
	r       io.Reader
	c       io.Closer
	chunked *chunkedReader
	failed  bool // a Read returned an error other than io.EOF
}

func (b *verifiedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.failed = true
	}
	return n, err
}

func (b *verifiedBody) Close() error { return b.c.Close() }

// trailers returns the decoded trailers only if the whole body, including
// any digest check layered on top of the decoder, verified.
func (b *verifiedBody) trailers() http.Header {
	if b.chunked == nil || b.failed {
		return nil
	}
	return b.chunked.finishedTrailers()
}

// digestReader passes data through and, at EOF, compares its digest with
// want. On mismatch the EOF is replaced by the error, so a caller that only
// commits after a clean EOF never commits a corrupted or forged body.
type digestReader struct {
	r        io.Reader
	h        hash.Hash
	want     []byte
	mismatch func() *Error
	err      error // sticky: io.EOF after a good check, or the failure
}

func (d *digestReader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.r.Read(p)
	d.h.Write(p[:n])
	switch {
	case err == io.EOF:
		if !hmac.Equal(d.h.Sum(nil), d.want) {
			d.err = d.mismatch()
			return n, d.err
		}
		d.err = io.EOF
	case err != nil:
		d.err = err
	}
	return n, err
}

// Limits of the aws-chunked decoder. Chunk data is streamed whatever its
// size, but metadata lines are small by construction ("<hex>;chunk-signature=
// <64 hex>" is under 100 bytes, a checksum trailer under 80), so anything
// longer is garbage or an attempt to make us buffer.
const (
	maxChunkLine    = 1024
	maxTrailerLines = 32

	chunkSigPrefix   = "chunk-signature="
	trailerSigHeader = "x-amz-trailer-signature"
	payloadAlgo      = "AWS4-HMAC-SHA256-PAYLOAD"
	trailerAlgo      = "AWS4-HMAC-SHA256-TRAILER"
)

type chunkedConfig struct {
	signed         bool // every chunk carries a chunk-signature
	trailers       bool // a trailer section may follow the final chunk
	signedTrailers bool // the trailer section must carry x-amz-trailer-signature

	// Signing context for the signed variants: the chain starts at the
	// request's own signature (seed).
	key                  []byte
	amzDate, scope, seed string

	decodedLength int64    // X-Amz-Decoded-Content-Length, -1 if not sent
	declared      []string // X-Amz-Trailer names; nil = not declared
}

// chunkedReader decodes an aws-chunked body:
//
//	<hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n[<trailer>:<value>\r\n ...]\r\n
//
// Chunk data is handed to the caller as it arrives and hashed on the way;
// a chunk's signature is checked as soon as its data and CRLF have been read,
// inside the Read call that delivers its last bytes. Everything after the
// last data byte (final chunk, trailers, trailer signature, decoded length)
// is checked before io.EOF is returned. Any failure is sticky.
type chunkedReader struct {
	br   *bufio.Reader
	cfg  chunkedConfig
	prev string // previous signature in the chain, hex

	remaining int64     // data bytes left in the current chunk
	chunkSig  []byte    // signature announced for the current chunk
	h         hash.Hash // SHA-256 of the current chunk's data (signed only)

	decoded  int64
	trailers http.Header
	done     bool
	err      error
}

func newChunkedReader(r io.Reader, cfg chunkedConfig) *chunkedReader {
	c := &chunkedReader{br: bufio.NewReaderSize(r, maxChunkLine), cfg: cfg, prev: cfg.seed}
	if cfg.signed {
		c.h = sha256.New()
	}
	return c
}

func malformedChunk(msg string) *Error {
	return newError(CodeInvalidRequest, "malformed aws-chunked body: "+msg)
}

func incompleteBody() *Error {
	return newError(CodeIncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
}

func chunkSignatureMismatch() *Error {
	return newError(CodeSignatureDoesNotMatch, "The chunk signature we calculated does not match the signature you provided.")
}

func (c *chunkedReader) fail(err error) error {
	c.err = err
	return err
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for c.remaining == 0 {
		if c.done {
			return 0, io.EOF
		}
		if err := c.nextChunk(); err != nil {
			return 0, c.fail(err)
		}
	}
	if int64(len(p)) > c.remaining {
		p = p[:c.remaining]
	}
	n, err := c.br.Read(p)
	if n > 0 {
		if c.h != nil {
			c.h.Write(p[:n])
		}
		c.remaining -= int64(n)
		c.decoded += int64(n)
		if c.remaining == 0 {
			if e := c.endChunk(); e != nil {
				return n, c.fail(e)
			}
		}
	}
	if err != nil {
		if err == io.EOF {
			err = incompleteBody() // EOF inside chunk data
		}
		return n, c.fail(err)
	}
	return n, nil
}

// nextChunk reads a chunk header line. For the final (zero-size) chunk it
// also reads and verifies the trailer section and marks the stream done.
func (c *chunkedReader) nextChunk() error {
	line, eof, err := c.readLine()
	if err != nil {
		return err
	}
	if eof {
		return incompleteBody()
	}
	sizeStr, ext, _ := strings.Cut(line, ";")
	size, ok := parseChunkSize(sizeStr)
	if !ok {
		return malformedChunk("invalid chunk size")
	}
	var sig []byte
	if c.cfg.signed {
		s, ok := strings.CutPrefix(ext, chunkSigPrefix)
		if !ok || len(s) != 2*sha256.Size {
			return chunkSignatureMismatch()
		}
		if sig, err = hex.DecodeString(s); err != nil {
			return chunkSignatureMismatch()
		}
	}
	if c.cfg.decodedLength >= 0 && size > c.cfg.decodedLength-c.decoded {
		return newError(CodeInvalidRequest, "the aws-chunked body is longer than x-amz-decoded-content-length")
	}
	if size > 0 {
		c.remaining, c.chunkSig = size, sig
		if c.h != nil {
			c.h.Reset()
		}
		return nil
	}
	if c.cfg.signed {
		if err := c.verifyChunk(sig, emptySHA256); err != nil {
			return err
		}
	}
	return c.readTrailers()
}

// endChunk consumes the CRLF after chunk data and checks the chunk signature.
func (c *chunkedReader) endChunk() error {
	var crlf [2]byte
	if _, err := io.ReadFull(c.br, crlf[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return incompleteBody()
		}
		return err
	}
	if crlf != [2]byte{'\r', '\n'} {
		return malformedChunk("chunk data not followed by CRLF")
	}
	if c.cfg.signed {
		return c.verifyChunk(c.chunkSig, hex.EncodeToString(c.h.Sum(nil)))
	}
	return nil
}

// verifyChunk checks one link of the signature chain:
// HMAC(key, "AWS4-HMAC-SHA256-PAYLOAD\n"+date+"\n"+scope+"\n"+prev+"\n"+sha256("")+"\n"+sha256(chunk)).
func (c *chunkedReader) verifyChunk(sig []byte, dataHash string) error {
	sts := payloadAlgo + "\n" + c.cfg.amzDate + "\n" + c.cfg.scope + "\n" + c.prev + "\n" + emptySHA256 + "\n" + dataHash
	want := hmacSHA256(c.cfg.key, sts)
	if !hmac.Equal(want, sig) {
		return chunkSignatureMismatch()
	}
	c.prev = hex.EncodeToString(want)
	return nil
}

// readTrailers reads "name:value" lines up to an empty line (or a clean end
// of stream), checks them against X-Amz-Trailer and, for the signed variant,
// verifies x-amz-trailer-signature, which chains from the final chunk's
// signature over the canonical "name:value\n" lines.
func (c *chunkedReader) readTrailers() error {
	trailers := http.Header{}
	var names []string
	var sig []byte
	for i := 0; ; i++ {
		line, eof, err := c.readLine()
		if err != nil {
			return err
		}
		if eof || line == "" {
			break
		}
		if i >= maxTrailerLines {
			return malformedChunk("too many trailers")
		}
		if !c.cfg.trailers {
			return malformedChunk("trailers are not allowed with this x-amz-content-sha256")
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if !ok || name == "" {
			return malformedChunk("invalid trailer line")
		}
		if name == trailerSigHeader {
			if sig != nil {
				return malformedChunk("duplicate trailer signature")
			}
			if sig, err = hex.DecodeString(value); err != nil || len(sig) != sha256.Size {
				return chunkSignatureMismatch()
			}
			continue
		}
		if _, dup := trailers[name]; dup {
			return malformedChunk("duplicate trailer")
		}
		trailers[name] = []string{value}
		names = append(names, name)
	}
	if c.cfg.declared != nil {
		for _, d := range c.cfg.declared {
			if _, ok := trailers[d]; !ok {
				return newError(CodeIncompleteBody, "a trailer declared in x-amz-trailer was not sent")
			}
		}
		for _, n := range names {
			if !contains(c.cfg.declared, n) {
				return newError(CodeInvalidRequest, "a trailer was sent that x-amz-trailer did not declare")
			}
		}
	}
	if c.cfg.signedTrailers {
		if sig == nil || !c.verifyTrailerSig(sig, trailers, names) {
			return chunkSignatureMismatch()
		}
	}
	if c.cfg.decodedLength >= 0 && c.decoded != c.cfg.decodedLength {
		return incompleteBody()
	}
	if c.cfg.trailers {
		c.trailers = trailers
	}
	c.done = true
	return nil
}

// verifyTrailerSig tries the trailers in the order sent and, if there are
// several, in sorted order: clients agree on the format of a single trailer
// but not on ordering, and either way the same values are covered.
func (c *chunkedReader) verifyTrailerSig(sig []byte, trailers http.Header, names []string) bool {
	try := func(order []string) bool {
		var b strings.Builder
		for _, n := range order {
			b.WriteString(n)
			b.WriteByte(':')
			b.WriteString(trailers[n][0])
			b.WriteByte('\n')
		}
		sts := trailerAlgo + "\n" + c.cfg.amzDate + "\n" + c.cfg.scope + "\n" + c.prev + "\n" + sha256Hex(b.String())
		return hmac.Equal(hmacSHA256(c.cfg.key, sts), sig)
	}
	if try(names) {
		return true
	}
	if len(names) < 2 {
		return false
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	return try(sorted)
}

// readLine reads one CRLF-terminated line of at most maxChunkLine bytes.
// eof reports a clean end of stream before any byte of the line.
func (c *chunkedReader) readLine() (line string, eof bool, err error) {
	b, err := c.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", false, malformedChunk("line too long")
	case err == io.EOF:
		if len(b) == 0 {
			return "", true, nil
		}
		return "", false, incompleteBody()
	case err != nil:
		return "", false, err
	}
	if len(b) < 2 || b[len(b)-2] != '\r' {
		return "", false, malformedChunk("line not terminated by CRLF")
	}
	return string(b[:len(b)-2]), false, nil
}

// finishedTrailers returns a copy of the trailers once the stream has been
// fully and successfully decoded.
func (c *chunkedReader) finishedTrailers() http.Header {
	if !c.done || c.err != nil || c.trailers == nil {
		return nil
	}
	return c.trailers.Clone()
}

// parseChunkSize parses a hex chunk size: digits only (no sign, prefix or
// spaces), no overflow.
func parseChunkSize(s string) (int64, bool) {
	if s == "" || len(s) > 16 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | uint64(d)
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
