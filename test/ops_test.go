package test

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"jcsgw"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// metric reads one sample's value from a /metrics scrape; -1 if absent.
func metric(t *testing.T, s *Server, name string, labels ...string) float64 {
	t.Helper()
	resp, err := s.HTTP.Get(s.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if ok {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			require.NoError(t, err)
			return v
		}
	}
	return -1
}

func TestOpsMetricsLogsAndProbes(t *testing.T) {
	var logs syncBuffer
	s := StartServer(t, &jcsgw.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	c := newJCS(t, s)

	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := s.HTTP.Get(s.URL + p)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", p, body)
	}
	before := metric(t, s, "jcsgw_requests_total", `front="jcs"`, `operation="bucket/create"`, `status="200"`)
	c.post("/v1/bucket/create", map[string]any{"userID": 1, "name": "opsbkt"}).ok()
	c.post("/v1/bucket/create", map[string]any{"userID": 1, "name": "opsbkt2"}).ok()
	after := metric(t, s, "jcsgw_requests_total", `front="jcs"`, `operation="bucket/create"`, `status="200"`)
	assert.Equal(t, max(before, 0)+2, after, "the request counter moves")

	// An S3 request shows with its operation and bytes.
	in := metric(t, s, "jcsgw_request_bytes_total", `front="s3"`)
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/", nil)
	resp, err := s.HTTP.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "anonymous S3 is refused")
	assert.GreaterOrEqual(t, metric(t, s, "jcsgw_request_bytes_total", `front="s3"`), max(in, 0))
	assert.Greater(t, metric(t, s, "jcsgw_request_duration_seconds_count", `front="jcs"`, `operation="bucket/create"`), 1.0)
	assert.Eventually(t, func() bool { return metric(t, s, "jcsgw_bucket_objects", `bucket="opsbkt"`) == 0 },
		5*time.Second, 100*time.Millisecond, "store gauges exist for every bucket")
	assert.Greater(t, metric(t, s, "jcsgw_catalog_bytes"), 0.0)
	// Every write above went through the catalog's log: at least one sync,
	// and at least as many transactions as syncs.
	syncs := metric(t, s, "jcsgw_catalog_log_syncs_total")
	assert.GreaterOrEqual(t, syncs, 1.0)
	assert.GreaterOrEqual(t, metric(t, s, "jcsgw_catalog_log_writes_total"), syncs)
	// Each sync took time: more than a microsecond apiece.
	assert.Greater(t, metric(t, s, "jcsgw_catalog_log_sync_seconds_total"), syncs*1e-6)
	assert.GreaterOrEqual(t, metric(t, s, "jcsgw_catalog_pending_entries"), 0.0)
	assert.Zero(t, metric(t, s, "jcsgw_catalog_checkpoint_failures_total"))
	assert.GreaterOrEqual(t, metric(t, s, "jcsgw_requests_in_flight", `front="probe"`), 0.0)

	// One structured line per request, with id, user, front, op, status,
	// bytes and duration; never the secret.
	log := logs.String()
	line := regexp.MustCompile(`(?m)^.*"op":"bucket/create".*$`).FindString(log)
	require.NotEmpty(t, line, log)
	for _, k := range []string{`"id":"`, `"user":"` + s.AccessKey + `"`, `"front":"jcs"`, `"status":200`, `"in":`, `"out":`, `"duration":`} {
		assert.Contains(t, line, k)
	}
	assert.NotContains(t, log, s.SecretKey)
}

func TestOpsReadyzFollowsUserSpaces(t *testing.T) {
	s := StartServer(t, nil)
	c := newJCS(t, s)
	dir := t.TempDir()
	root := filepath.Join(dir, "space")
	require.NoError(t, os.Mkdir(root, 0o755))
	c.post("/v1/userSpace/create", map[string]any{"name": "gone", "storage": map[string]any{"type": "Local", "rootPath": root},
		"credential": map[string]any{"type": "Local"}, "shardStore": nil, "features": []any{}, "workingDir": ""}).ok()
	ready := func() int {
		resp, err := s.HTTP.Get(s.URL + "/readyz")
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, ready())
	require.NoError(t, os.RemoveAll(root))
	assert.Eventually(t, func() bool { return ready() == http.StatusServiceUnavailable }, 15*time.Second, 200*time.Millisecond,
		"readyz turns unready when a user space goes away")
	require.NoError(t, os.Mkdir(root, 0o755))
	assert.Eventually(t, func() bool { return ready() == http.StatusOK }, 15*time.Second, 200*time.Millisecond)
}

func TestOpsSlowHeaderClientIsCutOff(t *testing.T) {
	s := StartServer(t, &jcsgw.Config{ReadHeaderTimeout: 500 * time.Millisecond})
	conn, err := net.Dial("tcp", s.Addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n")) // never finishes its headers
	require.NoError(t, err)
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.ReadAll(conn)
	assert.NoError(t, err, "the server closes the connection")
	assert.Less(t, time.Since(start), 5*time.Second, "cut off by the read-header timeout, not by the client")
}

func TestOpsFailedAuthIsRateLimited(t *testing.T) {
	s := StartServer(t, &jcsgw.Config{AuthFailureLimit: 3, AuthFailureWindow: time.Minute})
	c := newJCS(t, s)
	bad := c.withKeys(s.AccessKey, "not-the-secret")
	for range 3 {
		r := bad.get("/v1/bucket/listAll", nil)
		assert.Equal(t, http.StatusUnauthorized, r.Status)
	}
	// Now even a correctly signed request from this address waits.
	r := c.get("/v1/bucket/listAll", nil)
	assert.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
	assert.Contains(t, string(r.Body), `"code":"Unauthorized"`)
	resp, err := s.HTTP.Get(s.URL + "/somebucket")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Contains(t, string(body), "<Code>SlowDown</Code>")
}

func TestOpsDenialsAreLoggedWithTheKeyID(t *testing.T) {
	var logs syncBuffer
	s := StartServer(t, &jcsgw.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	bad := newJCS(t, s).withKeys(s.AccessKey, "wrong-secret-value")
	assert.Equal(t, http.StatusUnauthorized, bad.get("/v1/bucket/listAll", nil).Status)
	line := regexp.MustCompile(`(?m)^.*"status":401.*$`).FindString(logs.String())
	require.NotEmpty(t, line, logs.String())
	assert.Contains(t, line, `"user":"`+s.AccessKey+`"`)
	assert.NotContains(t, logs.String(), "wrong-secret-value")
	assert.NotContains(t, logs.String(), s.SecretKey)
}
