package auth

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// signV4 computes HMAC-SHA256 by hand over fixed buffers; it must agree with
// crypto/hmac for every scope, including ones too long for its buffer.
func TestSignV4MatchesHMAC(t *testing.T) {
	key := tSigningKey(testSK, "20250314", "us-east-1", "s3")
	crHex := []byte(sha256Sum([]byte("PUT\n/b/k\n\nhost:x\n\nhost\nUNSIGNED-PAYLOAD")))
	for _, region := range []string{"us-east-1", strings.Repeat("r", 100), strings.Repeat("r", 400)} {
		scope := "20250314/" + region + "/s3/aws4_request"
		want := tHMAC(key, algoV4+"\n20250314T120000Z\n"+scope+"\n"+string(crHex))
		got := signV4(key, "20250314T120000Z", scope, crHex)
		require.Equal(t, hex.EncodeToString(want), hex.EncodeToString(got[:]), "region of %d bytes", len(region))
	}
}

// headerValues canonicalises on the stack what http.Header.Values would.
func TestHeaderValuesAsHeaderGet(t *testing.T) {
	h := http.Header{}
	h.Set("X-Amz-Date", "d")
	h.Set("Content-Md5", "m")
	h.Add("X-Amz-Meta-Two-Parts", "a")
	h.Add("X-Amz-Meta-Two-Parts", "b")
	h.Set("X-"+strings.Repeat("a", 70), "long")
	h.Set("X_under_score", "u")
	for _, n := range []string{"x-amz-date", "content-md5", "x-amz-meta-two-parts", "x-" + strings.Repeat("a", 70), "missing", "host", "x_under_score"} {
		require.Equal(t, h.Values(n), headerValues(h, n), n)
	}
}

// BenchmarkVerifyS3Header is the server's cost of authenticating one
// SDK-signed small request (a PUT as the S3 SDK sends it, unsigned payload),
// which every small operation pays.
func BenchmarkVerifyS3Header(b *testing.B) {
	v := verifierAt(t0)
	req, err := http.NewRequest(http.MethodPut, "http://127.0.0.1:7891/bucket/pkg/k0000001", http.NoBody)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.39.2 ua/2.1 os/linux lang/go#1.26 md/GOOS#linux api/s3#1.88.3")
	req.Header.Set("Amz-Sdk-Invocation-Id", "8b1d7a3e-5c9e-4d3a-9b0e-2f4c1d6e7a8b")
	req.Header.Set("Amz-Sdk-Request", "attempt=1; max=1")
	signS3(b, req, unsignedPayload, t0)
	hdr := req.Header.Clone()
	b.ReportAllocs()
	for b.Loop() {
		req.Header = hdr.Clone()
		if _, err := v.VerifyS3(req); err != nil {
			b.Fatal(err)
		}
	}
}

// uriEncode keeps the unreserved set (and '/' in paths) and percent-encodes
// every other byte in upper-case hex, wherever the first one falls.
func TestURIEncode(t *testing.T) {
	for _, c := range []struct {
		in          string
		encodeSlash bool
		want        string
	}{
		{"", false, ""},
		{"bucket/pkg/k0000001", false, "bucket/pkg/k0000001"},
		{"bucket/pkg/k0000001", true, "bucket%2Fpkg%2Fk0000001"},
		{"A-Z_a.z~09", true, "A-Z_a.z~09"},
		{" lead", false, "%20lead"},
		{"mid dle+x", false, "mid%20dle%2Bx"},
		{"tail*", false, "tail%2A"},
		{"ü/é", false, "%C3%BC/%C3%A9"},
		{"%2f", false, "%252f"},
	} {
		require.Equal(t, c.want, uriEncode(c.in, c.encodeSlash), "%q slash=%v", c.in, c.encodeSlash)
	}
}
