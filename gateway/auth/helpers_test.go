package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/require"
)

const (
	testAK = "AKIDJCSGWEXAMPLE"
	testSK = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// t0 is the signing time used by most tests.
var t0 = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

type keyMap map[string]string

func (k keyMap) SecretKey(ak string) (string, bool) { s, ok := k[ak]; return s, ok }

func testKeys() keyMap { return keyMap{testAK: testSK, "other": "other-secret"} }

// verifierAt returns a verifier whose clock reads now.
func verifierAt(now time.Time) *Verifier {
	return &Verifier{Keys: testKeys(), Now: func() time.Time { return now }}
}

func sha256Sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// signS3 signs req with the AWS SDK signer the way the SDK's S3 client does
// (path not re-escaped) and sets X-Amz-Content-Sha256 first, as S3 requires.
func signS3(t testing.TB, req *http.Request, payload string, at time.Time) {
	t.Helper()
	req.Header.Set("X-Amz-Content-Sha256", payload)
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSK}
	require.NoError(t, s.SignHTTP(context.Background(), creds, req, payload, "s3", "us-east-1", at))
}

// authSignature extracts the Signature= value of a SigV4 Authorization header.
func authSignature(t testing.TB, req *http.Request) string {
	t.Helper()
	h := req.Header.Get("Authorization")
	i := strings.Index(h, "Signature=")
	require.GreaterOrEqual(t, i, 0, h)
	return h[i+len("Signature="):]
}

// result is what the test server saw for one request.
type result struct {
	ID              Identity
	Err             *Error
	Body            []byte
	ReadErr         error
	Trailers        http.Header
	ContentLength   int64
	HeaderLength    string
	ContentEncoding string
}

type testServer struct {
	*httptest.Server
	mu      sync.Mutex
	results []*result // in arrival order
}

// startServer runs verify on every request on a real 127.0.0.1 listener,
// then reads the body through whatever reader verify installed, like a
// gateway handler would. Failures are answered as S3 XML errors so that SDK
// clients report the code.
func startServer(t testing.TB, useTLS bool, verify func(*http.Request) (Identity, error)) *testServer {
	ts := &testServer{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := &result{}
		defer func() { ts.mu.Lock(); ts.results = append(ts.results, res); ts.mu.Unlock() }()
		id, err := verify(r)
		if err != nil {
			res.Err = asError(err)
			writeError(w, res.Err)
			return
		}
		res.ID = id
		res.ContentLength = r.ContentLength
		res.HeaderLength = r.Header.Get("Content-Length")
		res.ContentEncoding = r.Header.Get("Content-Encoding")
		res.Body, res.ReadErr = io.ReadAll(r.Body)
		res.Trailers = Trailers(r)
		if res.ReadErr != nil {
			writeError(w, asError(res.ReadErr))
			return
		}
		switch {
		case r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2":
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`)
		case r.Method == http.MethodGet:
			io.WriteString(w, "object-data")
		default:
			w.Header().Set("ETag", `"d41d8cd98f00b204e9800998ecf8427e"`)
		}
	})
	if useTLS {
		ts.Server = httptest.NewTLSServer(h)
	} else {
		ts.Server = httptest.NewServer(h)
	}
	t.Cleanup(ts.Close)
	return ts
}

// result returns the oldest request result not yet consumed.
func (ts *testServer) result(t testing.TB) *result {
	t.Helper()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	require.NotEmpty(t, ts.results, "server saw no request")
	r := ts.results[0]
	ts.results = ts.results[1:]
	return r
}

func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: "InternalError", Message: err.Error(), Status: 500}
}

func writeError(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Test-Code", e.Code)
	w.WriteHeader(e.Status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, e.Code, e.Message)
}

// send performs req with client (default client if nil) and returns the
// response status and body.
func send(t testing.TB, client *http.Client, req *http.Request) (int, string) {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// requireCode asserts err is an *Error with the given code and status.
func requireCode(t testing.TB, err error, code string, status int) *Error {
	t.Helper()
	require.Error(t, err)
	var e *Error
	require.True(t, errors.As(err, &e), "not an *auth.Error: %T %v", err, err)
	require.NotNil(t, e, "nil *auth.Error")
	require.Equal(t, code, e.Code, e.Message)
	require.Equal(t, status, e.Status)
	return e
}

func newReq(t testing.TB, method, url string, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	return req
}

// --- an independent SigV4 implementation for building streaming bodies ---

func tHMAC(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

func tSigningKey(secret, date, region, service string) []byte {
	k := tHMAC([]byte("AWS4"+secret), date)
	k = tHMAC(k, region)
	k = tHMAC(k, service)
	return tHMAC(k, "aws4_request")
}

// chunkSigner produces the chunk signature chain described in the S3
// "Transferring Payload in Multiple Chunks" spec.
type chunkSigner struct {
	key         []byte
	date, scope string
	prev        string
}

func newChunkSigner(at time.Time, seed string) *chunkSigner {
	d := at.UTC().Format("20060102")
	return &chunkSigner{
		key:   tSigningKey(testSK, d, "us-east-1", "s3"),
		date:  at.UTC().Format("20060102T150405Z"),
		scope: d + "/us-east-1/s3/aws4_request",
		prev:  seed,
	}
}

func (c *chunkSigner) sign(chunk []byte) string {
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + c.date + "\n" + c.scope + "\n" + c.prev + "\n" +
		sha256Sum(nil) + "\n" + sha256Sum(chunk)
	c.prev = hex.EncodeToString(tHMAC(c.key, sts))
	return c.prev
}

func (c *chunkSigner) signTrailer(canonical string) string {
	sts := "AWS4-HMAC-SHA256-TRAILER\n" + c.date + "\n" + c.scope + "\n" + c.prev + "\n" + sha256Sum([]byte(canonical))
	return hex.EncodeToString(tHMAC(c.key, sts))
}

// buildChunked encodes data as aws-chunked. cs == nil gives the unsigned
// form; trailers are appended after the final chunk, followed by
// x-amz-trailer-signature when signedTrailer is set.
func buildChunked(data []byte, chunkSize int, cs *chunkSigner, trailers [][2]string, signedTrailer bool) []byte {
	var b bytes.Buffer
	for off := 0; off < len(data); off += chunkSize {
		chunk := data[off:min(off+chunkSize, len(data))]
		if cs != nil {
			fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n", len(chunk), cs.sign(chunk))
		} else {
			fmt.Fprintf(&b, "%x\r\n", len(chunk))
		}
		b.Write(chunk)
		b.WriteString("\r\n")
	}
	if cs != nil {
		fmt.Fprintf(&b, "0;chunk-signature=%s\r\n", cs.sign(nil))
	} else {
		b.WriteString("0\r\n")
	}
	var canonical strings.Builder
	for _, tr := range trailers {
		fmt.Fprintf(&b, "%s:%s\r\n", tr[0], tr[1])
		canonical.WriteString(tr[0] + ":" + tr[1] + "\n")
	}
	if signedTrailer {
		fmt.Fprintf(&b, "x-amz-trailer-signature:%s\r\n", cs.signTrailer(canonical.String()))
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// patterned returns n bytes that make misplaced or dropped bytes visible.
func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func hexString(b []byte) string { return hex.EncodeToString(b) }
