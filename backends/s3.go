package backends

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3 storage types accepted in S3Config.Type (case-insensitive).
const (
	S3TypeS3    = "S3"
	S3TypeOBS   = "OBS"
	S3TypeOSS   = "OSS"
	S3TypeCOS   = "COS"
	S3TypeMinIO = "MinIO"
)

const (
	// DefaultS3PartSize is the multipart part size when S3Config.PartSize is 0.
	DefaultS3PartSize = 8 << 20
	// DefaultS3Concurrency is the parts in flight per write when
	// S3Config.Concurrency is 0.
	DefaultS3Concurrency = 4

	minS3PartSize  = 5 << 20
	maxS3PartSize  = 5 << 30
	maxS3Parts     = 10000
	maxSingleCopy  = 5 << 30 // CopyObject's limit; beyond it, UploadPartCopy
	minCopyPart    = 512 << 20
	s3ListPageSize = 1000
)

// S3Config describes an S3-compatible storage. It holds a secret: it
// formats itself with the secret redacted, but it should not be logged.
type S3Config struct {
	// Type is one of "S3", "OBS", "OSS", "COS", "MinIO" ("" means "S3").
	Type string
	// Region signs requests; for OBS, OSS and COS without an Endpoint it
	// also chooses the cloud's endpoint. "" means us-east-1 where allowed.
	Region string
	// Endpoint overrides the service URL ("https://host[:port]"; a bare
	// host means https). Required for MinIO.
	Endpoint string
	Bucket   string
	// AccessKeyID and SecretAccessKey: both, or neither (anonymous).
	AccessKeyID     string
	SecretAccessKey string
	// PathStyle forces path-style addressing. It is also used for MinIO,
	// for type S3 with a custom Endpoint (Ceph, generic S3) and for
	// endpoints that are IP addresses or localhost; the clouds (AWS, OBS,
	// OSS, COS) otherwise use virtual-host style.
	PathStyle bool
	// HTTPClient carries the requests; nil means the SDK's default.
	HTTPClient *http.Client
	// PartSize of multipart uploads, 5 MiB..5 GiB; 0 means 8 MiB. A write
	// holds at most Concurrency parts in memory, so at most
	// PartSize*Concurrency bytes; objects are limited to 10000 parts.
	PartSize int64
	// Concurrency is the number of parts uploaded in parallel per write;
	// 0 means 4.
	Concurrency int
}

// String formats the configuration without its secret.
func (c S3Config) String() string {
	secret := ""
	if c.SecretAccessKey != "" {
		secret = "[REDACTED]"
	}
	return fmt.Sprintf("S3Config{Type:%q Region:%q Endpoint:%q Bucket:%q AccessKeyID:%q SecretAccessKey:%q PathStyle:%v}",
		c.Type, c.Region, c.Endpoint, c.Bucket, c.AccessKeyID, secret, c.PathStyle)
}

// GoString is String, so %#v does not show the secret either.
func (c S3Config) GoString() string { return c.String() }

// LogValue keeps the secret out of slog output.
func (c S3Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("type", c.Type), slog.String("region", c.Region),
		slog.String("endpoint", c.Endpoint), slog.String("bucket", c.Bucket),
		slog.String("accessKeyID", c.AccessKeyID))
}

// S3Storage is a Storage over one bucket of an S3-compatible service.
// Directories are implied by keys: "a/b/c" implies directories "a" and
// "a/b"; a zero-byte key ending in "/" is an explicit directory marker
// (MkdirAll makes one for the leaf). Modification times are the service's
// LastModified and cannot be set.
type S3Storage struct {
	client      *s3.Client
	bucket      string
	typ         string
	endpoint    string
	accessKeyID string
	secret      string // kept only to scrub it from error texts

	partSize    int64
	concurrency int
	pool        sync.Pool // *[]byte of partSize

	// tunables, changed by tests
	listPageSize  int32
	maxSingleCopy int64
	minCopyPart   int64
}

var (
	_ Storage        = (*S3Storage)(nil)
	_ StagingCreator = (*S3Storage)(nil)
	_ PathCreator    = (*S3Storage)(nil)
	_ TempSweeper    = (*S3Storage)(nil)
)

// NewS3 validates cfg and builds the client. It does not contact the
// service: Test does.
func NewS3(ctx context.Context, cfg S3Config) (*S3Storage, error) {
	typ, err := normS3Type(cfg.Type)
	if err != nil {
		return nil, err
	}
	bucket := strings.TrimSpace(cfg.Bucket)
	if bucket == "" {
		return nil, errors.New("s3 storage: bucket is required")
	}
	if strings.ContainsAny(bucket, "/\\ \t\r\n?#") {
		return nil, fmt.Errorf("s3 storage: invalid bucket name %q", bucket)
	}
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		return nil, errors.New("s3 storage: access key ID and secret access key must be given together")
	}
	region := strings.TrimSpace(cfg.Region)
	endpoint, err := s3Endpoint(typ, region, strings.TrimSpace(cfg.Endpoint))
	if err != nil {
		return nil, err
	}
	if region == "" {
		region = "us-east-1"
	}
	pathStyle := cfg.PathStyle || typ == S3TypeMinIO || (typ == S3TypeS3 && endpoint != "")
	if endpoint != "" {
		u, _ := url.Parse(endpoint)
		h := u.Hostname()
		if net.ParseIP(h) != nil || h == "localhost" {
			pathStyle = true
		}
	}
	partSize := cfg.PartSize
	switch {
	case partSize == 0:
		partSize = DefaultS3PartSize
	case partSize < minS3PartSize || partSize > maxS3PartSize:
		return nil, fmt.Errorf("s3 storage: part size %d is outside 5 MiB..5 GiB", partSize)
	}
	conc := cfg.Concurrency
	switch {
	case conc == 0:
		conc = DefaultS3Concurrency
	case conc < 1 || conc > 64:
		return nil, fmt.Errorf("s3 storage: concurrency %d is outside 1..64", conc)
	}

	opts := s3.Options{
		Region:                     region,
		UsePathStyle:               pathStyle,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if cfg.AccessKeyID != "" {
		opts.Credentials = credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")
	} else {
		opts.Credentials = aws.AnonymousCredentials{}
	}
	if endpoint != "" {
		opts.BaseEndpoint = aws.String(endpoint)
	}
	if cfg.HTTPClient != nil {
		opts.HTTPClient = cfg.HTTPClient
	}
	s := &S3Storage{
		client:        s3.New(opts),
		bucket:        bucket,
		typ:           typ,
		endpoint:      endpoint,
		accessKeyID:   cfg.AccessKeyID,
		secret:        cfg.SecretAccessKey,
		partSize:      partSize,
		concurrency:   conc,
		listPageSize:  s3ListPageSize,
		maxSingleCopy: maxSingleCopy,
		minCopyPart:   minCopyPart,
	}
	s.pool.New = func() any {
		b := make([]byte, s.partSize)
		return &b
	}
	return s, nil
}

func normS3Type(t string) (string, error) {
	t = strings.TrimSpace(t)
	for _, k := range []string{S3TypeS3, S3TypeOBS, S3TypeOSS, S3TypeCOS, S3TypeMinIO} {
		if strings.EqualFold(t, k) {
			return k, nil
		}
	}
	if t == "" {
		return S3TypeS3, nil
	}
	return "", fmt.Errorf("s3 storage: unknown storage type %q (want S3, OBS, OSS, COS or MinIO)", t)
}

// s3Endpoint validates an endpoint override or derives the cloud's own.
// "" means the SDK's AWS endpoint for the region.
func s3Endpoint(typ, region, ep string) (string, error) {
	if ep == "" {
		switch typ {
		case S3TypeS3:
			return "", nil
		case S3TypeMinIO:
			return "", errors.New("s3 storage: an endpoint is required for MinIO")
		}
		if region == "" {
			return "", fmt.Errorf("s3 storage: a region (or an endpoint) is required for %s", typ)
		}
		switch typ {
		case S3TypeOBS:
			ep = "https://obs." + region + ".myhuaweicloud.com"
		case S3TypeOSS:
			ep = "https://" + ensurePrefix(region, "oss-") + ".aliyuncs.com"
		case S3TypeCOS:
			ep = "https://cos." + region + ".myqcloud.com"
		}
	}
	if !strings.Contains(ep, "://") {
		ep = "https://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil {
		return "", fmt.Errorf("s3 storage: bad endpoint URL %q: %v", redactURL(ep), errors.Unwrap(err))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("s3 storage: bad endpoint URL %q: scheme must be http or https", redactURL(ep))
	case u.User != nil:
		return "", fmt.Errorf("s3 storage: bad endpoint URL %q: credentials belong in accessKeyId/secretAccessKey, not in the URL", redactURL(ep))
	case u.Hostname() == "":
		return "", fmt.Errorf("s3 storage: bad endpoint URL %q: no host", redactURL(ep))
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("s3 storage: bad endpoint URL %q: must not have a query or fragment", redactURL(ep))
	case u.Path != "" && u.Path != "/":
		return "", fmt.Errorf("s3 storage: bad endpoint URL %q: must not have a path (the bucket is configured separately)", redactURL(ep))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("s3 storage: bad endpoint URL %q: bad port", redactURL(ep))
		}
	}
	return u.Scheme + "://" + u.Host, nil
}

func ensurePrefix(s, p string) string {
	if strings.HasPrefix(s, p) {
		return s
	}
	return p + s
}

// redactURL hides user info a URL might carry.
func redactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		if at := strings.LastIndexByte(rest, '@'); at >= 0 && !strings.ContainsAny(rest[:at], "/?#") {
			return s[:i+3] + "[REDACTED]@" + rest[at+1:]
		}
	}
	return s
}

// Bucket is the bucket the storage works in.
func (s *S3Storage) Bucket() string { return s.bucket }

// ---- errors

// s3Error is an error of the S3 driver; its text is scrubbed of the secret.
type s3Error struct {
	msg      string
	err      error
	notExist bool
}

func (e *s3Error) Error() string { return e.msg }
func (e *s3Error) Unwrap() error { return e.err }
func (e *s3Error) Is(target error) bool {
	return e.notExist && target == fs.ErrNotExist
}

func (s *S3Storage) redact(msg string) string {
	if len(s.secret) >= 4 {
		msg = strings.ReplaceAll(msg, s.secret, "[REDACTED]")
	}
	return msg
}

// errf wraps an SDK error of operation op on key.
func (s *S3Storage) errf(op, key string, err error) error {
	if err == nil {
		return nil
	}
	var se *s3Error
	if errors.As(err, &se) {
		return err
	}
	msg := fmt.Sprintf("s3 storage: %s %q in bucket %q: %s", op, key, s.bucket, describeS3Err(err))
	return &s3Error{msg: s.redact(msg), err: err, notExist: isNotFound(err)}
}

func (s *S3Storage) notExist(op, key string) error {
	return &s3Error{msg: s.redact(fmt.Sprintf("s3 storage: %s %q in bucket %q: %v", op, key, s.bucket, fs.ErrNotExist)), err: fs.ErrNotExist, notExist: true}
}

func describeS3Err(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := ae.ErrorCode()
		if m := ae.ErrorMessage(); m != "" {
			msg += ": " + m
		}
		if st := httpStatus(err); st != 0 {
			msg += fmt.Sprintf(" (HTTP %d)", st)
		}
		return msg
	}
	return err.Error()
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func isNotFound(err error) bool {
	switch apiCode(err) {
	case "NoSuchKey", "NotFound":
		return true
	case "NoSuchBucket", "NoSuchUpload":
		return false
	}
	return httpStatus(err) == http.StatusNotFound
}

// ---- reads

// Open reads n bytes of the object at p from off (n < 0: to the end) with a
// ranged GET; the body streams.
func (s *S3Storage) Open(ctx context.Context, p string, off, n int64) (io.ReadCloser, error) {
	key, err := cleanFilePath(p)
	if err != nil {
		return nil, err
	}
	off = max(off, 0)
	if n == 0 {
		if _, err := s.head(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: &key}
	if off > 0 || n > 0 {
		r := fmt.Sprintf("bytes=%d-", off)
		if n > 0 {
			r += strconv.FormatInt(off+n-1, 10)
		}
		in.Range = &r
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		if apiCode(err) == "InvalidRange" || httpStatus(err) == http.StatusRequestedRangeNotSatisfiable {
			return io.NopCloser(strings.NewReader("")), nil // off is at or past the end
		}
		return nil, s.errf("open", key, err)
	}
	if in.Range != nil && out.ContentRange == nil {
		// The service ignored the range and sent the whole object.
		if _, err := io.CopyN(io.Discard, out.Body, off); err != nil && err != io.EOF {
			out.Body.Close()
			return nil, s.errf("open", key, err)
		}
		if n > 0 {
			return readCloser{io.LimitReader(out.Body, n), out.Body}, nil
		}
	}
	return out.Body, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

func (s *S3Storage) head(ctx context.Context, key string) (*s3.HeadObjectOutput, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return nil, s.errf("stat", key, err)
	}
	return out, nil
}

// Stat describes the object at p, or the directory p when keys exist
// under "p/" (ModTime is the marker's when there is one).
func (s *S3Storage) Stat(ctx context.Context, p string) (Entry, error) {
	c, err := CleanPath(p)
	if err != nil {
		return Entry{}, err
	}
	if c == "" {
		return Entry{IsDir: true}, nil
	}
	out, err := s.head(ctx, c)
	if err == nil {
		return Entry{Path: c, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return Entry{}, err
	}
	prefix := c + "/"
	l, lerr := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix, MaxKeys: aws.Int32(1)})
	if lerr != nil {
		return Entry{}, s.errf("stat", c, lerr)
	}
	if len(l.Contents) == 0 {
		return Entry{}, s.notExist("stat", c)
	}
	e := Entry{Path: c, IsDir: true}
	if aws.ToString(l.Contents[0].Key) == prefix {
		e.ModTime = aws.ToTime(l.Contents[0].LastModified)
	}
	return e, nil
}

// Walk lists the keys under dir page by page (never the whole listing at
// once) and reports them in key order, with the directories their paths
// imply. Keys that are not clean paths ("a//b", "./x", "/x", "a/../b") are
// skipped: they cannot be addressed through this interface.
func (s *S3Storage) Walk(ctx context.Context, dir string, fn func(Entry) error) error {
	return s.walk(ctx, dir, true, fn)
}

func (s *S3Storage) walk(ctx context.Context, dir string, hide bool, fn func(Entry) error) error {
	d, err := CleanPath(dir)
	if err != nil {
		return err
	}
	prefix := ""
	if d != "" {
		prefix = d + "/"
	}
	var (
		stack []string // keys ("x/y/") of the directories reported around the current key
		skip  string   // key prefix being skipped
		found bool
	)
	pg := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: &s.bucket, Prefix: &prefix, MaxKeys: aws.Int32(s.listPageSize),
	})
	emit := func(e Entry) (stop bool, err error) {
		err = fn(e)
		switch {
		case err == nil:
			return false, nil
		case err == fs.SkipAll:
			return true, nil
		case err == fs.SkipDir && e.IsDir:
			skip = e.Path + "/"
			return false, nil
		case err == fs.SkipDir:
			if par := parentDir(e.Path); par != d {
				skip = par + "/"
				return false, nil
			}
			return true, nil
		}
		return true, err
	}
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return s.errf("list", prefix, err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			if !strings.HasPrefix(key, prefix) {
				continue
			}
			found = true
			rel := key[len(prefix):]
			if rel == "" || (skip != "" && strings.HasPrefix(key, skip)) {
				continue
			}
			isDir := strings.HasSuffix(rel, "/")
			name := strings.TrimSuffix(rel, "/")
			if c, err := CleanPath(name); err != nil || c != name || name == "" {
				continue
			}
			if hide && hasHiddenElem(name) {
				continue
			}
			for len(stack) > 0 && !strings.HasPrefix(key, stack[len(stack)-1]) {
				stack = stack[:len(stack)-1]
			}
			// Report the directories this key implies that are not yet reported.
			for i := 0; i < len(name); i++ {
				if name[i] != '/' {
					continue
				}
				dk := prefix + name[:i+1]
				if len(stack) > 0 && len(dk) <= len(stack[len(stack)-1]) {
					continue // on the stack already
				}
				stack = append(stack, dk)
				if stop, err := emit(Entry{Path: dk[:len(dk)-1], IsDir: true}); stop || err != nil {
					return err
				}
				if skip != "" && strings.HasPrefix(key, skip) {
					break
				}
			}
			if skip != "" && strings.HasPrefix(key, skip) {
				continue
			}
			e := Entry{Path: prefix + name, ModTime: aws.ToTime(obj.LastModified), IsDir: isDir}
			if isDir {
				if len(stack) > 0 && stack[len(stack)-1] == key {
					continue // reported as implied already
				}
				stack = append(stack, key)
			} else {
				e.Size = aws.ToInt64(obj.Size)
			}
			if stop, err := emit(e); stop || err != nil {
				return err
			}
		}
	}
	if !found && d != "" {
		return s.notExist("walk", d)
	}
	return nil
}

func hasHiddenElem(p string) bool {
	for elem := range strings.SplitSeq(p, "/") {
		if hiddenName(elem) {
			return true
		}
	}
	return false
}

// ---- changes

// Remove deletes the object p and the directory marker "p/" if there is
// one (keys under "p/" are left, so a non-empty directory stays implied).
// Absent is OK.
func (s *S3Storage) Remove(ctx context.Context, p string) error {
	key, err := cleanFilePath(p)
	if err != nil {
		return err
	}
	if err := s.removeKey(ctx, key); err != nil {
		return err
	}
	return s.removeKey(ctx, key+"/")
}

func (s *S3Storage) removeKey(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil && !isNotFound(err) {
		return s.errf("remove", key, err)
	}
	return nil
}

// MkdirAll puts a zero-byte directory marker "p/" (parents stay implied).
// The root needs nothing.
func (s *S3Storage) MkdirAll(ctx context.Context, p string) error {
	c, err := CleanPath(p)
	if err != nil || c == "" {
		return err
	}
	key := c + "/"
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.bucket, Key: &key, Body: strings.NewReader(""), ContentLength: aws.Int64(0),
	})
	return s.errf("make directory", key, err)
}

// SetModTime is not supported: S3 keeps its own LastModified.
func (s *S3Storage) SetModTime(ctx context.Context, p string, t time.Time) error {
	return ErrUnsupported
}

// Test lists at most one key of the bucket with the configured
// credentials, without retries, and explains a failure.
func (s *S3Storage) Test(ctx context.Context) error {
	_, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &s.bucket, MaxKeys: aws.Int32(1)},
		func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	if err == nil {
		return nil
	}
	where := s.endpoint
	if where == "" {
		where = "the " + s.typ + " endpoint"
	}
	var msg string
	switch code := apiCode(err); {
	case code == "NoSuchBucket":
		msg = fmt.Sprintf("s3 storage: bucket %q does not exist at %s", s.bucket, where)
	case code == "InvalidAccessKeyId":
		msg = fmt.Sprintf("s3 storage: access key ID %q is not recognised by %s", s.accessKeyID, where)
	case code == "SignatureDoesNotMatch":
		msg = fmt.Sprintf("s3 storage: the secret access key does not match access key ID %q (request signature rejected by %s)", s.accessKeyID, where)
	case code == "AccessDenied" || httpStatus(err) == http.StatusForbidden:
		msg = fmt.Sprintf("s3 storage: access to bucket %q denied for access key ID %q: %s", s.bucket, s.accessKeyID, describeS3Err(err))
	case code != "":
		msg = fmt.Sprintf("s3 storage: list bucket %q at %s: %s", s.bucket, where, describeS3Err(err))
	default:
		msg = fmt.Sprintf("s3 storage: cannot reach %s: %v", where, err)
	}
	return &s3Error{msg: s.redact(msg), err: err}
}

// SweepTemp removes staging objects under dir older than age and aborts
// the multipart uploads under dir initiated before then.
func (s *S3Storage) SweepTemp(ctx context.Context, dir string, age time.Duration) (int, error) {
	d, err := CleanPath(dir)
	if err != nil {
		return 0, err
	}
	cutoff := time.Now().Add(-age)
	n := 0
	err = s.walk(ctx, d, false, func(e Entry) error {
		if !e.IsDir && strings.HasPrefix(path.Base(e.Path), stagingPrefix) && !e.ModTime.After(cutoff) {
			if err := s.removeKey(ctx, e.Path); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return n, err
	}
	prefix := ""
	if d != "" {
		prefix = d + "/"
	}
	in := &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: &prefix}
	for {
		out, err := s.client.ListMultipartUploads(ctx, in)
		if apiCode(err) == "NoSuchUpload" {
			return n, nil // gofakes3 says so when a bucket never had an upload
		}
		if err != nil {
			return n, s.errf("list multipart uploads", prefix, err)
		}
		for _, u := range out.Uploads {
			if u.Initiated != nil && u.Initiated.After(cutoff) {
				continue
			}
			_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: u.Key, UploadId: u.UploadId})
			if err != nil && apiCode(err) != "NoSuchUpload" {
				return n, s.errf("abort multipart upload", aws.ToString(u.Key), err)
			}
			n++
		}
		if !aws.ToBool(out.IsTruncated) || (aws.ToString(out.NextKeyMarker) == "" && aws.ToString(out.NextUploadIdMarker) == "") {
			return n, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// ---- server-side copy

// copyObject copies src to dst inside the bucket: one CopyObject up to
// 5 GiB, a multipart UploadPartCopy beyond.
func (s *S3Storage) copyObject(ctx context.Context, src, dst string, size int64) error {
	source := escapeCopySource(s.bucket, src)
	if size <= s.maxSingleCopy {
		_, err := s.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &s.bucket, Key: &dst, CopySource: &source})
		return s.errf("copy to", dst, err)
	}
	partSize := max(s.minCopyPart, (size+maxS3Parts-1)/maxS3Parts)
	up, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &dst})
	if err != nil {
		return s.errf("copy to", dst, err)
	}
	nparts := int((size + partSize - 1) / partSize)
	parts := make([]types.CompletedPart, nparts)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, s.concurrency)
	)
	for i := range nparts {
		sem <- struct{}{}
		if cctx.Err() != nil {
			<-sem
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			start := int64(i) * partSize
			end := min(start+partSize, size) - 1
			rng := fmt.Sprintf("bytes=%d-%d", start, end)
			out, err := s.client.UploadPartCopy(cctx, &s3.UploadPartCopyInput{
				Bucket: &s.bucket, Key: &dst, UploadId: up.UploadId, PartNumber: aws.Int32(int32(i + 1)),
				CopySource: &source, CopySourceRange: &rng,
			})
			if err == nil && (out.CopyPartResult == nil || out.CopyPartResult.ETag == nil) {
				err = errors.New("no ETag in the reply")
			}
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel()
				return
			}
			parts[i] = types.CompletedPart{ETag: out.CopyPartResult.ETag, PartNumber: aws.Int32(int32(i + 1))}
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr == nil {
		_, firstErr = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: &s.bucket, Key: &dst, UploadId: up.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		})
		if firstErr == nil {
			return nil
		}
	}
	s.client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &dst, UploadId: up.UploadId})
	return s.errf("copy to", dst, firstErr)
}

// escapeCopySource is the x-amz-copy-source value: bucket/key with the key
// percent-encoded except for unreserved characters and "/".
func escapeCopySource(bucket, key string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	b.WriteString(bucket)
	b.WriteByte('/')
	for i := 0; i < len(key); i++ {
		c := key[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}
