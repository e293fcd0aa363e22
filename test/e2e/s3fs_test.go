package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestS3fs(t *testing.T) {
	s3fs := need(t, "s3fs")
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("SKIP: /dev/fuse is unavailable (%v): s3fs cannot mount here", err)
	}
	s := startServer(t)
	jcs := newJCSClient(s)
	jcs.call(t, "POST", "/v1/bucket/create", map[string]any{"userID": 1, "name": "s3fsbkt"}, nil)
	dir := t.TempDir()
	mnt := filepath.Join(dir, "mnt")
	require.NoError(t, os.Mkdir(mnt, 0o755))
	pw := filepath.Join(dir, "passwd")
	require.NoError(t, os.WriteFile(pw, []byte(s.Access+":"+s.Secret), 0o600))
	var logs bytes.Buffer
	cmd := exec.Command(s3fs, "s3fsbkt", mnt, "-f", "-o", "url="+s.URL, "-o", "use_path_request_style",
		"-o", "passwd_file="+pw, "-o", "endpoint=us-east-1", "-o", "stat_cache_expire=1",
		"-o", "dbglevel=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	unmount := func() {
		for _, u := range []string{"fusermount3", "fusermount", "umount"} {
			if p, err := exec.LookPath(u); err == nil {
				args := []string{"-u", mnt}
				if u == "umount" {
					args = []string{mnt}
				}
				if exec.Command(p, args...).Run() == nil {
					break
				}
			}
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	}
	defer unmount()
	mounted := false
	for range 100 {
		if out, _ := os.ReadFile("/proc/mounts"); bytes.Contains(out, []byte(mnt)) {
			mounted = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !mounted {
		// /dev/fuse is there, so a failed mount is a failure, not a skip.
		t.Fatalf("s3fs did not mount: %s", logs.String())
	}
	const client = "s3fs"
	data := bytes.Repeat([]byte("s3fs line\n"), 50000)
	step(t, client, "write files, mkdir", func(t *testing.T) {
		require.NoError(t, os.MkdirAll(filepath.Join(mnt, "docs", "deep"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(mnt, "docs", "a.txt"), data, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(mnt, "docs", "deep", "b.txt"), []byte("bee"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(mnt, "root.txt"), []byte("root"), 0o644))
	})
	step(t, client, "ls", func(t *testing.T) {
		ents, err := os.ReadDir(filepath.Join(mnt, "docs"))
		require.NoError(t, err)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		assert.Equal(t, []string{"a.txt", "deep"}, names)
	})
	step(t, client, "cat", func(t *testing.T) {
		got, err := os.ReadFile(filepath.Join(mnt, "docs", "a.txt"))
		require.NoError(t, err)
		assert.Equal(t, data, got)
	})
	step(t, client, "cross-front: /v1 sees what s3fs wrote", func(t *testing.T) {
		objs := jcs.packageObjects(t, jcs.packageByName(t, "s3fsbkt", "docs"))
		var paths []string
		for _, o := range objs {
			paths = append(paths, o.Path)
			if o.Path == "a.txt" {
				assert.Equal(t, data, jcs.download(t, o.ObjectID, ""))
			}
		}
		assert.Contains(t, paths, "a.txt")
		assert.Contains(t, paths, "deep/b.txt")
	})
	step(t, client, "rename", func(t *testing.T) {
		require.NoError(t, os.Rename(filepath.Join(mnt, "docs", "a.txt"), filepath.Join(mnt, "docs", "renamed.txt")))
		got, err := os.ReadFile(filepath.Join(mnt, "docs", "renamed.txt"))
		require.NoError(t, err)
		assert.Equal(t, data, got)
		_, err = os.Stat(filepath.Join(mnt, "docs", "a.txt"))
		assert.True(t, os.IsNotExist(err))
	})
	step(t, client, "rm", func(t *testing.T) {
		require.NoError(t, os.RemoveAll(filepath.Join(mnt, "docs")))
		require.NoError(t, os.Remove(filepath.Join(mnt, "root.txt")))
		ents, err := os.ReadDir(mnt)
		require.NoError(t, err)
		assert.Empty(t, ents, fmt.Sprint(ents))
	})
	step(t, client, "umount", func(t *testing.T) {
		unmount()
		out, _ := os.ReadFile("/proc/mounts")
		assert.False(t, strings.Contains(string(out), mnt))
	})
}
