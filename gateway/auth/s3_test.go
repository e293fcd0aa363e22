package auth

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func s3Server(t *testing.T, now time.Time) *testServer {
	v := verifierAt(now)
	return startServer(t, false, v.VerifyS3)
}

func TestS3SigV4HeaderGETWithSpecialQuery(t *testing.T) {
	srv := s3Server(t, t0.Add(time.Minute))
	q := url.Values{}
	q.Set("list-type", "2")
	q.Set("prefix", "dir with space/ü+plus%pct&amp=eq;semi~tilde*star'quote")
	q.Set("delimiter", "/")
	q.Set("start-after", "a+b c")
	q.Add("empty", "")
	req := newReq(t, http.MethodGet, srv.URL+"/bucket?"+q.Encode(), nil)
	req.Header.Set("Range", "bytes=0-10")
	req.Header.Set("X-Amz-Meta-Note", "  two   spaces  ")
	signS3(t, req, emptySHA256, t0)

	status, body := send(t, nil, req)
	require.Equal(t, http.StatusOK, status, body)
	res := srv.result(t)
	require.Nil(t, res.Err)
	assert.Equal(t, Identity{AccessKey: testAK}, res.ID)
}

func TestS3SigV4HeaderPUTKeys(t *testing.T) {
	keys := []string{
		"plain.txt",
		"with space/and more spaces.txt",
		"unicode/ünïcödé/日本語.bin",
		"plus+sign+key",
		"percent%20literal%2Fnot-a-slash",
		"reserved!$&'()*,;=:@chars",
		"tilde~dash-under_score.dot",
		"double//slash/./dot/../segments",
	}
	srv := s3Server(t, t0)
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			data := patterned(3000)
			req := newReq(t, http.MethodPut, srv.URL+"/bucket/"+uriEncode(key, false), data)
			req.Header.Set("Content-Type", "application/octet-stream")
			req.Header.Set("X-Amz-Meta-Key", "v")
			signS3(t, req, sha256Sum(data), t0)

			status, body := send(t, nil, req)
			require.Equal(t, http.StatusOK, status, body)
			res := srv.result(t)
			require.NoError(t, res.ReadErr)
			assert.Equal(t, data, res.Body)
			assert.Equal(t, int64(len(data)), res.ContentLength)
		})
	}
}

// A client that sends a loosely escaped path but signs the AWS encoding of
// it (the SDK signer without DisableURIPathEscaping does this) is accepted:
// both describe the same decoded key.
func TestS3SigV4PathSignedReencoded(t *testing.T) {
	srv := s3Server(t, t0)
	req := newReq(t, http.MethodGet, srv.URL+"/bucket/a!b(c)", nil)
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	creds := aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSK}
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), creds, req, emptySHA256, "s3", "eu-central-1", t0))
	status, body := send(t, nil, req)
	require.Equal(t, http.StatusOK, status, body)
}

// The SDK signs the host without a default port even when the URL has one.
func TestS3SigV4DefaultPort(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "http://s3.example:80/bucket/key", nil)
	signS3(t, req, emptySHA256, t0)
	require.Equal(t, "s3.example", req.Host, "the SDK dropped the port")
	req.Host = "s3.example:80"
	_, err := verifierAt(t0).VerifyS3(req)
	require.NoError(t, err)
}

// An encoded slash is not the same path as a real one: a signature for
// /bucket/a/b must not authorize /bucket/a%2Fb.
func TestS3SigV4EncodedSlash(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/bucket/a/b", nil)
	signS3(t, req, emptySHA256, t0)
	_, err := verifierAt(t0).VerifyS3(req)
	require.NoError(t, err)

	forged := httptest.NewRequest(http.MethodGet, "/bucket/a%2Fb", nil)
	forged.Header = req.Header.Clone()
	_, err = verifierAt(t0).VerifyS3(forged)
	requireCode(t, err, CodeSignatureDoesNotMatch, 403)
}

func TestS3SigV4Tampering(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(r *http.Request)
		code   string
		status int
	}{
		{"signed header", func(r *http.Request) { r.Header.Set("X-Amz-Meta-Key", "w") }, CodeSignatureDoesNotMatch, 403},
		{"content type", func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, CodeSignatureDoesNotMatch, 403},
		{"query value", func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "tagging", "taggingx", 1) }, CodeSignatureDoesNotMatch, 403},
		{"added query", func(r *http.Request) { r.URL.RawQuery += "&versionId=1" }, CodeSignatureDoesNotMatch, 403},
		{"path", func(r *http.Request) { r.URL.Path = "/bucket/other"; r.URL.RawPath = "" }, CodeSignatureDoesNotMatch, 403},
		{"path case", func(r *http.Request) { r.URL.Path = "/bucket/KEY"; r.URL.RawPath = "" }, CodeSignatureDoesNotMatch, 403},
		{"method", func(r *http.Request) { r.Method = http.MethodPost }, CodeSignatureDoesNotMatch, 403},
		{"host", func(r *http.Request) { r.Host = "evil.example" }, CodeSignatureDoesNotMatch, 403},
		{"signature", func(r *http.Request) {
			h := r.Header.Get("Authorization")
			last := h[len(h)-1]
			flip := byte('0')
			if last == '0' {
				flip = '1'
			}
			r.Header.Set("Authorization", h[:len(h)-1]+string(flip))
		}, CodeSignatureDoesNotMatch, 403},
		{"unsigned amz header", func(r *http.Request) { r.Header.Set("X-Amz-Acl", "public-read") }, CodeAccessDenied, 403},
		{"unknown key", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), testAK, "AKIDUNKNOWN", 1))
		}, CodeInvalidAccessKeyID, 403},
		{"wrong service", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/s3/", "/jcs/", 1))
		}, CodeAuthorizationHeaderMalformed, 400},
		{"scope date", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20250314/", "/20250313/", 1))
		}, CodeAuthorizationHeaderMalformed, 400},
		{"garbage header", func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 nonsense") }, CodeAuthorizationHeaderMalformed, 400},
		{"unsupported scheme", func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc") }, CodeInvalidArgument, 400},
		{"missing content sha", func(r *http.Request) { r.Header.Del("X-Amz-Content-Sha256") }, CodeInvalidRequest, 400},
		{"repeated content sha", func(r *http.Request) { r.Header.Add("X-Amz-Content-Sha256", unsignedPayload) }, CodeInvalidArgument, 400},
		{"bad content sha", func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", "nope") }, CodeInvalidArgument, 400},
		{"missing date", func(r *http.Request) { r.Header.Del("X-Amz-Date") }, CodeAccessDenied, 403},
		{"two mechanisms", func(r *http.Request) { r.URL.RawQuery += "&X-Amz-Signature=00" }, CodeInvalidArgument, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPut, "http://s3.example/bucket/key?tagging", strings.NewReader("x"))
			req.Header.Set("Content-Type", "application/xml")
			req.Header.Set("X-Amz-Meta-Key", "v")
			signS3(t, req, sha256Sum([]byte("x")), t0)

			// Untampered, the same request verifies.
			good := req.Clone(context.Background())
			_, err := verifierAt(t0).VerifyS3(good)
			require.NoError(t, err)

			tc.tamper(req)
			req.RequestURI = req.URL.RequestURI()
			_, err = verifierAt(t0).VerifyS3(req)
			requireCode(t, err, tc.code, tc.status)
		})
	}
}

func TestS3SigV4ClockSkew(t *testing.T) {
	for _, tc := range []struct {
		offset time.Duration
		ok     bool
	}{
		{0, true},
		{14 * time.Minute, true},
		{-14 * time.Minute, true},
		{16 * time.Minute, false},
		{-16 * time.Minute, false},
	} {
		req := httptest.NewRequest(http.MethodGet, "http://s3.example/bucket/key", nil)
		signS3(t, req, emptySHA256, t0)
		_, err := verifierAt(t0.Add(tc.offset)).VerifyS3(req)
		if tc.ok {
			require.NoError(t, err, tc.offset)
		} else {
			requireCode(t, err, CodeRequestTimeTooSkewed, 403)
		}
	}
	// MaxSkew is honoured.
	req := httptest.NewRequest(http.MethodGet, "http://s3.example/bucket/key", nil)
	signS3(t, req, emptySHA256, t0)
	v := verifierAt(t0.Add(2 * time.Minute))
	v.MaxSkew = time.Minute
	_, err := v.VerifyS3(req)
	requireCode(t, err, CodeRequestTimeTooSkewed, 403)
}

// A Date header may stand in for X-Amz-Date in SigV4.
func TestS3SigV4DateHeader(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "http://s3.example/bucket/key", nil)
	signS3(t, req, emptySHA256, t0)
	req.Header.Set("Date", t0.Format(http.TimeFormat))
	req.Header.Del("X-Amz-Date")
	// The SDK signed x-amz-date; re-sign manually without it.
	a, msg := parseV4Authorization(req.Header.Get("Authorization"))
	require.NotNil(t, a, msg)
	a.signedHeaders = []string{"date", "host", "x-amz-content-sha256"}
	a.signedRaw = "date;host;x-amz-content-sha256"
	a.amzDate = t0.Format(amzDateLayout)
	headers := "date:" + t0.Format(http.TimeFormat) + "\nhost:s3.example\nx-amz-content-sha256:" + emptySHA256 + "\n"
	cr := "GET\n/bucket/key\n\n" + headers + "\n" + a.signedRaw + "\n" + emptySHA256
	sig := tHMAC(tSigningKey(testSK, "20250314", "us-east-1", "s3"),
		"AWS4-HMAC-SHA256\n"+a.amzDate+"\n20250314/us-east-1/s3/aws4_request\n"+sha256Sum([]byte(cr)))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAK+"/20250314/us-east-1/s3/aws4_request,SignedHeaders="+a.signedRaw+",Signature="+hexString(sig))
	id, err := verifierAt(t0).VerifyS3(req)
	require.NoError(t, err)
	assert.Equal(t, testAK, id.AccessKey)
}

func TestS3Anonymous(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "http://s3.example/bucket/key?odd=%zz", nil)
	id, err := verifierAt(t0).VerifyS3(req)
	require.NoError(t, err)
	assert.True(t, id.Anonymous)
	assert.Empty(t, id.AccessKey)
}

func TestS3HexPayloadMismatch(t *testing.T) {
	srv := s3Server(t, t0)
	req := newReq(t, http.MethodPut, srv.URL+"/bucket/key", []byte("world"))
	signS3(t, req, sha256Sum([]byte("hello")), t0)
	status, _ := send(t, nil, req)
	assert.Equal(t, http.StatusBadRequest, status)
	res := srv.result(t)
	require.Nil(t, res.Err, "headers were signed correctly")
	requireCode(t, res.ReadErr, CodeXAmzContentSHA256Mismatch, 400)

	// Same body with the right hash is fine, and UNSIGNED-PAYLOAD is not
	// checked at all.
	for _, payload := range []string{sha256Sum([]byte("world")), unsignedPayload} {
		req := newReq(t, http.MethodPut, srv.URL+"/bucket/key", []byte("world"))
		signS3(t, req, payload, t0)
		status, body := send(t, nil, req)
		require.Equal(t, http.StatusOK, status, body)
		assert.Equal(t, "world", string(srv.result(t).Body))
	}
}

func TestS3ContentMD5(t *testing.T) {
	srv := s3Server(t, t0)
	data := []byte("some object data")
	sum := md5.Sum(data)
	good := base64.StdEncoding.EncodeToString(sum[:])
	bad := base64.StdEncoding.EncodeToString(make([]byte, 16))
	for _, tc := range []struct {
		md5, code string
	}{{good, ""}, {bad, CodeBadDigest}, {"not-base64", CodeInvalidDigest}} {
		req := newReq(t, http.MethodPut, srv.URL+"/bucket/key", data)
		req.Header.Set("Content-MD5", tc.md5)
		signS3(t, req, unsignedPayload, t0)
		status, body := send(t, nil, req)
		res := srv.result(t)
		switch tc.code {
		case "":
			require.Equal(t, http.StatusOK, status, body)
		case CodeInvalidDigest:
			requireCode(t, res.Err, tc.code, 400)
		default:
			requireCode(t, res.ReadErr, tc.code, 400)
		}
	}
}

func TestS3PresignedV4(t *testing.T) {
	presign := func(t *testing.T, rawURL string, expires string, at time.Time) string {
		req := newReq(t, http.MethodGet, rawURL, nil)
		if expires != "" {
			q := req.URL.Query()
			q.Set("X-Amz-Expires", expires)
			req.URL.RawQuery = q.Encode()
		}
		creds := aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSK}
		u, _, err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).
			PresignHTTP(context.Background(), creds, req, unsignedPayload, "s3", "us-west-2", at)
		require.NoError(t, err)
		return u
	}
	const target = "http://s3.example/bucket/my%20key%2Bx?response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22"
	verify := func(u string, now time.Time) error {
		req := httptest.NewRequest(http.MethodGet, strings.TrimPrefix(u, "http://s3.example"), nil)
		req.Host = "s3.example"
		_, err := verifierAt(now).VerifyS3(req)
		return err
	}

	u := presign(t, target, "300", t0)
	require.NoError(t, verify(u, t0.Add(time.Minute)))
	require.NoError(t, verify(u, t0.Add(300*time.Second)))

	e := requireCode(t, verify(u, t0.Add(301*time.Second)), CodeAccessDenied, 403)
	assert.True(t, e.Expired)
	assert.Equal(t, "Request has expired", e.Message)

	e = requireCode(t, verify(u, t0.Add(-20*time.Minute)), CodeAccessDenied, 403)
	assert.False(t, e.Expired)

	requireCode(t, verify(strings.Replace(u, "filename%3D%22a", "filename%3D%22b", 1), t0), CodeSignatureDoesNotMatch, 403)
	requireCode(t, verify(strings.Replace(u, "my%20key", "my%20kez", 1), t0), CodeSignatureDoesNotMatch, 403)
	requireCode(t, verify(u+"&extra=1", t0), CodeSignatureDoesNotMatch, 403)
	requireCode(t, verify(u+"&X-Amz-Expires=1", t0), CodeAuthorizationQueryParametersError, 400)

	for _, exp := range []string{"604801", "0", "-1", "abc"} {
		requireCode(t, verify(presign(t, target, exp, t0), t0), CodeAuthorizationQueryParametersError, 400)
	}
	require.NoError(t, verify(presign(t, target, "604800", t0), t0.Add(604800*time.Second)))
	requireCode(t, verify(presign(t, target, "", t0), t0), CodeAuthorizationQueryParametersError, 400)

	// An x-amz-* header the URL does not sign is refused.
	req := httptest.NewRequest(http.MethodGet, strings.TrimPrefix(u, "http://s3.example"), nil)
	req.Host = "s3.example"
	req.Header.Set("X-Amz-Acl", "public-read")
	_, err := verifierAt(t0).VerifyS3(req)
	requireCode(t, err, CodeAccessDenied, 403)
}

// Presigned PUT over a real connection, through the SDK signer.
func TestS3PresignedV4PutOverHTTP(t *testing.T) {
	srv := s3Server(t, t0.Add(time.Minute))
	req := newReq(t, http.MethodPut, srv.URL+"/bucket/uploads/"+uriEncode("ü file+1.txt", false)+"?X-Amz-Expires=60", nil)
	creds := aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSK}
	u, hdr, err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).
		PresignHTTP(context.Background(), creds, req, unsignedPayload, "s3", "us-east-1", t0)
	require.NoError(t, err)

	data := patterned(10000)
	put := newReq(t, http.MethodPut, u, data)
	for k, vs := range hdr {
		if k != "Host" {
			put.Header[k] = vs
		}
	}
	status, body := send(t, nil, put)
	require.Equal(t, http.StatusOK, status, body)
	res := srv.result(t)
	assert.Equal(t, data, res.Body)
	assert.Equal(t, testAK, res.ID.AccessKey)
}
