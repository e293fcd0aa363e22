package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"jcsgw"
)

// serveFlags are shared by every command that needs to find the server's
// data or keys: the same names as flags and as JCSGW_* variables.
type serveFlags struct {
	addr, data, access, secret, baseDomain, logFormat, localRoots string
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "addr", envOr("JCSGW_ADDR", "127.0.0.1:7890"), "listen address (env JCSGW_ADDR)")
	fs.StringVar(&f.data, "data", envOr("JCSGW_DATA", "./data"), "data directory: catalog, default user space, generated key (env JCSGW_DATA)")
	fs.StringVar(&f.access, "access-key", envOr("JCSGW_ACCESS_KEY", ""), "access key; empty with no secret key = generate one and keep it in the data dir (env JCSGW_ACCESS_KEY)")
	fs.StringVar(&f.secret, "secret-key", envOr("JCSGW_SECRET_KEY", ""), "secret key (env JCSGW_SECRET_KEY)")
}

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var f serveFlags
	f.register(fs)
	fs.StringVar(&f.baseDomain, "base-domain", envOr("JCSGW_BASE_DOMAIN", ""), "enable virtual-host-style S3 for BUCKET.<base-domain> (env JCSGW_BASE_DOMAIN)")
	fs.StringVar(&f.localRoots, "local-roots", envOr("JCSGW_LOCAL_ROOTS", ""), "comma-separated directories that Local user spaces may use as rootPath; empty = no restriction (env JCSGW_LOCAL_ROOTS)")
	fs.StringVar(&f.logFormat, "log-format", envOr("JCSGW_LOG_FORMAT", "text"), "log format: text or json (env JCSGW_LOG_FORMAT)")
	gcInterval := fs.Duration("gc-interval", durationEnv("JCSGW_GC_INTERVAL", time.Hour), "how often to collect garbage: old uploads, orphan blobs, stale temp files; 0 = never (env JCSGW_GC_INTERVAL)")
	gcAge := fs.Duration("gc-age", durationEnv("JCSGW_GC_AGE", 24*time.Hour), "unfinished multipart uploads older than this are aborted by gc (env JCSGW_GC_AGE)")
	fs.String("config", os.Getenv("JCSGW_CONFIG"), "JSON file of settings keyed by flag name; flags and JCSGW_* variables override it (env JCSGW_CONFIG)")
	if err := applyConfigFile(fs, args); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := newLogger(os.Stderr, f.logFormat)
	srv, err := jcsgw.Open(ctx, jcsgw.Config{
		DataDir: f.data, AccessKey: f.access, SecretKey: f.secret, BaseDomain: f.baseDomain, Logger: log,
		LocalRoots: splitList(f.localRoots), GCInterval: *gcInterval, GCAge: *gcAge,
	})
	if err != nil {
		return err
	}
	if srv.NewKey {
		ak, sk := srv.Keys()
		// Printed once, at generation; later starts read it from the data dir.
		fmt.Fprintf(os.Stderr, "Generated an access key (kept in %s/credentials.json, mode 0600):\n  access key: %s\n  secret key: %s\n", f.data, ak, sk)
	}
	l, err := net.Listen("tcp", f.addr)
	if err != nil {
		srv.Close()
		return err
	}
	ak, _ := srv.Keys()
	log.Info("jcsgw ready", "addr", l.Addr().String(), "data", f.data, "accessKey", ak)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		srv.Close()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func durationEnv(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}
