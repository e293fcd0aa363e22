// Package test holds jcsgw's end-to-end tests: each starts a real server
// on 127.0.0.1 over a temporary data directory and talks to it over TCP.
//
// The harness is shared by the JCS tests (jcs_*_test.go) and the S3 tests
// (s3_*_test.go): StartServer, Server.URL/Addr/DataDir/AccessKey/SecretKey,
// Server.Restart and Server.Stop.
package test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"jcsgw"
)

// TestMain pins the server's zone to one with a non-zero offset, so that
// the JCS times ("2025-06-24T16:31:28.5148754+08:00") are checked with an
// offset that is really there.
func TestMain(m *testing.M) {
	time.Local = time.FixedZone("CST", 8*3600)
	os.Exit(m.Run())
}

// Server is a running jcsgw on a loopback port.
type Server struct {
	t testing.TB
	// DataDir is the server's data directory; it outlives restarts.
	DataDir string
	// Addr is "127.0.0.1:port" and URL "http://127.0.0.1:port"; both stay
	// the same across Restart.
	Addr string
	URL  string
	// AccessKey and SecretKey are the server's key pair.
	AccessKey, SecretKey string
	// Config is what the server was opened with (DataDir filled in).
	Config jcsgw.Config
	// HTTP is a client for this server; its idle connections are closed
	// when the server stops.
	HTTP *http.Client

	srv  *jcsgw.Server
	done chan error
}

// StartServer starts a server over a fresh temporary data directory and
// stops it when the test ends. cfg may be nil; its DataDir, if set, is used
// instead of a temporary one.
func StartServer(t testing.TB, cfg *jcsgw.Config) *Server {
	t.Helper()
	var c jcsgw.Config
	if cfg != nil {
		c = *cfg
	}
	if c.DataDir == "" {
		c.DataDir = t.TempDir()
	}
	if c.AuthFailureLimit == 0 {
		// Tests deny on purpose, many times, from one address; the limiter
		// has its own test.
		c.AuthFailureLimit = -1
	}
	s := &Server{t: t, DataDir: c.DataDir, Config: c, HTTP: &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 16},
		// Redirects are answers to check, not to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}}
	s.start("127.0.0.1:0")
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start(addr string) {
	s.t.Helper()
	srv, err := jcsgw.Open(context.Background(), s.Config)
	if err != nil {
		s.t.Fatalf("open server: %v", err)
	}
	var l net.Listener
	// After a restart the old port may take a moment to be free again.
	for i := 0; ; i++ {
		if l, err = net.Listen("tcp", addr); err == nil || i == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		srv.Close()
		s.t.Fatalf("listen on %s: %v", addr, err)
	}
	s.srv = srv
	s.Addr = l.Addr().String()
	s.URL = "http://" + s.Addr
	s.AccessKey, s.SecretKey = srv.Keys()
	s.done = make(chan error, 1)
	go func() { s.done <- srv.Serve(l) }()
	// Wait until it answers, so that a Stop right away finds it serving.
	for i := 0; ; i++ {
		resp, err := s.HTTP.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if i == 250 {
			s.t.Fatalf("server on %s does not answer /healthz: %v", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Jcsgw is the running server, for tests that need its service.
func (s *Server) Jcsgw() *jcsgw.Server { return s.srv }

// Stop shuts the server down, waiting for requests in flight. It may be
// called more than once.
func (s *Server) Stop() {
	if s.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		s.t.Errorf("shutdown: %v", err)
	}
	if err := <-s.done; err != nil {
		s.t.Errorf("serve: %v", err)
	}
	s.srv = nil
	// Idle keep-alive connections to the old server are dead now.
	s.HTTP.CloseIdleConnections()
}

// Restart stops the server and opens a new one over the same data
// directory on the same address.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start(s.Addr)
}
