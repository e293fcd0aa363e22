package auth

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// botocoreScript signs a few fixed requests against the base URL in argv[1]
// with botocore's own signers (SigV2 header and query, S3 SigV4 header and
// query) at a fixed time, and prints them as JSON.
const botocoreScript = `
import sys, json, datetime, calendar
import botocore.auth as ba
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

base, ak, sk = sys.argv[1], sys.argv[2], sys.argv[3]
fixed = datetime.datetime(2025, 3, 14, 12, 0, 0)
epoch = calendar.timegm(fixed.timetuple())
ba.get_current_datetime = lambda *a, **k: fixed
creds = Credentials(ak, sk)
out = []

def emit(name, req):
    p = req.prepare()
    body = p.body or b''
    if isinstance(body, str):
        body = body.encode()
    out.append({'name': name, 'method': p.method, 'url': p.url,
                'headers': dict(p.headers.items()), 'body': body.decode()})

r = AWSRequest(method='PUT', url=base + '/bucket/dir/my%20key%2B%C3%BC.txt?partNumber=2&uploadId=abc',
               data=b'hello', headers={'Content-Type': 'text/plain', 'Content-MD5': 'XUFAKrxLKna5cZ2REBfFkg==',
                                       'x-amz-meta-color': 'blue'})
a = ba.HmacV1Auth(creds)
a._get_date = lambda: 'Fri, 14 Mar 2025 12:00:00 GMT'
a.add_auth(r)
emit('v2-header', r)

r = AWSRequest(method='GET', url=base + '/bucket/my%20key?response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22&versionId=v1')
a = ba.HmacV1QueryAuth(creds, expires=600)
a._get_date = lambda: str(epoch + 600)
a.add_auth(r)
emit('v2-query', r)

r = AWSRequest(method='PUT', url=base + '/bucket/dir/my%20key%2B%C3%BC.txt?tagging',
               data=b'<Tagging/>', headers={'Content-Type': 'application/xml'})
ba.S3SigV4Auth(creds, 's3', 'eu-west-3').add_auth(r)
emit('v4-header', r)

r = AWSRequest(method='GET', url=base + '/bucket/my%20key%21?versionId=v%2B1&prefix=a%20b')
ba.S3SigV4QueryAuth(creds, 's3', 'us-east-1', expires=900).add_auth(r)
emit('v4-query', r)

print(json.dumps(out))
`

type botoVector struct {
	Name    string            `json:"name"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// TestBotocoreCrossCheck checks that requests signed by botocore (a signer
// written independently of both this package and the Go SDK) verify.
func TestBotocoreCrossCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("starts python")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not available")
	}
	srv := s3Server(t, t0.Add(time.Minute))
	out, err := exec.Command("python3", "-c", botocoreScript, srv.URL, testAK, testSK).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && strings.Contains(string(ee.Stderr), "No module named") {
			t.Skip("botocore not installed")
		}
		require.NoError(t, err)
	}
	var vectors []botoVector
	require.NoError(t, json.Unmarshal(out, &vectors))
	require.Len(t, vectors, 4)

	for _, vec := range vectors {
		t.Run(vec.Name, func(t *testing.T) {
			var body []byte
			if vec.Body != "" {
				body = []byte(vec.Body)
			}
			build := func() *http.Request {
				req := newReq(t, vec.Method, vec.URL, body)
				for k, v := range vec.Headers {
					if !strings.EqualFold(k, "host") && !strings.EqualFold(k, "content-length") {
						req.Header.Set(k, v)
					}
				}
				return req
			}
			status, resp := send(t, nil, build())
			require.Equal(t, http.StatusOK, status, resp)
			res := srv.result(t)
			assert.Equal(t, testAK, res.ID.AccessKey)
			assert.Equal(t, vec.Body, string(res.Body))

			// And the same request altered is refused.
			req := build()
			req.URL.RawQuery += "&versionId=x"
			status, _ = send(t, nil, req)
			assert.Equal(t, http.StatusForbidden, status)
			requireCode(t, srv.result(t).Err, CodeSignatureDoesNotMatch, 403)
		})
	}
}

// TestBoto3PutObjectTrailer uploads with the real boto3 client over TLS; its
// default CRC32 checksum arrives as a STREAMING-UNSIGNED-PAYLOAD-TRAILER body
// sent with HTTP chunked transfer encoding (no Content-Length).
func TestBoto3PutObjectTrailer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts python")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not available")
	}
	srv := startServer(t, true, (&Verifier{Keys: testKeys()}).VerifyS3)
	const script = `
import sys, boto3, urllib3
urllib3.disable_warnings()
s3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2],
                  aws_secret_access_key=sys.argv[3], region_name='us-east-1', verify=False)
for size in map(int, sys.argv[5].split(',')):
    body = bytes((i * 7 + i // 251) % 256 for i in range(size))
    s3.put_object(Bucket='bucket', Key=sys.argv[4], Body=body)
`
	sizes := []int{1, 70000, 300000}
	out, err := exec.Command("python3", "-c", script, srv.URL, testAK, testSK, "a b/ü+c%.txt", "1,70000,300000").CombinedOutput()
	if err != nil && strings.Contains(string(out), "No module named") {
		t.Skip("boto3 not installed")
	}
	require.NoError(t, err, string(out))
	for _, size := range sizes {
		res := srv.result(t)
		require.NoError(t, res.ReadErr)
		data := patterned(size)
		require.Equal(t, data, res.Body)
		assert.Equal(t, int64(size), res.ContentLength)
		require.NotNil(t, res.Trailers)
		assert.Equal(t, crc32Base64(data), res.Trailers["x-amz-checksum-crc32"][0])
	}
}
