package auth

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sdkClient is the real aws-sdk-go-v2 S3 client pointed at srv, with the
// SDK's default checksum behaviour (CRC32, sent as an aws-chunked trailer
// over TLS).
func sdkClient(srv *testServer, ak, sk string) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, nil
		}),
		HTTPClient:       srv.Client(),
		RetryMaxAttempts: 1,
		// The default that config.LoadDefaultConfig applies.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
	})
}

var sdkKeys = []string{
	"simple.txt",
	"dir/with space/and+plus.bin",
	"ünïcödé/日本語 ファイル",
	"percent%2F%25literal",
	"reserved!$&'()*,;=:@[]{}^`|\\\"<>#?chars",
	"~tilde/-dash_/.dot",
}

func TestSDKClientPutObjectUnsignedTrailer(t *testing.T) {
	srv := startServer(t, true, (&Verifier{Keys: testKeys()}).VerifyS3)
	cli := sdkClient(srv, testAK, testSK)
	ctx := context.Background()
	for i, key := range sdkKeys {
		t.Run(key, func(t *testing.T) {
			data := patterned(1 + i*40000) // spans one and several 64 KiB chunks
			_, err := cli.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String("bucket"),
				Key:    aws.String(key),
				Body:   bytes.NewReader(data),
				Metadata: map[string]string{
					"note": "hello  world",
				},
				ContentType: aws.String("application/x-test"),
			})
			require.NoError(t, err)
			res := srv.result(t)
			require.NoError(t, res.ReadErr)
			assert.Equal(t, Identity{AccessKey: testAK}, res.ID)
			require.Equal(t, data, res.Body, "decoded body must be byte-exact")
			assert.Equal(t, int64(len(data)), res.ContentLength)
			assert.Empty(t, res.ContentEncoding)
			require.NotNil(t, res.Trailers, "the SDK sends its checksum as a trailer over TLS")
			assert.Equal(t, crc32Base64(data), res.Trailers["x-amz-checksum-crc32"][0])
		})
	}
}

// Over plain HTTP the SDK signs the payload hash instead.
func TestSDKClientPutObjectHexPayload(t *testing.T) {
	srv := startServer(t, false, (&Verifier{Keys: testKeys()}).VerifyS3)
	cli := sdkClient(srv, testAK, testSK)
	data := patterned(100000)
	_, err := cli.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String("bucket"), Key: aws.String(sdkKeys[2]), Body: bytes.NewReader(data),
	})
	require.NoError(t, err)
	res := srv.result(t)
	require.Equal(t, data, res.Body)
	assert.Nil(t, res.Trailers)
}

func TestSDKClientReadsAndLists(t *testing.T) {
	srv := startServer(t, true, (&Verifier{Keys: testKeys()}).VerifyS3)
	cli := sdkClient(srv, testAK, testSK)
	ctx := context.Background()
	for _, key := range sdkKeys {
		out, err := cli.GetObject(ctx, &s3.GetObjectInput{
			Bucket:                     aws.String("bucket"),
			Key:                        aws.String(key),
			Range:                      aws.String("bytes=0-99"),
			ResponseContentDisposition: aws.String(`attachment; filename="a b+c.txt"`),
			VersionId:                  aws.String("v1+/="),
		})
		require.NoError(t, err, key)
		b, _ := io.ReadAll(out.Body)
		out.Body.Close()
		assert.Equal(t, "object-data", string(b))
		assert.Equal(t, testAK, srv.result(t).ID.AccessKey)

		_, err = cli.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
			Bucket:     aws.String("bucket"),
			Prefix:     aws.String(key),
			Delimiter:  aws.String("/"),
			StartAfter: aws.String("a b+c%d&e=f"),
		})
		require.NoError(t, err, key)
		assert.Equal(t, testAK, srv.result(t).ID.AccessKey)
	}
}

func TestSDKClientWrongSecret(t *testing.T) {
	srv := startServer(t, true, (&Verifier{Keys: testKeys()}).VerifyS3)
	for _, tc := range []struct{ ak, sk, code string }{
		{testAK, "wrong", CodeSignatureDoesNotMatch},
		{"AKIDNOPE", testSK, CodeInvalidAccessKeyID},
	} {
		_, err := sdkClient(srv, tc.ak, tc.sk).PutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String("bucket"), Key: aws.String("k"), Body: bytes.NewReader([]byte("data")),
		})
		var apiErr smithy.APIError
		require.True(t, errors.As(err, &apiErr), "%v", err)
		assert.Equal(t, tc.code, apiErr.ErrorCode())
		srv.result(t)
	}
}

func TestSDKPresignClient(t *testing.T) {
	srv := startServer(t, true, (&Verifier{Keys: testKeys()}).VerifyS3)
	ps := s3.NewPresignClient(sdkClient(srv, testAK, testSK))
	ctx := context.Background()

	get, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket:                     aws.String("bucket"),
		Key:                        aws.String(sdkKeys[3]),
		ResponseContentDisposition: aws.String(`attachment; filename="x y.txt"`),
	}, s3.WithPresignExpires(10*time.Minute))
	require.NoError(t, err)
	req := newReq(t, get.Method, get.URL, nil)
	status, body := send(t, srv.Client(), req)
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, testAK, srv.result(t).ID.AccessKey)

	data := patterned(5000)
	put, err := ps.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("bucket"), Key: aws.String(sdkKeys[1]),
	}, s3.WithPresignExpires(time.Minute))
	require.NoError(t, err)
	req = newReq(t, put.Method, put.URL, data)
	for k, vs := range put.SignedHeader {
		if k != "Host" {
			req.Header[k] = vs
		}
	}
	status, body = send(t, srv.Client(), req)
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, data, srv.result(t).Body)
}
