package backends

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestS3TestFailures(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f := newFakeS3(t)

	if err := f.storage(t, nil).Test(ctx); err != nil {
		t.Fatalf("good config: %v", err)
	}

	wrong := "WRONG-secret-" + testSecret
	err := f.storage(t, func(c *S3Config) { c.SecretAccessKey = wrong }).Test(ctx)
	if err == nil {
		t.Fatal("wrong secret passed")
	}
	for _, form := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(form, wrong) || strings.Contains(form, testSecret) {
			t.Fatalf("error shows the secret: %s", form)
		}
	}
	if !strings.Contains(err.Error(), "secret access key does not match") {
		t.Errorf("wrong secret: unclear error %q", err)
	}

	err = f.storage(t, func(c *S3Config) { c.AccessKeyID = "AKIDUNKNOWN" }).Test(ctx)
	if err == nil || !strings.Contains(err.Error(), "not recognised") || strings.Contains(err.Error(), testSecret) {
		t.Errorf("unknown key: %v", err)
	}

	err = f.storage(t, func(c *S3Config) { c.Bucket = "no-such-bucket" }).Test(ctx)
	if err == nil || !strings.Contains(err.Error(), `bucket "no-such-bucket" does not exist`) {
		t.Errorf("missing bucket: %v", err)
	}

	err = f.storage(t, func(c *S3Config) { c.AccessKeyID, c.SecretAccessKey = "", "" }).Test(ctx)
	if err == nil || !strings.Contains(err.Error(), "denied") {
		t.Errorf("anonymous: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	err = f.storage(t, func(c *S3Config) { c.Endpoint = "http://" + addr }).Test(ctx)
	if err == nil || !strings.Contains(err.Error(), "cannot reach http://"+addr) || strings.Contains(err.Error(), testSecret) {
		t.Errorf("closed port: %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("closed port took %v", time.Since(start))
	}

	// Operations other than Test wrap errors the same way.
	s := f.storage(t, func(c *S3Config) { c.SecretAccessKey = wrong })
	_, err = s.Stat(ctx, "x")
	if err == nil || strings.Contains(err.Error(), wrong) {
		t.Errorf("stat with wrong secret: %v", err)
	}
}

func TestS3ConfigValidation(t *testing.T) {
	ctx := context.Background()
	base := S3Config{Type: "MinIO", Endpoint: "http://127.0.0.1:9000", Bucket: "b", AccessKeyID: "ak", SecretAccessKey: "sk-very-secret"}
	cases := []struct {
		mod  func(*S3Config)
		want string
	}{
		{func(c *S3Config) { c.Bucket = "" }, "bucket is required"},
		{func(c *S3Config) { c.Bucket = "a/b" }, "invalid bucket name"},
		{func(c *S3Config) { c.Endpoint = "ftp://host" }, "scheme must be http or https"},
		{func(c *S3Config) { c.Endpoint = "http://" }, "no host"},
		{func(c *S3Config) { c.Endpoint = "http://host/bucket" }, "must not have a path"},
		{func(c *S3Config) { c.Endpoint = "http://host?x=1" }, "query"},
		{func(c *S3Config) { c.Endpoint = "http://user:pa55word@host" }, "credentials belong"},
		{func(c *S3Config) { c.Endpoint = "http://[::1" }, "bad endpoint URL"},
		{func(c *S3Config) { c.Endpoint = "http://host:99999" }, "bad port"},
		{func(c *S3Config) { c.Endpoint = "" }, "endpoint is required for MinIO"},
		{func(c *S3Config) { c.Type, c.Endpoint = "OBS", "" }, "region (or an endpoint) is required for OBS"},
		{func(c *S3Config) { c.Type = "Dropbox" }, "unknown storage type"},
		{func(c *S3Config) { c.SecretAccessKey = "" }, "must be given together"},
		{func(c *S3Config) { c.PartSize = 1 << 20 }, "part size"},
		{func(c *S3Config) { c.Concurrency = -1 }, "concurrency"},
	}
	for _, c := range cases {
		cfg := base
		c.mod(&cfg)
		_, err := NewS3(ctx, cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", cfg, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "pa55word") || strings.Contains(err.Error(), "sk-very-secret") {
			t.Errorf("error shows a secret: %v", err)
		}
	}

	// Endpoints and addressing style.
	for _, c := range []struct {
		cfg      S3Config
		endpoint string
		path     bool
	}{
		{S3Config{Type: "OBS", Region: "cn-north-4", Bucket: "b"}, "https://obs.cn-north-4.myhuaweicloud.com", false},
		{S3Config{Type: "oss", Region: "cn-hangzhou", Bucket: "b"}, "https://oss-cn-hangzhou.aliyuncs.com", false},
		{S3Config{Type: "COS", Region: "ap-guangzhou", Bucket: "b-125"}, "https://cos.ap-guangzhou.myqcloud.com", false},
		{S3Config{Type: "S3", Region: "eu-west-1", Bucket: "b"}, "", false},
		{S3Config{Type: "S3", Endpoint: "ceph.example.com:7480", Bucket: "b"}, "https://ceph.example.com:7480", true},
		{S3Config{Type: "minio", Endpoint: "http://minio.local:9000/", Bucket: "b"}, "http://minio.local:9000", true},
		{S3Config{Type: "OBS", Endpoint: "https://obs.example.com", Bucket: "b"}, "https://obs.example.com", false},
		{S3Config{Type: "OBS", Endpoint: "https://obs.example.com", Bucket: "b", PathStyle: true}, "https://obs.example.com", true},
		{S3Config{Type: "COS", Endpoint: "http://10.0.0.1:8080", Bucket: "b"}, "http://10.0.0.1:8080", true},
	} {
		s, err := NewS3(ctx, c.cfg)
		if err != nil {
			t.Errorf("%s: %v", c.cfg, err)
			continue
		}
		if s.endpoint != c.endpoint || s.client.Options().UsePathStyle != c.path {
			t.Errorf("%s: endpoint %q path-style %v, want %q %v", c.cfg, s.endpoint, s.client.Options().UsePathStyle, c.endpoint, c.path)
		}
	}

	// The configuration never prints its secret.
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("cfg", "s3", base)
	for _, form := range []string{fmt.Sprint(base), fmt.Sprintf("%+v", base), fmt.Sprintf("%#v", base), fmt.Sprintf("%v", &base), buf.String()} {
		if strings.Contains(form, "sk-very-secret") {
			t.Errorf("config printed its secret: %s", form)
		}
	}
}

// TestS3MultipartCopy forces the >5 GiB path (UploadPartCopy) with a small
// threshold and checks the bytes and that nothing staged is left.
func TestS3MultipartCopy(t *testing.T) {
	ctx := context.Background()
	f := newFakeS3(t)
	s := f.storage(t, func(c *S3Config) { c.PartSize = 5 << 20 })
	s.maxSingleCopy = 1 << 20
	s.minCopyPart = 6 << 20
	data := genData(11, 20<<20+7)
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(w, bytes.NewReader(data))
	if err := w.Commit(ctx, "copied/obj+1 x"); err != nil {
		t.Fatal(err)
	}
	if n := f.copyParts.Load(); n != 4 {
		t.Errorf("UploadPartCopy calls = %d, want 4", n)
	}
	if got := readAll(t, s, "copied/obj+1 x", 0, -1); !bytes.Equal(got, data) {
		t.Fatal("multipart-copied object differs")
	}
	if got := s3Contents(t, s); !slices.Equal(got, []string{"copied/obj+1 x"}) {
		t.Fatalf("left behind: %q", got)
	}
	// The single CopyObject path, with a key that needs escaping.
	s.maxSingleCopy = 1 << 30
	w, _ = s.Create(ctx)
	io.Copy(w, bytes.NewReader(data[:6<<20]))
	if err := w.Commit(ctx, "copied/a+b c%d"); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, "copied/a+b c%d", 0, -1); !bytes.Equal(got, data[:6<<20]) {
		t.Fatal("copied object differs")
	}
	if got := s3Contents(t, s); len(got) != 2 {
		t.Fatalf("left behind: %q", got)
	}
}

// TestS3WriteMemory writes 64 MiB and checks the write neither holds the
// object in memory nor runs more than Concurrency part uploads at once,
// against a sink server that keeps only the parts' digests.
func TestS3WriteMemory(t *testing.T) {
	ctx := context.Background()
	sink := newSinkS3(t)
	s, err := NewS3(ctx, S3Config{Type: "MinIO", Endpoint: sink.URL, Bucket: "b", AccessKeyID: "a", SecretAccessKey: "b"})
	if err != nil {
		t.Fatal(err)
	}
	const size = 64 << 20
	w, err := s.CreateAt(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	if _, err := io.Copy(w, genReader(42, size)); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&m1)
	alloc := m1.TotalAlloc - m0.TotalAlloc
	t.Logf("64 MiB write allocated %.1f MiB; max parts in flight %d", float64(alloc)/(1<<20), sink.maxInflight.Load())
	if alloc > 40<<20 {
		t.Errorf("a 64 MiB write allocated %d MiB", alloc>>20)
	}
	if m := sink.maxInflight.Load(); m > DefaultS3Concurrency || m < 2 {
		t.Errorf("max parts in flight = %d, want 2..%d", m, DefaultS3Concurrency)
	}
	// The parts are the object, in order.
	src := genReader(42, size)
	buf := make([]byte, DefaultS3PartSize)
	if len(sink.parts) != size/DefaultS3PartSize || !slices.Equal(sink.completed, []int{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Fatalf("parts %v completed %v", len(sink.parts), sink.completed)
	}
	for i := 1; i <= size/DefaultS3PartSize; i++ {
		io.ReadFull(src, buf)
		sum := md5.Sum(buf)
		if p := sink.parts[i]; p.size != DefaultS3PartSize || p.md5 != hex.EncodeToString(sum[:]) {
			t.Errorf("part %d: %+v", i, p)
		}
	}
	if sink.puts != 0 {
		t.Errorf("%d plain PUTs", sink.puts)
	}
}
