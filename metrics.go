package jcsgw

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"jcsgw/gateway"
)

// storeCollector exports what the store holds. The numbers come from one
// catalog scan, cached so that frequent scrapes do not rescan (see
// statsDue).
type storeCollector struct {
	svc *gateway.Service

	mu    sync.Mutex
	at    time.Time
	took  time.Duration // the last scan's
	stats gateway.Stats

	objects, bytes, spaceObjects, spaceBytes, syncRuns, syncFailures, catalogBytes *prometheus.Desc
	logGroups, logWrites, checkpoints, checkpointFailures, pending                 *prometheus.Desc
	logSyncTime, checkpointTime                                                    *prometheus.Desc
}

func newStoreCollector(svc *gateway.Service) *storeCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &storeCollector{
		svc:          svc,
		objects:      d("jcsgw_bucket_objects", "Objects stored, by bucket.", "bucket"),
		bytes:        d("jcsgw_bucket_bytes", "Bytes stored, by bucket.", "bucket"),
		spaceObjects: d("jcsgw_space_objects", "Objects stored, by user space.", "space"),
		spaceBytes:   d("jcsgw_space_bytes", "Bytes stored, by user space.", "space"),
		syncRuns:     d("jcsgw_sync_runs_total", "Space sync task runs."),
		syncFailures: d("jcsgw_sync_failures_total", "Space sync task runs that failed."),
		catalogBytes: d("jcsgw_catalog_bytes", "Size of the catalog."),
		logGroups:    d("jcsgw_catalog_log_syncs_total", "Records the catalog's write-ahead log made durable, one fdatasync each."),
		logWrites:    d("jcsgw_catalog_log_writes_total", "Catalog transactions those records held (÷ syncs: the group size)."),
		checkpoints:  d("jcsgw_catalog_checkpoints_total", "Checkpoints that applied the log to the catalog file."),
		checkpointFailures: d("jcsgw_catalog_checkpoint_failures_total",
			"Checkpoints that failed (the log keeps their writes; the next one tries again)."),
		pending: d("jcsgw_catalog_pending_entries", "Catalog entries logged and held in memory, not yet in the file."),
		logSyncTime: d("jcsgw_catalog_log_sync_seconds_total",
			"Time the group commit spent writing and syncing log records, up to its next turn on a CPU (÷ syncs: a group's wait for durability)."),
		checkpointTime: d("jcsgw_catalog_checkpoint_seconds_total", "Time the checkpoints took, their bbolt commits included."),
	}
}

// statsDue tells whether the cached scan, taken at at in took, is to be
// taken again: after a second, or on a large catalog after a hundred times
// what it took. A scan decodes every object record (about a second per
// million), and Prometheus scrapes every 15 s by default: so a scrape's
// share of one core stays near 1 % however large the catalog grows, and the
// usage gauges are at most a second old on a small one.
func statsDue(now, at time.Time, took time.Duration) bool {
	return now.Sub(at) > max(time.Second, 100*took)
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.objects, c.bytes, c.spaceObjects, c.spaceBytes, c.syncRuns, c.syncFailures, c.catalogBytes,
		c.logGroups, c.logWrites, c.checkpoints, c.checkpointFailures, c.pending, c.logSyncTime, c.checkpointTime} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if start := time.Now(); statsDue(start, c.at, c.took) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if st, err := c.svc.Stats(ctx); err == nil {
			c.stats, c.at, c.took = st, time.Now(), time.Since(start)
		}
		cancel()
	}
	st := c.stats
	c.mu.Unlock()
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for b, u := range st.Buckets {
		g(c.objects, float64(u.Objects), b)
		g(c.bytes, float64(u.Bytes), b)
	}
	for id, u := range st.Spaces {
		g(c.spaceObjects, float64(u.Objects), strconv.FormatInt(id, 10))
		g(c.spaceBytes, float64(u.Bytes), strconv.FormatInt(id, 10))
	}
	ch <- prometheus.MustNewConstMetric(c.syncRuns, prometheus.CounterValue, float64(st.SyncRuns))
	ch <- prometheus.MustNewConstMetric(c.syncFailures, prometheus.CounterValue, float64(st.SyncFailures))
	g(c.catalogBytes, float64(st.CatalogBytes))
	// The log's counters are read now, not from the cached scan.
	lg := c.svc.CatalogLog()
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	counter(c.logGroups, lg.Groups)
	counter(c.logWrites, lg.Calls)
	counter(c.checkpoints, lg.Checkpoints)
	counter(c.checkpointFailures, lg.CheckpointFailures)
	g(c.pending, float64(lg.Pending))
	ch <- prometheus.MustNewConstMetric(c.logSyncTime, prometheus.CounterValue, lg.SyncTime.Seconds())
	ch <- prometheus.MustNewConstMetric(c.checkpointTime, prometheus.CounterValue, lg.CheckpointTime.Seconds())
}
