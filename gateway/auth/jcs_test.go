package auth

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jcsServer verifies like the JCS front: JSON bodies are buffered and hashed
// by the caller; multipart endpoints (here: any multipart Content-Type)
// pass "".
func jcsServer(t *testing.T, now time.Time) *testServer {
	v := verifierAt(now)
	return startServer(t, false, func(r *http.Request) (Identity, error) {
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") || strings.HasPrefix(r.URL.Path, "/v1/presigned/") {
			return v.VerifyJCS(r, "")
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return Identity{}, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		return v.VerifyJCS(r, sha256Sum(b))
	})
}

const jcsPath = "/v1/objects/my%20folder/r%C3%A9sum%C3%A9%2B1%25.json"

func TestJCSSignRoundTripJSON(t *testing.T) {
	srv := jcsServer(t, t0.Add(time.Minute))
	body := []byte(`{"name":"a b","size":42}`)
	req := newReq(t, http.MethodPost, srv.URL+jcsPath+"?overwrite=true&tag=x%20y%2Bz", body)
	req.Header.Set("Content-Type", "application/json")
	require.NoError(t, SignJCS(req, testAK, testSK, sha256Sum(body), t0))
	assert.Empty(t, req.Header.Get("X-Amz-Content-Sha256"), "SignJCS must not add the header")
	assert.Contains(t, req.Header.Get("Authorization"), "/any/jcs/aws4_request")

	status, resp := send(t, nil, req)
	require.Equal(t, http.StatusOK, status, resp)
	res := srv.result(t)
	assert.Equal(t, Identity{AccessKey: testAK}, res.ID)
	assert.Equal(t, body, res.Body)

	// A body other than the one signed fails, with 401.
	req = newReq(t, http.MethodPost, srv.URL+jcsPath, body)
	require.NoError(t, SignJCS(req, testAK, testSK, sha256Sum(body), t0))
	req.Body = io.NopCloser(bytes.NewReader([]byte(`{"name":"a c","size":42}`)))
	status, _ = send(t, nil, req)
	assert.Equal(t, http.StatusUnauthorized, status)
	requireCode(t, srv.result(t).Err, CodeSignatureDoesNotMatch, 401)
}

func TestJCSSignRoundTripMultipart(t *testing.T) {
	srv := jcsServer(t, t0)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, err := mw.CreateFormFile("file", "a b.bin")
	require.NoError(t, err)
	fw.Write(patterned(5000))
	require.NoError(t, mw.Close())

	req := newReq(t, http.MethodPost, srv.URL+"/v1/upload", form.Bytes())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	require.NoError(t, SignJCS(req, testAK, testSK, "", t0))
	status, resp := send(t, nil, req)
	require.Equal(t, http.StatusOK, status, resp)
	assert.Equal(t, form.Bytes(), srv.result(t).Body)

	// Signed with a payload hash but verified as multipart: mismatch.
	req = newReq(t, http.MethodPost, srv.URL+"/v1/upload", form.Bytes())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	require.NoError(t, SignJCS(req, testAK, testSK, sha256Sum(form.Bytes()), t0))
	status, _ = send(t, nil, req)
	assert.Equal(t, http.StatusUnauthorized, status)
	srv.result(t)
}

func TestJCSContentSHA256Header(t *testing.T) {
	srv := jcsServer(t, t0)
	body := []byte(`{"k":"v"}`)

	// Header present and equal to the real hash: it is what was signed.
	req := newReq(t, http.MethodPut, srv.URL+"/v1/things/1", body)
	req.Header.Set("X-Amz-Content-Sha256", sha256Sum(body))
	require.NoError(t, SignJCS(req, testAK, testSK, sha256Sum(body), t0))
	status, resp := send(t, nil, req)
	require.Equal(t, http.StatusOK, status, resp)
	srv.result(t)

	// UNSIGNED-PAYLOAD in the header wins over the caller's hash.
	req = newReq(t, http.MethodPut, srv.URL+"/v1/things/1", body)
	req.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
	require.NoError(t, SignJCS(req, testAK, testSK, unsignedPayload, t0))
	status, resp = send(t, nil, req)
	require.Equal(t, http.StatusOK, status, resp)
	srv.result(t)

	// Header hash that is not the body's hash: refused even though the
	// signature over the header value is valid.
	other := sha256Sum([]byte("other"))
	req = newReq(t, http.MethodPut, srv.URL+"/v1/things/1", body)
	req.Header.Set("X-Amz-Content-Sha256", other)
	require.NoError(t, SignJCS(req, testAK, testSK, other, t0))
	status, _ = send(t, nil, req)
	assert.Equal(t, http.StatusUnauthorized, status)
	requireCode(t, srv.result(t).Err, CodeXAmzContentSHA256Mismatch, 401)

	// Multipart endpoint (caller passes ""): the header hash is enforced
	// on the body as it streams.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("a", "b")
	mw.Close()
	for _, tc := range []struct {
		hash string
		ok   bool
	}{{sha256Sum(form.Bytes()), true}, {other, false}} {
		req = newReq(t, http.MethodPost, srv.URL+"/v1/upload", form.Bytes())
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("X-Amz-Content-Sha256", tc.hash)
		require.NoError(t, SignJCS(req, testAK, testSK, tc.hash, t0))
		status, _ = send(t, nil, req)
		res := srv.result(t)
		require.Nil(t, res.Err)
		if tc.ok {
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, form.Bytes(), res.Body)
		} else {
			requireCode(t, res.ReadErr, CodeXAmzContentSHA256Mismatch, 400)
		}
	}

	assert.Equal(t, "", PayloadHashHeader(httptest.NewRequest("GET", "/", nil)))
}

func TestJCSPresigned(t *testing.T) {
	srv := jcsServer(t, t0)
	base := newReq(t, http.MethodGet, srv.URL+"/v1/presigned/download/"+"d%C3%A9j%C3%A0%20vu%2B.txt?inline=1", nil)
	u, err := PresignJCS(base, testAK, testSK, 10*time.Minute, t0)
	require.NoError(t, err)
	assert.Contains(t, u, "X-Expires=600")
	assert.NotContains(t, base.URL.RawQuery, "X-Expires", "the input request is not modified")

	verify := func(u string, now time.Time) error {
		req := newReq(t, http.MethodGet, u, nil)
		req.RequestURI = req.URL.RequestURI()
		_, err := verifierAt(now).VerifyJCS(req, "")
		return err
	}
	require.NoError(t, verify(u, t0.Add(time.Minute)))
	require.NoError(t, verify(u, t0.Add(10*time.Minute)))

	e := requireCode(t, verify(u, t0.Add(10*time.Minute+time.Second)), CodeAccessDenied, 401)
	assert.True(t, e.Expired)

	requireCode(t, verify(strings.Replace(u, "X-Expires=600", "X-Expires=6000", 1), t0), CodeSignatureDoesNotMatch, 401)
	requireCode(t, verify(strings.Replace(u, "inline=1", "inline=0", 1), t0), CodeSignatureDoesNotMatch, 401)
	requireCode(t, verify(strings.Replace(u, "download", "upload", 1), t0), CodeSignatureDoesNotMatch, 401)
	noExp := strings.Replace(u, "X-Expires=600&", "", 1)
	require.NotEqual(t, u, noExp)
	requireCode(t, verify(noExp, t0), CodeAuthorizationQueryParametersError, 401)

	// Over a real connection, through the front.
	status, resp := send(t, nil, newReq(t, http.MethodGet, u, nil))
	require.Equal(t, http.StatusOK, status, resp)
	assert.Equal(t, testAK, srv.result(t).ID.AccessKey)

	_, err = PresignJCS(base, testAK, testSK, 8*24*time.Hour, t0)
	require.Error(t, err)
	_, err = PresignJCS(base, testAK, testSK, 0, t0)
	require.Error(t, err)
}

// Presigners that sign the empty payload hash or "" (rather than
// UNSIGNED-PAYLOAD), or use X-Amz-Expires, are accepted too.
func TestJCSPresignedVariants(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSK}
	for _, tc := range []struct{ payload, param string }{
		{"", "X-Expires"},
		{emptySHA256, "X-Expires"},
		{unsignedPayload, "X-Amz-Expires"},
	} {
		req := newReq(t, http.MethodPut, "http://jcs.example:8080/v1/presigned/upload/x?"+tc.param+"=60", nil)
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, tc.payload, "jcs", "any", t0)
		require.NoError(t, err)
		put := newReq(t, http.MethodPut, u, []byte("body"))
		_, err = verifierAt(t0).VerifyJCS(put, "")
		require.NoError(t, err, tc)
		_, err = verifierAt(t0.Add(61*time.Second)).VerifyJCS(put, "")
		assert.True(t, requireCode(t, err, CodeAccessDenied, 401).Expired)
	}
	// The validity is bounded as for S3.
	req := newReq(t, http.MethodGet, "http://jcs.example/v1/presigned/x?X-Expires=604801", nil)
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, unsignedPayload, "jcs", "any", t0)
	require.NoError(t, err)
	_, err = verifierAt(t0).VerifyJCS(newReq(t, http.MethodGet, u, nil), "")
	requireCode(t, err, CodeAuthorizationQueryParametersError, 401)
}

func TestJCSFailuresAre401(t *testing.T) {
	body := []byte(`{}`)
	signed := func() *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/v1/x", bytes.NewReader(body))
		require.NoError(t, SignJCS(req, testAK, testSK, sha256Sum(body), t0))
		return req
	}
	_, err := verifierAt(t0).VerifyJCS(signed(), sha256Sum(body))
	require.NoError(t, err)

	e := requireCode(t, func() error {
		_, err := verifierAt(t0).VerifyJCS(httptest.NewRequest(http.MethodGet, "/v1/x", nil), "")
		return err
	}(), CodeAccessDenied, 401)
	assert.Equal(t, "missing signature", e.Message)
	assert.False(t, e.Expired)

	cases := []struct {
		name   string
		now    time.Time
		mutate func(r *http.Request)
		code   string
	}{
		{"unknown key", t0, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), testAK, "nobody", 1))
		}, CodeInvalidAccessKeyID},
		{"skew", t0.Add(time.Hour), func(*http.Request) {}, CodeRequestTimeTooSkewed},
		{"malformed", t0, func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x") }, CodeAuthorizationHeaderMalformed},
		{"bad scope", t0, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "aws4_request", "aws5_request", 1))
		}, CodeAuthorizationHeaderMalformed},
		{"sigv2", t0, func(r *http.Request) { r.Header.Set("Authorization", "AWS a:b") }, CodeInvalidArgument},
		{"tampered", t0, func(r *http.Request) { r.URL.RawQuery = "a=1"; r.RequestURI = "/v1/x?a=1" }, CodeSignatureDoesNotMatch},
		{"unsigned amz header", t0, func(r *http.Request) { r.Header.Set("X-Amz-Meta-X", "1") }, CodeAccessDenied},
		{"streaming payload", t0, func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", streamingSigned) }, CodeInvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := signed()
			tc.mutate(req)
			_, err := verifierAt(tc.now).VerifyJCS(req, sha256Sum(body))
			requireCode(t, err, tc.code, 401)
		})
	}
}

// Any region and service are accepted for JCS as long as the scope is well
// formed.
func TestJCSAnyScope(t *testing.T) {
	body := []byte(`{}`)
	req := httptest.NewRequest(http.MethodPost, "/v1/x", bytes.NewReader(body))
	creds := aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSK}
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), creds, req, sha256Sum(body), "custom-svc", "eu-west-1", t0))
	_, err := verifierAt(t0).VerifyJCS(req, sha256Sum(body))
	require.NoError(t, err)
}
