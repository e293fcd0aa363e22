// Package jcsgw assembles the gateway: catalog, shard stores, the domain
// service and both HTTP fronts on one listener. cmd/jcsgw and the
// end-to-end tests build servers through it.
package jcsgw

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"jcsgw/backends"
	"jcsgw/catalog"
	"jcsgw/gateway"
	"jcsgw/gateway/auth"
	"jcsgw/gateway/telemetry"
	"jcsgw/jcsapi"
	"jcsgw/s3api"
)

// Config is everything a server is built from.
type Config struct {
	DataDir   string
	AccessKey string // with SecretKey: the key pair; both empty = generated and kept in DataDir
	SecretKey string
	// BaseDomain enables virtual-host-style S3 addressing (bucket.BaseDomain).
	BaseDomain string
	// LocalRoots limits the rootPath of Local user spaces to these
	// directories and what is below them; empty = no restriction.
	LocalRoots []string
	// GCInterval is how often the server collects garbage (0 = never);
	// GCAge is how old an unfinished multipart upload must be to go.
	GCInterval time.Duration
	GCAge      time.Duration
	// SweepOrphansLater starts serving before the start-up sweep of orphan
	// blobs is done (see gateway.Config); the server sets it, maintenance
	// commands do not.
	SweepOrphansLater bool
	// ReadHeaderTimeout bounds how long a client may take to send its
	// headers (slowloris); IdleTimeout how long a kept-alive connection may
	// sit idle. 0 = 30 s and 2 min.
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	// AuthFailureLimit is how many denied requests (401/403) one source
	// address may have per AuthFailureWindow before it is turned away until
	// the window ends; 0 = 50 per minute, negative = no limit.
	AuthFailureLimit  int
	AuthFailureWindow time.Duration
	// Limits are the sizes and counts both fronts accept (object, upload
	// and part sizes, key length, metadata, headers, JSON bodies, batch and
	// page sizes); zero fields are the defaults (gateway.DefaultLimits).
	Limits gateway.Limits
	Logger *slog.Logger
}

// Server is an assembled gateway.
type Server struct {
	cfg     Config
	cat     *catalog.Bolt
	svc     *gateway.Service
	handler http.Handler
	http    *http.Server
	keys    staticKeys
	stopGC  context.CancelFunc
	gcDone  chan struct{}
	// NewKey is true when this start generated the key pair.
	NewKey bool
}

// credentials is the file that keeps a generated key pair.
const credentialsFile = "credentials.json"

type staticKeys struct{ access, secret string }

func (k staticKeys) SecretKey(access string) (string, bool) {
	if access == k.access {
		return k.secret, true
	}
	return "", false
}

// keyChain finds a key among the bootstrap admin key, then the users' keys
// kept in the catalog.
type keyChain []auth.KeyLookup

func (c keyChain) SecretKey(access string) (string, bool) {
	for _, k := range c {
		if s, ok := k.SecretKey(access); ok {
			return s, true
		}
	}
	return "", false
}

// serverKeyFile holds the key that seals users' secrets in the catalog.
const serverKeyFile = "server.key"

func loadServerKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, serverKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != 32 {
			return nil, fmt.Errorf("jcsgw: %s is damaged (it must hold 32 bytes)", path)
		}
		return b, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("jcsgw: %w", err)
	}
	b = make([]byte, 32)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("jcsgw: keep the server key: %w", err)
	}
	return b, nil
}

// Open builds a server over cfg.DataDir.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("jcsgw: a data directory is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Limits.Validate(); err != nil {
		return nil, fmt.Errorf("jcsgw: %w", err)
	}
	limits := cfg.Limits.WithDefaults()
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("jcsgw: %w", err)
	}
	s := &Server{cfg: cfg}
	var err error
	if s.keys, s.NewKey, err = loadKeys(cfg); err != nil {
		return nil, err
	}
	if s.cat, err = catalog.OpenBolt(filepath.Join(cfg.DataDir, "catalog.db")); err != nil {
		return nil, err
	}
	defDir, err := filepath.Abs(filepath.Join(cfg.DataDir, "spaces", "default"))
	if err != nil {
		s.cat.Close()
		return nil, err
	}
	store, err := backends.NewLocal(defDir)
	if err != nil {
		s.cat.Close()
		return nil, err
	}
	serverKey, err := loadServerKey(cfg.DataDir)
	if err != nil {
		s.cat.Close()
		return nil, err
	}
	s.svc, err = gateway.New(ctx, gateway.Config{
		ServerKey:         serverKey,
		MaxObjectSize:     cfg.Limits.WithDefaults().MaxObjectSize,
		SweepOrphansLater: cfg.SweepOrphansLater,
		Catalog:           s.cat, Default: store, Logger: cfg.Logger,
		OpenSpace: spaceOpener(cfg.LocalRoots),
		DefaultSpace: gateway.UserSpace{Name: "default", Storage: gateway.StorageConfig{Type: "Local", RootPath: defDir},
			Credential: gateway.Credential{Type: "Local"}, ShardStore: &gateway.ShardStoreConfig{}},
	})
	if err != nil {
		s.cat.Close()
		return nil, err
	}
	v := &auth.Verifier{Keys: keyChain{s.keys, s.svc}}
	metrics := telemetry.NewMetrics()
	metrics.Registry.MustRegister(newStoreCollector(s.svc))
	limit := cmp.Or(cfg.AuthFailureLimit, 50)
	limiter := newAuthLimiter(limit, cmp.Or(cfg.AuthFailureWindow, time.Minute))
	s.handler = telemetry.Middleware(headerLimit(limiter.wrap(route(s.svc, metrics,
		jcsapi.NewWithOptions(s.svc, v, cfg.Logger, jcsapi.Options{Limits: limits}),
		s3api.New(s.svc, v, s3api.Options{BaseDomain: cfg.BaseDomain, Limits: limits}, cfg.Logger))), limits.MaxHeaderBytes),
		cfg.Logger, metrics)
	gctx, stop := context.WithCancel(context.Background())
	s.stopGC, s.gcDone = stop, make(chan struct{})
	go s.collect(gctx)
	// Built here, not in Serve, so that a Shutdown racing a Serve still stops it.
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: cmp.Or(cfg.ReadHeaderTimeout, 30*time.Second),
		IdleTimeout:       cmp.Or(cfg.IdleTimeout, 2*time.Minute),
		// A hard stop above the limit that headerLimit answers in dialect.
		MaxHeaderBytes: 2*limits.MaxHeaderBytes + 4096,
		ErrorLog:       slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// spaceOpener maps a user space's description to its drivers.
func spaceOpener(localRoots []string) gateway.SpaceOpener {
	return func(ctx context.Context, u gateway.UserSpace) (gateway.Storage, gateway.ShardStore, error) {
		var st interface {
			gateway.Storage
			backends.Storage
		}
		switch u.Storage.Type {
		case "Local":
			root := u.Storage.RootPath
			if root == "" {
				root = "/"
			}
			if err := backends.CheckLocalRoot(root, localRoots); err != nil {
				return nil, nil, err
			}
			fs, err := backends.NewLocalFS(root)
			if err != nil {
				return nil, nil, err
			}
			st = fs
		default:
			s3, err := backends.NewS3(ctx, backends.S3Config{
				Type: u.Storage.Type, Region: u.Storage.Region, Endpoint: u.Storage.Endpoint, Bucket: u.Storage.Bucket,
				AccessKeyID: u.Credential.AccessKeyID, SecretAccessKey: u.Credential.SecretAccessKey,
			})
			if err != nil {
				return nil, nil, err
			}
			st = s3
		}
		if u.ShardStore == nil {
			return st, nil, nil
		}
		return st, backends.NewShards(st, u.WorkingDir), nil
	}
}

// route sends /v1 to the JCS front, the probes and metrics (GET and HEAD)
// to themselves, outside auth, and the rest to S3, which refuses the
// reserved names as buckets.
func route(svc *gateway.Service, m *telemetry.Metrics, jcs, s3 http.Handler) http.Handler {
	metrics := m.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		probe := r.Method == http.MethodGet || r.Method == http.MethodHead
		switch {
		case p == "/v1" || strings.HasPrefix(p, "/v1/"):
			jcs.ServeHTTP(w, r)
		case p == "/healthz" && probe:
			telemetry.FromContext(r.Context()).Operation = "healthz"
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write([]byte("ok\n"))
		case p == "/readyz" && probe:
			telemetry.FromContext(r.Context()).Operation = "readyz"
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			if err := svc.Ready(r.Context()); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte("not ready: " + err.Error() + "\n"))
				return
			}
			w.Write([]byte("ok\n"))
		case p == "/metrics" && probe:
			telemetry.FromContext(r.Context()).Operation = "metrics"
			metrics.ServeHTTP(w, r)
		default:
			s3.ServeHTTP(w, r)
		}
	})
}

func loadKeys(cfg Config) (staticKeys, bool, error) {
	if cfg.AccessKey != "" || cfg.SecretKey != "" {
		if cfg.AccessKey == "" || cfg.SecretKey == "" {
			return staticKeys{}, false, errors.New("jcsgw: give both the access key and the secret key, or neither")
		}
		return staticKeys{cfg.AccessKey, cfg.SecretKey}, false, nil
	}
	path := filepath.Join(cfg.DataDir, credentialsFile)
	var kept struct {
		AccessKey string `json:"accessKey"`
		SecretKey string `json:"secretKey"`
	}
	b, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(b, &kept); err != nil || kept.AccessKey == "" || kept.SecretKey == "" {
			return staticKeys{}, false, fmt.Errorf("jcsgw: %s is damaged; remove it to generate a new key pair", path)
		}
		return staticKeys{kept.AccessKey, kept.SecretKey}, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return staticKeys{}, false, fmt.Errorf("jcsgw: %w", err)
	}
	kept.AccessKey = "JCS" + strings.ToUpper(randHex(8))
	kept.SecretKey = randHex(20)
	b, _ = json.MarshalIndent(kept, "", "  ")
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return staticKeys{}, false, fmt.Errorf("jcsgw: keep the generated key: %w", err)
	}
	return staticKeys{kept.AccessKey, kept.SecretKey}, true, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Keys returns the server's access key pair.
func (s *Server) Keys() (accessKey, secretKey string) { return s.keys.access, s.keys.secret }

// Service is the domain service, for tools that work on the data dir.
func (s *Server) Service() *gateway.Service { return s.svc }

// Handler is the HTTP handler of both fronts.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers requests on l until Shutdown.
// collect runs GC every interval until stopped.
func (s *Server) collect(ctx context.Context) {
	defer close(s.gcDone)
	if s.cfg.GCInterval <= 0 {
		return
	}
	t := time.NewTicker(s.cfg.GCInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rep, err := s.svc.GC(ctx, s.cfg.GCAge)
			if err != nil {
				s.cfg.Logger.Warn("gc failed", "err", err)
				continue
			}
			s.cfg.Logger.Info("gc", "abortedUploads", rep.AbortedUploads, "orphanBlobs", rep.OrphanBlobs, "tempFiles", rep.TempFiles)
		}
	}
}

func (s *Server) Serve(l net.Listener) error {
	err := s.http.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, waits for requests in flight (up to ctx), and
// closes the catalog.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	s.stopBackground()
	return errors.Join(err, s.cat.Close())
}

func (s *Server) stopBackground() {
	s.stopGC()
	<-s.gcDone
	s.svc.Close()
}

// Close stops at once and closes the catalog.
func (s *Server) Close() error {
	err := s.http.Close()
	s.stopBackground()
	return errors.Join(err, s.cat.Close())
}
