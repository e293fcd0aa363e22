package auth

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
)

// FuzzParseAuthorization feeds arbitrary Authorization headers to the
// parsers and to both verifiers: nothing may panic, and nothing may verify.
func FuzzParseAuthorization(f *testing.F) {
	sig := strings.Repeat("ab", 32)
	f.Add("AWS4-HMAC-SHA256 Credential=" + testAK + "/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + sig)
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/20250314/any/jcs/aws4_request,SignedHeaders=host,Signature=" + sig)
	f.Add("AWS4-HMAC-SHA256 Credential=/20250314/us-east-1/s3/aws4_request,SignedHeaders=,Signature=")
	f.Add("AWS4-HMAC-SHA256 Credential=x,Credential=y,SignedHeaders=host,Signature=" + sig)
	f.Add("AWS4-HMAC-SHA256 ,,,=")
	f.Add("AWS " + testAK + ":bWFkZSB1cCBzaWduYXR1cmU=")
	f.Add("AWS :")
	f.Add("AWS a:b:c")
	f.Add("Bearer x")
	f.Add("")
	v := verifierAt(t0)
	f.Fuzz(func(t *testing.T, h string) {
		if a, msg := parseV4Authorization(h); a != nil {
			if msg != "" || len(a.signature) != 32 || a.accessKey == "" || !contains(a.signedHeaders, "host") {
				t.Fatalf("inconsistent parse of %q: %+v %q", h, a, msg)
			}
		} else if msg == "" {
			t.Fatalf("rejected %q without a message", h)
		}
		if ak, sig, ok := parseV2Authorization(h); ok && (ak == "" || len(sig) != 20) {
			t.Fatalf("inconsistent SigV2 parse of %q", h)
		}

		req := httptest.NewRequest(http.MethodPut, "/bucket/key?uploads", strings.NewReader("x"))
		req.Header["Authorization"] = []string{h}
		req.Header.Set("X-Amz-Date", "20250314T120000Z")
		req.Header.Set("Date", dateT0)
		req.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
		id, err := v.VerifyS3(req)
		if err == nil && !id.Anonymous {
			t.Fatalf("forged header verified: %q", h)
		}
		if _, err := v.VerifyJCS(req, ""); err == nil {
			t.Fatalf("forged header verified for JCS: %q", h)
		}
	})
}

// FuzzChunkedReader decodes arbitrary bodies in every aws-chunked mode with
// small reads: nothing may panic, decoding must be consistent, and a signed
// stream must never decode without error (no signature can be guessed).
func FuzzChunkedReader(f *testing.F) {
	data := patterned(300)
	f.Add(buildChunked(data, 100, nil, [][2]string{{"x-amz-checksum-crc32", crc32Base64(data)}}, false), uint8(0))
	f.Add(buildChunked(data, 7, nil, nil, false), uint8(0))
	f.Add(buildChunked(data, 128, newChunkSigner(t0, strings.Repeat("0", 64)), nil, false), uint8(1))
	f.Add(buildChunked(data, 128, newChunkSigner(t0, strings.Repeat("0", 64)), [][2]string{{"x-amz-checksum-sha256", "abc"}}, true), uint8(2))
	f.Add([]byte("0\r\n\r\n"), uint8(0))
	f.Add([]byte("ffffffffffffffff\r\n"), uint8(0))
	f.Add([]byte("3\r\nabc\r\n0\r\na:b\r\n"), uint8(0))
	f.Add([]byte("3;chunk-signature=\r\nabc"), uint8(1))
	f.Fuzz(func(t *testing.T, body []byte, mode uint8) {
		cfg := chunkedConfig{decodedLength: -1}
		switch mode % 4 {
		case 0:
			cfg.trailers = true
		case 1:
			cfg.signed = true
		case 2:
			cfg.signed, cfg.trailers, cfg.signedTrailers = true, true, true
		case 3:
			cfg.trailers = true
			cfg.declared = []string{"x-amz-checksum-crc32"}
			cfg.decodedLength = 300
		}
		if cfg.signed {
			cs := newChunkSigner(t0, strings.Repeat("1", 64))
			cfg.key, cfg.amzDate, cfg.scope, cfg.seed = cs.key, cs.date, cs.scope, cs.prev
		}
		c := newChunkedReader(bytes.NewReader(body), cfg)
		out, err := io.ReadAll(iotest.OneByteReader(c))
		if int64(len(out)) != c.decoded {
			t.Fatalf("returned %d bytes, counted %d", len(out), c.decoded)
		}
		if len(out) > len(body) {
			t.Fatalf("decoded more than the input")
		}
		if err == nil {
			if cfg.signed {
				t.Fatalf("signed stream decoded without the right key")
			}
			if cfg.trailers && c.finishedTrailers() == nil {
				t.Fatalf("finished trailer stream without trailers")
			}
		} else if c.finishedTrailers() != nil {
			t.Fatalf("trailers exposed after a failure")
		}
	})
}

// SignedHeaders: any order is read, a name twice is refused whatever the
// order, host is required.
func TestSignedHeadersList(t *testing.T) {
	for list, want := range map[string]string{
		"host;x-amz-content-sha256;x-amz-date": "",
		"x-amz-date;host;x-amz-content-sha256": "",
		"host":                                 "",
		"host;host":                            "SignedHeaders contains a duplicate header",
		"host;x-amz-date;x-amz-date":           "SignedHeaders contains a duplicate header",
		"x-amz-date;host;x-amz-date":           "SignedHeaders contains a duplicate header",
		"x-amz-date":                           "SignedHeaders must include host",
		"host;;x-amz-date":                     "SignedHeaders is malformed",
		"host;X-Amz-Date":                      "SignedHeaders is malformed",
	} {
		var a v4Auth
		if got := a.setSignedHeaders(list); got != want {
			t.Errorf("%q: %q, want %q", list, got, want)
		} else if want == "" && strings.Join(a.signedHeaders, ";") != list {
			t.Errorf("%q: names %q", list, a.signedHeaders)
		}
	}
}
