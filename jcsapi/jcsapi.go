// Package jcsapi is the JCS /v1 JSON front: it authenticates each request
// (SigV4, service "jcs", region "any"), turns it into gateway calls and
// answers in the JCS wire shape {"code","message","data"}.
//
// Semantics of the front (beyond the JCS document):
//
//   - Business outcomes are HTTP 200 with a code: DataNotFound for unknown
//     IDs and names, DataExists for taken names, OperationFailed for the
//     rest. A malformed request is HTTP 400 BadArgument with a message that
//     names the field: bad JSON, a missing or mistyped member or parameter,
//     a negative offset, an invalid name or path, an offset past the end.
//     Failed authentication (including an expired presigned URL) is HTTP
//     401 Unauthorized. An unknown /v1 route is HTTP 404 DataNotFound, a
//     known one with the wrong method 405 BadArgument; all in JSON.
//   - JSON bodies may come without a Content-Type, are read whole (at most
//     1 MiB), hashed for the signature check, then decoded; unknown members
//     (such as userID) are ignored. Query endpoints accept GET and POST
//     (some JCS SDKs POST them) and ignore unknown parameters.
//   - Multipart forms (object/upload, object/uploadPart) are authenticated
//     with an empty payload hash before their body is read, and streamed part
//     by part, never buffered. The info part may come first or last. Upload
//     files are staged and committed together when the form ends: a form
//     that fails or is cut off leaves nothing visible. Filenames are paths,
//     URL-escaped (url.PathUnescape). A path given twice in one form is
//     refused.
//   - download: offset defaults to 0; no length (or an empty one) reads to
//     the end; length 0 is an empty body; offset = size is an empty body;
//     offset > size is 400 BadArgument. Errors are JSON with Content-Type
//     exactly application/json; data is application/octet-stream with its
//     Content-Length.
//   - Presigned endpoints (/v1/presigned/object/...) take their arguments in
//     the query and data as the raw request body. completeMultipartUpload
//     takes indexes as repeated parameters, comma-separated values, or both,
//     in the order given. Presigned upload answers {"object": ...}.
//   - uploadPart answers {"code":"OK","message":""} with no data member, as
//     the JCS document shows.
//   - User spaces (userSpace/*) and space sync tasks (spaceSyncer/*): their
//     reply shapes, the masking of secrets and the sync task's "state" are
//     described in spaces.go and sync.go.
package jcsapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"

	"jcsgw/gateway"
	"jcsgw/gateway/auth"
)

type api struct {
	svc *gateway.Service
	v   *auth.Verifier
	log *slog.Logger
	lim gateway.Limits
}

// Options configure the /v1 front.
type Options struct {
	// Limits are the sizes and counts the front enforces (JSON bodies,
	// uploads, parts, paths, listing pages); zero fields are the defaults
	// (gateway.DefaultLimits).
	Limits gateway.Limits
}

// New returns the /v1 handler with the default options.
func New(svc *gateway.Service, v *auth.Verifier, log *slog.Logger) http.Handler {
	return NewWithOptions(svc, v, log, Options{})
}

// NewWithOptions returns the /v1 handler.
func NewWithOptions(svc *gateway.Service, v *auth.Verifier, log *slog.Logger, opts Options) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &api{svc: svc, v: v, log: log, lim: opts.Limits.WithDefaults()}
	r := mux.NewRouter()
	r.SkipClean(true)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, http.StatusNotFound, reply{Code: codeDataNotFound, Message: "no such endpoint: " + req.URL.Path})
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, reply{Code: codeBadArgument, Message: "method " + req.Method + " is not allowed for " + req.URL.Path})
	})

	post := []string{http.MethodPost}
	get := []string{http.MethodGet, http.MethodPost}
	put := []string{http.MethodPost, http.MethodPut}

	r.Handle("/v1/admin/user/create", a.jsonCall(a.adminCreateUser)).Methods(post...)
	r.Handle("/v1/admin/user/list", a.jsonCall(a.adminListUsers)).Methods(get...)
	r.Handle("/v1/admin/user/delete", a.jsonCall(a.adminDeleteUser)).Methods(post...)
	r.Handle("/v1/admin/key/create", a.jsonCall(a.adminCreateKey)).Methods(post...)
	r.Handle("/v1/admin/key/delete", a.jsonCall(a.adminDeleteKey)).Methods(post...)
	r.Handle("/v1/bucket/create", a.jsonCall(a.createBucket)).Methods(post...)
	r.Handle("/v1/bucket/getByName", a.jsonCall(a.getBucketByName)).Methods(get...)
	r.Handle("/v1/bucket/listAll", a.jsonCall(a.listBuckets)).Methods(get...)
	r.Handle("/v1/bucket/delete", a.jsonCall(a.deleteBucket)).Methods(post...)

	r.Handle("/v1/package/create", a.jsonCall(a.createPackage)).Methods(post...)
	r.Handle("/v1/package/getByFullName", a.jsonCall(a.getPackageByFullName)).Methods(get...)
	r.Handle("/v1/package/listBucketPackages", a.listCall("packages", a.listBucketPackages)).Methods(get...)
	r.Handle("/v1/package/delete", a.jsonCall(a.deletePackage)).Methods(post...)

	r.Handle("/v1/object/upload", a.formCall(a.upload)).Methods(post...)
	r.Handle("/v1/object/download", a.downloadCall(a.download, false)).Methods(get...)
	r.Handle("/v1/object/downloadByPath", a.downloadCall(a.downloadByPath, false)).Methods(get...)
	r.Handle("/v1/object/listByPath", a.jsonCall(a.listByPath)).Methods(get...)
	r.Handle("/v1/object/getPackageObjects", a.listCall("objects", a.getPackageObjects)).Methods(get...)
	r.Handle("/v1/object/move", a.jsonCall(a.move)).Methods(post...)
	r.Handle("/v1/object/delete", a.jsonCall(a.deleteObjects)).Methods(post...)
	r.Handle("/v1/object/clone", a.jsonCall(a.clone)).Methods(post...)
	r.Handle("/v1/object/newMultipartUpload", a.jsonCall(a.newMultipartUpload)).Methods(post...)
	r.Handle("/v1/object/uploadPart", a.formCall(a.uploadPart)).Methods(post...)
	r.Handle("/v1/object/completeMultipartUpload", a.jsonCall(a.completeMultipartUpload)).Methods(post...)

	r.Handle("/v1/presigned/object/upload", a.presignedCall(a.presignedUpload)).Methods(put...)
	r.Handle("/v1/presigned/object/download", a.downloadCall(a.download, true)).Methods(get...)
	r.Handle("/v1/presigned/object/downloadByPath", a.downloadCall(a.downloadByPath, true)).Methods(get...)
	r.Handle("/v1/presigned/object/listByPath", a.presignedCall(a.presignedListByPath)).Methods(get...)
	r.Handle("/v1/presigned/object/newMultipartUpload", a.presignedCall(a.presignedNewMultipartUpload)).Methods(post...)
	r.Handle("/v1/presigned/object/uploadPart", a.presignedCall(a.presignedUploadPart)).Methods(put...)
	r.Handle("/v1/presigned/object/completeMultipartUpload", a.presignedCall(a.presignedCompleteMultipartUpload)).Methods(post...)

	r.Handle("/v1/userSpace/create", a.jsonCall(a.createUserSpace)).Methods(post...)
	r.Handle("/v1/userSpace/update", a.jsonCall(a.updateUserSpace)).Methods(post...)
	r.Handle("/v1/userSpace/delete", a.jsonCall(a.deleteUserSpace)).Methods(post...)
	r.Handle("/v1/userSpace/get", a.jsonCall(a.getUserSpace)).Methods(get...)
	r.Handle("/v1/userSpace/test", a.jsonCall(a.testUserSpace)).Methods(post...)
	r.Handle("/v1/userSpace/createPackage", a.jsonCall(a.createPackageFromSpace)).Methods(post...)
	r.Handle("/v1/userSpace/downloadPackage", a.jsonCall(a.downloadPackageToSpace)).Methods(post...)

	r.Handle("/v1/spaceSyncer/createTask", a.jsonCall(a.createSyncTask)).Methods(post...)
	r.Handle("/v1/spaceSyncer/getTask", a.jsonCall(a.getSyncTask)).Methods(get...)
	r.Handle("/v1/spaceSyncer/cancelTask", a.jsonCall(a.cancelSyncTask)).Methods(post...)
	return r
}

// call is the request of a JSON or query endpoint once authenticated.
type call struct {
	r    *http.Request
	body []byte
	q    query
}

// jsonCall serves an endpoint whose arguments are a JSON body or the query:
// the body is read whole and its hash checked by the signature before fn
// sees it.
func (a *api) jsonCall(fn func(ctx context.Context, c *call) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := a.jsonArgs(w, r)
		if c == nil {
			return
		}
		data, err := fn(c.r.Context(), c)
		if err != nil {
			a.writeErr(w, c.r, err)
			return
		}
		writeOK(w, data)
	})
}

// jsonArgs reads and authenticates the request of a jsonCall or listCall;
// if that fails, it answers and returns nil.
func (a *api) jsonArgs(w http.ResponseWriter, r *http.Request) *call {
	body, hash, err := a.readBody(r)
	if err == nil {
		r, err = a.authenticate(r, hash)
	}
	if err != nil {
		a.writeErr(w, r, err)
		return nil
	}
	return &call{r: r, body: body, q: query{r.URL.Query()}}
}

// listCall serves an endpoint whose data is one list of any length: fn
// hands each element to add, which streams it out (see listReply). An error
// before the first element is answered as usual; one after it can only cut
// the reply short, which the client sees as a broken connection.
func (a *api) listCall(field string, fn func(ctx context.Context, c *call, add func(any) error) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := a.jsonArgs(w, r)
		if c == nil {
			return
		}
		a.serveList(w, c.r, field, func(add func(any) error) error { return fn(c.r.Context(), c, add) })
	})
}

// serveList writes the list that each hands to add.
func (a *api) serveList(w http.ResponseWriter, r *http.Request, field string, each func(add func(any) error) error) {
	l := newListReply(w, field)
	err := each(l.add)
	if err == nil {
		err = l.finish()
	}
	switch {
	case err == nil:
	case !l.begun:
		a.writeErr(w, r, err)
	default:
		panic(http.ErrAbortHandler)
	}
}

// formCall serves a multipart-form endpoint: authenticated with an empty
// payload hash before the body is touched, then streamed by fn.
func (a *api) formCall(fn func(ctx context.Context, r *http.Request) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, err := a.authenticate(r, "")
		if err != nil {
			a.writeErr(w, r, err)
			return
		}
		data, err := fn(r.Context(), r)
		if err != nil {
			a.writeErr(w, r, err)
			return
		}
		writeOK(w, data)
	})
}

// presignedCall serves a presigned endpoint: arguments in the query, data
// (if any) the raw body, signature in the query.
func (a *api) presignedCall(fn func(ctx context.Context, r *http.Request, q query) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, err := a.authenticate(r, "")
		if err != nil {
			a.writeErr(w, r, err)
			return
		}
		data, err := fn(r.Context(), r, query{r.URL.Query()})
		if err != nil {
			a.writeErr(w, r, err)
			return
		}
		writeOK(w, data)
	})
}

// downloadCall serves a download: fn writes the data itself, or returns an
// error before writing anything.
func (a *api) downloadCall(fn func(w http.ResponseWriter, r *http.Request, q query) error, presigned bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err error
		if presigned {
			r, err = a.authenticate(r, "")
		} else {
			var hash string
			if _, hash, err = a.readBody(r); err == nil {
				r, err = a.authenticate(r, hash)
			}
		}
		if err == nil {
			err = fn(w, r, query{r.URL.Query()})
		}
		if err != nil {
			a.writeErr(w, r, err)
		}
	})
}
