package test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func userS3(s *Server, ak, sk string) *s3.Client {
	return s3.New(s3.Options{BaseEndpoint: aws.String(s.URL), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, "")})
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestUsersAreIsolatedOnBothFronts(t *testing.T) {
	s := StartServer(t, nil)
	ctx := context.Background()
	svc := s.Jcsgw().Service()
	alice, aliceSecret, err := svc.AddUser(ctx, "alice")
	require.NoError(t, err)
	aliceKey := alice.Keys[0]
	admin := newJCS(t, s)
	aliceJCS := admin.withKeys(aliceKey, aliceSecret)
	aliceS3 := userS3(s, aliceKey, aliceSecret)

	// Each makes a bucket with an object.
	b := admin.post("/v1/bucket/create", map[string]any{"userID": 1, "name": "admin-bkt"}).ok()
	adminBucket := num(b["bucket"].(map[string]any)["bucketID"])
	p := admin.post("/v1/package/create", map[string]any{"bucketID": adminBucket, "name": "p"}).ok()
	adminPkg := num(p["package"].(map[string]any)["packageID"])
	up := admin.upload(adminPkg, fileData{path: "secret.txt", data: []byte("admin's")}).ok()
	adminObj := num(up["uploadeds"].([]any)[0].(map[string]any)["objectID"])
	_, err = aliceS3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alice-bkt")})
	require.NoError(t, err)
	_, err = aliceS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("alice-bkt"), Key: aws.String("p/x"), Body: strings.NewReader("alice's")})
	require.NoError(t, err)

	// Listings show only one's own buckets, on both fronts.
	lb, err := aliceS3.ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	require.Len(t, lb.Buckets, 1)
	assert.Equal(t, "alice-bkt", *lb.Buckets[0].Name)
	all := aliceJCS.get("/v1/bucket/listAll", nil).ok()
	require.Len(t, all["buckets"], 1)
	assert.Equal(t, "alice-bkt", all["buckets"].([]any)[0].(map[string]any)["name"])
	all = admin.get("/v1/bucket/listAll", nil).ok()
	require.Len(t, all["buckets"], 1)
	assert.Equal(t, "admin-bkt", all["buckets"].([]any)[0].(map[string]any)["name"])

	// Another user's bucket is refused, by name, by ID, through any object.
	_, err = aliceS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("admin-bkt"), Key: aws.String("p/secret.txt")})
	assert.Equal(t, "AccessDenied", apiCode(err))
	_, err = aliceS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("admin-bkt"), Key: aws.String("p/planted"), Body: strings.NewReader("x")})
	assert.Equal(t, "AccessDenied", apiCode(err))
	_, err = aliceS3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("admin-bkt")})
	assert.Equal(t, "AccessDenied", apiCode(err))
	_, err = aliceS3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("admin-bkt")})
	assert.Equal(t, "AccessDenied", apiCode(err))
	aliceJCS.get("/v1/bucket/getByName", url.Values{"name": {"admin-bkt"}}).fail(http.StatusUnauthorized, "Unauthorized")
	aliceJCS.get("/v1/object/getPackageObjects", url.Values{"packageID": {itoa(adminPkg)}}).fail(http.StatusUnauthorized, "Unauthorized")
	r := aliceJCS.get("/v1/object/download", url.Values{"objectID": {itoa(adminObj)}})
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	aliceJCS.post("/v1/object/delete", map[string]any{"objectIDs": []int64{adminObj}})
	aliceJCS.post("/v1/bucket/delete", map[string]any{"bucketID": adminBucket})
	// Nothing of the admin's was touched.
	got := admin.get("/v1/object/download", url.Values{"objectID": {itoa(adminObj)}})
	assert.Equal(t, "admin's", string(got.Body))
	_, err = userS3(s, s.AccessKey, s.SecretKey).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("admin-bkt"), Key: aws.String("p/planted")})
	assert.Equal(t, "NotFound", apiCode(err))

	// Bucket names stay unique server-wide.
	_, err = aliceS3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("admin-bkt")})
	assert.Error(t, err)

	// A revoked key stops working at once; secrets are sealed in the catalog.
	require.NoError(t, svc.RemoveKey(ctx, aliceKey))
	_, err = aliceS3.ListBuckets(ctx, &s3.ListBucketsInput{})
	assert.Equal(t, "InvalidAccessKeyId", apiCode(err))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func num(v any) int64 {
	n, _ := v.(json.Number).Int64()
	return n
}

func TestUsersAdminEndpoints(t *testing.T) {
	s := StartServer(t, nil)
	admin := newJCS(t, s)
	u := admin.post("/v1/admin/user/create", map[string]any{"name": "bob"}).ok()["user"].(map[string]any)
	requireKeys(t, u, "id", "name", "accessKey", "secretKey")
	bob := admin.withKeys(u["accessKey"].(string), u["secretKey"].(string))
	bob.post("/v1/bucket/create", map[string]any{"name": "bob-bkt"}).ok()

	users := admin.get("/v1/admin/user/list", nil).ok()["users"].([]any)
	require.Len(t, users, 1)
	listed := users[0].(map[string]any)
	assert.Equal(t, "bob", listed["name"])
	assert.Equal(t, []any{u["accessKey"]}, listed["keys"])
	assert.NotContains(t, string(admin.get("/v1/admin/user/list", nil).Body), u["secretKey"].(string), "secrets never listed")

	// Only the admin manages users.
	bob.post("/v1/admin/user/create", map[string]any{"name": "mallory"}).fail(http.StatusUnauthorized, "Unauthorized")
	bob.get("/v1/admin/user/list", nil).fail(http.StatusUnauthorized, "Unauthorized")

	k := admin.post("/v1/admin/key/create", map[string]any{"name": "bob"}).ok()
	bob2 := admin.withKeys(k["accessKey"].(string), k["secretKey"].(string))
	assert.Len(t, bob2.get("/v1/bucket/listAll", nil).ok()["buckets"], 1, "the second key acts for the same user")
	admin.post("/v1/admin/key/delete", map[string]any{"accessKey": u["accessKey"]}).okNull()
	assert.Equal(t, http.StatusUnauthorized, bob.get("/v1/bucket/listAll", nil).Status, "a deleted key stops working")
	admin.post("/v1/admin/user/delete", map[string]any{"name": "bob"}).fail(http.StatusOK, "OperationFailed", "owns")
	bob2.post("/v1/bucket/delete", map[string]any{"bucketID": num(bob2.get("/v1/bucket/getByName", url.Values{"name": {"bob-bkt"}}).ok()["bucket"].(map[string]any)["bucketID"])}).okNull()
	admin.post("/v1/admin/user/delete", map[string]any{"name": "bob"}).okNull()
	assert.Equal(t, http.StatusUnauthorized, bob2.get("/v1/bucket/listAll", nil).Status)
}
