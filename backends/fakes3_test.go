package backends

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

const (
	testBucket = "jcsgw-test"
	testKeyID  = "AKIDJCSGWTEST"
	testSecret = "s3cr3t/JCSGW+test-KEY-0123456789abcdef"
)

// fakeS3 is gofakes3 on 127.0.0.1 behind a SigV4 verifier (gofakes3 checks
// no signatures) and an emulation of UploadPartCopy (which gofakes3 lacks).
type fakeS3 struct {
	URL       string
	copyParts atomic.Int32
}

func newFakeS3(t testing.TB) *fakeS3 {
	t.Helper()
	be := s3mem.New()
	if err := be.CreateBucket(testBucket); err != nil {
		t.Fatal(err)
	}
	inner := gofakes3.New(be).Server()
	f := &fakeS3{}
	h := &sigV4Verifier{keys: map[string]string{testKeyID: testSecret}, next: f.copyEmulator(inner)}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *fakeS3) config() S3Config {
	return S3Config{Type: "MinIO", Endpoint: f.URL, Bucket: testBucket, AccessKeyID: testKeyID, SecretAccessKey: testSecret}
}

func (f *fakeS3) storage(t testing.TB, mod func(*S3Config)) *S3Storage {
	t.Helper()
	cfg := f.config()
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// s3Contents lists every key and every pending multipart upload.
func s3Contents(t testing.TB, s *S3Storage) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	pg := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	ups, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &s.bucket})
	if apiCode(err) == "NoSuchUpload" { // gofakes3: no upload ever
		ups, err = &s3.ListMultipartUploadsOutput{}, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range ups.Uploads {
		out = append(out, "upload:"+aws.ToString(u.Key))
	}
	sort.Strings(out)
	return out
}

func (f *fakeS3) copyEmulator(inner http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		src := r.Header.Get("X-Amz-Copy-Source")
		if r.Method != http.MethodPut || src == "" || q.Get("partNumber") == "" || q.Get("uploadId") == "" {
			inner.ServeHTTP(w, r)
			return
		}
		f.copyParts.Add(1)
		bucket, key, _ := strings.Cut(strings.TrimPrefix(src, "/"), "/")
		get := httptest.NewRequest(http.MethodGet, "/"+bucket+"/"+key, nil)
		if rng := r.Header.Get("X-Amz-Copy-Source-Range"); rng != "" {
			get.Header.Set("Range", rng)
		}
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, get)
		if rec.Code/100 != 2 {
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		body := rec.Body.Bytes()
		put := httptest.NewRequest(http.MethodPut, r.URL.RequestURI(), bytes.NewReader(body))
		put.Header.Set("Content-Length", strconv.Itoa(len(body)))
		rec2 := httptest.NewRecorder()
		inner.ServeHTTP(rec2, put)
		if rec2.Code/100 != 2 {
			w.WriteHeader(rec2.Code)
			w.Write(rec2.Body.Bytes())
			return
		}
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><CopyPartResult><LastModified>2025-01-01T00:00:00.000Z</LastModified><ETag>%s</ETag></CopyPartResult>`,
			xmlEscape(rec2.Header().Get("ETag")))
	})
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// sigV4Verifier checks AWS SigV4 header signatures against known keys.
type sigV4Verifier struct {
	keys map[string]string
	next http.Handler
}

func s3ErrorReply(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, xmlEscape(msg))
}

func (v *sigV4Verifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")
	if !ok {
		s3ErrorReply(w, 403, "AccessDenied", "anonymous access is not allowed")
		return
	}
	fields := map[string]string{}
	for f := range strings.SplitSeq(auth, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = val
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 {
		s3ErrorReply(w, 400, "AuthorizationHeaderMalformed", "bad credential")
		return
	}
	secret, ok := v.keys[scope[0]]
	if !ok {
		s3ErrorReply(w, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
		return
	}
	uri, rawQuery, _ := strings.Cut(r.RequestURI, "?")
	var qs []string
	if rawQuery != "" {
		for kv := range strings.SplitSeq(rawQuery, "&") {
			k, val, _ := strings.Cut(kv, "=")
			k, _ = url.PathUnescape(k)
			val, _ = url.PathUnescape(val)
			qs = append(qs, awsEscape(k)+"="+awsEscape(val))
		}
	}
	sort.Strings(qs)
	signed := fields["SignedHeaders"]
	var ch strings.Builder
	for h := range strings.SplitSeq(signed, ";") {
		var val string
		switch h {
		case "host":
			val = r.Host
		case "content-length":
			val = r.Header.Get("Content-Length")
			if val == "" {
				val = strconv.FormatInt(r.ContentLength, 10)
			}
		default:
			vals := r.Header.Values(h)
			for i := range vals {
				vals[i] = strings.TrimSpace(vals[i])
			}
			val = strings.Join(vals, ",")
		}
		ch.WriteString(h + ":" + val + "\n")
	}
	creq := strings.Join([]string{r.Method, uri, strings.Join(qs, "&"), ch.String(), signed, r.Header.Get("X-Amz-Content-Sha256")}, "\n")
	sum := sha256.Sum256([]byte(creq))
	sts := "AWS4-HMAC-SHA256\n" + r.Header.Get("X-Amz-Date") + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(sum[:])
	key := []byte("AWS4" + secret)
	for _, part := range scope[1:] {
		key = hmacSHA256(key, part)
	}
	want := hex.EncodeToString(hmacSHA256(key, sts))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		s3ErrorReply(w, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	v.next.ServeHTTP(w, r)
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func awsEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// sinkS3 accepts multipart uploads and PUTs, keeps only each part's size
// and MD5, and records how many part uploads ran at once.
type sinkS3 struct {
	URL         string
	mu          sync.Mutex
	parts       map[int]partInfo
	puts        int
	completed   []int
	inflight    atomic.Int32
	maxInflight atomic.Int32
}

type partInfo struct {
	size int64
	md5  string
}

func newSinkS3(t testing.TB) *sinkS3 {
	s := &sinkS3{parts: map[int]partInfo{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *sinkS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPost && q.Has("uploads"):
		fmt.Fprintf(w, `<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>up1</UploadId></InitiateMultipartUploadResult>`)
	case r.Method == http.MethodPut && q.Get("partNumber") != "":
		n := s.inflight.Add(1)
		for {
			m := s.maxInflight.Load()
			if n <= m || s.maxInflight.CompareAndSwap(m, n) {
				break
			}
		}
		defer s.inflight.Add(-1)
		h := md5.New()
		size, err := io.Copy(h, r.Body)
		if err != nil {
			w.WriteHeader(500)
			return
		}
		num, _ := strconv.Atoi(q.Get("partNumber"))
		sum := hex.EncodeToString(h.Sum(nil))
		s.mu.Lock()
		s.parts[num] = partInfo{size, sum}
		s.mu.Unlock()
		w.Header().Set("ETag", `"`+sum+`"`)
	case r.Method == http.MethodPost && q.Get("uploadId") != "":
		var c struct {
			Parts []struct{ PartNumber int } `xml:"Part"`
		}
		if err := xml.NewDecoder(r.Body).Decode(&c); err != nil {
			w.WriteHeader(400)
			return
		}
		s.mu.Lock()
		for _, p := range c.Parts {
			s.completed = append(s.completed, p.PartNumber)
		}
		s.mu.Unlock()
		fmt.Fprintf(w, `<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><ETag>"x-1"</ETag></CompleteMultipartUploadResult>`)
	case r.Method == http.MethodPut:
		io.Copy(io.Discard, r.Body)
		s.mu.Lock()
		s.puts++
		s.mu.Unlock()
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusNotImplemented)
	}
}

// genReader yields n deterministic pseudo-random bytes without allocating.
func genReader(seed uint64, n int64) io.Reader {
	var s [32]byte
	for i := range 4 {
		s[i*8] = byte(seed >> (8 * i))
	}
	return io.LimitReader(rand.NewChaCha8(s), n)
}

func genData(seed uint64, n int) []byte {
	b := make([]byte, n)
	io.ReadFull(genReader(seed, int64(n)), b)
	return b
}
