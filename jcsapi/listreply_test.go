package jcsapi

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"jcsgw/gateway"
)

func testObjects(n int) []gateway.Object {
	var out []gateway.Object
	at := time.Date(2024, 11, 19, 16, 2, 25, 0, time.UTC)
	for i := range n {
		out = append(out, gateway.Object{ID: int64(i + 1), PackageID: 12,
			// What JSON escapes, and what it would escape for HTML.
			Path: fmt.Sprintf(`a/"%d"<&>\ü%s`, i, strings.Repeat("x", i%300)), Size: int64(i * 1293),
			FileHash: "Full4E69A8B8", Redundancy: "none", CreateTime: at, UpdateTime: at.Add(time.Duration(i) * time.Millisecond)})
	}
	return out
}

// A streamed list is byte for byte the reply writeOK makes of the whole
// list, whatever its length: empty, one element, a few, and many times the
// flush size.
func TestListReplyMatchesWriteOK(t *testing.T) {
	a := &api{log: slog.New(slog.DiscardHandler)}
	for _, n := range []int{0, 1, 3, 2000} {
		objs := testObjects(n)
		want := httptest.NewRecorder()
		writeOK(want, map[string]any{"objects": toObjects(objs)})

		got := httptest.NewRecorder()
		a.serveList(got, httptest.NewRequest("GET", "/", nil), "objects", func(add func(any) error) error {
			for _, o := range objs {
				if err := add(toObject(o)); err != nil {
					return err
				}
			}
			return nil
		})
		require.Equal(t, http.StatusOK, got.Code, "%d objects", n)
		require.Equal(t, want.Body.String(), got.Body.String(), "%d objects", n)
		require.Equal(t, "application/json", got.Header().Get("Content-Type"))
		require.Equal(t, "no-store", got.Header().Get("Cache-Control"))
	}
}

// An error before the first element is an ordinary error reply; one after
// it cuts the connection, so that the client cannot take a partial list
// for a whole one.
func TestListReplyErrors(t *testing.T) {
	a := &api{log: slog.New(slog.DiscardHandler)}
	failAfter := -1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.serveList(w, r, "objects", func(add func(any) error) error {
			for i, o := range testObjects(3000) {
				if i == failAfter {
					return &gateway.Error{Code: gateway.CodeNoSuchPackage, Message: "package 7 does not exist"}
				}
				if err := add(toObject(o)); err != nil {
					return err
				}
			}
			return nil
		})
	}))
	defer srv.Close()
	get := func() (*http.Response, []byte, error) {
		resp, err := http.Get(srv.URL)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}

	failAfter = 0
	resp, body, err := get()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, `{"code":"DataNotFound","message":"package 7 does not exist","data":null}`, string(body))

	failAfter = 2500 // past several flushes
	_, body, err = get()
	require.Error(t, err, "a list cut short read as complete (%d bytes)", len(body))
	require.False(t, errors.Is(err, io.EOF))
	require.NotContains(t, string(body), "]}}")

	failAfter = -1
	_, body, err = get()
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(string(body), "]}}\n"))
}
