package jcsgw

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// authLimiter slows down guessing: a source address whose requests were
// denied (401/403) too often within a window is answered 503 SlowDown (S3)
// or 429 (JCS) until the window passes, without its requests reaching a
// front or being verified.
type authLimiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	seen map[string]*denials
}

type denials struct {
	start time.Time
	n     int
}

func newAuthLimiter(max int, window time.Duration) *authLimiter {
	return &authLimiter{max: max, window: window, now: time.Now, seen: map[string]*denials{}}
}

func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (l *authLimiter) blocked(src string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, ok := l.seen[src]
	if !ok {
		return false
	}
	if l.now().Sub(d.start) > l.window {
		delete(l.seen, src)
		return false
	}
	return d.n >= l.max
}

func (l *authLimiter) deny(src string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	d, ok := l.seen[src]
	if !ok || now.Sub(d.start) > l.window {
		if len(l.seen) > 100000 { // bounded memory under a spray of addresses
			clear(l.seen)
		}
		d = &denials{start: now}
		l.seen[src] = d
	}
	d.n++
}

// statusWriter notes the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// ReadFrom keeps the sendfile path of the writer underneath.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return io.Copy(w.ResponseWriter, r)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (l *authLimiter) wrap(next http.Handler) http.Handler {
	if l.max <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		src := sourceOf(r)
		if l.blocked(src) {
			w.Header().Set("Retry-After", "60")
			if p := r.URL.Path; p == "/v1" || strings.HasPrefix(p, "/v1/") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				w.Write([]byte(`{"code":"Unauthorized","message":"too many failed authentications from this address; try again later","data":null}`))
				return
			}
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Error><Code>SlowDown</Code><Message>Too many failed authentications from this address; try again later.</Message></Error>`))
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == http.StatusUnauthorized || sw.status == http.StatusForbidden {
			l.deny(src)
		}
	})
}
