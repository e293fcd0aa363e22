// Command bench measures jcsgw against the machine's limits and against
// gofakes3 (a peer S3 server), in one bounded run on one machine, and checks
// the performance targets.
//
//	go run ./test/bench            # full run (about 10 min on 2 idle cores)
//	go run ./test/bench -quick     # smoke: 64 MiB bodies, 1 repetition, 2 s runs, 10k keys
//	go run ./test/bench -large     # adds the 1,000,000-key first-page latency
//	go run ./test/bench -only 'jcsgw/s3/(single|small)'
//
// Every server measured runs in a process of its own on 127.0.0.1: jcsgw
// built from ./cmd/jcsgw, the peer (gofakes3 over its on-disk afero
// backend) and the minimal handlers of limits (c), (d) and (e) in copies of
// this program (-peer-serve, -file-serve, -null-serve), so that each one's
// CPU (and jcsgw's RSS) can be read from /proc; the client, and limits (a)
// and (b), run in this process. Every
// figure is the median of -reps repetitions (fewer if a workload passes
// its time cap, which the notes say); the table goes to stdout and the
// figures to -json. Other processes' CPU use is measured alongside every
// figure: run it on a quiet machine (-quiet-wait waits for one).
//
// Exit status: 0 when every workload ran (targets may still FAIL; -strict
// makes a FAIL status 3), 1 when a workload failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"syscall"
	"time"
)

// Config is the run's shape, from the flags.
type Config struct {
	Quick     bool          `json:"quick"`
	Large     bool          `json:"large"`
	Reps      int           `json:"reps"`
	Only      string        `json:"only,omitempty"`
	Dir       string        `json:"dir"`
	JSON      string        `json:"-"`
	ServerBin string        `json:"serverBin,omitempty"`
	QuietWait time.Duration `json:"quietWait,omitempty"`
	Strict    bool          `json:"strict,omitempty"`
	Timeout   time.Duration `json:"timeout"`
	ClientGC  int           `json:"clientGOGC"` // the bench process's GOGC: the client's and the limits'

	Big       int64         `json:"bigBytes"`  // single-stream, multipart and RSS object size
	Mid       int64         `json:"midBytes"`  // each of the 8 concurrent objects
	Part      int64         `json:"partBytes"` // multipart part size
	Small     int64         `json:"smallBytes"`
	Conc      int           `json:"concurrency"` // small-object and limit (d) concurrency
	Streams   int           `json:"streams"`     // concurrent large streams
	InFlight  int           `json:"partsInFlight"`
	FixedTime time.Duration `json:"fixedTime"`
	ListKeys  int           `json:"listKeys"`
	LargeKeys int           `json:"largeKeys,omitempty"`
	SeedConc  int           `json:"seedConcurrency"`
	SeedTime  time.Duration `json:"seedTimeout"`
	ListTime  time.Duration `json:"listTimeout"`
	RepCap    time.Duration `json:"repetitionCap"` // no new repetition of a workload after this long
}

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30
)

func parseFlags() Config {
	var c Config
	flag.BoolVar(&c.Quick, "quick", false, "smoke run: 64 MiB instead of 1 GiB, 1 repetition, 2 s fixed-time runs, 10k keys")
	flag.BoolVar(&c.Large, "large", false, "also measure the first-page latency at 1,000,000 keys")
	flag.IntVar(&c.Reps, "reps", 0, "repetitions per figure (default 3, 1 with -quick)")
	flag.StringVar(&c.Only, "only", "", "run only workloads whose name matches this regexp (names: limits/disk, limits/hash, limits/http, limits/http4k, limits/ceiling, {gofakes3,jcsgw}/s3/{single,concurrent,multipart,small,list}, jcsgw/v1/single, jcsgw/rss)")
	flag.StringVar(&c.Dir, "dir", os.TempDir(), "where temporary data goes (must be on the data disk)")
	flag.StringVar(&c.JSON, "json", "bench-results.json", "write the figures here as JSON (\"\" = don't)")
	flag.StringVar(&c.ServerBin, "server-bin", "", "use this jcsgw binary instead of building ./cmd/jcsgw")
	flag.BoolVar(&c.Strict, "strict", false, "exit with status 3 when a target FAILs (errors always give status 1)")
	flag.DurationVar(&c.QuietWait, "quiet-wait", 0, "first wait up to this long for other processes to leave the CPUs idle")
	flag.DurationVar(&c.Timeout, "timeout", 0, "hard limit for the whole run (default 15m, 60m with -large)")
	defGC := 400
	if os.Getenv("GOGC") != "" {
		defGC = 0
	}
	flag.IntVar(&c.ClientGC, "client-gogc", defGC, "GOGC of this process (the client and the limit handlers); 0 = Go's default or $GOGC (default 400 unless $GOGC is set)")
	flag.Parse()

	c.Big, c.Mid, c.Part, c.Small = 1*gib, 64*mib, 16*mib, 4*kib
	c.Conc, c.Streams, c.InFlight, c.SeedConc = 16, 8, 8, 64
	c.FixedTime, c.ListKeys = 3*time.Second, 100_000
	c.SeedTime, c.ListTime, c.RepCap = 75*time.Second, 30*time.Second, 30*time.Second
	if c.Quick {
		c.Big, c.Mid, c.Part = 64*mib, 8*mib, 8*mib
		c.FixedTime, c.ListKeys = 2*time.Second, 10_000
		c.SeedTime, c.ListTime, c.RepCap = 30*time.Second, 15*time.Second, 10*time.Second
	}
	if c.Reps <= 0 {
		c.Reps = 3
		if c.Quick {
			c.Reps = 1
		}
	}
	if c.Large {
		c.LargeKeys, c.SeedTime = 1_000_000, 30*time.Minute
		if c.Quick {
			c.LargeKeys = 100_000 // exercises the path in a smoke run
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = 15 * time.Minute
		if c.Large {
			c.Timeout = 60 * time.Minute
		}
	}
	return c
}

// bench is one run.
type bench struct {
	cfg  Config
	res  *Results
	root string // temporary directory, removed at the end
	only *regexp.Regexp
	// While the servers take turns (takeTurns), each workload call runs
	// the one repetition numbered rep, and its figures gather across calls
	// in accs (by who and ID, in order) until the turns are over.
	oneRep bool
	rep    int
	accs   []*acc
}

// want tells whether the workload called name is to run.
func (b *bench) want(name string) bool { return b.only == nil || b.only.MatchString(name) }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func main() {
	switch {
	case len(os.Args) == 3 && os.Args[1] == peerFlag:
		os.Exit(peerMain(os.Args[2]))
	case len(os.Args) == 3 && os.Args[1] == fileFlag:
		os.Exit(fileMain(os.Args[2]))
	case len(os.Args) == 4 && os.Args[1] == nullFlag:
		os.Exit(nullMain(os.Args[2], os.Args[3], ""))
	case len(os.Args) == 5 && os.Args[1] == nullFlag:
		os.Exit(nullMain(os.Args[2], os.Args[3], os.Args[4]))
	}
	os.Exit(run())
}

// waitQuiet waits, up to limit, until other processes use less than
// busyOthers % of a core over 2 s, and says how busy the machine is.
func waitQuiet(ctx context.Context, limit time.Duration) {
	deadline := time.Now().Add(limit)
	waited := 0
	for {
		m := meterCPU(0)
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
		u := m.stop()
		if u.others < busyOthers {
			logf("other processes use %.0f%% of a core: quiet enough", u.others)
			return
		}
		if time.Now().After(deadline) {
			logf("WARNING: other processes use %.0f%% of a core; figures will be skewed", u.others)
			return
		}
		if waited++; waited%15 == 1 {
			logf("other processes use %.0f%% of a core; waiting up to %v for quiet", u.others, time.Until(deadline).Round(time.Second))
		}
	}
}

func run() int {
	cfg := parseFlags()
	b := &bench{cfg: cfg, res: &Results{Started: time.Now(), Cores: runtime.NumCPU(), Config: cfg}}
	if cfg.Only != "" {
		re, err := regexp.Compile(cfg.Only)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: -only:", err)
			return 2
		}
		b.only = re
	}
	// The client is the instrument and must not be the bottleneck: the SDK
	// allocates a few KiB per request, and at Go's default GOGC of 100 the
	// collector and the scavenger took about 20 % of the client's CPU on
	// 4 KiB GETs, which ran client-bound (load tool, jcsgw unchanged: GET
	// 4910/4562 ops/s at 100, 6244/6398 at 400). 400 is also what jcsgw runs
	// with. gofakes3 runs in a process of its own with Go's defaults.
	if cfg.ClientGC > 0 {
		debug.SetGCPercent(cfg.ClientGC)
	} else {
		cfg.ClientGC = debug.SetGCPercent(100)
		debug.SetGCPercent(cfg.ClientGC)
		b.res.Config.ClientGC = cfg.ClientGC
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	waitQuiet(ctx, cfg.QuietWait)
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	root, err := os.MkdirTemp(cfg.Dir, "jcsgw-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	b.root = root
	// Deferred calls also run when a workload panics on this goroutine; the
	// jcsgw subprocess additionally dies with us (Pdeathsig).
	defer removeAll(root)

	start := time.Now()
	b.runLimits(ctx)
	// Give back what the limits left on this process's heap before the
	// client measures the servers.
	debug.FreeOSMemory()
	b.runServers(ctx)
	b.againCeiling(ctx)
	if err := ctx.Err(); err != nil {
		b.res.Errors = append(b.res.Errors, "run stopped early: "+context.Cause(ctx).Error())
	}
	judge(b.res)
	printReport(os.Stdout, b.res, time.Since(start))
	if cfg.JSON != "" {
		if err := writeJSON(cfg.JSON, b.res); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		logf("figures written to %s", cfg.JSON)
	}
	if len(b.res.Errors) > 0 {
		return 1
	}
	if cfg.Strict && slices.ContainsFunc(b.res.Targets, func(t Target) bool { return !t.Pass && !t.Skipped }) {
		return 3
	}
	return 0
}
