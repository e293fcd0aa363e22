package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyendpoints "github.com/aws/smithy-go/endpoints"

	"jcsgw/gateway/auth"
)

// server is a system under test as the S3 workloads see it.
type server struct {
	who    string // gofakes3 or jcsgw
	url    string
	ak, sk string
	s3     *s3.Client
	pid    int // the server's process for CPU readings; 0 = it runs in this process
	// files: the (d) handler serving files, a ceiling for small reads.
	files bool
	// durable: the handler that stores nothing but logs each change
	// durably (limit e′), a ceiling for durable small changes.
	durable bool
	// seeder creates many 0-byte keys fast, for the listing workloads.
	seeder seeder
	// recover, if set, gives a fresh server after a failed workload (a
	// wedged server would skew every later figure).
	recover func(context.Context) error
	// lists holds the listing workload's key spaces from its set-up to its
	// later steps; nil until they are made.
	lists *listSpaces
}

// seeder creates listing keys by the fastest path a server offers; it is
// set-up, not a measured figure.
type seeder interface {
	// prepare readies bucket's packages (first key segments) for put.
	prepare(ctx context.Context, bucket string, packages []string) error
	// put creates keys as 0-byte objects.
	put(ctx context.Context, bucket string, keys []string) error
	// how names the path, for the notes.
	how() string
}

func (s *server) meter() *cpuMeter { return meterCPU(s.pid) }

// transport is the client side of every workload: keep-alive connections
// enough for the highest concurrency, no compression.
func transport() *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		WriteBufferSize:     256 * kib,
		ReadBufferSize:      256 * kib,
	}
}

// newS3 is an aws-sdk-go-v2 client that costs as little as the SDK allows:
// UNSIGNED-PAYLOAD (no body hashing), no request or response checksums, no
// retries (a failure is a finding, not something to hide), path-style.
func newS3(endpoint, ak, sk string) *s3.Client {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		base := transport()
		t.DialContext, t.MaxIdleConns, t.MaxIdleConnsPerHost = base.DialContext, base.MaxIdleConns, base.MaxIdleConnsPerHost
		t.DisableCompression, t.WriteBufferSize, t.ReadBufferSize = true, base.WriteBufferSize, base.ReadBufferSize
		t.Proxy = nil
	})
	cfg := aws.Config{
		Region:                     "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider(ak, sk, ""),
		HTTPClient:                 hc,
		Retryer:                    func() aws.Retryer { return aws.NopRetryer{} },
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
		if r, err := newStaticEndpoints(endpoint, cfg.Region); err == nil {
			o.EndpointResolverV2 = r
		} else {
			logf("   the SDK's endpoint rules run for every request: %v", err)
		}
	})
}

// staticEndpoints gives every request endpoint/bucket. The SDK's rules
// engine ran twice for every request (for the endpoint, then for the auth
// scheme it names): 14% of the client's CPU on 4 KiB GETs, spent the same
// against every server. Without an auth scheme in the endpoint, the client
// signs with its modeled default, SigV4 for "s3" in the client's region,
// with S3's unescaped paths: what the rules named for such an endpoint.
type staticEndpoints struct {
	base url.URL
}

// newStaticEndpoints checks that the SDK's rules give endpoint/bucket for
// a path-style bucket on endpoint, so that resolving that way changes
// nothing the server sees.
func newStaticEndpoints(endpoint, region string) (*staticEndpoints, error) {
	const probe = "probe-bucket"
	base, err := url.Parse(endpoint)
	if err != nil {
		return nil, err
	}
	r := &staticEndpoints{base: *base}
	ep, err := s3.NewDefaultEndpointResolverV2().ResolveEndpoint(context.Background(), s3.EndpointParameters{
		Bucket: aws.String(probe), Region: aws.String(region), Endpoint: aws.String(endpoint),
		ForcePathStyle: aws.Bool(true), UseFIPS: aws.Bool(false), UseDualStack: aws.Bool(false), Accelerate: aws.Bool(false),
	})
	if err != nil {
		return nil, err
	}
	mine, _ := r.ResolveEndpoint(context.Background(), s3.EndpointParameters{Bucket: aws.String(probe)})
	if ep.URI.String() != mine.URI.String() {
		return nil, fmt.Errorf("the rules gave %s, not %s", ep.URI.String(), mine.URI.String())
	}
	return r, nil
}

func (r *staticEndpoints) ResolveEndpoint(_ context.Context, p s3.EndpointParameters) (smithyendpoints.Endpoint, error) {
	u := r.base
	if b := aws.ToString(p.Bucket); b != "" {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/" + b
	}
	return smithyendpoints.Endpoint{URI: u}, nil
}

func (s *server) ensureBucket(ctx context.Context, bucket string) error {
	_, err := s.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return nil
}

func (s *server) put(ctx context.Context, bucket, key string, body io.ReadSeeker, size int64) error {
	_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: body, ContentLength: aws.Int64(size),
	})
	if err != nil {
		return fmt.Errorf("PUT %s/%s: %w", bucket, key, err)
	}
	return nil
}

// get reads an object whole and checks its length.
func (s *server) get(ctx context.Context, bucket, key string, size int64) error {
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("GET %s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	n, err := drain(out.Body)
	if err != nil {
		return fmt.Errorf("GET %s/%s: body: %w", bucket, key, err)
	}
	if n != size {
		return fmt.Errorf("GET %s/%s: got %d bytes, want %d", bucket, key, n, size)
	}
	return nil
}

func (s *server) head(ctx context.Context, bucket, key string) error {
	if _, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("HEAD %s/%s: %w", bucket, key, err)
	}
	return nil
}

func (s *server) del(ctx context.Context, bucket, key string) error {
	if _, err := s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("DELETE %s/%s: %w", bucket, key, err)
	}
	return nil
}

// jcsClient talks to /v1 as a JCS client does: SigV4 with service "jcs",
// region "any"; the body's SHA-256 for JSON, "" for multipart forms.
type jcsClient struct {
	base   string
	ak, sk string
	hc     *http.Client
}

func newJCS(base, ak, sk string) *jcsClient {
	return &jcsClient{base: base, ak: ak, sk: sk, hc: &http.Client{Transport: transport()}}
}

var emptySHA = hexSHA(nil)

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// envelope is every JCS reply.
type envelope struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

func (c *jcsClient) do(req *http.Request, payloadHash string, out any) error {
	if err := auth.SignJCS(req, c.ak, c.sk, payloadHash, time.Now()); err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16*mib))
	if err != nil {
		return err
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return fmt.Errorf("%s %s: HTTP %d, not a JCS reply: %.200q", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	if env.Code != "OK" {
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, env.Code, env.Message)
	}
	if out != nil {
		return json.Unmarshal(env.Data, out)
	}
	return nil
}

func (c *jcsClient) post(ctx context.Context, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req, hexSHA(b), out)
}

func (c *jcsClient) createBucket(ctx context.Context, name string) (int64, error) {
	var out struct {
		Bucket struct {
			BucketID int64 `json:"bucketID"`
		} `json:"bucket"`
	}
	err := c.post(ctx, "/v1/bucket/create", map[string]any{"name": name}, &out)
	return out.Bucket.BucketID, err
}

func (c *jcsClient) createPackage(ctx context.Context, bucketID int64, name string) (int64, error) {
	var out struct {
		Package struct {
			PackageID int64 `json:"packageID"`
		} `json:"package"`
	}
	err := c.post(ctx, "/v1/package/create", map[string]any{"bucketID": bucketID, "name": name}, &out)
	return out.Package.PackageID, err
}

func (c *jcsClient) bucketID(ctx context.Context, name string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/bucket/getByName?name="+url.QueryEscape(name), nil)
	if err != nil {
		return 0, err
	}
	var out struct {
		Bucket struct {
			BucketID int64 `json:"bucketID"`
		} `json:"bucket"`
	}
	err = c.do(req, emptySHA, &out)
	return out.Bucket.BucketID, err
}

// uploadEmpty creates 0-byte objects at paths in one upload form.
func (c *jcsClient) uploadEmpty(ctx context.Context, pkgID int64, paths []string) error {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	info, _ := json.Marshal(map[string]any{"packageID": pkgID})
	w, _ := mw.CreateFormField("info")
	w.Write(info)
	for _, p := range paths {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files"; filename="%s"`, url.PathEscape(p)))
		h.Set("Content-Type", "application/octet-stream")
		if _, err := mw.CreatePart(h); err != nil {
			return err
		}
	}
	mw.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/object/upload", bytes.NewReader(buf.Bytes()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var out struct {
		Uploadeds []json.RawMessage `json:"uploadeds"`
	}
	if err := c.do(req, "", &out); err != nil {
		return err
	}
	if len(out.Uploadeds) != len(paths) {
		return fmt.Errorf("upload: %d objects in the reply, want %d", len(out.Uploadeds), len(paths))
	}
	return nil
}

// upload streams one file into a package as a multipart form of known
// length (info part first) and returns the new object's ID.
func (c *jcsClient) upload(ctx context.Context, pkgID int64, path string, file io.Reader, size int64) (int64, error) {
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	info, _ := json.Marshal(map[string]any{"packageID": pkgID})
	w, _ := mw.CreateFormField("info")
	w.Write(info)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files"; filename="%s"`, url.PathEscape(path)))
	h.Set("Content-Type", "application/octet-stream")
	if _, err := mw.CreatePart(h); err != nil {
		return 0, err
	}
	n := head.Len()
	mw.Close() // appends the closing boundary after the file part's header
	pre, tail := head.Bytes()[:n], bytes.Clone(head.Bytes()[n:])
	body := io.MultiReader(bytes.NewReader(pre), file, bytes.NewReader(tail))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/object/upload", body)
	if err != nil {
		return 0, err
	}
	req.ContentLength = int64(len(pre)) + size + int64(len(tail))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var out struct {
		Uploadeds []struct {
			ObjectID int64 `json:"objectID"`
		} `json:"uploadeds"`
	}
	if err := c.do(req, "", &out); err != nil {
		return 0, err
	}
	if len(out.Uploadeds) != 1 {
		return 0, fmt.Errorf("upload: %d objects in the reply, want 1", len(out.Uploadeds))
	}
	return out.Uploadeds[0].ObjectID, nil
}

// download reads an object whole and checks its length.
func (c *jcsClient) download(ctx context.Context, objectID, size int64) error {
	u := c.base + "/v1/object/download?objectID=" + strconv.FormatInt(objectID, 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if err := auth.SignJCS(req, c.ak, c.sk, emptySHA, time.Now()); err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") == "application/json" {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("download %d: HTTP %d: %.300s", objectID, resp.StatusCode, b)
	}
	n, err := drain(resp.Body)
	if err != nil {
		return fmt.Errorf("download %d: body: %w", objectID, err)
	}
	if n != size {
		return fmt.Errorf("download %d: got %d bytes, want %d", objectID, n, size)
	}
	return nil
}
