package main

import (
	"fmt"
	"runtime"
	"sync"
	"time"
)

// Who measured a figure.
const (
	whoLimit = "limit"
	whoPeer  = "gofakes3"
	whoGW    = "jcsgw"
)

// Figure is one measured number: the median of its samples.
type Figure struct {
	Who     string    `json:"who"`  // limit, gofakes3 or jcsgw
	ID      string    `json:"id"`   // e.g. s3.put.big; the same ID on the peer is its counterpart
	Name    string    `json:"name"` // what a person reads
	Unit    string    `json:"unit"` // MB/s, ops/s, keys/s, ms, MiB
	Value   float64   `json:"value"`
	Samples []float64 `json:"samples,omitempty"`
	// Lower is better (latencies, memory).
	LowerBetter bool `json:"lowerBetter,omitempty"`
	// Request latencies of fixed-time runs (medians over repetitions).
	P50ms float64 `json:"p50ms,omitempty"`
	P99ms float64 `json:"p99ms,omitempty"`
	// CPU use during the measurement, % of one core: the server's subprocess
	// (ServerCPU: jcsgw, or gofakes3 in a bench subprocess) and the bench
	// process (ClientCPU).
	ServerCPU float64 `json:"serverCPU,omitempty"`
	ClientCPU float64 `json:"clientCPU,omitempty"`
	// OthersCPU is the user CPU of every other process on the machine
	// meanwhile (% of one core; the machine has Results.Cores cores):
	// anything well above 0 means the figure was taken on a busy machine.
	OthersCPU float64 `json:"othersCPU,omitempty"`
	// StealCPU is the CPU the hypervisor took from this VM meanwhile (% of
	// one core): like OthersCPU, well above 0 means the figure was slowed
	// by something outside the benchmark.
	StealCPU float64 `json:"stealCPU,omitempty"`
	// ClientOwn, for workloads one goroutine drives (a single large GET, a
	// listing's paging), is the rate that goroutine's own CPU time allowed
	// (ownCPU), median over the samples: no server could have gone faster
	// with this client in those very samples.
	ClientOwn float64 `json:"clientOwnRate,omitempty"`
	// Ratios, filled in by judge: to the matching limit (Limit names it) and
	// to gofakes3's figure for the same workload (>1 = jcsgw is better; for
	// lower-is-better figures it is gofakes3 ÷ jcsgw).
	Limit   string  `json:"limit,omitempty"`
	VsLimit float64 `json:"vsLimit,omitempty"`
	VsPeer  float64 `json:"vsPeer,omitempty"`
	// Turns: the figure's repetitions alternated with the other server's
	// (takeTurns); SampleTurns gives each sample's turn. Then VsPeer is the
	// median of the ratios of samples from the same turn (PeerPairs of
	// them), and VsPeerOfMedians the ratio of the two medians.
	Turns           bool    `json:"turns,omitempty"`
	SampleTurns     []int   `json:"sampleTurns,omitempty"`
	PeerPairs       int     `json:"peerPairs,omitempty"`
	VsPeerOfMedians float64 `json:"vsPeerOfMedians,omitempty"`
	Note            string  `json:"note,omitempty"`
	Err             string  `json:"error,omitempty"`
}

// Results collects figures from every workload, safe for concurrent use.
type Results struct {
	mu      sync.Mutex
	Started time.Time `json:"started"`
	// Cores is the measuring machine's CPU count, which the CPU bound
	// divides: a results file judged elsewhere keeps it.
	Cores int `json:"cores,omitempty"`
	// Build names the jcsgw source measured: commit, and "+dirty" when the
	// work tree had changes.
	Build   string    `json:"build,omitempty"`
	Config  Config    `json:"config"`
	Figures []*Figure `json:"figures"`
	Targets []Target  `json:"targets,omitempty"`
	Errors  []string  `json:"errors,omitempty"`
}

// Target is one PASS/FAIL line.
type Target struct {
	Name   string `json:"name"`
	Pass   bool   `json:"pass"`
	Detail string `json:"detail"`
	// Skipped targets could not be judged (a figure is missing).
	Skipped bool `json:"skipped,omitempty"`
	// Bound targets were missed for a measured reason no server could
	// beat on this machine (Detail gives the measurement).
	Bound bool `json:"bound,omitempty"`
}

func (r *Results) add(f *Figure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(f.Samples) > 0 && f.Value == 0 {
		f.Value = median(f.Samples)
	}
	r.Figures = append(r.Figures, f)
}

func (r *Results) fail(who, workload string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Errors = append(r.Errors, fmt.Sprintf("%s %s: %v", who, workload, err))
}

// get returns who's figure id, or nil.
func (r *Results) get(who, id string) *Figure {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.Figures {
		if f.Who == who && f.ID == id && f.Err == "" {
			return f
		}
	}
	return nil
}

// cores is Cores, or this machine's count for a results file from before
// Cores was recorded.
func (r *Results) cores() int {
	if r.Cores > 0 {
		return r.Cores
	}
	return runtime.NumCPU()
}

func (r *Results) value(who, id string) (float64, bool) {
	if f := r.get(who, id); f != nil && f.Value > 0 {
		return f.Value, true
	}
	return 0, false
}
