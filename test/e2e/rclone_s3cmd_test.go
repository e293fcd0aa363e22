package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRclone(t *testing.T) {
	rclone := need(t, "rclone")
	s := startServer(t)
	env := []string{
		"RCLONE_CONFIG=/nonexistent",
		"RCLONE_CONFIG_JCS_TYPE=s3", "RCLONE_CONFIG_JCS_PROVIDER=Other",
		"RCLONE_CONFIG_JCS_ENDPOINT=" + s.URL, "RCLONE_CONFIG_JCS_REGION=us-east-1",
		"RCLONE_CONFIG_JCS_ACCESS_KEY_ID=" + s.Access, "RCLONE_CONFIG_JCS_SECRET_ACCESS_KEY=" + s.Secret,
		"RCLONE_CONFIG_JCS_FORCE_PATH_STYLE=true",
	}
	rc := func(t *testing.T, args ...string) string { return run(t, env, rclone, args...) }
	local := t.TempDir()
	src := filepath.Join(local, "src")
	sums := map[string]string{}
	for i := range 20 {
		rel := fmt.Sprintf("dir%d/sub/file%02d.bin", i%4, i)
		sums[rel] = randomFile(t, src, rel, int64(i*3000+1))
	}
	sums["big.bin"] = randomFile(t, src, "big.bin", 12<<20)
	const client = "rclone"
	step(t, client, "mkdir (bucket)", func(t *testing.T) { rc(t, "mkdir", "jcs:rclonebkt") })
	step(t, client, "copy", func(t *testing.T) {
		rc(t, "copy", src, "jcs:rclonebkt/data")
		back := filepath.Join(local, "back")
		rc(t, "copy", "jcs:rclonebkt/data", back)
		for rel, sum := range sums {
			assert.Equal(t, sum, fileSHA(t, filepath.Join(back, rel)), rel)
		}
	})
	step(t, client, "check (0 differences, MD5)", func(t *testing.T) {
		// rclone check exits non-zero on any difference or MD5 mismatch.
		rc(t, "check", src, "jcs:rclonebkt/data")
	})
	step(t, client, "sync", func(t *testing.T) {
		require.NoError(t, os.Remove(filepath.Join(src, "dir0/sub/file00.bin")))
		delete(sums, "dir0/sub/file00.bin")
		sums["new.txt"] = randomFile(t, src, "new.txt", 777)
		rc(t, "sync", src, "jcs:rclonebkt/data")
		rc(t, "check", src, "jcs:rclonebkt/data")
	})
	step(t, client, "lsf", func(t *testing.T) {
		out := rc(t, "lsf", "-R", "--files-only", "jcs:rclonebkt/data")
		assert.Equal(t, len(sums), len(strings.Fields(out)), out)
		assert.Contains(t, out, "new.txt")
		assert.NotContains(t, out, "file00.bin")
	})
	step(t, client, "cross-front: /v1 sees what rclone wrote", func(t *testing.T) {
		jcs := newJCSClient(s)
		objs := jcs.packageObjects(t, jcs.packageByName(t, "rclonebkt", "data"))
		assert.Len(t, objs, len(sums))
		for _, o := range objs {
			assert.Equal(t, sums[o.Path], jcs.downloadSHA(t, o.ObjectID), o.Path)
		}
	})
	step(t, client, "delete", func(t *testing.T) {
		rc(t, "delete", "--include", "*.txt", "jcs:rclonebkt/data")
		assert.NotContains(t, rc(t, "lsf", "-R", "jcs:rclonebkt/data"), "new.txt")
	})
	step(t, client, "purge", func(t *testing.T) {
		rc(t, "purge", "jcs:rclonebkt")
		assert.NotContains(t, rc(t, "lsd", "jcs:"), "rclonebkt")
	})
}

func TestS3cmd(t *testing.T) {
	s3cmd := need(t, "s3cmd")
	s := startServer(t)
	host := strings.TrimPrefix(s.URL, "http://")
	cfg := filepath.Join(t.TempDir(), "s3cfg")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`[default]
access_key = %s
secret_key = %s
host_base = %s
host_bucket = %s
use_https = False
signature_v2 = False
bucket_location = us-east-1
check_ssl_certificate = False
`, s.Access, s.Secret, host, host)), 0o600))
	sc := func(t *testing.T, args ...string) string {
		return run(t, []string{"HOME=" + t.TempDir()}, s3cmd, append([]string{"-c", cfg}, args...)...)
	}
	local := t.TempDir()
	sum := randomFile(t, local, "one.bin", 300<<10)
	for i := range 6 {
		randomFile(t, local, fmt.Sprintf("tree/d%d/f%d.txt", i%2, i), int64(100+i))
	}
	const client = "s3cmd"
	step(t, client, "mb", func(t *testing.T) { sc(t, "mb", "s3://s3cmdbkt") })
	step(t, client, "put", func(t *testing.T) { sc(t, "put", filepath.Join(local, "one.bin"), "s3://s3cmdbkt/files/one.bin") })
	step(t, client, "get", func(t *testing.T) {
		dst := filepath.Join(local, "got.bin")
		sc(t, "get", "s3://s3cmdbkt/files/one.bin", dst)
		assert.Equal(t, sum, fileSHA(t, dst))
	})
	step(t, client, "ls", func(t *testing.T) {
		assert.Contains(t, sc(t, "ls"), "s3://s3cmdbkt")
		assert.Contains(t, sc(t, "ls", "s3://s3cmdbkt/"), "DIR")
		assert.Contains(t, sc(t, "ls", "-r", "s3://s3cmdbkt/"), "s3://s3cmdbkt/files/one.bin")
	})
	step(t, client, "sync", func(t *testing.T) {
		sc(t, "sync", filepath.Join(local, "tree")+"/", "s3://s3cmdbkt/tree/")
		out := sc(t, "ls", "-r", "s3://s3cmdbkt/tree/")
		assert.Equal(t, 6, strings.Count(out, ".txt"), out)
		back := filepath.Join(local, "back") + "/"
		sc(t, "sync", "s3://s3cmdbkt/tree/", back)
		for i := range 6 {
			rel := fmt.Sprintf("d%d/f%d.txt", i%2, i)
			assert.Equal(t, fileSHA(t, filepath.Join(local, "tree", rel)), fileSHA(t, filepath.Join(back, rel)))
		}
	})
	step(t, client, "del", func(t *testing.T) {
		sc(t, "del", "s3://s3cmdbkt/files/one.bin")
		assert.NotContains(t, sc(t, "ls", "-r", "s3://s3cmdbkt/"), "one.bin")
		sc(t, "del", "--recursive", "--force", "s3://s3cmdbkt/tree/")
		sc(t, "rb", "s3://s3cmdbkt")
	})
}
