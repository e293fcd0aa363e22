package test

// Space sync tasks through /v1/spaceSyncer/*, between Local spaces in
// temporary directories and the S3 space on the fake cloud (spaces_test.go).

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// createTask creates a sync task and checks that the reply is the request
// (userID aside) plus taskID, exactly.
func (e *spaceEnv) createTask(body map[string]any) int64 {
	e.t.Helper()
	d := e.post("/v1/spaceSyncer/createTask", body).ok()
	requireKeys(e.t, d, "task")
	task := asMap(e.t, d["task"])
	id := asInt(e.t, task["taskID"])
	require.Positive(e.t, id)
	want := maps.Clone(body)
	delete(want, "userID")
	want["taskID"] = id
	b, err := json.Marshal(want)
	require.NoError(e.t, err)
	requireJSON(e.t, string(b), task)
	return id
}

// getTask returns a task's members (state aside) and its state, checking
// the shape of both.
func (e *spaceEnv) getTask(id int64) (task, state map[string]any) {
	e.t.Helper()
	d := e.get("/v1/spaceSyncer/getTask", url.Values{"taskID": {idStr(id)}}).ok()
	requireKeys(e.t, d, "task")
	task = asMap(e.t, d["task"])
	requireKeys(e.t, task, "taskID", "trigger", "mode", "filters", "options", "srcUserSpaceID", "srcPath",
		"destUserSpaceIDs", "destPathes", "state")
	require.Equal(e.t, id, asInt(e.t, task["taskID"]))
	state = asMap(e.t, task["state"])
	delete(task, "state")
	requireKeys(e.t, state, "status", "lastRunStart", "lastRunEnd", "runs", "failedRuns", "filesCopied", "bytesCopied",
		"filesSkipped", "filesFailed", "filesDeleted", "lastError", "lastRun")
	require.Contains(e.t, []string{"running", "idle", "cancelled", "failed"}, state["status"])
	for _, k := range []string{"lastRunStart", "lastRunEnd"} {
		if state[k] != nil {
			checkTime(e.t, state[k])
		}
	}
	requireKeys(e.t, asMap(e.t, state["lastRun"]), "filesCopied", "bytesCopied", "filesSkipped", "filesFiltered", "filesFailed", "filesDeleted")
	return task, state
}

// syncState is a task's state, decoded.
type syncState struct {
	Status                   string
	LastRunStart, LastRunEnd *time.Time
	Runs                     int64
	FilesCopied, BytesCopied int64
	FilesSkipped             int64
	FilesFailed              int64
	LastError                string
	LastRun                  struct {
		FilesCopied, BytesCopied, FilesSkipped, FilesFiltered, FilesFailed, FilesDeleted int64
	}
}

func (e *spaceEnv) state(id int64) syncState {
	e.t.Helper()
	_, st := e.getTask(id)
	b, err := json.Marshal(st)
	require.NoError(e.t, err)
	var s syncState
	require.NoError(e.t, json.Unmarshal(b, &s))
	return s
}

// waitTask polls a task until ok holds (at most 20 s).
func (e *spaceEnv) waitTask(id int64, what string, ok func(s syncState) bool) syncState {
	e.t.Helper()
	var s syncState
	deadline := time.Now().Add(20 * time.Second)
	for {
		s = e.state(id)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("task %d: %s did not happen; state %+v", id, what, s)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// waitRuns waits until a task has finished n runs. Its state's lastRun is
// then that of a finished run; an Interval task may be running again.
func (e *spaceEnv) waitRuns(id, n int64) syncState {
	e.t.Helper()
	return e.waitTask(id, fmt.Sprintf("run %d", n), func(s syncState) bool { return s.Runs >= n })
}

func syncBody(trigger, mode map[string]any, filters []any, noEmpty bool, src int64, srcPath string, dests []int64, destPaths []string) map[string]any {
	return map[string]any{"userID": 1, "trigger": trigger, "mode": mode, "filters": filters,
		"options": map[string]any{"noEmptyDirectories": noEmpty}, "srcUserSpaceID": src, "srcPath": srcPath,
		"destUserSpaceIDs": dests, "destPathes": destPaths}
}

var (
	everySecond = map[string]any{"type": "Interval", "interval": 1}
	once        = map[string]any{"type": "Once"}
	diffBoth    = map[string]any{"type": "Diff", "includeSize": true, "includeModTime": true}
	fullMode    = map[string]any{"type": "Full", "includeSize": false, "includeModTime": false}
)

// writeAtomically writes a file with a modification time, in one rename,
// so a sync run never sees it half made.
func writeAtomically(t testing.TB, p string, data []byte, mtime time.Time) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	tmp := filepath.Join(t.TempDir(), "staged")
	require.NoError(t, os.WriteFile(tmp, data, 0o644))
	require.NoError(t, os.Chtimes(tmp, mtime, mtime))
	require.NoError(t, os.Rename(tmp, p))
}

// cloudTree reads the files (not the directory markers) under prefix.
func (f *fakeCloud) tree(prefix string) map[string][]byte {
	f.t.Helper()
	out := map[string][]byte{}
	for _, k := range f.keys(prefix) {
		if strings.HasSuffix(k, "/") {
			continue
		}
		b, ok := f.object(k)
		require.True(f.t, ok)
		out[strings.TrimPrefix(k, prefix)] = b
	}
	return out
}

func totalSize(files map[string][]byte) int64 {
	var n int64
	for _, b := range files {
		n += int64(len(b))
	}
	return n
}

func TestSyncDiffCopiesOnlyChanges(t *testing.T) {
	e := newSpaceEnv(t)
	srcRoot, dstRoot := t.TempDir(), t.TempDir()
	src := e.localSpace("src", srcRoot, "", false)
	dst := e.localSpace("dst", dstRoot, "", false)
	cloud := e.cloudSpace("cloud", "", false)

	// A tree of 300 files, an hour old, and an empty directory.
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	tree := map[string][]byte{}
	name := func(i int) string { return fmt.Sprintf("p%d/q%d/file%03d.txt", i%6, i%4, i) }
	for i := range 300 {
		tree[name(i)] = spaceBytes(uint64(i), 50+(i*13)%1500)
		writeAtomically(t, filepath.Join(srcRoot, "proj", name(i)), tree[name(i)], old)
	}
	require.NoError(t, os.MkdirAll(filepath.Join(srcRoot, "proj", "empty", "leaf"), 0o755))

	id := e.createTask(syncBody(everySecond, diffBoth, []any{}, false, src, "proj", []int64{dst, cloud}, []string{"mirror", "cloud/mirror"}))
	s := e.waitRuns(id, 1)
	require.Equal(t, "", s.LastError)
	require.Equal(t, int64(600), s.FilesCopied, "%+v", s)
	require.Equal(t, 2*totalSize(tree), s.BytesCopied)
	require.Zero(t, s.FilesFailed)
	if s.Runs == 1 {
		require.Equal(t, int64(600), s.LastRun.FilesCopied, "%+v", s)
		require.Equal(t, 2*totalSize(tree), s.LastRun.BytesCopied)
		require.Zero(t, s.LastRun.FilesSkipped)
		require.Zero(t, s.FilesSkipped)
	}
	require.NotNil(t, s.LastRunStart)
	require.NotNil(t, s.LastRunEnd)
	if s.Status != "running" { // while running, lastRunStart is the current run's
		require.False(t, s.LastRunEnd.Before(*s.LastRunStart))
	}

	local, dirs := readTree(t, filepath.Join(dstRoot, "mirror"))
	require.Equal(t, tree, local)
	require.Contains(t, dirs, "empty/leaf")
	st, err := os.Stat(filepath.Join(dstRoot, "mirror", filepath.FromSlash(name(7))))
	require.NoError(t, err)
	require.True(t, st.ModTime().Equal(old), "a Local copy keeps the mtime: %v", st.ModTime())
	require.Equal(t, tree, e.cloud.tree("cloud/mirror/"))
	_, ok := e.cloud.object("cloud/mirror/empty/leaf/")
	require.True(t, ok, "the empty directory is a marker key")

	// The next run copies nothing.
	s = e.waitRuns(id, 2)
	require.Equal(t, int64(600), s.FilesCopied, "an unchanged tree is copied again: %+v", s)
	require.Zero(t, s.LastRun.FilesCopied)
	require.Equal(t, int64(600), s.LastRun.FilesSkipped)

	// Change a few files: their new mtime is a second after the first
	// run's end, and the changes are made at least two seconds after it
	// (times compare to the second; an object store's LastModified is the
	// time of its copy).
	time.Sleep(time.Until(s.LastRunEnd.Add(2100 * time.Millisecond)))
	mt := s.LastRunEnd.Add(time.Second)
	want := maps.Clone(tree)
	for _, i := range []int{0, 1, 2} { // size
		want[name(i)] = append(spaceBytes(uint64(1000+i), 10), tree[name(i)]...)
		writeAtomically(t, filepath.Join(srcRoot, "proj", name(i)), want[name(i)], mt)
	}
	for _, i := range []int{3, 4} { // mtime only
		require.NoError(t, os.Chtimes(filepath.Join(srcRoot, "proj", name(i)), mt, mt))
	}
	for i := range 4 { // new files, one in a new directory
		p := fmt.Sprintf("new/n%d.txt", i)
		want[p] = spaceBytes(uint64(2000+i), 300+i)
		writeAtomically(t, filepath.Join(srcRoot, "proj", p), want[p], mt)
	}
	for _, i := range []int{5, 6} { // removed at the source, kept at the destinations
		require.NoError(t, os.Remove(filepath.Join(srcRoot, "proj", name(i))))
	}
	changedBytes := int64(0)
	for _, p := range []string{name(0), name(1), name(2), name(3), name(4), "new/n0.txt", "new/n1.txt", "new/n2.txt", "new/n3.txt"} {
		changedBytes += int64(len(want[p]))
	}

	s = e.waitTask(id, "the changes copied", func(s syncState) bool { return s.FilesCopied >= 600+18 })
	require.Equal(t, int64(600+18), s.FilesCopied, "exactly the 9 changed files to each of 2 destinations: %+v", s)
	require.Equal(t, 2*totalSize(tree)+2*changedBytes, s.BytesCopied)
	// ...and nothing more on the runs after.
	after := e.waitRuns(id, s.Runs+2)
	require.Equal(t, int64(618), after.FilesCopied, "%+v", after)
	require.Zero(t, after.LastRun.FilesCopied)
	require.Equal(t, int64(2*(300-2+4)), after.LastRun.FilesSkipped)
	require.Zero(t, after.FilesFailed)
	require.Equal(t, "", after.LastError)

	local, _ = readTree(t, filepath.Join(dstRoot, "mirror"))
	require.Equal(t, want, local) // the removed files are still there (want keeps them)
	require.Equal(t, want, e.cloud.tree("cloud/mirror/"))
	st, err = os.Stat(filepath.Join(dstRoot, "mirror", filepath.FromSlash(name(3))))
	require.NoError(t, err)
	require.True(t, st.ModTime().Equal(mt), "the touched file's new mtime: %v", st.ModTime())
	e.post("/v1/spaceSyncer/cancelTask", map[string]any{"userID": 1, "taskID": id}).okNull()
}

func TestSyncFilters(t *testing.T) {
	e := newSpaceEnv(t)
	srcRoot, dstRoot := t.TempDir(), t.TempDir()
	src := e.localSpace("src", srcRoot, "", false)
	dst := e.localSpace("dst", dstRoot, "", false)
	cloud := e.cloudSpace("cloud", "", false)

	sizes := map[string]int{
		"docs/readme.md": 200, "docs/guide.txt": 5000, "docs/secret-plan.txt": 300,
		"src/main.go": 800, "src/util.go": 50, "src/vendor/lib.go": 400,
		"logs/app.log": 2000, "logs/old/app.1.log": 20, "img/a.PNG": 700, "top.txt": 10,
	}
	tree := map[string][]byte{}
	for p, n := range sizes {
		tree[p] = spaceBytes(uint64(n), n)
	}
	localTree(t, filepath.Join(srcRoot, "f"), tree)
	require.NoError(t, os.MkdirAll(filepath.Join(srcRoot, "f", "empty"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(srcRoot, "f", "deep", "a", "b"), 0o755))

	sizeF := map[string]any{"type": "Size", "minSize": 100, "maxSize": 1000}
	extF := map[string]any{"type": "Extension", "extensions": []string{"txt", ".md", "png"}}
	pathF := map[string]any{"type": "Path", "include": []string{"docs/**", "*.go"}, "exclude": []string{"*secret*", "src/vendor/**"}}
	cases := []struct {
		dest    string
		filters []any
		noEmpty bool
		want    []string
	}{
		{"size", []any{sizeF}, false, []string{"docs/readme.md", "docs/secret-plan.txt", "img/a.PNG", "src/main.go", "src/vendor/lib.go"}},
		{"ext", []any{extF}, true, []string{"docs/guide.txt", "docs/readme.md", "docs/secret-plan.txt", "img/a.PNG", "top.txt"}},
		{"path", []any{pathF}, false, []string{"docs/guide.txt", "docs/readme.md", "src/main.go", "src/util.go"}},
		{"both", []any{sizeF, extF}, true, []string{"docs/readme.md", "docs/secret-plan.txt", "img/a.PNG"}},
		{"all", []any{}, true, slices.Sorted(maps.Keys(sizes))},
		{"alldirs", []any{}, false, slices.Sorted(maps.Keys(sizes))},
	}
	ids := make([]int64, len(cases))
	for i, c := range cases {
		ids[i] = e.createTask(syncBody(once, fullMode, c.filters, c.noEmpty, src, "f", []int64{dst}, []string{c.dest}))
	}
	// The combined filters go to the cloud too.
	cloudID := e.createTask(syncBody(once, diffBoth, []any{sizeF, extF}, true, src, "/f/", []int64{cloud, dst}, []string{"both", "both2"}))

	for i, c := range cases {
		t.Run(c.dest, func(t *testing.T) {
			s := e.waitRuns(ids[i], 1)
			require.Equal(t, "idle", s.Status)
			require.Equal(t, int64(len(c.want)), s.LastRun.FilesCopied)
			require.Equal(t, int64(len(sizes)-len(c.want)), s.LastRun.FilesFiltered)
			files, dirs := readTree(t, filepath.Join(dstRoot, c.dest))
			require.Equal(t, c.want, slices.Sorted(maps.Keys(files)))
			for _, p := range c.want {
				require.Equal(t, tree[p], files[p])
			}
			if c.noEmpty {
				// Every directory at the destination holds a file.
				for _, d := range dirs {
					has := false
					for p := range files {
						has = has || strings.HasPrefix(p, d+"/")
					}
					require.True(t, has, "empty directory %q at the destination", d)
				}
			} else {
				require.Contains(t, dirs, "empty")
				require.Contains(t, dirs, "deep/a/b")
			}
		})
	}
	s := e.waitRuns(cloudID, 1)
	require.Equal(t, int64(6), s.LastRun.FilesCopied)
	want := map[string][]byte{}
	for _, p := range cases[3].want {
		want[p] = tree[p]
	}
	require.Equal(t, want, e.cloud.tree("both/"))
	require.Empty(t, slices.DeleteFunc(e.cloud.keys("both/"), func(k string) bool { return !strings.HasSuffix(k, "/") }),
		"noEmptyDirectories: no directory markers")
	files, _ := readTree(t, filepath.Join(dstRoot, "both2"))
	require.Equal(t, want, files)

	// A Once task that has run is idle and does not run again.
	time.Sleep(1200 * time.Millisecond)
	require.Equal(t, int64(1), e.state(ids[0]).Runs)
}

// spaceFiles lists the names under root, staging files included.
func spaceFiles(t testing.TB, root string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	}))
	return out
}

func TestSyncCancelMidRun(t *testing.T) {
	e := newSpaceEnv(t)
	srcRoot, dstRoot := t.TempDir(), t.TempDir()
	src := e.localSpace("src", srcRoot, "", false)
	dst := e.localSpace("dst", dstRoot, "", false)
	cloud := e.cloudSpace("cloud", "", false)

	// 80 files of 256 KiB; every PUT to the cloud waits 40 ms, so a run
	// takes over 3 s.
	tree := map[string][]byte{}
	for i := range 80 {
		tree[fmt.Sprintf("d%d/big%02d.bin", i%4, i)] = spaceBytes(uint64(i), 256<<10)
	}
	localTree(t, filepath.Join(srcRoot, "big"), tree)
	e.cloud.putDelay.Store(int64(40 * time.Millisecond))
	defer e.cloud.putDelay.Store(0)

	id := e.createTask(syncBody(everySecond, fullMode, []any{}, true, src, "big", []int64{dst, cloud}, []string{"out", "c"}))
	require.Eventually(t, func() bool {
		files, _ := os.ReadDir(filepath.Join(dstRoot, "out", "d0"))
		return len(files) >= 5
	}, 20*time.Second, 5*time.Millisecond)
	e.post("/v1/spaceSyncer/cancelTask", map[string]any{"taskID": id}).okNull()
	_, st := e.getTask(id)
	require.Equal(t, "cancelled", st["status"])

	// Wait until nothing moves any more, then look: fewer files than the
	// source, each whole; no staging file left.
	stable := func() (int, int) { return len(spaceFiles(t, dstRoot)), len(e.cloud.keys("")) }
	last1, last2 := stable()
	still := time.Now()
	require.Eventually(t, func() bool {
		n1, n2 := stable()
		if n1 != last1 || n2 != last2 {
			last1, last2, still = n1, n2, time.Now()
		}
		return time.Since(still) > 1500*time.Millisecond
	}, 15*time.Second, 50*time.Millisecond)

	names := spaceFiles(t, dstRoot)
	require.NotEmpty(t, names)
	require.Less(t, len(names), len(tree), "the run was not cut short")
	for _, n := range names {
		require.NotContains(t, n, ".jcsgw-tmp", "a staging file is left")
		rel, ok := strings.CutPrefix(n, "out/")
		require.True(t, ok, n)
		got, err := os.ReadFile(filepath.Join(dstRoot, filepath.FromSlash(n)))
		require.NoError(t, err)
		require.Equal(t, tree[rel], got, "torn file %s", n)
	}
	inCloud := e.cloud.tree("c/")
	require.Less(t, len(inCloud), len(tree))
	for k, data := range inCloud {
		require.Equal(t, tree[k], data, "torn object %s", k)
	}
	require.Equal(t, len(inCloud), len(e.cloud.keys("")), "only whole objects in the cloud")

	// It stayed cancelled (for the 1.5 s of calm above, longer than its
	// interval): no run started again, none was counted.
	s := e.state(id)
	require.Equal(t, "cancelled", s.Status)
	require.Zero(t, s.Runs)
	require.NotNil(t, s.LastRunStart)
	require.Nil(t, s.LastRunEnd)
	e.post("/v1/spaceSyncer/cancelTask", map[string]any{"taskID": id}).okNull()
	require.Equal(t, "cancelled", e.state(id).Status)
}

func TestSyncSurvivesRestart(t *testing.T) {
	e := newSpaceEnv(t)
	srcRoot, dstRoot := t.TempDir(), t.TempDir()
	src := e.localSpace("src", srcRoot, "", false)
	dst := e.localSpace("dst", dstRoot, "", false)
	tree := map[string][]byte{}
	for i := range 20 {
		tree[fmt.Sprintf("r%d.txt", i)] = spaceBytes(uint64(i), 100+i)
	}
	localTree(t, filepath.Join(srcRoot, "r"), tree)

	interval := e.createTask(syncBody(everySecond, diffBoth, []any{}, false, src, "r", []int64{dst}, []string{"mirror"}))
	before := e.waitRuns(interval, 1)
	require.Equal(t, int64(20), before.FilesCopied)
	// Far enough ahead that a loaded machine does not reach it before the
	// restart below (2 s did not always suffice on a busy 2-core CI).
	at := time.Now().Add(5 * time.Second).Format(time.RFC3339)
	atTask := e.createTask(syncBody(map[string]any{"type": "At", "time": at}, fullMode, []any{}, false, src, "r", []int64{dst}, []string{"at"}))
	cancelled := e.createTask(syncBody(everySecond, fullMode, []any{}, false, src, "r", []int64{dst}, []string{"never"}))
	e.post("/v1/spaceSyncer/cancelTask", map[string]any{"taskID": cancelled}).okNull()
	atBefore, _ := e.getTask(atTask)
	require.Nil(t, e.state(atTask).LastRunEnd, "the At task ran early")
	cancelledRuns := e.state(cancelled).Runs

	e.srv.Restart()
	extra := spaceBytes(99, 4321)
	writeAtomically(t, filepath.Join(srcRoot, "r", "late.txt"), extra, time.Now())

	// The Interval task goes on and picks up the new file.
	s := e.waitTask(interval, "the new file copied", func(s syncState) bool { return s.Runs > before.Runs && s.FilesCopied >= 21 })
	require.Equal(t, int64(21), s.FilesCopied)
	got, err := os.ReadFile(filepath.Join(dstRoot, "mirror", "late.txt"))
	require.NoError(t, err)
	require.Equal(t, extra, got)
	// The At task, created before the restart, runs after it, once.
	s = e.waitRuns(atTask, 1)
	require.Equal(t, "idle", s.Status)
	require.False(t, s.LastRunStart.Before(time.Now().Add(-time.Minute)))
	files, _ := readTree(t, filepath.Join(dstRoot, "at"))
	require.GreaterOrEqual(t, len(files), 20) // late.txt too, unless the restart took over 5 s
	require.Equal(t, int64(len(files)), s.LastRun.FilesCopied)
	atAfter, _ := e.getTask(atTask)
	require.Equal(t, atBefore, atAfter, "the task reads back the same after a restart")
	// The cancelled one stays cancelled.
	time.Sleep(1100 * time.Millisecond)
	cs := e.state(cancelled)
	require.Equal(t, "cancelled", cs.Status)
	require.Equal(t, cancelledRuns, cs.Runs)
	require.Equal(t, int64(1), e.state(atTask).Runs)
}

func TestSyncBadBodies(t *testing.T) {
	e := newSpaceEnv(t)
	root := t.TempDir()
	a := e.localSpace("a", root, "", false)
	good := func() map[string]any {
		return syncBody(everySecond, diffBoth, []any{
			map[string]any{"type": "Size", "minSize": 0, "maxSize": 20000}, // zeros are echoed too
			map[string]any{"type": "Extension", "extensions": []string{"txt"}},
			map[string]any{"type": "Path", "include": []string{"a*"}, "exclude": []string{}},
		}, false, a, "x", []int64{a}, []string{"y"})
	}
	for _, tc := range []struct {
		name  string
		mod   func(m map[string]any)
		words []string
	}{
		{"no trigger", func(m map[string]any) { delete(m, "trigger") }, []string{"trigger is required"}},
		{"trigger without type", func(m map[string]any) { m["trigger"] = map[string]any{"interval": 5} }, []string{"trigger.type is required"}},
		{"unknown trigger", func(m map[string]any) { m["trigger"] = map[string]any{"type": "Cron"} }, []string{"trigger.type", "Cron"}},
		{"interval 0", func(m map[string]any) { m["trigger"] = map[string]any{"type": "Interval", "interval": 0} }, []string{"trigger.interval", "at least 1"}},
		{"interval missing", func(m map[string]any) { m["trigger"] = map[string]any{"type": "Interval"} }, []string{"trigger.interval"}},
		{"interval negative", func(m map[string]any) { m["trigger"] = map[string]any{"type": "Interval", "interval": -3} }, []string{"trigger.interval"}},
		{"interval a string", func(m map[string]any) { m["trigger"] = map[string]any{"type": "Interval", "interval": "30"} }, []string{"trigger.interval", "integer"}},
		{"At without a time", func(m map[string]any) { m["trigger"] = map[string]any{"type": "At", "time": "tomorrow"} }, []string{"trigger.time"}},
		{"no mode", func(m map[string]any) { delete(m, "mode") }, []string{"mode is required"}},
		{"mode without type", func(m map[string]any) { m["mode"] = map[string]any{"includeSize": true} }, []string{"mode.type is required"}},
		{"unknown mode", func(m map[string]any) { m["mode"] = map[string]any{"type": "Mirror"} }, []string{"mode.type", "Mirror"}},
		{"unknown filter", func(m map[string]any) { m["filters"] = []any{map[string]any{"type": "Owner"}} }, []string{"filters[0].type", "Owner"}},
		{"filter without type", func(m map[string]any) { m["filters"] = []any{map[string]any{"minSize": 1}} }, []string{"filters[0].type is required"}},
		{"sizes reversed", func(m map[string]any) {
			m["filters"] = []any{map[string]any{"type": "Size", "minSize": 1}, map[string]any{"type": "Size", "minSize": 9, "maxSize": 2}}
		}, []string{"filters[1]", "minSize"}},
		{"negative size", func(m map[string]any) { m["filters"] = []any{map[string]any{"type": "Size", "minSize": -1}} }, []string{"filters[0]"}},
		{"no extensions", func(m map[string]any) {
			m["filters"] = []any{map[string]any{"type": "Extension", "extensions": []string{}}}
		}, []string{"filters[0].extensions"}},
		{"bad glob", func(m map[string]any) {
			m["filters"] = []any{map[string]any{"type": "Path", "exclude": []string{"a["}}}
		}, []string{"filters[0]", "glob"}},
		{"filters not a list", func(m map[string]any) { m["filters"] = map[string]any{"type": "Size"} }, []string{"filters"}},
		{"options not an object", func(m map[string]any) { m["options"] = true }, []string{"options"}},
		{"no src", func(m map[string]any) { delete(m, "srcUserSpaceID") }, []string{"srcUserSpaceID is required"}},
		{"src 0", func(m map[string]any) { m["srcUserSpaceID"] = 0 }, []string{"srcUserSpaceID", "positive"}},
		{"unknown src", func(m map[string]any) { m["srcUserSpaceID"] = 777 }, []string{"srcUserSpaceID", "777", "does not exist"}},
		{"no srcPath", func(m map[string]any) { delete(m, "srcPath") }, []string{"srcPath is required"}},
		{"no dests", func(m map[string]any) { delete(m, "destUserSpaceIDs") }, []string{"destUserSpaceIDs is required"}},
		{"empty dests", func(m map[string]any) { m["destUserSpaceIDs"] = []int64{}; m["destPathes"] = []string{} }, []string{"destUserSpaceIDs is empty"}},
		{"bad dest ID", func(m map[string]any) { m["destUserSpaceIDs"] = []int64{a, -4}; m["destPathes"] = []string{"p", "q"} }, []string{"destUserSpaceIDs[1]"}},
		{"unknown dest", func(m map[string]any) { m["destUserSpaceIDs"] = []int64{a, 778}; m["destPathes"] = []string{"p", "q"} }, []string{"destUserSpaceIDs[1]", "778"}},
		{"no destPathes", func(m map[string]any) { delete(m, "destPathes") }, []string{"destPathes is required"}},
		{"lengths differ", func(m map[string]any) { m["destPathes"] = []string{"p", "q"} }, []string{"destUserSpaceIDs and destPathes", "same length"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := good()
			tc.mod(m)
			e.post("/v1/spaceSyncer/createTask", m).badArg(tc.words...)
		})
	}
	e.post("/v1/spaceSyncer/createTask", "").badArg("empty")
	e.post("/v1/spaceSyncer/createTask", "[1]").badArg("JSON object")
	e.post("/v1/spaceSyncer/createTask", `{"trigger":`).badArg("JSON")

	// Queries and cancel.
	e.get("/v1/spaceSyncer/getTask", nil).badArg("taskID is required")
	e.get("/v1/spaceSyncer/getTask", url.Values{"taskID": {"one"}}).badArg("taskID must be an integer")
	e.get("/v1/spaceSyncer/getTask", url.Values{"taskID": {"0"}}).badArg("taskID")
	e.post("/v1/spaceSyncer/cancelTask", map[string]any{}).badArg("taskID is required")
	e.post("/v1/spaceSyncer/cancelTask", map[string]any{"taskID": "1"}).badArg("taskID")
	msg := e.get("/v1/spaceSyncer/getTask", url.Values{"taskID": {"4040"}}).fail(http.StatusOK, "TaskNotFound", "4040")
	require.NotEmpty(t, msg)
	e.post("/v1/spaceSyncer/cancelTask", map[string]any{"taskID": 4040}).fail(http.StatusOK, "TaskNotFound", "4040")
	e.c.get("/v1/spaceSyncer/createTask", nil).fail(http.StatusMethodNotAllowed, "BadArgument")

	// None of the refused bodies made a task: the first good one is task 1
	// and reads back the same with its state.
	id := e.createTask(good())
	require.Equal(t, int64(1), id)
	task, _ := e.getTask(id)
	want := good()
	delete(want, "userID")
	want["taskID"] = id
	b, _ := json.Marshal(want)
	requireJSON(t, string(b), task)
	e.post("/v1/spaceSyncer/cancelTask", map[string]any{"taskID": id}).okNull()
}
