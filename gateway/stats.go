package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"jcsgw/catalog"
)

// Usage is what a bucket or user space stores.
type Usage struct {
	Objects int64
	Bytes   int64
}

// Stats summarise the store for monitoring.
type Stats struct {
	Buckets      map[string]Usage
	Spaces       map[int64]Usage
	SyncRuns     int64
	SyncFailures int64
	CatalogBytes int64
}

// CatalogLog reports the catalog's write-ahead log counters (cheap: no scan).
func (s *Service) CatalogLog() catalog.LogStats { return s.cat.LogStats() }

// Stats scans the catalog once. It costs O(objects), so callers should not
// ask more often than a scrape interval.
func (s *Service) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Buckets: map[string]Usage{}, Spaces: map[int64]Usage{}, CatalogBytes: s.cat.Size()}
	err := s.view(ctx, func(tx catalog.Tx) error {
		names := map[int64]string{}
		tx.Scan(tBucket, nil, func(_, v []byte) bool {
			if b, err := dec[bucketRec](v); err == nil {
				names[b.ID] = b.Name
				st.Buckets[b.Name] = Usage{}
			}
			return true
		})
		tx.Scan(tSpace, nil, func(_, v []byte) bool {
			if r, err := dec[spaceRec](v); err == nil {
				st.Spaces[r.ID] = Usage{}
			}
			return true
		})
		tx.Scan(tObj, nil, func(_, v []byte) bool {
			o, err := dec[objRec](v)
			if err != nil {
				return true
			}
			b := st.Buckets[names[o.BucketID]]
			b.Objects++
			b.Bytes += o.Size
			st.Buckets[names[o.BucketID]] = b
			sp := st.Spaces[o.SpaceID]
			sp.Objects++
			sp.Bytes += o.Size
			st.Spaces[o.SpaceID] = sp
			return true
		})
		return tx.Scan(tSyncTask, nil, func(_, v []byte) bool {
			var t SyncTask
			if json.Unmarshal(v, &t) == nil {
				st.SyncRuns += t.State.Runs
				st.SyncFailures += t.State.FailedRuns
			}
			return true
		})
	})
	return st, err
}

// readiness caches the last reachability check of the user spaces.
type readiness struct {
	mu      sync.Mutex
	checked time.Time
	err     error
}

// Ready reports whether the catalog answers and every user space is
// reachable. Space checks are cached for a few seconds: probes are frequent
// and a cloud round trip is not free.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.view(ctx, func(tx catalog.Tx) error { return nil }); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	s.ready.mu.Lock()
	defer s.ready.mu.Unlock()
	if time.Since(s.ready.checked) < 5*time.Second {
		return s.ready.err
	}
	s.ready.err = nil
	recs, err := s.ListSpaces(ctx)
	if err != nil {
		return err
	}
	test := func(u UserSpace) error {
		st, err := s.storage(u.ID)
		if err != nil {
			return err
		}
		tctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		return st.Test(tctx)
	}
	for _, u := range recs {
		err := test(u)
		if err != nil {
			// A storage that came back (a directory made again, a cloud
			// reachable again) may need its drivers rebuilt.
			if r, gerr := s.spaceRec(ctx, u.ID); gerr == nil && s.openSpace(ctx, r.public()) == nil {
				err = test(u)
			}
		}
		if err != nil {
			s.ready.err = fmt.Errorf("user space %d (%s) is unreachable: %s", u.ID, u.Name, redact(err, u.Credential))
			break
		}
	}
	s.ready.checked = time.Now()
	return s.ready.err
}

func (s *Service) spaceRec(ctx context.Context, id int64) (spaceRec, error) {
	var r spaceRec
	err := s.view(ctx, func(tx catalog.Tx) (err error) { r, err = getSpace(tx, id); return })
	if err == nil && id == DefaultSpaceID {
		err = errorf(CodeBadArgument, "the default space is not reopened")
	}
	return r, err
}
