// Package telemetry gives every request one log line and its metrics. The
// middleware opens a record per request; the fronts fill in what only they
// know (operation, user) through the request's context.
package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Info is what is known of a request as it is served.
type Info struct {
	ID        string // the request id, also sent as x-amz-request-id by S3
	Front     string // "s3", "jcs" or "probe"
	Operation string
	User      string // the access key that signed it
}

type ctxKey struct{}

// FromContext returns the request's Info; a throwaway one when there is
// none (fronts may always write to it).
func FromContext(ctx context.Context) *Info {
	if i, ok := ctx.Value(ctxKey{}).(*Info); ok {
		return i
	}
	return &Info{}
}

// WithInfo attaches i to ctx.
func WithInfo(ctx context.Context, i *Info) context.Context {
	return context.WithValue(ctx, ctxKey{}, i)
}

// Metrics are the server's Prometheus metrics.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	bytesIn  *prometheus.CounterVec
	bytesOut *prometheus.CounterVec
	inflight *prometheus.GaugeVec
	// fronts holds each front's label-free series, looked up once here
	// rather than hashed out of the vectors on every request.
	fronts map[string]*frontSeries
}

type frontSeries struct {
	inflight          prometheus.Gauge
	bytesIn, bytesOut prometheus.Counter
}

// series returns front's series; frontOf only names the three made here.
func (m *Metrics) series(front string) *frontSeries {
	if f, ok := m.fronts[front]; ok {
		return f
	}
	return &frontSeries{m.inflight.WithLabelValues(front), m.bytesIn.WithLabelValues(front), m.bytesOut.WithLabelValues(front)}
}

// NewMetrics registers the request metrics, plus Go and process metrics.
func NewMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jcsgw_requests_total", Help: "Requests served, by front, operation and HTTP status.",
	}, []string{"front", "operation", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "jcsgw_request_duration_seconds", Help: "Time to serve a request, by front and operation.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14),
	}, []string{"front", "operation"})
	m.bytesIn = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jcsgw_request_bytes_total", Help: "Request body bytes received, by front.",
	}, []string{"front"})
	m.bytesOut = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jcsgw_response_bytes_total", Help: "Response body bytes sent, by front.",
	}, []string{"front"})
	m.inflight = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "jcsgw_requests_in_flight", Help: "Requests being served, by front.",
	}, []string{"front"})
	m.fronts = map[string]*frontSeries{}
	for _, f := range []string{"s3", "jcs", "probe"} {
		m.fronts[f] = &frontSeries{m.inflight.WithLabelValues(f), m.bytesIn.WithLabelValues(f), m.bytesOut.WithLabelValues(f)}
	}
	m.Registry.MustRegister(m.requests, m.latency, m.bytesIn, m.bytesOut, m.inflight,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

var seq atomic.Uint64

// newID makes a request id: a process prefix and a sequence, unique and
// cheap (no lock, no syscall per request).
var idPrefix = func() string {
	b := make([]byte, 4)
	rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}()

func newID() string {
	return idPrefix + strings.ToUpper(strconv.FormatUint(seq.Add(1)|1<<40, 16)[1:])
}

func frontOf(path string) string {
	switch {
	case path == "/v1" || strings.HasPrefix(path, "/v1/"):
		return "jcs"
	case path == "/metrics" || path == "/healthz" || path == "/readyz":
		return "probe"
	}
	return "s3"
}

// Middleware logs one line per request and records its metrics.
func Middleware(next http.Handler, log *slog.Logger, m *Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &Info{ID: newID(), Front: frontOf(r.URL.Path)}
		if info.Front == "jcs" {
			info.Operation = strings.TrimPrefix(r.URL.Path, "/v1/")
		}
		// A shallow copy carries the counting body: net/http keeps the
		// original request's body to handle Expect: 100-continue and
		// unread bodies, so that one must not be replaced.
		r = r.WithContext(WithInfo(r.Context(), info))
		body := &countingReader{r: r.Body}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = body
		}
		rw := &recorder{ResponseWriter: w, status: http.StatusOK}
		fs := m.series(info.Front)
		fs.inflight.Inc()
		defer func() {
			fs.inflight.Dec()
			d := time.Since(start)
			op := info.Operation
			if op == "" {
				op = "unknown"
			}
			m.requests.WithLabelValues(info.Front, op, strconv.Itoa(rw.status)).Inc()
			m.latency.WithLabelValues(info.Front, op).Observe(d.Seconds())
			fs.bytesIn.Add(float64(body.n))
			fs.bytesOut.Add(float64(rw.n))
			if info.Front == "probe" && rw.status < 400 {
				return // scrapes and health checks would drown the log
			}
			if info.User == "" && (rw.status == http.StatusUnauthorized || rw.status == http.StatusForbidden) {
				info.User = claimedKey(r) // a denial names the key it claimed, never a secret
			}
			// The record is made here rather than by log.LogAttrs, which
			// would look up the caller's frame for a source nobody logs.
			if h := log.Handler(); h.Enabled(r.Context(), slog.LevelInfo) {
				rec := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
				rec.AddAttrs(
					slog.String("id", info.ID), slog.String("user", info.User), slog.String("front", info.Front),
					slog.String("op", op), slog.String("method", r.Method), slog.Int("status", rw.status),
					slog.Int64("in", body.n), slog.Int64("out", rw.n), slog.Duration("duration", d),
					slog.String("remote", r.RemoteAddr))
				h.Handle(r.Context(), rec)
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

type countingReader struct {
	r io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

// recorder notes the status and counts the bytes of a response. It keeps
// the writer's fast paths: ReadFrom (sendfile) and Flush.
type recorder struct {
	http.ResponseWriter
	status      int
	n           int64
	wroteHeader bool
}

func (w *recorder) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	w.wroteHeader = true
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *recorder) ReadFrom(r io.Reader) (int64, error) {
	w.wroteHeader = true
	n, err := io.Copy(w.ResponseWriter, r)
	w.n += n
	return n, err
}

func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// claimedKey is the access key id a request claims, from whichever
// signature form it uses; "" if none.
func claimedKey(r *http.Request) string {
	q := r.URL.Query()
	cred := q.Get("X-Amz-Credential")
	if a := r.Header.Get("Authorization"); cred == "" && a != "" {
		if i := strings.Index(a, "Credential="); i >= 0 {
			cred = a[i+len("Credential="):]
		} else if rest, ok := strings.CutPrefix(a, "AWS "); ok {
			cred, _, _ = strings.Cut(rest, ":")
		}
	}
	if cred == "" {
		cred = q.Get("AWSAccessKeyId")
	}
	key, _, _ := strings.Cut(cred, "/")
	if len(key) > 128 {
		key = key[:128]
	}
	return key
}
