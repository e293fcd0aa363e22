package jcsapi

// Space sync tasks: /v1/spaceSyncer/*.
//
// createTask answers data.task with exactly the members of the request
// (normalised per type, see below) plus taskID:
//
//	{"taskID": 1,
//	 "trigger": {"type": "Interval", "interval": 30} | {"type": "Once"} | {"type": "At", "time": "<RFC 3339>"},
//	 "mode":    {"type": "Diff"|"Full", "includeSize": false, "includeModTime": true},
//	 "filters": [{"type": "Size", "minSize": 10, "maxSize": 20000},
//	             {"type": "Extension", "extensions": ["txt"]},
//	             {"type": "Path", "include": ["*.go"], "exclude": ["vendor/**"]}],
//	 "options": {"noEmptyDirectories": false},
//	 "srcUserSpaceID": 1, "srcPath": "space1/cli",
//	 "destUserSpaceIDs": [2], "destPathes": ["space2/svr"]}
//
// options carries "deleteExtraneous": true only when the request set it (an
// extension: files at a destination that the source does not have are
// removed).
//
// getTask answers the same task with one more member, "state" (what the
// task has done so far):
//
//	"state": {"status": "running"|"idle"|"cancelled"|"failed",
//	          "lastRunStart": "<JCS time>"|null, "lastRunEnd": "<JCS time>"|null,
//	          "runs": 3,
//	          "filesCopied": 120, "bytesCopied": 9000, "filesSkipped": 40,
//	          "filesFailed": 0, "filesDeleted": 0, "lastError": "",
//	          "lastRun": {"filesCopied": 2, "bytesCopied": 150, "filesSkipped": 38,
//	                      "filesFiltered": 5, "filesFailed": 0, "filesDeleted": 0}}
//
// lastRunStart is when the current run (status running) or the last one
// began, lastRunEnd when the last finished run ended; both are null before
// the first run. The totals count every finished run; filesSkipped there
// includes files the filters kept out, which lastRun counts apart
// (filesFiltered). lastRun counts the most recent finished run. A cancelled
// task keeps the counts of its last finished run.
//
// cancelTask stops a task for good (a copy in flight is abandoned, never
// left torn) and answers data null. An unknown taskID is code TaskNotFound
// on getTask and cancelTask.

import (
	"context"
	"strconv"

	"jcsgw/gateway"
)

type syncTriggerJSON struct {
	Type     string  `json:"type"`
	Interval *int64  `json:"interval,omitempty"`
	Time     *string `json:"time,omitempty"`
}

type syncModeJSON struct {
	Type           string `json:"type"`
	IncludeSize    bool   `json:"includeSize"`
	IncludeModTime bool   `json:"includeModTime"`
}

type sizeFilterJSON struct {
	Type    string `json:"type"`
	MinSize int64  `json:"minSize"`
	MaxSize int64  `json:"maxSize"`
}

type extensionFilterJSON struct {
	Type       string   `json:"type"`
	Extensions []string `json:"extensions"`
}

type pathFilterJSON struct {
	Type    string   `json:"type"`
	Include []string `json:"include"`
	Exclude []string `json:"exclude"`
}

type syncOptionsJSON struct {
	NoEmptyDirectories bool `json:"noEmptyDirectories"`
	DeleteExtraneous   bool `json:"deleteExtraneous,omitempty"`
}

type syncTaskJSON struct {
	TaskID           int64           `json:"taskID"`
	Trigger          syncTriggerJSON `json:"trigger"`
	Mode             syncModeJSON    `json:"mode"`
	Filters          []any           `json:"filters"`
	Options          syncOptionsJSON `json:"options"`
	SrcUserSpaceID   int64           `json:"srcUserSpaceID"`
	SrcPath          string          `json:"srcPath"`
	DestUserSpaceIDs []int64         `json:"destUserSpaceIDs"`
	DestPathes       []string        `json:"destPathes"`
}

type syncRunJSON struct {
	FilesCopied   int64 `json:"filesCopied"`
	BytesCopied   int64 `json:"bytesCopied"`
	FilesSkipped  int64 `json:"filesSkipped"`
	FilesFiltered int64 `json:"filesFiltered"`
	FilesFailed   int64 `json:"filesFailed"`
	FilesDeleted  int64 `json:"filesDeleted"`
}

type syncStateJSON struct {
	Status       string      `json:"status"`
	LastRunStart *string     `json:"lastRunStart"`
	LastRunEnd   *string     `json:"lastRunEnd"`
	Runs         int64       `json:"runs"`
	FailedRuns   int64       `json:"failedRuns"`
	FilesCopied  int64       `json:"filesCopied"`
	BytesCopied  int64       `json:"bytesCopied"`
	FilesSkipped int64       `json:"filesSkipped"`
	FilesFailed  int64       `json:"filesFailed"`
	FilesDeleted int64       `json:"filesDeleted"`
	LastError    string      `json:"lastError"`
	LastRun      syncRunJSON `json:"lastRun"`
}

type syncTaskStateJSON struct {
	syncTaskJSON
	State syncStateJSON `json:"state"`
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func toSyncTask(t gateway.SyncTask) syncTaskJSON {
	out := syncTaskJSON{
		TaskID:           t.ID,
		Trigger:          syncTriggerJSON{Type: t.Trigger.Type},
		Mode:             syncModeJSON{Type: t.Mode.Type, IncludeSize: t.Mode.IncludeSize, IncludeModTime: t.Mode.IncludeModTime},
		Filters:          make([]any, 0, len(t.Filters)),
		Options:          syncOptionsJSON{NoEmptyDirectories: t.Options.NoEmptyDirectories, DeleteExtraneous: t.Options.DeleteExtraneous},
		SrcUserSpaceID:   t.SrcUserSpaceID,
		SrcPath:          t.SrcPath,
		DestUserSpaceIDs: nonNil(t.DestUserSpaceIDs),
		DestPathes:       nonNil(t.DestPathes),
	}
	switch t.Trigger.Type {
	case "Interval":
		n := t.Trigger.Interval
		out.Trigger.Interval = &n
	case "At":
		s := t.Trigger.Time
		out.Trigger.Time = &s
	}
	for _, f := range t.Filters {
		switch f.Type {
		case "Size":
			out.Filters = append(out.Filters, sizeFilterJSON{Type: f.Type, MinSize: f.MinSize, MaxSize: f.MaxSize})
		case "Extension":
			out.Filters = append(out.Filters, extensionFilterJSON{Type: f.Type, Extensions: nonNil(f.Extensions)})
		case "Path":
			out.Filters = append(out.Filters, pathFilterJSON{Type: f.Type, Include: nonNil(f.Include), Exclude: nonNil(f.Exclude)})
		}
	}
	return out
}

func toSyncState(s gateway.SyncState) syncStateJSON {
	out := syncStateJSON{
		Status:       s.Status,
		Runs:         s.Runs,
		FailedRuns:   s.FailedRuns,
		FilesCopied:  s.FilesCopied,
		BytesCopied:  s.BytesCopied,
		FilesSkipped: s.FilesSkipped,
		FilesFailed:  s.FilesFailed,
		FilesDeleted: s.FilesDeleted,
		LastError:    s.LastError,
		LastRun: syncRunJSON{FilesCopied: s.LastRun.FilesCopied, BytesCopied: s.LastRun.BytesCopied,
			FilesSkipped: s.LastRun.FilesSkipped, FilesFiltered: s.LastRun.FilesFiltered,
			FilesFailed: s.LastRun.FilesFailed, FilesDeleted: s.LastRun.FilesDeleted},
	}
	if s.LastRunStart != nil {
		v := jcsTime(*s.LastRunStart)
		out.LastRunStart = &v
	}
	if s.LastRunEnd != nil {
		v := jcsTime(*s.LastRunEnd)
		out.LastRunEnd = &v
	}
	return out
}

// Request members: required ones are pointers so that absence is told
// apart from a zero value; rules on values (known types, interval >= 1,
// lengths, existing spaces) are the gateway's.

type syncTriggerReq struct {
	Type     *string `json:"type"`
	Interval int64   `json:"interval"`
	Time     string  `json:"time"`
}

type syncModeReq struct {
	Type           *string `json:"type"`
	IncludeSize    bool    `json:"includeSize"`
	IncludeModTime bool    `json:"includeModTime"`
}

type syncFilterReq struct {
	Type       *string  `json:"type"`
	MinSize    int64    `json:"minSize"`
	MaxSize    int64    `json:"maxSize"`
	Extensions []string `json:"extensions"`
	Include    []string `json:"include"`
	Exclude    []string `json:"exclude"`
}

func (a *api) createSyncTask(ctx context.Context, c *call) (any, error) {
	var req struct {
		Trigger          *syncTriggerReq  `json:"trigger"`
		Mode             *syncModeReq     `json:"mode"`
		Filters          *[]syncFilterReq `json:"filters"`
		Options          *syncOptionsJSON `json:"options"`
		SrcUserSpaceID   *int64           `json:"srcUserSpaceID"`
		SrcPath          *string          `json:"srcPath"`
		DestUserSpaceIDs *[]int64         `json:"destUserSpaceIDs"`
		DestPathes       *[]string        `json:"destPathes"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	var t gateway.SyncTask
	if req.Trigger == nil {
		return nil, badArg("trigger is required")
	}
	if req.Trigger.Type == nil {
		return nil, badArg("trigger.type is required")
	}
	t.Trigger = gateway.SyncTrigger{Type: *req.Trigger.Type, Interval: req.Trigger.Interval, Time: req.Trigger.Time}
	if req.Mode == nil {
		return nil, badArg("mode is required")
	}
	if req.Mode.Type == nil {
		return nil, badArg("mode.type is required")
	}
	t.Mode = gateway.SyncMode{Type: *req.Mode.Type, IncludeSize: req.Mode.IncludeSize, IncludeModTime: req.Mode.IncludeModTime}
	t.Filters = []gateway.SyncFilter{}
	if req.Filters != nil {
		for i, f := range *req.Filters {
			if f.Type == nil {
				return nil, badArg("filters[%d].type is required", i)
			}
			t.Filters = append(t.Filters, gateway.SyncFilter{Type: *f.Type, MinSize: f.MinSize, MaxSize: f.MaxSize,
				Extensions: f.Extensions, Include: f.Include, Exclude: f.Exclude})
		}
	}
	if req.Options != nil {
		t.Options = gateway.SyncOptions{NoEmptyDirectories: req.Options.NoEmptyDirectories, DeleteExtraneous: req.Options.DeleteExtraneous}
	}
	var err error
	if t.SrcUserSpaceID, err = needID("srcUserSpaceID", req.SrcUserSpaceID); err != nil {
		return nil, err
	}
	if t.SrcPath, err = needString("srcPath", req.SrcPath); err != nil {
		return nil, err
	}
	if req.DestUserSpaceIDs == nil {
		return nil, badArg("destUserSpaceIDs is required")
	}
	for i, id := range *req.DestUserSpaceIDs {
		if _, err := needID("destUserSpaceIDs["+strconv.Itoa(i)+"]", &id); err != nil {
			return nil, err
		}
	}
	t.DestUserSpaceIDs = *req.DestUserSpaceIDs
	if req.DestPathes == nil {
		return nil, badArg("destPathes is required")
	}
	t.DestPathes = *req.DestPathes
	t, err = a.svc.CreateSyncTask(ctx, t)
	if err != nil {
		return nil, err
	}
	return map[string]any{"task": toSyncTask(t)}, nil
}

func (a *api) getSyncTask(ctx context.Context, c *call) (any, error) {
	id, err := c.q.id("taskID")
	if err != nil {
		return nil, err
	}
	t, err := a.svc.SyncTaskByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return map[string]any{"task": syncTaskStateJSON{toSyncTask(t), toSyncState(t.State)}}, nil
}

func (a *api) cancelSyncTask(ctx context.Context, c *call) (any, error) {
	var req struct {
		TaskID *int64 `json:"taskID"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	id, err := needID("taskID", req.TaskID)
	if err != nil {
		return nil, err
	}
	return nil, a.svc.CancelSyncTask(ctx, id)
}
