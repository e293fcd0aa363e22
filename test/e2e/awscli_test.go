package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// awsEnv isolates the CLI from any user configuration and points it at s.
func awsEnv(t *testing.T, s *server) []string {
	cfg := filepath.Join(t.TempDir(), "config")
	require.NoError(t, os.WriteFile(cfg, []byte("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n"), 0o600))
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.Access, "AWS_SECRET_ACCESS_KEY=" + s.Secret,
		"AWS_CONFIG_FILE=" + cfg, "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
	}
}

func TestAWSCLI(t *testing.T) {
	aws := need(t, "aws")
	s := startServer(t)
	env := awsEnv(t, s)
	cli := func(t *testing.T, args ...string) string {
		return run(t, env, aws, append([]string{"--endpoint-url", s.URL}, args...)...)
	}
	jcs := newJCSClient(s)
	local := t.TempDir()
	const client = "aws CLI"

	step(t, client, "mb", func(t *testing.T) {
		cli(t, "s3", "mb", "s3://clibkt")
		assert.Contains(t, cli(t, "s3", "ls"), "clibkt")
	})
	sizes := map[string]int64{"zero.bin": 0, "one-k.bin": 1024, "big.bin": 100 << 20}
	sums := map[string]string{}
	for name, n := range sizes {
		sums[name] = randomFile(t, local, "up/"+name, n)
	}
	step(t, client, "cp up/down (0 B, 1 KiB, 100 MiB multipart)", func(t *testing.T) {
		for name := range sizes {
			cli(t, "s3", "cp", filepath.Join(local, "up", name), "s3://clibkt/files/"+name)
		}
		for name := range sizes {
			dst := filepath.Join(local, "down", name)
			cli(t, "s3", "cp", "s3://clibkt/files/"+name, dst)
			assert.Equal(t, sums[name], fileSHA(t, dst), name)
		}
		var head struct{ ETag string }
		require.NoError(t, json.Unmarshal([]byte(cli(t, "s3api", "head-object", "--bucket", "clibkt", "--key", "files/big.bin")), &head))
		assert.True(t, strings.HasSuffix(strings.Trim(head.ETag, `"`), "-13"), "100 MiB in 8 MiB parts: ETag %s", head.ETag)
	})
	step(t, client, "cross-front: /v1 sees what the CLI wrote", func(t *testing.T) {
		b := jcs.bucketByName(t, "clibkt")
		pkg := jcs.packageByName(t, "clibkt", "files")
		objs := jcs.packageObjects(t, pkg)
		assert.Len(t, objs, 3)
		for _, o := range objs {
			assert.Equal(t, sums[o.Path], jcs.downloadSHA(t, o.ObjectID), o.Path)
		}
		_ = b
	})
	tree := filepath.Join(local, "tree")
	for i := range 12 {
		randomFile(t, tree, filepath.Join("d"+string(rune('a'+i%3)), "f"+string(rune('a'+i))+".txt"), int64(100*i))
	}
	step(t, client, "cp --recursive", func(t *testing.T) {
		cli(t, "s3", "cp", "--recursive", tree, "s3://clibkt/tree/")
		out := cli(t, "s3", "ls", "--recursive", "s3://clibkt/tree/")
		assert.Equal(t, 12, strings.Count(out, "tree/d"))
	})
	step(t, client, "sync twice (second copies nothing)", func(t *testing.T) {
		out := cli(t, "s3", "sync", tree, "s3://clibkt/sync/")
		assert.Equal(t, 12, strings.Count(out, "upload:"))
		out = cli(t, "s3", "sync", tree, "s3://clibkt/sync/")
		assert.Empty(t, strings.TrimSpace(out), "second sync must copy nothing")
		back := filepath.Join(local, "syncback")
		cli(t, "s3", "sync", "s3://clibkt/sync/", back)
		for i := range 12 {
			rel := filepath.Join("d"+string(rune('a'+i%3)), "f"+string(rune('a'+i))+".txt")
			assert.Equal(t, fileSHA(t, filepath.Join(tree, rel)), fileSHA(t, filepath.Join(back, rel)))
		}
	})
	step(t, client, "ls (recursive, prefixes)", func(t *testing.T) {
		out := cli(t, "s3", "ls", "s3://clibkt/")
		for _, p := range []string{"PRE files/", "PRE tree/", "PRE sync/"} {
			assert.Contains(t, out, p)
		}
		out = cli(t, "s3", "ls", "s3://clibkt/tree/")
		assert.Contains(t, out, "PRE da/")
		out = cli(t, "s3", "ls", "s3://clibkt/tree/da/")
		assert.Equal(t, 4, strings.Count(out, ".txt"))
	})
	step(t, client, "mv", func(t *testing.T) {
		cli(t, "s3", "mv", "s3://clibkt/files/one-k.bin", "s3://clibkt/moved/one-k.bin")
		dst := filepath.Join(local, "mv.bin")
		cli(t, "s3", "cp", "s3://clibkt/moved/one-k.bin", dst)
		assert.Equal(t, sums["one-k.bin"], fileSHA(t, dst))
		assert.NotContains(t, cli(t, "s3", "ls", "s3://clibkt/files/"), "one-k.bin")
	})
	step(t, client, "s3api put/get with ranges, head, copy", func(t *testing.T) {
		src := filepath.Join(local, "up", "one-k.bin")
		cli(t, "s3api", "put-object", "--bucket", "clibkt", "--key", "api/obj", "--body", src, "--content-type", "text/x-test", "--metadata", "k1=v1")
		dst := filepath.Join(local, "range.bin")
		cli(t, "s3api", "get-object", "--bucket", "clibkt", "--key", "api/obj", "--range", "bytes=10-19", dst)
		all, _ := os.ReadFile(src)
		got, _ := os.ReadFile(dst)
		assert.Equal(t, all[10:20], got)
		var head struct {
			ContentType   string
			ContentLength int64
			Metadata      map[string]string
		}
		require.NoError(t, json.Unmarshal([]byte(cli(t, "s3api", "head-object", "--bucket", "clibkt", "--key", "api/obj")), &head))
		assert.Equal(t, "text/x-test", head.ContentType)
		assert.Equal(t, int64(1024), head.ContentLength)
		assert.Equal(t, map[string]string{"k1": "v1"}, head.Metadata)
		cli(t, "s3api", "copy-object", "--bucket", "clibkt", "--key", "api/copy", "--copy-source", "clibkt/api/obj")
		cli(t, "s3api", "get-object", "--bucket", "clibkt", "--key", "api/copy", dst)
		assert.Equal(t, sums["one-k.bin"], fileSHA(t, dst))
	})
	step(t, client, "list-objects-v2 delimiter and pagination", func(t *testing.T) {
		var page struct {
			CommonPrefixes []struct{ Prefix string }
		}
		require.NoError(t, json.Unmarshal([]byte(cli(t, "s3api", "list-objects-v2", "--bucket", "clibkt", "--delimiter", "/")), &page))
		var prefixes []string
		for _, p := range page.CommonPrefixes {
			prefixes = append(prefixes, p.Prefix)
		}
		assert.Equal(t, []string{"api/", "files/", "moved/", "sync/", "tree/"}, prefixes)
		var all struct{ Contents []struct{ Key string } }
		require.NoError(t, json.Unmarshal([]byte(cli(t, "s3api", "list-objects-v2", "--bucket", "clibkt", "--prefix", "tree/", "--page-size", "5")), &all))
		assert.Len(t, all.Contents, 12, "the CLI follows continuation tokens across pages of 5")
	})
	step(t, client, "multipart create/upload-part/complete/abort, list-multipart-uploads", func(t *testing.T) {
		var up struct{ UploadId string }
		require.NoError(t, json.Unmarshal([]byte(cli(t, "s3api", "create-multipart-upload", "--bucket", "clibkt", "--key", "mp/obj")), &up))
		part1 := filepath.Join(local, "p1")
		s1 := randomFile(t, local, "p1", 5<<20)
		_ = s1
		var p struct{ ETag string }
		require.NoError(t, json.Unmarshal([]byte(cli(t, "s3api", "upload-part", "--bucket", "clibkt", "--key", "mp/obj", "--part-number", "1", "--upload-id", up.UploadId, "--body", part1)), &p))
		require.NoError(t, json.Unmarshal([]byte(cli(t, "s3api", "upload-part", "--bucket", "clibkt", "--key", "mp/obj", "--part-number", "2", "--upload-id", up.UploadId, "--body", filepath.Join(local, "up", "one-k.bin"))), new(struct{})))
		var ups struct {
			Uploads []struct{ Key, UploadId string }
		}
		require.NoError(t, json.Unmarshal([]byte(cli(t, "s3api", "list-multipart-uploads", "--bucket", "clibkt")), &ups))
		require.Len(t, ups.Uploads, 1)
		assert.Equal(t, up.UploadId, ups.Uploads[0].UploadId)
		var parts struct {
			Parts []struct {
				PartNumber int
				ETag       string
			}
		}
		require.NoError(t, json.Unmarshal([]byte(cli(t, "s3api", "list-parts", "--bucket", "clibkt", "--key", "mp/obj", "--upload-id", up.UploadId)), &parts))
		require.Len(t, parts.Parts, 2)
		mpu, _ := json.Marshal(map[string]any{"Parts": []map[string]any{
			{"PartNumber": 1, "ETag": parts.Parts[0].ETag}, {"PartNumber": 2, "ETag": parts.Parts[1].ETag}}})
		cli(t, "s3api", "complete-multipart-upload", "--bucket", "clibkt", "--key", "mp/obj", "--upload-id", up.UploadId, "--multipart-upload", string(mpu))
		dst := filepath.Join(local, "mp.bin")
		cli(t, "s3api", "get-object", "--bucket", "clibkt", "--key", "mp/obj", dst)
		a, _ := os.ReadFile(part1)
		b, _ := os.ReadFile(filepath.Join(local, "up", "one-k.bin"))
		got, _ := os.ReadFile(dst)
		assert.Equal(t, append(a, b...), got)

		require.NoError(t, json.Unmarshal([]byte(cli(t, "s3api", "create-multipart-upload", "--bucket", "clibkt", "--key", "mp/aborted")), &up))
		cli(t, "s3api", "upload-part", "--bucket", "clibkt", "--key", "mp/aborted", "--part-number", "1", "--upload-id", up.UploadId, "--body", part1)
		cli(t, "s3api", "abort-multipart-upload", "--bucket", "clibkt", "--key", "mp/aborted", "--upload-id", up.UploadId)
		ups.Uploads = nil
		require.NoError(t, json.Unmarshal([]byte(cli(t, "s3api", "list-multipart-uploads", "--bucket", "clibkt")), &ups))
		assert.Empty(t, ups.Uploads)
	})
	step(t, client, "delete-objects", func(t *testing.T) {
		del, _ := json.Marshal(map[string]any{"Objects": []map[string]string{{"Key": "api/obj"}, {"Key": "api/copy"}, {"Key": "api/absent"}}})
		var out struct{ Deleted []struct{ Key string } }
		require.NoError(t, json.Unmarshal([]byte(cli(t, "s3api", "delete-objects", "--bucket", "clibkt", "--delete", string(del))), &out))
		assert.Len(t, out.Deleted, 3)
		assert.NotContains(t, cli(t, "s3", "ls", "s3://clibkt/"), "api/")
	})
	step(t, client, "presign + curl", func(t *testing.T) {
		url := strings.TrimSpace(cli(t, "s3", "presign", "s3://clibkt/files/zero.bin", "--expires-in", "300"))
		curl, err := exec.LookPath("curl")
		if err != nil {
			t.Skip("SKIP: curl is not installed")
		}
		dst := filepath.Join(local, "presigned.bin")
		run(t, nil, curl, "-fsS", "-o", dst, url)
		assert.Equal(t, sums["zero.bin"], fileSHA(t, dst))
		url = strings.TrimSpace(cli(t, "s3", "presign", "s3://clibkt/moved/one-k.bin", "--expires-in", "300"))
		run(t, nil, curl, "-fsS", "-o", dst, url)
		assert.Equal(t, sums["one-k.bin"], fileSHA(t, dst))
	})
	step(t, client, "rm --recursive, rb", func(t *testing.T) {
		cli(t, "s3", "rm", "--recursive", "s3://clibkt/")
		assert.Empty(t, strings.TrimSpace(cli(t, "s3", "ls", "--recursive", "s3://clibkt/")))
		cli(t, "s3", "rb", "s3://clibkt")
		assert.NotContains(t, cli(t, "s3", "ls"), "clibkt")
	})
}
