package test

// User spaces through /v1/userSpace/*: Local spaces in temporary
// directories beside an S3 space on gofakes3 (in process, 127.0.0.1, behind
// a real SigV4 check). The shared pieces (spaceEnv, fakeCloud) serve the
// sync tests too.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"

	"jcsgw"
)

// The fake cloud's key pair. The secret is distinctive so that a leak into
// a reply or the log cannot go unnoticed.
const (
	cloudBucket = "jcs-cloud"
	cloudKeyID  = "AKIDJCSSPACETEST"
	cloudSecret = "Cl0ud/Secret+jcsgw-space-test-7f3a9c"
	// wrongSecret is sent in the bad-key cases: it must not leak either.
	wrongSecret = "Wr0ng/Secret+jcsgw-space-test-0b1d2e"
)

// fakeCloud is gofakes3 on 127.0.0.1 behind a SigV4 check (gofakes3 checks
// none), with an optional delay before each PUT.
type fakeCloud struct {
	t        testing.TB
	URL      string
	be       *s3mem.Backend
	putDelay atomic.Int64 // nanoseconds
}

func newFakeCloud(t testing.TB) *fakeCloud {
	t.Helper()
	be := s3mem.New()
	require.NoError(t, be.CreateBucket(cloudBucket))
	f := &fakeCloud{t: t, be: be}
	inner := gofakes3.New(be).Server()
	throttle := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			if d := time.Duration(f.putDelay.Load()); d > 0 {
				select {
				case <-time.After(d):
				case <-r.Context().Done():
					return
				}
			}
		}
		inner.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(&cloudSigV4{keys: map[string]string{cloudKeyID: cloudSecret}, next: throttle})
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// keys lists the keys under prefix.
func (f *fakeCloud) keys(prefix string) []string {
	f.t.Helper()
	l, err := f.be.ListBucket(cloudBucket, &gofakes3.Prefix{HasPrefix: true, Prefix: prefix}, gofakes3.ListBucketPage{})
	require.NoError(f.t, err)
	out := []string{}
	for _, c := range l.Contents {
		out = append(out, c.Key)
	}
	sort.Strings(out)
	return out
}

// object reads a key; ok is false when it is absent.
func (f *fakeCloud) object(key string) ([]byte, bool) {
	f.t.Helper()
	o, err := f.be.GetObject(cloudBucket, key, nil)
	if gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchKey) {
		return nil, false
	}
	require.NoError(f.t, err)
	defer o.Contents.Close()
	b, err := io.ReadAll(o.Contents)
	require.NoError(f.t, err)
	return b, true
}

func (f *fakeCloud) put(key string, data []byte) {
	f.t.Helper()
	_, err := f.be.PutObject(cloudBucket, key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil)
	require.NoError(f.t, err)
}

// cloudSigV4 checks AWS SigV4 header signatures against known keys, as a
// real S3 service does (the approach of backends/fakes3_test.go).
type cloudSigV4 struct {
	keys map[string]string
	next http.Handler
}

func cloudError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

func (v *cloudSigV4) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	authz, ok := strings.CutPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")
	if !ok {
		cloudError(w, http.StatusForbidden, "AccessDenied", "anonymous access is not allowed")
		return
	}
	fields := map[string]string{}
	for f := range strings.SplitSeq(authz, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = val
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 {
		cloudError(w, http.StatusBadRequest, "AuthorizationHeaderMalformed", "bad credential")
		return
	}
	secret, ok := v.keys[scope[0]]
	if !ok {
		cloudError(w, http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
		return
	}
	uri, rawQuery, _ := strings.Cut(r.RequestURI, "?")
	var qs []string
	if rawQuery != "" {
		for kv := range strings.SplitSeq(rawQuery, "&") {
			k, val, _ := strings.Cut(kv, "=")
			k, _ = url.PathUnescape(k)
			val, _ = url.PathUnescape(val)
			qs = append(qs, cloudEscape(k)+"="+cloudEscape(val))
		}
	}
	sort.Strings(qs)
	signed := fields["SignedHeaders"]
	var ch strings.Builder
	for h := range strings.SplitSeq(signed, ";") {
		var val string
		switch h {
		case "host":
			val = r.Host
		case "content-length":
			val = r.Header.Get("Content-Length")
			if val == "" {
				val = strconv.FormatInt(r.ContentLength, 10)
			}
		default:
			vals := r.Header.Values(h)
			for i := range vals {
				vals[i] = strings.TrimSpace(vals[i])
			}
			val = strings.Join(vals, ",")
		}
		ch.WriteString(h + ":" + val + "\n")
	}
	creq := strings.Join([]string{r.Method, uri, strings.Join(qs, "&"), ch.String(), signed, r.Header.Get("X-Amz-Content-Sha256")}, "\n")
	sum := sha256.Sum256([]byte(creq))
	sts := "AWS4-HMAC-SHA256\n" + r.Header.Get("X-Amz-Date") + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(sum[:])
	key := []byte("AWS4" + secret)
	for _, part := range scope[1:] {
		key = cloudHMAC(key, part)
	}
	want := hex.EncodeToString(cloudHMAC(key, sts))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		cloudError(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	v.next.ServeHTTP(w, r)
}

func cloudHMAC(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func cloudEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// lockedBuffer is a log sink safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// spaceEnv is a server logging into a buffer at debug level, a JCS client
// and the fake cloud. Every reply it receives, and the whole log once the
// server has stopped, are checked for the cloud's secrets.
type spaceEnv struct {
	t     *testing.T
	srv   *Server
	c     *jcsClient
	log   *lockedBuffer
	cloud *fakeCloud
}

func newSpaceEnv(t *testing.T) *spaceEnv {
	t.Helper()
	e := &spaceEnv{t: t, log: &lockedBuffer{}, cloud: newFakeCloud(t)}
	// Registered before the server's own cleanup, so it runs after the
	// server has stopped and the log is complete.
	t.Cleanup(func() {
		logText := e.log.String()
		for _, s := range []string{cloudSecret, wrongSecret} {
			require.NotContains(t, logText, s, "a secret is in the server log")
		}
	})
	logger := slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.srv = StartServer(t, &jcsgw.Config{Logger: logger})
	e.c = newJCS(t, e.srv)
	return e
}

func (e *spaceEnv) noSecret(r *jcsResult) *jcsResult {
	e.t.Helper()
	for _, s := range []string{cloudSecret, wrongSecret} {
		require.NotContains(e.t, string(r.Body), s, "a secret is in a reply")
	}
	return r
}

func (e *spaceEnv) post(path string, body any) *jcsResult {
	e.t.Helper()
	return e.noSecret(e.c.post(path, body))
}

func (e *spaceEnv) get(path string, q url.Values) *jcsResult {
	e.t.Helper()
	return e.noSecret(e.c.get(path, q))
}

// cloudStorage is the storage member of the S3 space on the fake cloud.
func (e *spaceEnv) cloudStorage() map[string]any {
	return map[string]any{"type": "S3", "region": "us-east-1", "endpoint": e.cloud.URL, "bucket": cloudBucket}
}

func cloudCredential(secret string) map[string]any {
	return map[string]any{"type": "S3", "accessKeyId": cloudKeyID, "secretAccessKey": secret}
}

// createSpace creates a user space and checks the reply's shape: exactly
// the members of the JCS document, revision 1, the secret masked.
func (e *spaceEnv) createSpace(body map[string]any) map[string]any {
	e.t.Helper()
	d := e.post("/v1/userSpace/create", body).ok()
	requireKeys(e.t, d, "userSpace")
	u := checkUserSpace(e.t, d["userSpace"])
	require.Equal(e.t, int64(1), asInt(e.t, u["revision"]))
	require.Equal(e.t, body["name"], u["name"])
	return u
}

// localSpace creates a Local space rooted at root; with shards it stores
// objects under root/workingDir.
func (e *spaceEnv) localSpace(name, root, workingDir string, shards bool) int64 {
	e.t.Helper()
	body := map[string]any{"userID": 1, "name": name,
		"storage":    map[string]any{"type": "Local", "rootPath": root},
		"credential": map[string]any{"type": "Local"},
		"shardStore": nil, "features": []any{}, "workingDir": workingDir}
	if shards {
		body["shardStore"] = map[string]any{"maxSize": 0}
	}
	return asInt(e.t, e.createSpace(body)["userSpaceID"])
}

// cloudSpace creates the S3 space on the fake cloud.
func (e *spaceEnv) cloudSpace(name, workingDir string, shards bool) int64 {
	e.t.Helper()
	body := map[string]any{"userID": 1, "name": name, "storage": e.cloudStorage(), "credential": cloudCredential(cloudSecret),
		"shardStore": nil, "features": []any{}, "workingDir": workingDir}
	if shards {
		body["shardStore"] = map[string]any{"maxSize": 0}
	}
	return asInt(e.t, e.createSpace(body)["userSpaceID"])
}

// checkUserSpace checks the members of a userSpace and that its secret, if
// any, is masked.
func checkUserSpace(t testing.TB, v any) map[string]any {
	t.Helper()
	u := asMap(t, v)
	requireKeys(t, u, "userSpaceID", "name", "storage", "credential", "shardStore", "features", "workingDir", "revision")
	require.Positive(t, asInt(t, u["userSpaceID"]))
	st := asMap(t, u["storage"])
	switch st["type"] {
	case "Local":
		requireKeys(t, st, "type", "rootPath")
	case "OBS":
		requireKeys(t, st, "type", "region", "endpoint", "bucket", "projectID")
	default:
		requireKeys(t, st, "type", "region", "endpoint", "bucket")
	}
	cr := asMap(t, u["credential"])
	requireKeys(t, cr, "type", "accessKeyId", "secretAccessKey")
	if s := cr["secretAccessKey"].(string); s != "" {
		require.Equal(t, "******", s)
	}
	asList(t, u["features"])
	return u
}

// requireJSON compares a decoded reply member with the expected JSON text.
func requireJSON(t testing.TB, want string, got any) {
	t.Helper()
	b, err := json.Marshal(got)
	require.NoError(t, err)
	require.JSONEq(t, want, string(b))
}

func spaceBytes(seed uint64, n int) []byte {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

// blobPath is where a shard store keeps the blob of fileHash under dir.
func blobPath(dir, fileHash string) string {
	return path.Join(dir, "blocks", fileHash[4:6], fileHash)
}

// closedPort is a 127.0.0.1 endpoint nobody listens on.
func closedPort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}

func TestSpaceCreateGetUpdateDelete(t *testing.T) {
	e := newSpaceEnv(t)
	root := t.TempDir()

	// Local: the exact shape, as sent.
	loc := e.createSpace(map[string]any{"userID": 1, "name": "local1",
		"storage":    map[string]any{"type": "Local", "rootPath": root},
		"credential": map[string]any{"type": "Local"},
		"shardStore": map[string]any{"maxSize": 1024}, "features": []any{}, "workingDir": "wd"})
	locID := asInt(t, loc["userSpaceID"])
	require.Greater(t, locID, int64(1), "ID 1 is the default space")
	locJSON := fmt.Sprintf(`{"userSpaceID":%d,"name":"local1","storage":{"type":"Local","rootPath":%q},
		"credential":{"type":"Local","accessKeyId":"","secretAccessKey":""},
		"shardStore":{"maxSize":1024},"features":[],"workingDir":"wd","revision":1}`, locID, root)
	requireJSON(t, locJSON, loc)

	// S3: the secret is masked, features echoed as sent.
	s3s := e.createSpace(map[string]any{"userID": 1, "name": "cloud1", "storage": e.cloudStorage(),
		"credential": cloudCredential(cloudSecret), "shardStore": map[string]any{"maxSize": 0},
		"features": []any{map[string]any{"type": "MultipartUpload", "minPartSize": 5242880}}, "workingDir": "jcs"})
	s3ID := asInt(t, s3s["userSpaceID"])
	s3JSON := fmt.Sprintf(`{"userSpaceID":%d,"name":"cloud1",
		"storage":{"type":"S3","region":"us-east-1","endpoint":%q,"bucket":%q},
		"credential":{"type":"S3","accessKeyId":%q,"secretAccessKey":"******"},
		"shardStore":{"maxSize":0},"features":[{"type":"MultipartUpload","minPartSize":5242880}],"workingDir":"jcs","revision":1}`,
		s3ID, e.cloud.URL, cloudBucket, cloudKeyID)
	requireJSON(t, s3JSON, s3s)

	// OBS has projectID; a credential without a type takes the storage's.
	obs := e.createSpace(map[string]any{"name": "obs1",
		"storage":    map[string]any{"type": "OBS", "region": "cn-north-4", "endpoint": e.cloud.URL, "bucket": cloudBucket, "projectID": "p-42"},
		"credential": map[string]any{"accessKeyId": cloudKeyID, "secretAccessKey": cloudSecret},
		"shardStore": nil, "features": []any{}, "workingDir": ""})
	obsID := asInt(t, obs["userSpaceID"])
	requireJSON(t, fmt.Sprintf(`{"userSpaceID":%d,"name":"obs1",
		"storage":{"type":"OBS","region":"cn-north-4","endpoint":%q,"bucket":%q,"projectID":"p-42"},
		"credential":{"type":"OBS","accessKeyId":%q,"secretAccessKey":"******"},
		"shardStore":null,"features":[],"workingDir":"","revision":1}`, obsID, e.cloud.URL, cloudBucket, cloudKeyID), obs)

	// get answers the same.
	getSpace := func(id int64) map[string]any {
		t.Helper()
		d := e.get("/v1/userSpace/get", url.Values{"userSpaceID": {idStr(id)}}).ok()
		requireKeys(t, d, "userSpace")
		return checkUserSpace(t, d["userSpace"])
	}
	requireJSON(t, locJSON, getSpace(locID))
	requireJSON(t, s3JSON, getSpace(s3ID))
	// The default space is there too, as ID 1.
	def := getSpace(1)
	require.Equal(t, "default", def["name"])
	require.Equal(t, "Local", asMap(t, def["storage"])["type"])

	// update: revision 1 → 2, name and credential changed, secret masked.
	d := e.post("/v1/userSpace/update", map[string]any{"userID": 1, "userSpaceID": s3ID, "name": "cloud1b",
		"credential": cloudCredential(cloudSecret)}).ok()
	requireKeys(t, d, "userSpace")
	upd := checkUserSpace(t, d["userSpace"])
	s3JSON2 := strings.Replace(strings.Replace(s3JSON, `"revision":1`, `"revision":2`, 1), `"cloud1"`, `"cloud1b"`, 1)
	requireJSON(t, s3JSON2, upd)
	requireJSON(t, s3JSON2, getSpace(s3ID))
	// Sending back the mask keeps the secret: revision 3, and the space
	// still reaches the cloud (an upload into it works).
	d = e.post("/v1/userSpace/update", map[string]any{"userSpaceID": s3ID, "name": "",
		"credential": cloudCredential("******")}).ok()
	s3JSON3 := strings.Replace(s3JSON2, `"revision":2`, `"revision":3`, 1)
	requireJSON(t, s3JSON3, d["userSpace"]) // an empty name keeps the name
	pkg := e.c.createPackage(e.c.createBucket("bkt"), "pkg")
	o := e.uploadTo(pkg, s3ID, fileData{"kept.txt", []byte("the secret was kept")})[0]
	got, ok := e.cloud.object(blobPath("jcs", o.FileHash))
	require.True(t, ok)
	require.Equal(t, "the secret was kept", string(got))
	// The mask with another access key ID is refused.
	e.post("/v1/userSpace/update", map[string]any{"userSpaceID": s3ID,
		"credential": map[string]any{"type": "S3", "accessKeyId": "OTHERKEY", "secretAccessKey": "******"}}).badArg("secretAccessKey")
	// Name only: the Local space's revision 1 → 2, the rest kept.
	d = e.post("/v1/userSpace/update", map[string]any{"userSpaceID": locID, "name": "local1b"}).ok()
	requireJSON(t, strings.Replace(strings.Replace(locJSON, `"revision":1`, `"revision":2`, 1), `"local1"`, `"local1b"`, 1), d["userSpace"])

	// Errors.
	e.post("/v1/userSpace/update", map[string]any{"userSpaceID": 9999, "name": "x"}).notFound()
	e.post("/v1/userSpace/update", map[string]any{"name": "x"}).badArg("userSpaceID is required")
	e.post("/v1/userSpace/update", map[string]any{"userSpaceID": "2"}).badArg("userSpaceID")
	e.get("/v1/userSpace/get", url.Values{"userSpaceID": {"9999"}}).notFound()
	e.get("/v1/userSpace/get", nil).badArg("userSpaceID is required")
	e.get("/v1/userSpace/get", url.Values{"userSpaceID": {"x"}}).badArg("userSpaceID must be an integer")

	base := func(mod func(m map[string]any)) map[string]any {
		m := map[string]any{"name": "bad", "storage": map[string]any{"type": "Local", "rootPath": root},
			"credential": map[string]any{"type": "Local"}, "shardStore": nil, "features": []any{}, "workingDir": ""}
		mod(m)
		return m
	}
	for _, tc := range []struct {
		name  string
		mod   func(m map[string]any)
		words []string
	}{
		{"relative rootPath", func(m map[string]any) { m["storage"] = map[string]any{"type": "Local", "rootPath": "rel/dir"} }, []string{"storage.rootPath", "absolute"}},
		{"unknown type", func(m map[string]any) { m["storage"] = map[string]any{"type": "FTP"} }, []string{"storage.type", "FTP"}},
		{"no type", func(m map[string]any) { m["storage"] = map[string]any{"rootPath": root} }, []string{"storage.type is required"}},
		{"no storage", func(m map[string]any) { delete(m, "storage") }, []string{"storage is required"}},
		{"no name", func(m map[string]any) { delete(m, "name") }, []string{"name is required"}},
		{"empty name", func(m map[string]any) { m["name"] = "" }, []string{"name"}},
		{"storage not an object", func(m map[string]any) { m["storage"] = "Local" }, []string{"storage"}},
		{"feature Local lacks", func(m map[string]any) { m["features"] = []any{map[string]any{"type": "MultipartUpload"}} }, []string{"features[0]", "MultipartUpload"}},
		{"feature not an object", func(m map[string]any) { m["features"] = []any{"MultipartUpload"} }, []string{"features[0]"}},
		{"feature without type", func(m map[string]any) { m["features"] = []any{map[string]any{}} }, []string{"features[0].type is required"}},
		{"credential type mismatch", func(m map[string]any) { m["credential"] = map[string]any{"type": "S3"} }, []string{"credential.type"}},
		{"S3 without bucket", func(m map[string]any) {
			m["storage"] = map[string]any{"type": "S3", "endpoint": e.cloud.URL}
			m["credential"] = cloudCredential(cloudSecret)
		}, []string{"storage.bucket"}},
		{"S3 without keys", func(m map[string]any) {
			m["storage"] = e.cloudStorage()
			m["credential"] = map[string]any{"type": "S3"}
		}, []string{"accessKeyId"}},
		{"negative maxSize", func(m map[string]any) { m["shardStore"] = map[string]any{"maxSize": -1} }, []string{"shardStore.maxSize"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.post("/v1/userSpace/create", base(tc.mod)).badArg(tc.words...)
		})
	}
	// A Local root that does not exist cannot be opened: a business failure.
	e.post("/v1/userSpace/create", base(func(m map[string]any) {
		m["storage"] = map[string]any{"type": "Local", "rootPath": filepath.Join(root, "nope")}
	})).fail(http.StatusOK, "OperationFailed", "does not exist")
	e.post("/v1/userSpace/create", "{").badArg("JSON")

	// delete: an empty space goes; absent is OK; the default is refused.
	e.post("/v1/userSpace/delete", map[string]any{"userSpaceID": obsID}).okNull()
	e.get("/v1/userSpace/get", url.Values{"userSpaceID": {idStr(obsID)}}).notFound()
	e.post("/v1/userSpace/delete", map[string]any{"userSpaceID": obsID}).okNull()
	e.post("/v1/userSpace/delete", map[string]any{"userSpaceID": 123456}).okNull()
	e.post("/v1/userSpace/delete", map[string]any{"userSpaceID": 1}).fail(http.StatusOK, "OperationFailed", "default")
	e.post("/v1/userSpace/delete", map[string]any{}).badArg("userSpaceID is required")
	e.post("/v1/userSpace/delete", map[string]any{"userSpaceID": 0}).badArg("userSpaceID")
	getSpace(1)

	// Spaces survive a restart, secrets still masked. One whose root has
	// gone is logged as unusable (so the log is not silent: it is checked
	// for secrets when the test ends) and fails when used.
	goneRoot := filepath.Join(t.TempDir(), "gone")
	require.NoError(t, os.Mkdir(goneRoot, 0o755))
	gone := e.localSpace("gone", goneRoot, "", true)
	require.NoError(t, os.Remove(goneRoot))
	e.srv.Restart()
	require.Contains(t, e.log.String(), "user space unusable")
	pkg2 := e.c.createPackage(e.c.createBucket("bkt2"), "pkg")
	e.noSecret(e.c.form("/v1/object/upload", infoPart(map[string]any{"packageID": pkg2, "affinity": gone}),
		filesPart("x", []byte("x")))).badArg(idStr(gone))
	requireJSON(t, s3JSON3, getSpace(s3ID))
	require.Equal(t, "the secret was kept", string(e.c.download(o.ID, nil).data()))
}

func TestSpaceTest(t *testing.T) {
	e := newSpaceEnv(t)
	root := t.TempDir()
	test := func(storage, cred map[string]any) *jcsResult {
		t.Helper()
		return e.post("/v1/userSpace/test", map[string]any{"storage": storage, "credential": cred, "workingDir": "wd"})
	}
	local := func(p string) map[string]any { return map[string]any{"type": "Local", "rootPath": p} }
	localCred := map[string]any{"type": "Local"}

	test(local(root), localCred).okNull()
	test(local(root), nil).okNull()
	test(local(filepath.Join(root, "missing")), localCred).fail(http.StatusOK, "OperationFailed", "does not exist")
	test(local("relative/dir"), localCred).badArg("storage.rootPath", "absolute")
	file := filepath.Join(root, "plain")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	test(local(file), localCred).fail(http.StatusOK, "OperationFailed")

	cloud := e.cloudStorage()
	test(cloud, cloudCredential(cloudSecret)).okNull()
	// MinIO (path-style by nature) and OBS over the same endpoint.
	test(map[string]any{"type": "MinIO", "endpoint": e.cloud.URL, "bucket": cloudBucket},
		map[string]any{"type": "MinIO", "accessKeyId": cloudKeyID, "secretAccessKey": cloudSecret}).okNull()
	test(map[string]any{"type": "OBS", "region": "cn-north-4", "endpoint": e.cloud.URL, "bucket": cloudBucket, "projectID": "p"},
		map[string]any{"type": "OBS", "accessKeyId": cloudKeyID, "secretAccessKey": cloudSecret}).okNull()

	with := func(k, v string) map[string]any {
		m := e.cloudStorage()
		m[k] = v
		return m
	}
	dead := closedPort(t)
	msg := test(with("endpoint", dead), cloudCredential(cloudSecret)).fail(http.StatusOK, "OperationFailed", "cannot reach", strings.TrimPrefix(dead, "http://"))
	require.NotContains(t, msg, cloudSecret)
	test(cloud, cloudCredential(wrongSecret)).fail(http.StatusOK, "OperationFailed", "secret access key does not match", cloudKeyID)
	test(cloud, map[string]any{"type": "S3", "accessKeyId": "AKIDUNKNOWN", "secretAccessKey": wrongSecret}).
		fail(http.StatusOK, "OperationFailed", "AKIDUNKNOWN", "not recognised")
	test(with("bucket", "no-such-bucket"), cloudCredential(cloudSecret)).fail(http.StatusOK, "OperationFailed", "no-such-bucket", "does not exist")
	test(with("endpoint", "ftp://127.0.0.1:1"), cloudCredential(cloudSecret)).fail(http.StatusOK, "OperationFailed", "endpoint")
	test(map[string]any{"type": "Tape"}, nil).badArg("storage.type", "Tape")
	test(with("bucket", ""), cloudCredential(cloudSecret)).badArg("storage.bucket")
	e.post("/v1/userSpace/test", map[string]any{"credential": localCred}).badArg("storage is required")
	e.post("/v1/userSpace/test", map[string]any{"storage": map[string]any{"type": 5}}).badArg("storage.type")

	// The same failures on a created space show when it is used: create
	// does not contact the cloud, test does.
	id := e.createSpace(map[string]any{"name": "wrongkey", "storage": e.cloudStorage(), "credential": cloudCredential(wrongSecret),
		"shardStore": map[string]any{"maxSize": 0}, "features": []any{}, "workingDir": "wk"})["userSpaceID"]
	b := e.c.createBucket("bkt")
	p := e.c.createPackage(b, "pkg")
	parts := []formPart{infoPart(map[string]any{"packageID": p, "affinity": asInt(t, id)}), filesPart("a.txt", []byte("hello"))}
	msg = e.noSecret(e.c.form("/v1/object/upload", parts...)).fail(http.StatusOK, "OperationFailed")
	require.NotContains(t, msg, wrongSecret)
	require.Empty(t, e.cloud.keys("wk/"))
}

// uploadTo uploads files into a package with an affinity.
func (e *spaceEnv) uploadTo(pkgID, affinity int64, files ...fileData) []objectV {
	e.t.Helper()
	parts := []formPart{infoPart(map[string]any{"userID": 1, "packageID": pkgID, "affinity": affinity})}
	for _, f := range files {
		parts = append(parts, filesPart(f.path, f.data))
	}
	d := e.noSecret(e.c.form("/v1/object/upload", parts...)).ok()
	objs := checkObjects(e.t, d["uploadeds"])
	require.Len(e.t, objs, len(files))
	for i, f := range files {
		require.Equal(e.t, jcsFullHash(f.data), objs[i].FileHash)
	}
	return objs
}

// frontS3 is an SDK client of the server's S3 front, path-style.
func (e *spaceEnv) frontS3() *s3.Client {
	return s3.New(s3.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(e.srv.AccessKey, e.srv.SecretKey, ""),
		BaseEndpoint:     aws.String(e.srv.URL),
		UsePathStyle:     true,
		HTTPClient:       e.srv.HTTP,
		RetryMaxAttempts: 1,
	})
}

func (e *spaceEnv) frontGet(bucket, key string) []byte {
	e.t.Helper()
	out, err := e.frontS3().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(e.t, err)
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	require.NoError(e.t, err)
	return b
}

func TestSpaceAffinityPlacement(t *testing.T) {
	e := newSpaceEnv(t)
	locRoot := t.TempDir()
	locID := e.localSpace("local", locRoot, "wd", true)
	s3ID := e.cloudSpace("cloud", "jcs", true)
	bare := e.localSpace("bare", t.TempDir(), "", false) // no shard store: holds no objects

	bid := e.c.createBucket("place")
	pkg := e.c.createPackage(bid, "pkg")
	inLocal := spaceBytes(1, 70_000)
	inCloud := spaceBytes(2, 90_000)
	inDefault := spaceBytes(3, 5_000)
	ol := e.uploadTo(pkg, locID, fileData{"l/local.bin", inLocal})[0]
	oc := e.uploadTo(pkg, s3ID, fileData{"c/cloud.bin", inCloud})[0]
	od := e.uploadTo(pkg, 0, fileData{"d.bin", inDefault})[0]
	// Info last: files staged before the affinity is known still land there.
	parts := []formPart{filesPart("c/late.bin", inCloud[:1000]), infoPart(map[string]any{"packageID": pkg, "affinity": s3ID})}
	late := checkObjects(t, e.noSecret(e.c.form("/v1/object/upload", parts...)).ok()["uploadeds"])[0]

	requireFile := func(p string, want []byte) {
		t.Helper()
		got, err := os.ReadFile(p)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	requireNoFile := func(p string) {
		t.Helper()
		_, err := os.Stat(p)
		require.ErrorIs(t, err, fs.ErrNotExist, "%s exists", p)
	}
	// Local space: the blob under rootPath/workingDir/blocks, nowhere else.
	// (A blob staged in the default space and moved on is removed there; a
	// fresh reader of the directory sees it gone once its delete record is
	// written, within the store's short flush delay.)
	requireNotDefault := func(name string) {
		t.Helper()
		require.Eventually(t, func() bool {
			_, ok := defaultBlob(t, e.srv, name)
			return !ok
		}, 5*time.Second, 10*time.Millisecond, "%s is in the default space", name)
	}
	requireFile(blobPath(filepath.Join(locRoot, "wd"), ol.FileHash), inLocal)
	requireNotDefault(ol.FileHash)
	_, ok := e.cloud.object(blobPath("jcs", ol.FileHash))
	require.False(t, ok)
	// S3 space: a key under workingDir/blocks in the cloud bucket.
	got, ok := e.cloud.object(blobPath("jcs", oc.FileHash))
	require.True(t, ok, "keys: %v", e.cloud.keys(""))
	require.Equal(t, inCloud, got)
	got, ok = e.cloud.object(blobPath("jcs", late.FileHash))
	require.True(t, ok)
	require.Equal(t, inCloud[:1000], got)
	requireNotDefault(oc.FileHash)
	requireNotDefault(late.FileHash)
	requireNoFile(blobPath(filepath.Join(locRoot, "wd"), oc.FileHash))
	// Default: the data dir.
	got, ok = defaultBlob(t, e.srv, od.FileHash)
	require.True(t, ok)
	require.Equal(t, inDefault, got)
	require.Equal(t, []string{blobPath("jcs", late.FileHash), blobPath("jcs", oc.FileHash)}, sortedStrings(e.cloud.keys("")))

	// Reads through /v1 and through the S3 front, from each space.
	for _, c := range []struct {
		o    objectV
		data []byte
	}{{ol, inLocal}, {oc, inCloud}, {od, inDefault}, {late, inCloud[:1000]}} {
		require.Equal(t, c.data, e.c.download(c.o.ID, nil).data())
		require.Equal(t, c.data[10:20], e.c.download(c.o.ID, url.Values{"offset": {"10"}, "length": {"10"}}).data())
		require.Equal(t, c.data, e.frontGet("place", "pkg/"+c.o.Path))
	}

	// Refusals: unknown space, space without a shard store.
	e.noSecret(e.c.form("/v1/object/upload", infoPart(map[string]any{"packageID": pkg, "affinity": 4242}), filesPart("x", []byte("x")))).badArg("4242")
	e.noSecret(e.c.form("/v1/object/upload", infoPart(map[string]any{"packageID": pkg, "affinity": bare}), filesPart("x", []byte("x")))).badArg("storing data")

	// A space holding data cannot be deleted; the message counts objects.
	e.post("/v1/userSpace/delete", map[string]any{"userSpaceID": locID}).fail(http.StatusOK, "OperationFailed", "1 objects")
	e.post("/v1/userSpace/delete", map[string]any{"userSpaceID": s3ID}).fail(http.StatusOK, "OperationFailed", "2 objects")
	// Once its objects are gone, so are its blobs, and it can go.
	e.post("/v1/object/delete", map[string]any{"objectIDs": []int64{ol.ID, oc.ID, late.ID}}).okNull()
	requireNoFile(blobPath(filepath.Join(locRoot, "wd"), ol.FileHash))
	require.Empty(t, e.cloud.keys("jcs/blocks/"))
	e.post("/v1/userSpace/delete", map[string]any{"userSpaceID": locID}).okNull()
	e.post("/v1/userSpace/delete", map[string]any{"userSpaceID": s3ID}).okNull()
	e.post("/v1/userSpace/delete", map[string]any{"userSpaceID": bare}).okNull()
	// The default keeps its object.
	require.Equal(t, inDefault, e.c.download(od.ID, nil).data())
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// localTree writes files (path → bytes) under root.
func localTree(t testing.TB, root string, files map[string][]byte) {
	t.Helper()
	for p, data := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, data, 0o644))
	}
}

// readTree reads every regular file under root (path → bytes) and lists
// its directories.
func readTree(t testing.TB, root string) (files map[string][]byte, dirs []string) {
	t.Helper()
	files = map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			dirs = append(dirs, rel)
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[rel] = b
		return nil
	})
	require.NoError(t, err)
	return files, dirs
}

func TestSpaceImportExportPackages(t *testing.T) {
	e := newSpaceEnv(t)
	srcRoot := t.TempDir()
	outRoot := t.TempDir()
	srcID := e.localSpace("src", srcRoot, "", false)
	outID := e.localSpace("out", outRoot, "", false)
	s3ID := e.cloudSpace("cloud", "jcs", true)
	storeRoot := t.TempDir()
	storeID := e.localSpace("store", storeRoot, "wd", true)
	bid := e.c.createBucket("imports")

	// A local tree of 1,000 files in nested directories, and an empty one.
	tree := map[string][]byte{}
	treePath := func(i int) string { return fmt.Sprintf("d%d/e%d/f%04d.bin", i%10, (i/10)%7, i) }
	for i := range 1000 {
		tree[treePath(i)] = spaceBytes(uint64(100+i), (i*37)%3000)
	}
	localTree(t, filepath.Join(srcRoot, "tree"), tree)
	require.NoError(t, os.MkdirAll(filepath.Join(srcRoot, "tree", "empty"), 0o755))
	localTree(t, srcRoot, map[string][]byte{"outside.txt": []byte("not imported")})

	d := e.post("/v1/userSpace/createPackage", map[string]any{"userID": 1, "userSpaceID": srcID, "path": "tree",
		"bucketID": bid, "name": "fromLocal", "spaceAffinity": 0}).ok()
	requireKeys(t, d, "package")
	pk := checkPackage(t, d["package"])
	require.Equal(t, "fromLocal", pk.Name)
	require.Equal(t, bid, pk.BucketID)
	objs := e.c.packageObjects(pk.ID)
	require.Len(t, objs, 1001)
	byPath := map[string]objectV{}
	for _, o := range objs {
		byPath[o.Path] = o
	}
	for p, data := range tree {
		o, ok := byPath[p]
		require.True(t, ok, "missing %s", p)
		require.Equal(t, int64(len(data)), o.Size)
		require.Equal(t, jcsFullHash(data), o.FileHash)
	}
	empty, ok := byPath["empty/"]
	require.True(t, ok, "the empty directory is the object \"empty/\"")
	require.Equal(t, int64(0), empty.Size)
	// Spot checks of the bytes, through /v1 and the S3 front.
	for _, p := range []string{treePath(0), treePath(203), treePath(999)} {
		require.Equal(t, tree[p], e.c.download(byPath[p].ID, nil).data())
		require.Equal(t, tree[p], e.frontGet("imports", "fromLocal/"+p))
	}

	// A single file imports as its base name.
	d = e.post("/v1/userSpace/createPackage", map[string]any{"userSpaceID": srcID, "path": "tree/" + treePath(1),
		"bucketID": bid, "name": "single", "spaceAffinity": storeID}).ok()
	single := checkPackage(t, d["package"])
	so := e.c.packageObjects(single.ID)
	require.Len(t, so, 1)
	require.Equal(t, "f0001.bin", so[0].Path)
	// spaceAffinity put its bytes in the store space.
	got, err := os.ReadFile(blobPath(filepath.Join(storeRoot, "wd"), so[0].FileHash))
	require.NoError(t, err)
	require.Equal(t, tree[treePath(1)], got)

	// From an S3 prefix (with a directory marker), into the Local store space.
	cloudTree := map[string][]byte{}
	for i := range 40 {
		cloudTree[fmt.Sprintf("a%d/b%d/o%02d.dat", i%3, i%2, i)] = spaceBytes(uint64(5000+i), 100+i*50)
	}
	for p, data := range cloudTree {
		e.cloud.put("src/"+p, data)
	}
	e.cloud.put("src/emptydir/", nil)
	e.cloud.put("elsewhere.txt", []byte("not imported"))
	d = e.post("/v1/userSpace/createPackage", map[string]any{"userSpaceID": s3ID, "path": "src",
		"bucketID": bid, "name": "fromCloud", "spaceAffinity": storeID}).ok()
	fc := checkPackage(t, d["package"])
	cobjs := e.c.packageObjects(fc.ID)
	require.Len(t, cobjs, 41)
	for _, o := range cobjs {
		if o.Path == "emptydir/" {
			require.Equal(t, int64(0), o.Size)
			continue
		}
		data, ok := cloudTree[o.Path]
		require.True(t, ok, "unexpected %s", o.Path)
		require.Equal(t, jcsFullHash(data), o.FileHash)
		got, err := os.ReadFile(blobPath(filepath.Join(storeRoot, "wd"), o.FileHash))
		require.NoError(t, err)
		require.Equal(t, data, got)
	}
	require.Equal(t, cloudTree["a1/b1/o01.dat"], e.frontGet("imports", "fromCloud/a1/b1/o01.dat"))

	// Errors.
	e.post("/v1/userSpace/createPackage", map[string]any{"userSpaceID": srcID, "path": "tree", "bucketID": bid, "name": "fromLocal"}).
		fail(http.StatusOK, "DataExists")
	e.post("/v1/userSpace/createPackage", map[string]any{"userSpaceID": srcID, "path": "nope", "bucketID": bid, "name": "n1"}).
		fail(http.StatusOK, "OperationFailed", "nope")
	e.post("/v1/userSpace/createPackage", map[string]any{"userSpaceID": srcID, "path": "tree", "bucketID": 9999, "name": "n2"}).notFound()
	e.post("/v1/userSpace/createPackage", map[string]any{"userSpaceID": 9999, "path": "tree", "bucketID": bid, "name": "n3"}).badArg("9999")
	e.post("/v1/userSpace/createPackage", map[string]any{"userSpaceID": srcID, "bucketID": bid, "name": "n4"}).badArg("path is required")
	e.post("/v1/userSpace/createPackage", map[string]any{"userSpaceID": srcID, "path": "tree", "bucketID": bid}).badArg("name is required")
	e.post("/v1/userSpace/createPackage", map[string]any{"userSpaceID": srcID, "path": "tree", "name": "n5"}).badArg("bucketID is required")
	e.post("/v1/userSpace/createPackage", map[string]any{"userSpaceID": srcID, "path": "tree", "bucketID": bid, "name": "n6", "spaceAffinity": -1}).
		badArg("spaceAffinity")
	e.post("/v1/userSpace/createPackage", map[string]any{"path": "tree", "bucketID": bid, "name": "n7"}).badArg("userSpaceID is required")
	// Nothing half-made was left behind.
	ps := e.get("/v1/package/listBucketPackages", url.Values{"bucketID": {idStr(bid)}}).ok()
	require.Len(t, asList(t, ps["packages"]), 3)

	// downloadPackage to a Local space: every file at rootPath/<path>, exact
	// bytes, and the empty directory.
	e.post("/v1/userSpace/downloadPackage", map[string]any{"userID": 1, "userSpaceID": outID, "packageID": pk.ID, "rootPath": "exp/one"}).okNull()
	files, dirs := readTree(t, filepath.Join(outRoot, "exp", "one"))
	require.Equal(t, len(tree), len(files))
	for p, data := range tree {
		require.Equal(t, data, files[p], p)
	}
	require.Contains(t, dirs, "empty")
	// Over existing files: they are replaced, not duplicated.
	require.NoError(t, os.WriteFile(filepath.Join(outRoot, "exp", "one", filepath.FromSlash(treePath(1))), []byte("stale"), 0o644))
	e.post("/v1/userSpace/downloadPackage", map[string]any{"userSpaceID": outID, "packageID": single.ID,
		"rootPath": "exp/one/" + path.Dir(treePath(1))}).okNull()
	files, _ = readTree(t, filepath.Join(outRoot, "exp", "one"))
	require.Equal(t, tree[treePath(1)], files[treePath(1)])
	require.Len(t, files, len(tree))

	// downloadPackage to the S3 space: keys in the cloud bucket.
	e.post("/v1/userSpace/downloadPackage", map[string]any{"userSpaceID": s3ID, "packageID": fc.ID, "rootPath": "exported"}).okNull()
	keys := e.cloud.keys("exported/")
	require.Len(t, keys, 41)
	for p, data := range cloudTree {
		got, ok := e.cloud.object("exported/" + p)
		require.True(t, ok, p)
		require.Equal(t, data, got)
	}
	marker, ok := e.cloud.object("exported/emptydir/")
	require.True(t, ok)
	require.Empty(t, marker)
	// The 1,000-file package to S3 as well.
	e.post("/v1/userSpace/downloadPackage", map[string]any{"userSpaceID": s3ID, "packageID": pk.ID, "rootPath": "big"}).okNull()
	require.Len(t, e.cloud.keys("big/"), 1001)
	for _, p := range []string{treePath(0), treePath(535), treePath(999)} {
		got, ok := e.cloud.object("big/" + p)
		require.True(t, ok)
		require.Equal(t, tree[p], got)
	}

	e.post("/v1/userSpace/downloadPackage", map[string]any{"userSpaceID": outID, "packageID": 9999, "rootPath": "x"}).notFound()
	e.post("/v1/userSpace/downloadPackage", map[string]any{"userSpaceID": 9999, "packageID": pk.ID, "rootPath": "x"}).badArg("9999")
	e.post("/v1/userSpace/downloadPackage", map[string]any{"userSpaceID": outID, "packageID": pk.ID}).badArg("rootPath is required")
	e.post("/v1/userSpace/downloadPackage", map[string]any{"userSpaceID": outID, "rootPath": "x"}).badArg("packageID is required")
}
