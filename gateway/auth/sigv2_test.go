package auth

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// v2Sign is an independent SigV2 signer: base64(HMAC-SHA1(secret, sts)).
func v2Sign(secret, sts string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(sts))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func md5Base64(b []byte) string {
	s := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

var dateT0 = t0.Format(http.TimeFormat)

func TestSigV2Header(t *testing.T) {
	body := []byte("part data")
	cases := []struct {
		name    string
		method  string
		target  string
		headers map[string][]string
		sts     string // expected string to sign, written out by hand
	}{
		{
			name: "plain GET", method: "GET", target: "/bucket/my%20key.txt",
			headers: map[string][]string{"Date": {dateT0}},
			sts:     "GET\n\n\n" + dateT0 + "\n/bucket/my%20key.txt",
		},
		{
			name: "upload part", method: "PUT", target: "/bucket/photos/%C3%BC+1.jpg?partNumber=2&uploadId=abc%2Bdef",
			headers: map[string][]string{
				"Date":         {dateT0},
				"Content-Md5":  {md5Base64(body)},
				"Content-Type": {"image/jpeg"},
				"X-Amz-Meta-A": {"1", " 2 "},
				"X-Amz-Meta-B": {"x"},
			},
			sts: "PUT\n" + md5Base64(body) + "\nimage/jpeg\n" + dateT0 + "\nx-amz-meta-a:1,2\nx-amz-meta-b:x\n/bucket/photos/%C3%BC+1.jpg?partNumber=2&uploadId=abc+def",
		},
		{
			name: "initiate multipart", method: "POST", target: "/bucket/big.bin?uploads",
			headers: map[string][]string{"Date": {dateT0}},
			sts:     "POST\n\n\n" + dateT0 + "\n/bucket/big.bin?uploads",
		},
		{
			// Signers that build the query with url.Values send "uploads=".
			name: "empty subresource value", method: "POST", target: "/bucket/big.bin?uploads=",
			headers: map[string][]string{"Date": {dateT0}},
			sts:     "POST\n\n\n" + dateT0 + "\n/bucket/big.bin?uploads",
		},
		{
			// Newer signers (minio-go) sign retention/legal-hold/encryption...
			name: "extended subresource signed", method: "GET", target: "/bucket/k?retention&versionId=2",
			headers: map[string][]string{"Date": {dateT0}},
			sts:     "GET\n\n\n" + dateT0 + "\n/bucket/k?retention&versionId=2",
		},
		{
			// ...botocore does not.
			name: "extended subresource unsigned", method: "GET", target: "/bucket/?encryption",
			headers: map[string][]string{"Date": {dateT0}},
			sts:     "GET\n\n\n" + dateT0 + "\n/bucket/",
		},
		{
			name: "tagging with other params", method: "PUT", target: "/bucket/k?tagging&prefix=ignored",
			headers: map[string][]string{"Date": {dateT0}, "Content-Type": {"application/xml"}},
			sts:     "PUT\n\napplication/xml\n" + dateT0 + "\n/bucket/k?tagging",
		},
		{
			name: "response overrides, decoded and sorted", method: "GET",
			target:  "/bucket/k?versionId=3&response-content-type=text%2Fplain&response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22",
			headers: map[string][]string{"Date": {dateT0}},
			sts:     "GET\n\n\n" + dateT0 + "\n/bucket/k?response-content-disposition=attachment; filename=\"a b.txt\"&response-content-type=text/plain&versionId=3",
		},
		{
			name: "x-amz-date replaces Date", method: "DELETE", target: "/bucket/k?uploadId=u1",
			headers: map[string][]string{"X-Amz-Date": {dateT0}},
			sts:     "DELETE\n\n\n\nx-amz-date:" + dateT0 + "\n/bucket/k?uploadId=u1",
		},
		{
			name: "bucket acl", method: "GET", target: "/bucket/?acl",
			headers: map[string][]string{"Date": {dateT0}},
			sts:     "GET\n\n\n" + dateT0 + "\n/bucket/?acl",
		},
	}
	srv := s3Server(t, t0.Add(time.Minute))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b []byte
			if tc.method == "PUT" {
				b = body
			}
			req := newReq(t, tc.method, srv.URL+tc.target, b)
			for k, vs := range tc.headers {
				req.Header[k] = vs
			}
			req.Header.Set("Authorization", "AWS "+testAK+":"+v2Sign(testSK, tc.sts))
			status, resp := send(t, nil, req)
			require.Equal(t, http.StatusOK, status, resp)
			res := srv.result(t)
			assert.Equal(t, Identity{AccessKey: testAK}, res.ID)
			if tc.method == "PUT" {
				assert.Equal(t, body, res.Body)
			}

			// Any change to a signed element breaks the signature.
			for _, tamper := range []func(r *http.Request){
				func(r *http.Request) { r.Header.Set("Content-Type", "evil/type") },
				func(r *http.Request) { r.Header.Set("X-Amz-Meta-Extra", "1") },
				func(r *http.Request) { r.Method = "HEAD" },
				func(r *http.Request) { r.URL.Path += "x"; r.URL.RawPath = "" },
				func(r *http.Request) { r.URL.RawQuery += "&versionId=other" },
			} {
				req := httptest.NewRequest(tc.method, tc.target, nil)
				for k, vs := range tc.headers {
					req.Header[k] = vs
				}
				req.Header.Set("Authorization", "AWS "+testAK+":"+v2Sign(testSK, tc.sts))
				tamper(req)
				req.RequestURI = req.URL.RequestURI()
				_, err := verifierAt(t0).VerifyS3(req)
				requireCode(t, err, CodeSignatureDoesNotMatch, 403)
			}
		})
	}
}

func TestSigV2HeaderErrors(t *testing.T) {
	sts := "GET\n\n\n" + dateT0 + "\n/bucket/k"
	mk := func(authz string) *http.Request {
		req := httptest.NewRequest("GET", "/bucket/k", nil)
		req.Header.Set("Date", dateT0)
		req.Header.Set("Authorization", authz)
		return req
	}
	_, err := verifierAt(t0).VerifyS3(mk("AWS " + testAK + ":" + v2Sign(testSK, sts)))
	require.NoError(t, err)

	_, err = verifierAt(t0).VerifyS3(mk("AWS " + testAK + ":" + v2Sign("wrong", sts)))
	requireCode(t, err, CodeSignatureDoesNotMatch, 403)
	_, err = verifierAt(t0).VerifyS3(mk("AWS nobody:" + v2Sign(testSK, sts)))
	requireCode(t, err, CodeInvalidAccessKeyID, 403)
	_, err = verifierAt(t0).VerifyS3(mk("AWS " + testAK))
	requireCode(t, err, CodeInvalidArgument, 400)
	_, err = verifierAt(t0.Add(20 * time.Minute)).VerifyS3(mk("AWS " + testAK + ":" + v2Sign(testSK, sts)))
	requireCode(t, err, CodeRequestTimeTooSkewed, 403)
	req := mk("AWS " + testAK + ":" + v2Sign(testSK, sts))
	req.Header.Del("Date")
	_, err = verifierAt(t0).VerifyS3(req)
	requireCode(t, err, CodeAccessDenied, 403)
}

func TestSigV2Query(t *testing.T) {
	expires := strconv.FormatInt(t0.Add(10*time.Minute).Unix(), 10)
	resource := "/bucket/dir/my%20file.txt"
	sts := "GET\n\n\n" + expires + "\n" + resource + "?response-content-disposition=attachment; filename=\"x.txt\""
	q := url.Values{}
	q.Set("AWSAccessKeyId", testAK)
	q.Set("Expires", expires)
	q.Set("Signature", v2Sign(testSK, sts))
	q.Set("response-content-disposition", `attachment; filename="x.txt"`)
	target := resource + "?" + q.Encode()

	verify := func(target string, now time.Time) error {
		_, err := verifierAt(now).VerifyS3(httptest.NewRequest("GET", target, nil))
		return err
	}
	require.NoError(t, verify(target, t0))
	require.NoError(t, verify(target, t0.Add(10*time.Minute)))

	e := requireCode(t, verify(target, t0.Add(10*time.Minute+time.Second)), CodeAccessDenied, 403)
	assert.True(t, e.Expired)

	requireCode(t, verify(strings.Replace(target, "x.txt", "y.txt", 1), t0), CodeSignatureDoesNotMatch, 403)
	requireCode(t, verify(strings.Replace(target, "my%20file", "my%20fila", 1), t0), CodeSignatureDoesNotMatch, 403)
	requireCode(t, verify(strings.Replace(target, "Expires=", "Expires=1", 1), t0), CodeSignatureDoesNotMatch, 403)

	// A signature whose '+' was not percent-encoded still verifies.
	sig := v2Sign(testSK, sts)
	raw := strings.Replace(target, url.QueryEscape(sig), strings.ReplaceAll(url.QueryEscape(sig), "%2B", "+"), 1)
	require.NoError(t, verify(raw, t0))

	q.Del("Expires")
	requireCode(t, verify(resource+"?"+q.Encode(), t0), CodeAccessDenied, 403)
}

func TestSigV2ContentMD5Enforced(t *testing.T) {
	// SigV2 covers the body only through Content-MD5, so it is checked.
	body := []byte("original")
	sts := "PUT\n" + md5Base64(body) + "\n\n" + dateT0 + "\n/bucket/k"
	req := httptest.NewRequest("PUT", "/bucket/k", strings.NewReader("tampered"))
	req.Header.Set("Date", dateT0)
	req.Header.Set("Content-MD5", md5Base64(body))
	req.Header.Set("Authorization", "AWS "+testAK+":"+v2Sign(testSK, sts))
	_, err := verifierAt(t0).VerifyS3(req)
	require.NoError(t, err)
	_, err = io.ReadAll(req.Body)
	requireCode(t, err, CodeBadDigest, 400)
}

func TestSigV2VirtualHost(t *testing.T) {
	sts := "GET\n\n\n" + dateT0 + "\n/vbucket/dir/k%20x?acl"
	mk := func() *http.Request {
		req := httptest.NewRequest("GET", "http://vbucket.s3.example/dir/k%20x?acl", nil)
		req.Header.Set("Date", dateT0)
		req.Header.Set("Authorization", "AWS "+testAK+":"+v2Sign(testSK, sts))
		return req
	}
	_, err := verifierAt(t0).VerifyS3(mk())
	requireCode(t, err, CodeSignatureDoesNotMatch, 403)

	_, err = verifierAt(t0).VerifyS3(WithVirtualHostBucket(mk(), "vbucket"))
	require.NoError(t, err)
	_, err = verifierAt(t0).VerifyS3(WithVirtualHostBucket(mk(), "other"))
	requireCode(t, err, CodeSignatureDoesNotMatch, 403)

	// Bucket root: "/vbucket/".
	req := httptest.NewRequest("GET", "http://vbucket.s3.example/", nil)
	req.Header.Set("Date", dateT0)
	req.Header.Set("Authorization", "AWS "+testAK+":"+v2Sign(testSK, "GET\n\n\n"+dateT0+"\n/vbucket/"))
	_, err = verifierAt(t0).VerifyS3(WithVirtualHostBucket(req, "vbucket"))
	require.NoError(t, err)
}
