package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func crc32Base64(data []byte) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], crc32.ChecksumIEEE(data))
	return base64.StdEncoding.EncodeToString(b[:])
}

// streamOpts describes one aws-chunked upload.
type streamOpts struct {
	mode      string // x-amz-content-sha256
	data      []byte
	chunkSize int
	trailers  [][2]string
	encoding  string // Content-Encoding, default "aws-chunked"
	noDecoded bool   // omit X-Amz-Decoded-Content-Length
	decoded   string // override X-Amz-Decoded-Content-Length
	mutate    func([]byte) []byte
}

// streamingRequest builds a signed aws-chunked request the way S3 clients
// do: the headers (including the encoded Content-Length) are signed first
// with the SDK signer, then the body is encoded, chaining chunk signatures
// from the request's signature.
func streamingRequest(t *testing.T, target string, o streamOpts) *http.Request {
	t.Helper()
	signed := o.mode == streamingSigned || o.mode == streamingSignedTrailer
	signedTrailer := o.mode == streamingSignedTrailer
	encode := func(seed string) []byte {
		var cs *chunkSigner
		if signed {
			cs = newChunkSigner(t0, seed)
		}
		return buildChunked(o.data, o.chunkSize, cs, o.trailers, signedTrailer)
	}
	length := len(encode(strings.Repeat("0", 64)))

	req := httptest.NewRequest(http.MethodPut, target, nil)
	if strings.HasPrefix(target, "http") {
		req = newReq(t, http.MethodPut, target, nil)
	}
	enc := o.encoding
	if enc == "" {
		enc = "aws-chunked"
	}
	req.Header.Set("Content-Encoding", enc)
	if !o.noDecoded {
		d := o.decoded
		if d == "" {
			d = strconv.Itoa(len(o.data))
		}
		req.Header.Set("X-Amz-Decoded-Content-Length", d)
	}
	var names []string
	for _, tr := range o.trailers {
		names = append(names, tr[0])
	}
	if len(names) > 0 {
		req.Header.Set("X-Amz-Trailer", strings.Join(names, ","))
	}
	req.ContentLength = int64(length)
	signS3(t, req, o.mode, t0)

	body := encode(authSignature(t, req))
	require.Len(t, body, length)
	if o.mutate != nil {
		body = o.mutate(body)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	return req
}

func TestStreamingSignedRoundTrip(t *testing.T) {
	srv := s3Server(t, t0)
	for _, size := range []int{0, 1, 100, 8192, 65536, 65537, 200000} {
		for _, chunk := range []int{1, 7, 8192, 65536} {
			if size/chunk > 5000 {
				continue // keep the test fast; small chunks are covered on small sizes
			}
			t.Run(fmt.Sprintf("size=%d/chunk=%d", size, chunk), func(t *testing.T) {
				data := patterned(size)
				req := streamingRequest(t, srv.URL+"/bucket/key", streamOpts{mode: streamingSigned, data: data, chunkSize: chunk})
				status, body := send(t, nil, req)
				require.Equal(t, http.StatusOK, status, body)
				res := srv.result(t)
				require.NoError(t, res.ReadErr)
				require.Equal(t, data, res.Body, "decoded body must be byte-exact")
				assert.Equal(t, int64(size), res.ContentLength)
				assert.Equal(t, strconv.Itoa(size), res.HeaderLength)
				assert.Empty(t, res.ContentEncoding)
				assert.Nil(t, res.Trailers, "no trailers in this mode")
			})
		}
	}
}

func TestStreamingKeepsOtherContentEncoding(t *testing.T) {
	req := streamingRequest(t, "http://s3.example/bucket/key", streamOpts{mode: streamingSigned, data: []byte("gzipped?"), chunkSize: 3, encoding: "aws-chunked,gzip"})
	_, err := verifierAt(t0).VerifyS3(req)
	require.NoError(t, err)
	assert.Equal(t, "gzip", req.Header.Get("Content-Encoding"))
	b, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	assert.Equal(t, "gzipped?", string(b))
}

// readVerified verifies req in-process and reads its body one byte at a
// time, so chunk boundaries fall at every possible offset of a Read.
func readVerified(t *testing.T, req *http.Request) ([]byte, error) {
	t.Helper()
	_, err := verifierAt(t0).VerifyS3(req)
	require.NoError(t, err)
	return io.ReadAll(iotest.OneByteReader(req.Body))
}

func TestStreamingSignedTampered(t *testing.T) {
	data := patterned(20000)
	flipAt := func(pos func(b []byte) int) func([]byte) []byte {
		return func(b []byte) []byte {
			b = bytes.Clone(b)
			b[pos(b)] ^= 0x01
			return b
		}
	}
	dataStart := func(b []byte) int { return bytes.Index(b, []byte("\r\n")) + 2 }
	cases := []struct {
		name   string
		mutate func([]byte) []byte
		code   string
	}{
		{"first chunk byte", flipAt(func(b []byte) int { return dataStart(b) }), CodeSignatureDoesNotMatch},
		{"middle chunk byte", flipAt(func(b []byte) int { return dataStart(b) + 9000 }), CodeSignatureDoesNotMatch},
		{"last data byte", flipAt(func(b []byte) int { return bytes.LastIndex(b, []byte("\r\n0;")) - 1 }), CodeSignatureDoesNotMatch},
		{"chunk signature", flipAt(func(b []byte) int { return bytes.Index(b, []byte("signature=")) + 12 }), CodeSignatureDoesNotMatch},
		{"final chunk signature", flipAt(func(b []byte) int { return bytes.LastIndex(b, []byte("signature=")) + 12 }), CodeSignatureDoesNotMatch},
		{"truncated", func(b []byte) []byte { return b[:len(b)-30] }, CodeIncompleteBody},
		{"truncated in data", func(b []byte) []byte { return b[:dataStart(b)+100] }, CodeIncompleteBody},
		{"chunks swapped", func(b []byte) []byte {
			// Two valid chunks in the wrong order break the chain.
			first := bytes.Index(b, []byte("\r\n2000;")) + 2
			second := bytes.Index(b[first:], []byte("\r\n")) + first + 2 + 0x2000 + 2
			out := append([]byte{}, b[:0]...)
			out = append(out, b[first:second]...)
			out = append(out, b[:first]...)
			return append(out, b[second:]...)
		}, CodeSignatureDoesNotMatch},
		{"size lies", func(b []byte) []byte { return bytes.Replace(b, []byte("2000;"), []byte("1fff;"), 1) }, CodeInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := streamingRequest(t, "http://s3.example/bucket/key", streamOpts{mode: streamingSigned, data: data, chunkSize: 0x2000, mutate: tc.mutate})
			got, err := readVerified(t, req)
			requireCode(t, err, tc.code, statusOf(tc.code))
			assert.Less(t, len(got), len(data)+1)
			assert.Nil(t, Trailers(req))
		})
	}

	// Over a real connection the error reaches the handler before EOF.
	srv := s3Server(t, t0)
	req := streamingRequest(t, srv.URL+"/bucket/key", streamOpts{mode: streamingSigned, data: data, chunkSize: 0x2000, mutate: cases[1].mutate})
	status, _ := send(t, nil, req)
	assert.Equal(t, http.StatusForbidden, status)
	requireCode(t, srv.result(t).ReadErr, CodeSignatureDoesNotMatch, 403)
}

func TestStreamingDecodedLength(t *testing.T) {
	data := patterned(5000)
	for _, tc := range []struct {
		decoded string
		code    string
	}{
		{"4999", CodeInvalidRequest},
		{"5001", CodeIncompleteBody},
	} {
		req := streamingRequest(t, "http://s3.example/bucket/key", streamOpts{mode: streamingSigned, data: data, chunkSize: 1000, decoded: tc.decoded})
		_, err := readVerified(t, req)
		requireCode(t, err, tc.code, 400)
	}
	// Without the header the length is unknown but decoding still works.
	req := streamingRequest(t, "http://s3.example/bucket/key", streamOpts{mode: streamingSigned, data: data, chunkSize: 1000, noDecoded: true})
	got, err := readVerified(t, req)
	require.NoError(t, err)
	assert.Equal(t, data, got)
	assert.Equal(t, int64(-1), req.ContentLength)
	assert.Empty(t, req.Header.Get("Content-Length"))

	req = streamingRequest(t, "http://s3.example/bucket/key", streamOpts{mode: streamingSigned, data: data, chunkSize: 1000, decoded: "12x"})
	_, err = verifierAt(t0).VerifyS3(req)
	requireCode(t, err, CodeInvalidArgument, 400)
}

func TestStreamingUnsignedTrailer(t *testing.T) {
	srv := s3Server(t, t0)
	for _, size := range []int{1, 1000, 65536, 100000} {
		data := patterned(size)
		crc := crc32Base64(data)
		req := streamingRequest(t, srv.URL+"/bucket/key", streamOpts{
			mode: streamingUnsignedTrailer, data: data, chunkSize: 65536,
			trailers: [][2]string{{"x-amz-checksum-crc32", crc}},
		})
		status, body := send(t, nil, req)
		require.Equal(t, http.StatusOK, status, body)
		res := srv.result(t)
		require.Equal(t, data, res.Body)
		require.NotNil(t, res.Trailers)
		assert.Equal(t, crc, res.Trailers["x-amz-checksum-crc32"][0])
		assert.Len(t, res.Trailers, 1)
		assert.Equal(t, int64(size), res.ContentLength)
	}

	// Trailers are withheld until the body has been read to EOF.
	data := patterned(100)
	req := streamingRequest(t, "http://s3.example/bucket/key", streamOpts{
		mode: streamingUnsignedTrailer, data: data, chunkSize: 64,
		trailers: [][2]string{{"x-amz-checksum-crc32", crc32Base64(data)}},
	})
	_, err := verifierAt(t0).VerifyS3(req)
	require.NoError(t, err)
	buf := make([]byte, 100)
	_, err = io.ReadFull(req.Body, buf)
	require.NoError(t, err)
	assert.Nil(t, Trailers(req))
	n, err := req.Body.Read(buf)
	assert.Equal(t, 0, n)
	assert.Equal(t, io.EOF, err)
	assert.Equal(t, crc32Base64(data), Trailers(req)["x-amz-checksum-crc32"][0])
}

// Content-MD5 applies to the decoded data; when it fails, the trailers of
// the (otherwise well-formed) stream are not exposed either.
func TestStreamingContentMD5(t *testing.T) {
	data := patterned(1000)
	for _, tc := range []struct {
		md5 string
		ok  bool
	}{{md5Base64(data), true}, {md5Base64([]byte("other")), false}} {
		req := streamingRequest(t, "http://s3.example/bucket/key", streamOpts{
			mode: streamingUnsignedTrailer, data: data, chunkSize: 300,
			trailers: [][2]string{{"x-amz-checksum-crc32", crc32Base64(data)}},
		})
		req.Header.Set("Content-MD5", tc.md5)
		got, err := readVerified(t, req)
		if tc.ok {
			require.NoError(t, err)
			assert.Equal(t, data, got)
			assert.NotNil(t, Trailers(req))
		} else {
			requireCode(t, err, CodeBadDigest, 400)
			assert.Nil(t, Trailers(req))
		}
	}
}

func TestStreamingUnsignedTrailerErrors(t *testing.T) {
	data := patterned(300)
	crc := [][2]string{{"x-amz-checksum-crc32", crc32Base64(data)}}
	cases := []struct {
		name   string
		mutate func([]byte) []byte
		code   string
	}{
		{"missing declared trailer", func(b []byte) []byte {
			return bytes.Replace(b, []byte("x-amz-checksum-crc32:"+crc[0][1]+"\r\n"), nil, 1)
		}, CodeIncompleteBody},
		{"undeclared trailer", func(b []byte) []byte {
			return bytes.Replace(b, []byte("x-amz-checksum-crc32:"), []byte("x-amz-meta-evil:1\r\nx-amz-checksum-crc32:"), 1)
		}, CodeInvalidRequest},
		{"bare LF", func(b []byte) []byte { return bytes.Replace(b, []byte("100\r\n"), []byte("100\n"), 1) }, CodeInvalidRequest},
		{"bad size", func(b []byte) []byte { return bytes.Replace(b, []byte("100\r\n"), []byte("+10\r\n"), 1) }, CodeInvalidRequest},
		{"long line", func(b []byte) []byte {
			return bytes.Replace(b, []byte("100\r\n"), []byte("100;"+strings.Repeat("x", 2000)+"\r\n"), 1)
		}, CodeInvalidRequest},
		{"missing CRLF after data", func(b []byte) []byte {
			i := bytes.Index(b, []byte("\r\n")) + 2 + 0x100
			return append(append(bytes.Clone(b[:i]), 'X', 'X'), b[i+2:]...)
		}, CodeInvalidRequest},
		{"empty body", func(b []byte) []byte { return nil }, CodeIncompleteBody},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := streamingRequest(t, "http://s3.example/bucket/key", streamOpts{mode: streamingUnsignedTrailer, data: data, chunkSize: 0x100, trailers: crc, mutate: tc.mutate})
			_, err := readVerified(t, req)
			requireCode(t, err, tc.code, 400)
			assert.Nil(t, Trailers(req))
		})
	}
}

func TestStreamingSignedTrailer(t *testing.T) {
	srv := s3Server(t, t0)
	data := patterned(70000)
	trailers := [][2]string{{"x-amz-checksum-crc32c", "sOO8/Q=="}}
	req := streamingRequest(t, srv.URL+"/bucket/key", streamOpts{mode: streamingSignedTrailer, data: data, chunkSize: 65536, trailers: trailers})
	status, body := send(t, nil, req)
	require.Equal(t, http.StatusOK, status, body)
	res := srv.result(t)
	require.Equal(t, data, res.Body)
	assert.Equal(t, http.Header{"x-amz-checksum-crc32c": {"sOO8/Q=="}}, res.Trailers)

	for _, tc := range []struct {
		name   string
		mutate func([]byte) []byte
	}{
		{"trailer value", func(b []byte) []byte { return bytes.Replace(b, []byte("sOO8/Q=="), []byte("sOO8/R=="), 1) }},
		{"trailer signature", func(b []byte) []byte {
			i := bytes.Index(b, []byte("x-amz-trailer-signature:")) + 30
			b = bytes.Clone(b)
			b[i] ^= 1
			return b
		}},
		{"no trailer signature", func(b []byte) []byte {
			i := bytes.Index(b, []byte("x-amz-trailer-signature:"))
			return append(bytes.Clone(b[:i]), '\r', '\n')
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := streamingRequest(t, "http://s3.example/bucket/key", streamOpts{mode: streamingSignedTrailer, data: data, chunkSize: 65536, trailers: trailers, mutate: tc.mutate})
			got, err := readVerified(t, req)
			requireCode(t, err, CodeSignatureDoesNotMatch, 403)
			assert.Len(t, got, len(data), "data chunks were fine; the failure comes at the end, before EOF")
			assert.Nil(t, Trailers(req))
		})
	}

	// Trailers are not accepted in the plain signed mode.
	req = streamingRequest(t, "http://s3.example/bucket/key", streamOpts{mode: streamingSigned, data: data, chunkSize: 65536, trailers: trailers})
	_, err := readVerified(t, req)
	requireCode(t, err, CodeInvalidRequest, 400)
}

// The decoder hands out chunk data as it arrives: a chunk that announces a
// terabyte is neither buffered nor waited for.
func TestChunkedReaderStreams(t *testing.T) {
	pr, pw := io.Pipe()
	c := newChunkedReader(pr, chunkedConfig{trailers: true, decodedLength: -1})
	go func() {
		pw.Write([]byte("10000000000\r\n"))
		pw.Write([]byte("0123456789"))
	}()
	buf := make([]byte, 64<<10)
	n, err := c.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "0123456789", string(buf[:n]))
	pw.CloseWithError(io.ErrClosedPipe)
	_, err = c.Read(buf)
	require.ErrorIs(t, err, io.ErrClosedPipe, "transport errors pass through")
	_, err2 := c.Read(buf)
	require.Equal(t, err, err2, "errors are sticky")
}

func TestChunkedReaderLimits(t *testing.T) {
	read := func(body string, cfg chunkedConfig) error {
		c := newChunkedReader(strings.NewReader(body), cfg)
		_, err := io.ReadAll(c)
		return err
	}
	unsigned := chunkedConfig{trailers: true, decodedLength: -1}
	require.NoError(t, read("3\r\nabc\r\n0\r\n\r\n", unsigned))
	require.NoError(t, read("3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", unsigned))
	require.NoError(t, read("3\r\nabc\r\n0\r\n", unsigned), "a stream ending right after the final chunk is complete")
	requireCode(t, read("ffffffffffffffff\r\n", unsigned), CodeInvalidRequest, 400)
	requireCode(t, read("8000000000000000\r\n", unsigned), CodeInvalidRequest, 400)
	requireCode(t, read("\r\n", unsigned), CodeInvalidRequest, 400)
	requireCode(t, read("0x3\r\nabc\r\n0\r\n\r\n", unsigned), CodeInvalidRequest, 400)
	requireCode(t, read("3\r\nabc\r\n0\r\n"+strings.Repeat("x-amz-a:b\r\n", 40)+"\r\n", unsigned), CodeInvalidRequest, 400)
	requireCode(t, read("3\r\nabc\r\n0\r\nnocolon\r\n\r\n", unsigned), CodeInvalidRequest, 400)
	requireCode(t, read("3\r\nabc\r\n0\r\na:1\r\na:2\r\n\r\n", unsigned), CodeInvalidRequest, 400)
	requireCode(t, read("3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==", unsigned), CodeIncompleteBody, 400)
	requireCode(t, read("3\r\nab", unsigned), CodeIncompleteBody, 400)

	signed := chunkedConfig{signed: true, key: []byte("k"), decodedLength: -1}
	requireCode(t, read("3\r\nabc\r\n0\r\n\r\n", signed), CodeSignatureDoesNotMatch, 403)
	requireCode(t, read("3;chunk-signature=zz\r\nabc\r\n", signed), CodeSignatureDoesNotMatch, 403)
}

// The S3 SigV4 seed signature test vector from the AWS documentation
// ("Example: PUT Object" in "Signature Calculations for the Authorization
// Header: Transferring Payload in Multiple Chunks"): 66560 bytes of 'a' in
// 64 KiB and 1 KiB chunks, with the published chunk signatures.
func TestStreamingAWSDocumentationVector(t *testing.T) {
	const (
		secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
		seed   = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
		sig1   = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
		sig2   = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
		sig3   = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
	)
	data := bytes.Repeat([]byte("a"), 66560)
	var body bytes.Buffer
	fmt.Fprintf(&body, "10000;chunk-signature=%s\r\n%s\r\n", sig1, data[:65536])
	fmt.Fprintf(&body, "400;chunk-signature=%s\r\n%s\r\n", sig2, data[65536:])
	fmt.Fprintf(&body, "0;chunk-signature=%s\r\n\r\n", sig3)

	c := newChunkedReader(&body, chunkedConfig{
		signed:        true,
		key:           signingKey(secret, "20130524", "us-east-1", "s3"),
		amzDate:       "20130524T000000Z",
		scope:         "20130524/us-east-1/s3/aws4_request",
		seed:          seed,
		decodedLength: 66560,
	})
	got, err := io.ReadAll(c)
	require.NoError(t, err)
	assert.Equal(t, data, got)

	// The same chain continued with signed trailers; the expected trailer
	// signature is the one in the AWS CRT chunk signer tests for trailers
	// first:1st, second:2nd, third:3rd.
	withTrailers := func(trailerSig string) error {
		var b bytes.Buffer
		fmt.Fprintf(&b, "10000;chunk-signature=%s\r\n%s\r\n", sig1, data[:65536])
		fmt.Fprintf(&b, "400;chunk-signature=%s\r\n%s\r\n", sig2, data[65536:])
		fmt.Fprintf(&b, "0;chunk-signature=%s\r\n", sig3)
		fmt.Fprintf(&b, "first:1st\r\nsecond:2nd\r\nthird:3rd\r\nx-amz-trailer-signature:%s\r\n\r\n", trailerSig)
		c := newChunkedReader(&b, chunkedConfig{
			signed: true, trailers: true, signedTrailers: true,
			key:           signingKey(secret, "20130524", "us-east-1", "s3"),
			amzDate:       "20130524T000000Z",
			scope:         "20130524/us-east-1/s3/aws4_request",
			seed:          seed,
			decodedLength: 66560,
			declared:      []string{"first", "second", "third"},
		})
		got, err := io.ReadAll(c)
		if err == nil {
			assert.Equal(t, data, got)
			assert.Equal(t, http.Header{"first": {"1st"}, "second": {"2nd"}, "third": {"3rd"}}, c.finishedTrailers())
		}
		return err
	}
	require.NoError(t, withTrailers("df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c"))
	requireCode(t, withTrailers("df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6d"), CodeSignatureDoesNotMatch, 403)
}

func TestTrailersNotChunked(t *testing.T) {
	req := httptest.NewRequest(http.MethodPut, "http://s3.example/bucket/key", strings.NewReader("x"))
	signS3(t, req, sha256Sum([]byte("x")), t0)
	_, err := verifierAt(t0).VerifyS3(req)
	require.NoError(t, err)
	_, err = io.ReadAll(req.Body)
	require.NoError(t, err)
	assert.Nil(t, Trailers(req))
	assert.Nil(t, Trailers(httptest.NewRequest(http.MethodGet, "/", nil)))
	_ = time.Second
}
