package gateway

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"jcsgw/backends"
	"jcsgw/catalog"
)

// localOpener opens Local spaces only: enough for engine tests.
func localOpener(ctx context.Context, u UserSpace) (Storage, ShardStore, error) {
	fs, err := backends.NewLocalFS(u.Storage.RootPath)
	if err != nil {
		return nil, nil, err
	}
	if u.ShardStore == nil {
		return fs, nil, nil
	}
	return fs, backends.NewShards(fs, u.WorkingDir), nil
}

func openWithSpaces(t *testing.T, dir string) *fixture {
	t.Helper()
	cat, err := catalog.OpenBolt(filepath.Join(dir, "catalog.db"))
	require.NoError(t, err)
	store, err := backends.NewLocal(filepath.Join(dir, "store"))
	require.NoError(t, err)
	svc, err := New(context.Background(), Config{Catalog: cat, Default: store, OpenSpace: localOpener,
		DefaultSpace: UserSpace{Storage: StorageConfig{Type: "Local", RootPath: store.Root()}}})
	require.NoError(t, err)
	return &fixture{svc: svc, cat: cat, store: store, dir: dir}
}

func writeTree(t *testing.T, root string, files map[string]string) {
	for p, data := range files {
		full := filepath.Join(root, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(data), 0o644))
	}
}

func waitRuns(t *testing.T, svc *Service, id int64, runs int64) SyncTask {
	t.Helper()
	var task SyncTask
	require.Eventually(t, func() bool {
		var err error
		task, err = svc.SyncTaskByID(context.Background(), id)
		require.NoError(t, err)
		return task.State.Runs >= runs && task.State.Status != SyncRunning
	}, 20*time.Second, 20*time.Millisecond)
	return task
}

func TestSyncDiffFiltersAndRestart(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	require.NoError(t, os.MkdirAll(src, 0o755))
	require.NoError(t, os.MkdirAll(dst, 0o755))
	files := map[string]string{}
	for i := range 200 {
		files[fmt.Sprintf("d%d/f%03d.txt", i%5, i)] = fmt.Sprint("content ", i)
	}
	files["skip/big.bin"] = string(make([]byte, 5000))
	files["logs/x.log"] = "log"
	writeTree(t, src, files)
	require.NoError(t, os.MkdirAll(filepath.Join(src, "empty", "dir"), 0o755))

	f := openWithSpaces(t, filepath.Join(dir, "data"))
	ctx := context.Background()
	a, err := f.svc.CreateSpace(ctx, UserSpace{Name: "a", Storage: StorageConfig{Type: "Local", RootPath: src}})
	require.NoError(t, err)
	b, err := f.svc.CreateSpace(ctx, UserSpace{Name: "b", Storage: StorageConfig{Type: "Local", RootPath: dst}})
	require.NoError(t, err)

	_, err = f.svc.CreateSyncTask(ctx, SyncTask{Trigger: SyncTrigger{Type: "Interval", Interval: 0}, Mode: SyncMode{Type: "Diff"},
		SrcUserSpaceID: a.ID, DestUserSpaceIDs: []int64{b.ID}, DestPathes: []string{"out"}})
	assert.Equal(t, CodeBadArgument, CodeOf(err), "interval < 1")
	_, err = f.svc.CreateSyncTask(ctx, SyncTask{Trigger: SyncTrigger{Type: "Once"}, Mode: SyncMode{Type: "Diff"},
		SrcUserSpaceID: a.ID, DestUserSpaceIDs: []int64{b.ID}, DestPathes: []string{"out", "x"}})
	assert.Equal(t, CodeBadArgument, CodeOf(err), "lengths differ")

	task, err := f.svc.CreateSyncTask(ctx, SyncTask{
		Trigger:        SyncTrigger{Type: "Interval", Interval: 1},
		Mode:           SyncMode{Type: "Diff", IncludeSize: true, IncludeModTime: true},
		Filters:        []SyncFilter{{Type: "Size", MaxSize: 1000}, {Type: "Path", Exclude: []string{"*.log"}}},
		Options:        SyncOptions{NoEmptyDirectories: true},
		SrcUserSpaceID: a.ID, DestUserSpaceIDs: []int64{b.ID}, DestPathes: []string{"out"},
	})
	require.NoError(t, err)
	st := waitRuns(t, f.svc, task.ID, 1)
	assert.Equal(t, int64(200), st.State.FilesCopied, "first run copies every admitted file")
	assert.Equal(t, int64(2), st.State.LastRun.FilesFiltered, "the big file and the log are filtered out")
	assert.NoFileExists(t, filepath.Join(dst, "out", "skip", "big.bin"))
	assert.NoFileExists(t, filepath.Join(dst, "out", "logs", "x.log"))
	assert.NoDirExists(t, filepath.Join(dst, "out", "empty"), "noEmptyDirectories")
	got, err := os.ReadFile(filepath.Join(dst, "out", "d3", "f003.txt"))
	require.NoError(t, err)
	assert.Equal(t, "content 3", string(got))
	si, _ := os.Stat(filepath.Join(src, "d3", "f003.txt"))
	di, _ := os.Stat(filepath.Join(dst, "out", "d3", "f003.txt"))
	assert.Equal(t, si.ModTime().Unix(), di.ModTime().Unix(), "mtimes are preserved")

	// Change a few files: size, mtime; add one.
	writeTree(t, src, map[string]string{"d0/f000.txt": "changed size!!", "d9/new.txt": "new"})
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(src, "d1", "f001.txt"), old, old))
	st = waitRuns(t, f.svc, task.ID, st.State.Runs+2) // a whole run after the change
	require.NoError(t, f.svc.CancelSyncTask(ctx, task.ID))
	st, err = f.svc.SyncTaskByID(ctx, task.ID)
	require.NoError(t, err)
	assert.Equal(t, SyncCancelled, st.State.Status)
	assert.Equal(t, int64(203), st.State.FilesCopied, "later runs copy exactly the 3 changed files")
	got, _ = os.ReadFile(filepath.Join(dst, "out", "d0", "f000.txt"))
	assert.Equal(t, "changed size!!", string(got))
	assert.Equal(t, CodeTaskNotFound, CodeOf(f.svc.CancelSyncTask(ctx, 999)))

	// A task created before a restart runs after it.
	once, err := f.svc.CreateSyncTask(ctx, SyncTask{Trigger: SyncTrigger{Type: "At", Time: time.Now().Add(2 * time.Second).Format(time.RFC3339)},
		Mode: SyncMode{Type: "Full"}, SrcUserSpaceID: a.ID, SrcPath: "d2", DestUserSpaceIDs: []int64{b.ID}, DestPathes: []string{"later"}})
	require.NoError(t, err)
	f.svc.Close()
	require.NoError(t, f.cat.Close())
	f = openWithSpaces(t, filepath.Join(dir, "data"))
	defer func() { f.svc.Close(); f.cat.Close() }()
	st = waitRuns(t, f.svc, once.ID, 1)
	assert.Equal(t, int64(40), st.State.FilesCopied)
	assert.FileExists(t, filepath.Join(dst, "later", "f002.txt"))
}
