package jcsapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"jcsgw/gateway"
	"jcsgw/gateway/auth"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{badArg("x is required"), http.StatusBadRequest, codeBadArgument},
		{unauthorized("no"), http.StatusUnauthorized, codeUnauthorized},
		{&gateway.Error{Code: gateway.CodeBadArgument, Message: "path is empty"}, http.StatusBadRequest, codeBadArgument},
		{&gateway.Error{Code: gateway.CodeInvalidRange, Message: "offset"}, http.StatusBadRequest, codeBadArgument},
		{&gateway.Error{Code: gateway.CodeNoSuchKey, Message: "object 3"}, http.StatusOK, codeDataNotFound},
		{&gateway.Error{Code: gateway.CodeNoSuchPackage, Message: "p"}, http.StatusOK, codeDataNotFound},
		{&gateway.Error{Code: gateway.CodeNoSuchBucket, Message: "b"}, http.StatusOK, codeDataNotFound},
		{&gateway.Error{Code: gateway.CodeBucketExists, Message: "b"}, http.StatusOK, codeDataExists},
		{&gateway.Error{Code: gateway.CodePackageExists, Message: "p"}, http.StatusOK, codeDataExists},
		{&gateway.Error{Code: gateway.CodeNoSuchSpace, Message: "s"}, http.StatusOK, codeDataNotFound},
		{&gateway.Error{Code: gateway.CodeTaskNotFound, Message: "t"}, http.StatusOK, codeTaskNotFound},
		{&gateway.Error{Code: gateway.CodeOperationFailed, Message: "f"}, http.StatusOK, codeOperationFailed},
		{&gateway.Error{Code: "SomethingNew", Message: "f"}, http.StatusOK, codeOperationFailed},
		{errors.New("disk on fire"), http.StatusOK, codeOperationFailed},
		{fmt.Errorf("wrapped: %w", context.Canceled), http.StatusOK, codeOperationFailed},
		// A body the verifier refused while the gateway read it.
		{&gateway.Error{Code: gateway.CodeIncompleteBody, Message: "body", Err: &auth.Error{Code: auth.CodeXAmzContentSHA256Mismatch, Message: "mismatch"}}, http.StatusUnauthorized, codeUnauthorized},
	} {
		status, code, msg := classify(tc.err)
		require.Equal(t, tc.status, status, "%v", tc.err)
		require.Equal(t, tc.code, code, "%v", tc.err)
		require.NotEmpty(t, msg)
	}
	// Unexpected errors do not leak their text.
	_, _, msg := classify(errors.New("secret path /var/x"))
	require.NotContains(t, msg, "secret")
}

func TestIndexes(t *testing.T) {
	q := query{url.Values{"indexes": {"3,1", "2", " 4 , 3 "}}}
	got, err := q.indexes("indexes")
	require.NoError(t, err)
	require.Equal(t, []int{3, 1, 2, 4, 3}, got)
	for _, bad := range []string{"", "1,x", "-1", "4294967297", "1.5"} {
		_, err := query{url.Values{"indexes": {bad}}}.indexes("indexes")
		require.Error(t, err, bad)
		_, code, msg := classify(err)
		require.Equal(t, codeBadArgument, code)
		require.Contains(t, msg, "indexes")
	}
}

func TestDecodeJSONNamesTheField(t *testing.T) {
	var v struct {
		Movings *[]struct {
			ObjectID *int64 `json:"objectID"`
		} `json:"movings"`
	}
	err := decodeJSON([]byte(`{"movings":[{"objectID":"1"}]}`), &v)
	_, code, msg := classify(err)
	require.Equal(t, codeBadArgument, code)
	require.Contains(t, msg, "movings.objectID")
	require.Contains(t, msg, "an integer")
	require.Contains(t, msg, "a string")
}
