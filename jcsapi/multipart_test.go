package jcsapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// The tests here hold multipartReader to mime/multipart: the same bytes,
// read through the same kinds of awkward sources and with reads of all
// sizes, must give the same parts (headers and bodies) and end the same
// way, except where multipart.go says it differs on purpose.

// mpPart is one part as a reader saw it.
type mpPart struct {
	header  textproto.MIMEHeader
	body    []byte
	bodyErr error // how the body ended: nil at its delimiter
	skipped bool  // body not read: left to NextPart to skip
}

// mpForm is a whole form as a reader saw it: its parts, and what the last
// NextPart returned (io.EOF at the close delimiter, or an error).
type mpForm struct {
	parts []mpPart
	end   error
	nl    string // the line end the new reader settled on
}

// readSizes are the sizes the bodies are read with, chosen by the bytes of
// a pattern: tiny reads, bufio-sized ones, and ones large enough to go
// straight from the source (minDirectRead and up).
var readSizes = [...]int{1, 2, 3, 7, 64, 4096, minDirectRead, 1 << 20}

// readBuf is readBody's: allocating a megabyte per part would be most of
// the tests' time. (They and the fuzz inputs run one at a time.)
var readBuf = make([]byte, 1<<20)

// readBody reads a part's body with reads of the sizes the pattern picks.
func readBody(r io.Reader, pattern []byte) ([]byte, error) {
	if len(pattern) == 0 {
		pattern = []byte{7}
	}
	buf := readBuf
	var out []byte
	for i, empty := 0, 0; ; i++ {
		n, err := r.Read(buf[:readSizes[int(pattern[i%len(pattern)])%len(readSizes)]])
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if n == 0 {
			if empty++; empty > 100 {
				return out, io.ErrNoProgress
			}
		}
	}
}

// readMime reads body with mime/multipart. NextRawPart: the new reader
// refuses quoted-printable parts rather than decoding them, and the test
// wants to see their headers.
func readMime(src io.Reader, boundary string, pattern []byte, skip uint64) mpForm {
	mr := multipart.NewReader(src, boundary)
	var f mpForm
	for i := 0; ; i++ {
		p, err := mr.NextRawPart()
		if err != nil {
			f.end = err
			return f
		}
		mp := mpPart{header: p.Header, skipped: skip&(1<<(i%64)) != 0}
		if !mp.skipped {
			mp.body, mp.bodyErr = readBody(p, pattern)
		}
		f.parts = append(f.parts, mp)
	}
}

// readNew reads body with multipartReader.
func readNew(src io.Reader, boundary string, pattern []byte, skip uint64) mpForm {
	mr, err := newMultipartReader(src, boundary, 64<<10)
	if err != nil {
		return mpForm{end: err}
	}
	defer mr.release()
	var f mpForm
	for i := 0; ; i++ {
		p, err := mr.NextPart()
		if err != nil {
			f.end, f.nl = err, string(mr.nl)
			return f
		}
		mp := mpPart{header: p.Header, skipped: skip&(1<<(i%64)) != 0}
		if !mp.skipped {
			mp.body, mp.bodyErr = readBody(p, pattern)
		}
		f.parts = append(f.parts, mp)
	}
}

var errInjected = errors.New("injected source error")

// errAtEnd is src with its io.EOF replaced by errInjected, as a body
// verifier that refuses the body at its end does.
type errAtEnd struct{ r io.Reader }

func (e errAtEnd) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		err = errInjected
	}
	return n, err
}

// splitReader returns its data in chunks of the sizes the pattern picks,
// so that delimiters and header ends fall across reads at chosen places.
type splitReader struct {
	data    []byte
	pattern []byte
	i       int
}

func (s *splitReader) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(s.pattern) > 0 {
		b := s.pattern[s.i%len(s.pattern)]
		s.i++
		n = int(b)%61 + 1
		if b >= 250 {
			n = int(b-249) * 40000 // 40 kB to 240 kB
		}
	}
	n = min(n, len(p), len(s.data))
	copy(p, s.data[:n])
	s.data = s.data[n:]
	return n, nil
}

// sources are the ways a body reaches the readers.
var sources = []struct {
	name string
	wrap func(body, pattern []byte) io.Reader
}{
	{"plain", func(b, _ []byte) io.Reader { return bytes.NewReader(b) }},
	{"one-byte", func(b, _ []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
	{"half", func(b, _ []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},
	{"data-err", func(b, _ []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }},
	{"split", func(b, p []byte) io.Reader { return &splitReader{data: b, pattern: p} }},
	{"split-data-err", func(b, p []byte) io.Reader { return iotest.DataErrReader(&splitReader{data: b, pattern: p}) }},
	{"err-at-end", func(b, p []byte) io.Reader { return errAtEnd{&splitReader{data: b, pattern: p}} }},
}

// compareReaders reads body both ways and reports how they disagree, or
// "" when they agree (as far as multipart.go promises).
func compareReaders(body []byte, boundary string, source int, pattern []byte, skip uint64) string {
	s := sources[source%len(sources)]
	want := readMime(s.wrap(body, pattern), boundary, pattern, skip)
	got := readNew(s.wrap(body, pattern), boundary, pattern, skip)
	prefix := func(n int) string {
		for i := range n {
			w, g := want.parts[i], got.parts[i]
			if !reflect.DeepEqual(w.header, g.header) {
				return fmt.Sprintf("part %d: header %v, want %v", i, g.header, w.header)
			}
			if !bytes.Equal(w.body, g.body) {
				return fmt.Sprintf("part %d: body %q, want %q", i, clipTo(g.body), clipTo(w.body))
			}
			if w.bodyErr != g.bodyErr {
				return fmt.Sprintf("part %d: body ends with %v, want %v", i, g.bodyErr, w.bodyErr)
			}
		}
		return ""
	}

	// A line over mime/multipart's 4 KiB buffer fails it; the new reader
	// goes on, having agreed so far.
	if errors.Is(want.end, bufio.ErrBufferFull) {
		if len(got.parts) < len(want.parts) {
			return fmt.Sprintf("%d parts, want at least %d (then %v)", len(got.parts), len(want.parts), want.end)
		}
		return prefix(len(want.parts))
	}
	// Quoted-printable parts are refused, not decoded.
	for i, p := range want.parts {
		if strings.EqualFold(p.header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			if len(got.parts) != i || got.end == nil || !strings.Contains(got.end.Error(), "quoted-printable") {
				return fmt.Sprintf("%d parts then %v; want %d parts then a quoted-printable refusal", len(got.parts), got.end, i)
			}
			return prefix(i)
		}
	}
	if len(got.parts) != len(want.parts) {
		return fmt.Sprintf("%d parts then %v; want %d then %v", len(got.parts), got.end, len(want.parts), want.end)
	}
	if msg := prefix(len(want.parts)); msg != "" {
		return msg
	}
	switch {
	case want.end == io.EOF && got.end == io.EOF:
	case want.end == io.EOF && errors.Is(got.end, errCutOff):
		// mime/multipart also ends a form with a bare io.EOF when the body
		// stops inside a part's header: the new reader calls that cut off.
		// Then completing the header must make mime/multipart go on.
		nl := got.nl
		more := readMime(bytes.NewReader(append(bytes.Clone(body), nl+nl...)), boundary, pattern, skip)
		if len(more.parts) == len(want.parts) && more.end == io.EOF {
			return fmt.Sprintf("called cut off, but mime/multipart ends the form at part %d too with %q appended", len(want.parts), nl+nl)
		}
	case errors.Is(want.end, io.EOF):
		// mime/multipart's wrapped "NextPart: EOF" (which form.go used to
		// take for the end of the form): the body stopped short of the
		// close delimiter.
		if !errors.Is(got.end, errCutOff) {
			return fmt.Sprintf("ends with %v; want a cut-off error (mime/multipart: %v)", got.end, want.end)
		}
	case got.end == io.EOF:
		return fmt.Sprintf("ends cleanly; mime/multipart fails: %v", want.end)
	case errors.Is(want.end, errInjected) && !errors.Is(got.end, errInjected):
		// (The other way round is fine: reading ahead, the new reader may
		// meet the source's error before mime/multipart finds what else
		// is wrong.)
		return fmt.Sprintf("ends with %v; mime/multipart with %v", got.end, want.end)
	}
	return ""
}

func clipTo(b []byte) []byte { return b[:min(len(b), 200)] }

// rawForm builds a form from raw pieces: each part is its header lines
// (joined with nl, "" for none) and its body; tail follows the close
// delimiter.
func rawForm(nl, boundary string, preamble string, parts [][2]string, tail string) []byte {
	var b strings.Builder
	b.WriteString(preamble)
	for _, p := range parts {
		b.WriteString("--" + boundary + nl)
		if p[0] != "" {
			b.WriteString(p[0] + nl)
		}
		b.WriteString(nl + p[1] + nl)
	}
	b.WriteString("--" + boundary + "--" + tail)
	return []byte(b.String())
}

// testForms are bodies that probe the corners of the format.
func testForms() map[string][]byte {
	const bd = "XyZ"
	cd := func(name string) string { return `Content-Disposition: form-data; name="` + name + `"` }
	forms := map[string][]byte{
		"simple": rawForm("\r\n", bd, "", [][2]string{
			{cd("info"), `{"packageID":1}`},
			{cd("files") + `; filename="a/b.txt"` + "\r\nContent-Type: text/plain", "hello"},
		}, "\r\n"),
		"bare LF": rawForm("\n", bd, "", [][2]string{{cd("a"), "x\ny"}, {cd("b"), ""}}, "\n"),
		"preamble and epilogue": rawForm("\r\n", bd, "This is the preamble.\r\n--XyZq\r\n--XyZ--x\r\n", [][2]string{{cd("a"), "1"}},
			"\r\nepilogue\r\n--XyZ\r\n"),
		"transport padding":                []byte("--XyZ \t\r\n" + cd("a") + "\r\n\r\nbody\r\n--XyZ\t \r\n" + cd("b") + "\r\n\r\nb2\r\n--XyZ-- \t\r\n"),
		"close delimiter without line end": rawForm("\r\n", bd, "", [][2]string{{cd("a"), "1"}}, ""),
		"close delimiter padding at end":   rawForm("\r\n", bd, "", [][2]string{{cd("a"), "1"}}, "  "),
		"empty parts":                      rawForm("\r\n", bd, "", [][2]string{{cd("a"), ""}, {"", ""}, {cd("c"), ""}}, "\r\n"),
		"empty header":                     rawForm("\r\n", bd, "", [][2]string{{"", "no header"}}, "\r\n"),
		"body right after header":          []byte("--XyZ\r\n" + cd("a") + "\r\n\r\n--XyZ\r\n" + cd("b") + "\r\n\r\n--XyZ--"),
		"near misses in body": rawForm("\r\n", bd, "", [][2]string{
			{cd("a"), "\r\n--Xy\r\n--XyZq\r\n--XyZ-x\r\n-\r\n\r\r\n--\r\n--X"},
			{cd("b"), "--XyZ is not a delimiter here\r\n--XyZa--\r"},
			{cd("c"), "\r"},
			{cd("d"), "\r\n"},
			{cd("e"), "\r\n--XyZ-"},
		}, "\r\n"),
		"LF near misses":                 rawForm("\n", bd, "", [][2]string{{cd("a"), "\n--Xy\n--XyZq\r\n--XyZ\r"}, {cd("b"), "\r\n--XyZz"}}, "\n"),
		"body starts with boundary-like": rawForm("\r\n", bd, "", [][2]string{{cd("a"), "--XyZq"}, {cd("b"), "--Xy"}}, "\r\n"),
		"header folding and case": rawForm("\r\n", bd, "", [][2]string{
			{"content-disposition: form-data;\r\n name=\"a\"\r\nx-multi: 1\r\nX-Multi: 2\r\nx-space:   v  ", "1"},
		}, "\r\n"),
		"header whitespace line": rawForm("\r\n", bd, "", [][2]string{{cd("a") + "\r\n  \r\nX: y", "1"}}, "\r\n"),
		"malformed header":       rawForm("\r\n", bd, "", [][2]string{{"no colon", "1"}}, "\r\n"),
		"header initial space":   rawForm("\r\n", bd, "", [][2]string{{" X: y", "1"}}, "\r\n"),
		"CR CR LF in header":     []byte("--XyZ\r\nA: b\r\r\n\r\n1\r\n--XyZ--"),
		"quoted-printable": rawForm("\r\n", bd, "", [][2]string{
			{cd("a"), "1"}, {cd("b") + "\r\nContent-Transfer-Encoding: Quoted-Printable", "a=3Db"},
		}, "\r\n"),
		"other transfer encoding":  rawForm("\r\n", bd, "", [][2]string{{cd("b") + "\r\nContent-Transfer-Encoding: base64", "YQ=="}}, "\r\n"),
		"junk after body":          []byte("--XyZ\r\n\r\n1\r\n--XyZ junk\r\n\r\n2\r\n--XyZ--"),
		"junk line between":        []byte("--XyZ\r\n\r\n1\r\n--XyZ\r\rx\r\n--XyZ--"),
		"mixed line ends":          []byte("--XyZ\r\n\n1\n--XyZ\n\n2\r\n--XyZ--\r\n"),
		"no boundary":              []byte("just some text\r\n"),
		"empty":                    nil,
		"only close":               []byte("--XyZ--"),
		"ends after boundary line": []byte("--XyZ\r\n" + cd("a") + "\r\n\r\n1\r\n--XyZ\r\n"),
		"ends in header":           []byte("--XyZ\r\n" + cd("a") + "\r\n"),
		"ends at delimiter":        []byte("--XyZ\r\n" + cd("a") + "\r\n\r\n1\r\n--XyZ"),
		"ends in body":             []byte("--XyZ\r\n" + cd("a") + "\r\n\r\n1\r\n--X"),
		"long preamble line":       rawForm("\r\n", bd, strings.Repeat("p", 5000)+"\r\n", [][2]string{{cd("a"), "1"}}, "\r\n"),
		"long header line":         rawForm("\r\n", bd, "", [][2]string{{cd("a") + "; x=\"" + strings.Repeat("h", 9000) + "\"", "1"}}, "\r\n"),
	}
	// Large bodies: delimiters and near misses fall across the buffer and
	// across direct reads.
	rng := rand.New(rand.NewPCG(1, 2))
	big := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "ab\r\n-XyZ"[rng.IntN(8)]
		}
		// Near misses only: "--XyZ" never followed by what would make it
		// a delimiter.
		for i := 0; ; i++ {
			j := bytes.Index(b[i:], []byte("--XyZ"))
			if j < 0 {
				break
			}
			i += j
			if i+5 < len(b) {
				b[i+5] = 'a'
			} else {
				b[i+4] = 'q'
			}
		}
		return string(b)
	}
	for _, n := range []int{minDirectRead - 5, multipartBufSize - 40, multipartBufSize + 3, 3*multipartBufSize + 1000} {
		forms[fmt.Sprintf("big %d", n)] = rawForm("\r\n", bd, "", [][2]string{{cd("a"), big(n)}, {cd("b"), big(n / 3)}, {cd("c"), "\r\n--XyZa" + big(100)}}, "\r\n")
	}
	return forms
}

// TestMultipartMatchesMime reads the test forms, and every cut-off prefix
// of the small ones, through every source with several read patterns.
func TestMultipartMatchesMime(t *testing.T) {
	patterns := [][]byte{{7}, {0}, {5}, {6}, {3, 0, 7, 1}, {255, 250, 17, 3}}
	for name, body := range testForms() {
		t.Run(name, func(t *testing.T) {
			for src := range sources {
				if len(body) > 100<<10 && (sources[src].name == "one-byte" || sources[src].name == "split") {
					continue // slow, and split/one-byte are covered by the small forms
				}
				for _, pattern := range patterns {
					for _, skip := range []uint64{0, 0b101} {
						if msg := compareReaders(body, "XyZ", src, pattern, skip); msg != "" {
							t.Fatalf("%s source, pattern %v, skip %b: %s", sources[src].name, pattern, skip, msg)
						}
					}
				}
			}
			if len(body) > 2000 {
				return
			}
			for cut := range len(body) {
				for src := range sources {
					if msg := compareReaders(body[:cut], "XyZ", src, []byte{3, 0, 7}, 0); msg != "" {
						t.Fatalf("cut at %d, %s source: %s", cut, sources[src].name, msg)
					}
				}
			}
		})
	}
}

// FuzzMultipart holds multipartReader to mime/multipart on arbitrary
// bodies, sources, read sizes and skipped parts.
func FuzzMultipart(f *testing.F) {
	for _, body := range testForms() {
		if len(body) > 4000 { // small seeds: the fuzzer minimizes what it finds from them
			continue
		}
		f.Add(body, uint8(0), uint8(4), []byte{3, 0, 7}, uint64(0))
		f.Add(body, uint8(1), uint8(6), []byte{1, 250, 2}, uint64(2))
	}
	f.Add(fuzzForm([3]string{"info", "-", "{}"}, [3]string{"files", "a", "hello\r\n--XyZ"}), uint8(0), uint8(3), []byte{5}, uint64(0))
	f.Add([]byte("--a\r\n\r\n\r\n--a\r\n\r\n--a--"), uint8(2), uint8(1), []byte{0}, uint64(1))
	boundaries := []string{"XyZ", "a", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "b d", "=_-"}
	f.Fuzz(func(t *testing.T, body []byte, boundary, source uint8, pattern []byte, skip uint64) {
		if len(pattern) > 64 {
			pattern = pattern[:64]
		}
		var bd string
		if sel := int(boundary) % (len(boundaries) + 1); sel < len(boundaries) {
			bd = boundaries[sel]
		} else if i := bytes.IndexAny(body, "\r\n"); i > 2 && body[0] == '-' && body[1] == '-' {
			// The fuzzer's own: whatever the body's first line delimits.
			bd = string(body[2:i])
		}
		if bd == "" || len(bd) > 70 {
			return
		}
		if msg := compareReaders(body, bd, int(source), pattern, skip); msg != "" {
			t.Fatalf("boundary %q, %s source, pattern %v, skip %b: %s", bd, sources[int(source)%len(sources)].name, pattern, skip, msg)
		}
	})
}

// TestMultipartLargeReads: a large Read of a large part returns large
// spans, straight from the source once the buffer is drained.
func TestMultipartLargeReads(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 8<<20/16)
	body := rawForm("\r\n", "XyZ", "", [][2]string{{"", string(data)}}, "\r\n")
	mr, err := newMultipartReader(bytes.NewReader(body), "XyZ", 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer mr.release()
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	var got []byte
	reads := 0
	for {
		n, err := p.Read(buf)
		got = append(got, buf[:n]...)
		reads++
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n < multipartBufSize-len("\r\n--XyZ--") {
			t.Fatalf("read %d: %d bytes from a %d-byte buffer", reads, n, multipartBufSize)
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, want %d", len(got), len(data))
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Fatalf("after the part: %v, want io.EOF", err)
	}
}

// TestMultipartHeaderLimit: a part's header block may be maxHeader bytes,
// blank line included, and no more.
func TestMultipartHeaderLimit(t *testing.T) {
	const limit = 1000
	for _, size := range []int{limit, limit + 1} {
		hdr := "X: " + strings.Repeat("v", size-len("X: \r\n\r\n")) + "\r\n"
		body := rawForm("\r\n", "XyZ", "", [][2]string{{hdr, "1"}}, "")
		for src := range sources {
			mr, err := newMultipartReader(sources[src].wrap(body, []byte{9, 250}), "XyZ", limit)
			if err != nil {
				t.Fatal(err)
			}
			_, err = mr.NextPart()
			mr.release()
			if tooLarge := err != nil && strings.Contains(err.Error(), "larger than 1000 bytes"); tooLarge != (size > limit) {
				t.Fatalf("%s source: a %d-byte header block: %v", sources[src].name, size, err)
			}
		}
	}
}

// TestMultipartBoundaryLength: the boundary is 1 to maxBoundary bytes.
func TestMultipartBoundaryLength(t *testing.T) {
	for _, n := range []int{0, maxBoundary + 1} {
		if _, err := newMultipartReader(strings.NewReader(""), strings.Repeat("b", n), 1000); err == nil {
			t.Fatalf("a %d-byte boundary was accepted", n)
		}
	}
	bd := strings.Repeat("b", maxBoundary)
	if msg := compareReaders(rawForm("\r\n", bd, "", [][2]string{{"", "1"}}, ""), bd, 0, []byte{7}, 0); msg != "" {
		t.Fatal(msg)
	}
}

// TestUploadFormCutOff: a form whose body stops short of the close
// delimiter is refused as cut off and stores nothing, wherever it stops
// (mime/multipart took some of these for complete forms).
func TestUploadFormCutOff(t *testing.T) {
	e := newFormEnv(t)
	info := fmt.Sprintf(`{"packageID":%d}`, e.pkgID)
	full := fuzzForm([3]string{"info", "-", info}, [3]string{"files", "a.txt", "hello"})
	head := bytes.TrimSuffix(full, []byte("--XyZ--\r\n"))
	cut := func(tail string) []byte { return append(bytes.Clone(head), tail...) }
	before := e.state(t)
	for _, body := range [][]byte{
		cut("--XyZ"),             // at a delimiter
		cut("--XyZ\r\n"),         // after a boundary line
		cut("--XyZ\r\nA: b\r\n"), // in a header
		cut("--XyZ-"),            // in the close delimiter
		full[:len(full)-20],      // in a body
	} {
		r := httptest.NewRequest(http.MethodPost, "/v1/object/upload", bytes.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
		_, err := e.a.upload(context.Background(), r)
		if _, code, msg := classify(err); code != codeBadArgument || !strings.HasPrefix(msg, "the multipart form is malformed or was cut off: ") {
			t.Fatalf("%q: refused as %s %q", body, code, msg)
		}
		if after := e.state(t); after != before {
			t.Fatalf("%q: a cut-off form changed the store", body)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/v1/object/upload", bytes.NewReader(full))
	r.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
	if _, err := e.a.upload(context.Background(), r); err != nil {
		t.Fatalf("the whole form: %v", err)
	}
}

// TestMultipartLongLine: a line outside part bodies may fill the buffer,
// and no more.
func TestMultipartLongLine(t *testing.T) {
	for _, n := range []int{multipartBufSize - 2, multipartBufSize} {
		body := rawForm("\r\n", "XyZ", strings.Repeat("p", n)+"\r\n", [][2]string{{"", "1"}}, "")
		mr, err := newMultipartReader(bytes.NewReader(body), "XyZ", 1000)
		if err != nil {
			t.Fatal(err)
		}
		_, err = mr.NextPart()
		mr.release()
		if tooLong := err != nil && strings.Contains(err.Error(), "line is longer"); tooLong != (n+2 > multipartBufSize) {
			t.Fatalf("a %d-byte preamble line: %v", n+2, err)
		}
	}
}

// BenchmarkMultipartRead reads a 64 MiB file part of random bytes the way the gateway's
// staging does (1 MiB reads), with mime/multipart over a 256 KiB bufio (as
// form.go did) and with multipartReader.
func BenchmarkMultipartRead(b *testing.B) {
	data := make([]byte, 64<<20)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < len(data); i += 8 {
		binary.LittleEndian.PutUint64(data[i:], rng.Uint64())
	}
	body := append([]byte("--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"f\"\r\n\r\n"), data...)
	body = append(body, "\r\n--XyZ--\r\n"...)
	data = nil
	buf := make([]byte, 1<<20)
	drain := func(r io.Reader) {
		for {
			_, err := r.Read(buf)
			if err == io.EOF {
				return
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("mime-multipart", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			mr := multipart.NewReader(bufio.NewReaderSize(bytes.NewReader(body), 256<<10), "XyZ")
			p, err := mr.NextPart()
			if err != nil {
				b.Fatal(err)
			}
			drain(p)
		}
	})
	b.Run("multipartReader", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			mr, _ := newMultipartReader(bytes.NewReader(body), "XyZ", 64<<10)
			p, err := mr.NextPart()
			if err != nil {
				b.Fatal(err)
			}
			drain(p)
			mr.release()
		}
	})
}
