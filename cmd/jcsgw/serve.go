package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"jcsgw"
	"jcsgw/gateway"
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
	debugAddr := fs.String("debug-addr", envOr("JCSGW_DEBUG_ADDR", ""), "serve Go's /debug/pprof profiles on this address (keep it on loopback); empty = off (env JCSGW_DEBUG_ADDR)")
	gcAge := fs.Duration("gc-age", durationEnv("JCSGW_GC_AGE", 24*time.Hour), "unfinished multipart uploads older than this are aborted by gc (env JCSGW_GC_AGE)")
	var limits gateway.Limits
	if err := limitFlags(fs, &limits); err != nil {
		return err
	}
	fs.String("config", os.Getenv("JCSGW_CONFIG"), "JSON file of settings keyed by flag name; flags and JCSGW_* variables override it (env JCSGW_CONFIG)")
	if err := applyConfigFile(fs, args); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	logOut := newLogBuffer(os.Stderr, flushDelay)
	defer logOut.Close()
	log := newLogger(logOut, f.logFormat)
	tuneGC(ctx)
	srv, err := jcsgw.Open(ctx, jcsgw.Config{
		DataDir: f.data, AccessKey: f.access, SecretKey: f.secret, BaseDomain: f.baseDomain, Logger: log,
		LocalRoots: splitList(f.localRoots), GCInterval: *gcInterval, GCAge: *gcAge, Limits: limits,
		SweepOrphansLater: true,
	})
	if err != nil {
		return err
	}
	if srv.NewKey {
		ak, sk := srv.Keys()
		logOut.Flush()
		// Printed once, at generation; later starts read it from the data dir.
		fmt.Fprintf(os.Stderr, "Generated an access key (kept in %s/credentials.json, mode 0600):\n  access key: %s\n  secret key: %s\n", f.data, ak, sk)
	}
	l, err := net.Listen("tcp", f.addr)
	if err != nil {
		srv.Close()
		return err
	}
	if *debugAddr != "" {
		stop, err := serveDebug(*debugAddr)
		if err != nil {
			l.Close()
			srv.Close()
			return err
		}
		defer stop()
		log.Info("profiles served", "addr", *debugAddr)
	}
	ak, _ := srv.Keys()
	log.Info("jcsgw ready", "addr", l.Addr().String(), "data", f.data, "accessKey", ak)
	logOut.Flush() // whoever waits for this line need not wait for the timer
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

// gcPercent is the server's GOGC unless the environment sets one. The
// gateway's live heap is small (tens of MiB: pooled upload buffers, the
// catalog is mmapped), while every small request allocates (bbolt builds
// the nodes it changes, net/http its request): at Go's default of 100 the
// collector ran every few hundred requests and its assists and pauses
// stalled the group commit. Measured against the same code at 100
// (alternating binaries, load tool): 4 KiB PUT x16 +15-40%, 0-byte PUT
// x64 +15-38%.
const gcPercent = 400

// The soft memory limit that goes with it keeps the heap from growing to
// 5x a large live heap (a bulk upload of 1M keys left 272 MiB resident
// under GOGC 400 alone, against 96 MiB at 100): the collector also runs
// when the Go heap reaches memFloor, or twice the live heap when that is
// more, so that a large live heap is never squeezed (a fixed limit below
// it would have the collector run without pause).
const memFloor = 96 << 20

// memLimit is the soft limit for a live heap of live bytes.
func memLimit(live uint64) int64 {
	return max(memFloor, 2*int64(live))
}

// tuneGC applies gcPercent and keeps the memory limit in step with the
// live heap until ctx ends, unless GOGC or GOMEMLIMIT are set: then the
// operator's settings stand. It also hands memory back to the system once
// a burst is over (see heapSample.release).
func tuneGC(ctx context.Context) {
	_, gogc := os.LookupEnv("GOGC")
	_, limit := os.LookupEnv("GOMEMLIMIT")
	if gogc || limit {
		return
	}
	debug.SetGCPercent(gcPercent)
	var last heapSample
	follow := func() {
		h := readHeap()
		debug.SetMemoryLimit(memLimit(h.live))
		if last.release(h) {
			debug.FreeOSMemory()
			h = readHeap()
		}
		last = h
	}
	follow()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				follow()
			}
		}
	}()
}

// heapSample is what tuneGC reads of the heap each second.
type heapSample struct {
	live      uint64 // marked live by the last collection
	held      uint64 // the heap's memory not returned to the system: objects, dead or alive, and free spans
	allocated uint64 // bytes allocated since the process started
}

var heapMetrics = []string{"/gc/heap/live:bytes", "/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes", "/memory/classes/heap/free:bytes", "/gc/heap/allocs:bytes"}

func readHeap() heapSample {
	s := make([]metrics.Sample, len(heapMetrics))
	for i, name := range heapMetrics {
		s[i].Name = name
	}
	metrics.Read(s)
	v := func(i int) uint64 {
		if s[i].Value.Kind() == metrics.KindUint64 {
			return s[i].Value.Uint64()
		}
		return 0
	}
	return heapSample{live: v(0), held: v(1) + v(2) + v(3), allocated: v(4)}
}

// releaseAt is how much memory the heap holds beyond its live bytes before
// an idle server hands it back.
const releaseAt = 32 << 20

// release tells, from the sample a second earlier (h) and now (cur),
// whether to hand the heap's spare memory back to the system now: when it
// holds releaseAt or more beyond the live bytes and the last second
// allocated less than an eighth of that, so that it would sit unused for
// long. After a burst (the bench's growth of a package to 1,000,000 keys)
// the heap held 118-126 MiB (RssAnon), and 17 s later Go's scavenger had
// given back only 37 of them; with this the server sits at 43-47 MiB a
// few seconds after. Under load the allocations reuse the spare memory
// every second or two, and nothing is released. The first sample never
// releases.
func (h heapSample) release(cur heapSample) bool {
	if h.allocated == 0 || cur.held < cur.live+releaseAt {
		return false
	}
	return cur.allocated-h.allocated < (cur.held-cur.live)/8
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

// limitFlags registers the flags of the main limits (the others keep their
// defaults, gateway.DefaultLimits), each with its JCSGW_* variable; l gets
// the defaults now and the flags' values when fs is parsed.
func limitFlags(fs *flag.FlagSet, l *gateway.Limits) error {
	*l = gateway.DefaultLimits()
	for _, f := range []struct {
		name  string
		v     flag.Value
		usage string
	}{
		{"max-object-size", byteSize[int64]{&l.MaxObjectSize}, "largest object, however written (S3 EntityTooLarge, JCS BadArgument)"},
		{"max-put-size", byteSize[int64]{&l.MaxPutSize}, "largest single-request upload: S3 PutObject, each JCS upload file, JCS presigned upload"},
		{"max-part-size", byteSize[int64]{&l.MaxPartSize}, "largest multipart part (S3 UploadPart, JCS uploadPart)"},
		{"max-json-body", byteSize[int64]{&l.MaxJSONBody}, "largest /v1 JSON request body or form info part (400 BadArgument)"},
		{"max-header-bytes", byteSize[int]{&l.MaxHeaderBytes}, "largest request line and headers (431)"},
	} {
		env := envName(f.name)
		if s, ok := os.LookupEnv(env); ok {
			if err := f.v.Set(s); err != nil {
				return fmt.Errorf("%s: %w", env, err)
			}
		}
		fs.Var(f.v, f.name, f.usage+"; bytes, or with a KiB/MiB/GiB/TiB suffix (env "+env+")")
	}
	return nil
}

// byteSize is a flag holding a byte count: "1048576", "64KiB", "5GiB",
// "1.5TiB" (K/KB, M/MB, G/GB and T/TB are read as the binary units too).
type byteSize[T int | int64] struct{ p *T }

func (b byteSize[T]) String() string {
	if b.p == nil {
		return "0"
	}
	n := int64(*b.p)
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func (b byteSize[T]) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	if int64(T(n)) != n {
		return fmt.Errorf("%q is too large", s)
	}
	*b.p = T(n)
	return nil
}

// parseSize reads a positive whole byte count with an optional binary unit.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	upper := strings.ToUpper(t)
	shift := uint(0)
units:
	for _, u := range []struct {
		suffixes []string
		shift    uint
	}{{[]string{"TIB", "TB", "T"}, 40}, {[]string{"GIB", "GB", "G"}, 30}, {[]string{"MIB", "MB", "M"}, 20}, {[]string{"KIB", "KB", "K"}, 10}, {[]string{"B"}, 0}} {
		for _, suf := range u.suffixes {
			if strings.HasSuffix(upper, suf) {
				t, shift = strings.TrimSpace(t[:len(t)-len(suf)]), u.shift
				break units
			}
		}
	}
	// Config files may give plain numbers, which JSON reads as floats.
	f, err := strconv.ParseFloat(t, 64)
	v := f * float64(int64(1)<<shift)
	if err != nil || !(v > 0) || v != math.Trunc(v) || v >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a positive whole number of bytes (e.g. 1048576, 64KiB, 5GiB)", s)
	}
	return int64(v), nil
}
