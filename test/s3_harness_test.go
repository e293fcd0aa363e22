package test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"jcsgw"
	"jcsgw/gateway"
)

// s3Mode is one way of running the S3 suite.
type s3Mode struct {
	name string
	// tls serves over HTTPS: only then does the SDK send aws-chunked bodies
	// with trailing checksums.
	tls bool
	// checksums is the SDK's request-checksum behaviour.
	checksums aws.RequestChecksumCalculation
}

var s3Modes = []s3Mode{
	// The SDK's default over TLS: STREAMING-UNSIGNED-PAYLOAD-TRAILER with a
	// CRC32 trailer on every PutObject/UploadPart.
	{"TrailerCRC32", true, aws.RequestChecksumCalculationWhenSupported},
	// The default over plain HTTP: signed payload hash, CRC32 in a header.
	{"HeaderCRC32", false, aws.RequestChecksumCalculationWhenSupported},
	// Checksums only where S3 requires them.
	{"WhenRequired", false, aws.RequestChecksumCalculationWhenRequired},
}

// s3Env is a running server with an SDK client.
type s3Env struct {
	t      testing.TB
	mode   s3Mode
	URL    string
	Host   string // host:port
	AK, SK string
	HTTP   *http.Client // a plain client that trusts the server
	S3     *s3.Client
	srv    *jcsgw.Server
	// payloads counts the X-Amz-Content-Sha256 values the server received
	// (TLS mode only): proof of what the SDK really sent.
	payloads *sync.Map
}

// sawPayload tells how many requests came with this X-Amz-Content-Sha256.
func (e *s3Env) sawPayload(mode string) int64 {
	if v, ok := e.payloads.Load(mode); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// newS3Env starts a server (TLS or not) and a client for it.
func newS3Env(t testing.TB, mode s3Mode) *s3Env {
	t.Helper()
	e := &s3Env{t: t, mode: mode}
	if mode.tls {
		srv, err := jcsgw.Open(context.Background(), jcsgw.Config{DataDir: t.TempDir()})
		require.NoError(t, err)
		e.payloads = &sync.Map{}
		h := srv.Handler()
		ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v, _ := e.payloads.LoadOrStore(r.Header.Get("X-Amz-Content-Sha256"), new(atomic.Int64))
			v.(*atomic.Int64).Add(1)
			h.ServeHTTP(w, r)
		}))
		ts.StartTLS()
		t.Cleanup(func() {
			ts.Close()
			srv.Close()
		})
		e.srv, e.URL = srv, ts.URL
		e.HTTP = ts.Client()
		e.HTTP.Timeout = 2 * time.Minute
		e.HTTP.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	} else {
		s := StartServer(t, nil)
		e.srv, e.URL, e.HTTP = s.Jcsgw(), s.URL, s.HTTP
	}
	u, _ := url.Parse(e.URL)
	e.Host = u.Host
	e.AK, e.SK = e.srv.Keys()
	e.S3 = e.client(e.SK, nil)
	return e
}

// client builds an SDK client with the given secret.
func (e *s3Env) client(secret string, more func(*s3.Options)) *s3.Client {
	cfg := aws.Config{
		Region:                     "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider(e.AK, secret, ""),
		HTTPClient:                 e.HTTP,
		RequestChecksumCalculation: e.mode.checksums,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		Retryer:                    func() aws.Retryer { return aws.NopRetryer{} },
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(e.URL)
		o.UsePathStyle = true
		if more != nil {
			more(o)
		}
	})
}

func (e *s3Env) svc() *gateway.Service { return e.srv.Service() }

// bucket makes a fresh bucket.
func (e *s3Env) bucket(name string) string {
	e.t.Helper()
	_, err := e.S3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)})
	require.NoError(e.t, err)
	return name
}

// s3Err checks that err is an S3 error reply with code and status; an empty
// code checks the status only (HEAD replies have no body).
func s3Err(t testing.TB, err error, code string, status int) {
	t.Helper()
	require.Error(t, err)
	var re *awshttp.ResponseError
	require.True(t, errors.As(err, &re), "not an HTTP response error: %v", err)
	require.Equal(t, status, re.HTTPStatusCode(), "status of %v", err)
	if code != "" {
		var ae smithy.APIError
		require.True(t, errors.As(err, &ae), "not an API error: %v", err)
		require.Equal(t, code, ae.ErrorCode(), "code of %v", err)
	}
	require.NotEmpty(t, re.Response.Header.Get("X-Amz-Request-Id"))
}

// s3ErrHeader returns a header of the reply behind an SDK error.
func s3ErrHeader(t testing.TB, err error, name string) string {
	t.Helper()
	var re *awshttp.ResponseError
	require.True(t, errors.As(err, &re), "not an HTTP response error: %v", err)
	return re.Response.Header.Get(name)
}

// raw sends a request signed with SigV4 (header form) by the SDK's signer,
// or unsigned when secret is "".
func (e *s3Env) raw(method, path string, query url.Values, hdr http.Header, body []byte, secret string) *http.Response {
	e.t.Helper()
	u := e.URL + path
	if len(query) > 0 {
		u += "?" + strings.ReplaceAll(query.Encode(), "+", "%20")
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	require.NoError(e.t, err)
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if secret != "" {
		sum := sha256.Sum256(body)
		ph := hex.EncodeToString(sum[:])
		req.Header.Set("X-Amz-Content-Sha256", ph)
		creds := aws.Credentials{AccessKeyID: e.AK, SecretAccessKey: secret}
		require.NoError(e.t, v4.NewSigner().SignHTTP(context.Background(), creds, req, ph, "s3", "us-east-1", time.Now()))
	}
	resp, err := e.HTTP.Do(req)
	require.NoError(e.t, err)
	return resp
}

// readAll reads and closes a reply's body.
func readAll(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

// s3Dialer sends every connection to addr, whatever the host name: it lets
// a client use virtual-host names without DNS.
func s3Dialer(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
}

// skewSigner signs as if the clock were an hour behind.
type skewSigner struct{}

func (skewSigner) SignHTTP(ctx context.Context, c aws.Credentials, r *http.Request, payloadHash, service, region string, t time.Time, opts ...func(*v4.SignerOptions)) error {
	return v4.NewSigner().SignHTTP(ctx, c, r, payloadHash, service, region, t.Add(-time.Hour), opts...)
}

// pastPresigner presigns as of an hour ago, so short validities have ended.
type pastPresigner struct{ s3.HTTPPresignerV4 }

func (p pastPresigner) PresignHTTP(ctx context.Context, c aws.Credentials, r *http.Request, payloadHash, service, region string, t time.Time, opts ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return p.HTTPPresignerV4.PresignHTTP(ctx, c, r, payloadHash, service, region, t.Add(-time.Hour), opts...)
}

// rawShort sends a signed (UNSIGNED-PAYLOAD) request announcing announced
// body bytes but sending only sent, then half-closes the connection.
func (e *s3Env) rawShort(method, path string, announced, sent int) *http.Response {
	e.t.Helper()
	body := bytes.Repeat([]byte("x"), announced)
	req, err := http.NewRequest(method, e.URL+path, bytes.NewReader(body))
	require.NoError(e.t, err)
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	creds := aws.Credentials{AccessKeyID: e.AK, SecretAccessKey: e.SK}
	require.NoError(e.t, v4.NewSigner().SignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()))
	var buf bytes.Buffer
	require.NoError(e.t, req.Write(&buf))
	wire := buf.Bytes()[:buf.Len()-(announced-sent)]
	conn, err := net.Dial("tcp", e.Host)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { conn.Close() })
	_, err = conn.Write(wire)
	require.NoError(e.t, err)
	conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	require.NoError(e.t, err)
	return resp
}
