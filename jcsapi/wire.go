package jcsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"jcsgw/gateway"
	"jcsgw/gateway/auth"
)

// JCS reply codes.
const (
	codeOK              = "OK"
	codeBadArgument     = "BadArgument"
	codeDataNotFound    = "DataNotFound"
	codeDataExists      = "DataExists"
	codeOperationFailed = "OperationFailed"
	codeUnauthorized    = "Unauthorized"
	codeTaskNotFound    = "TaskNotFound"
)

// jcsCodes is the one table from gateway codes to JCS codes. A gateway code
// that is not listed answers OperationFailed.
var jcsCodes = map[gateway.Code]string{
	gateway.CodeBadArgument:       codeBadArgument,
	gateway.CodeInvalidBucketName: codeBadArgument,
	gateway.CodeKeyTooLong:        codeBadArgument,
	gateway.CodeInvalidRange:      codeBadArgument,
	gateway.CodeIncompleteBody:    codeBadArgument,
	gateway.CodeInvalidPart:       codeBadArgument,
	gateway.CodeInvalidPartOrder:  codeBadArgument,
	gateway.CodeEntityTooSmall:    codeBadArgument,
	gateway.CodeEntityTooLarge:    codeBadArgument,
	gateway.CodeBadDigest:         codeBadArgument,
	gateway.CodeInvalidDigest:     codeBadArgument,
	gateway.CodeInvalidRequest:    codeBadArgument,

	gateway.CodeNoSuchBucket:  codeDataNotFound,
	gateway.CodeNoSuchPackage: codeDataNotFound,
	gateway.CodeNoSuchKey:     codeDataNotFound,
	gateway.CodeNoSuchUpload:  codeDataNotFound,
	gateway.CodeNoSuchSpace:   codeDataNotFound,
	gateway.CodeTaskNotFound:  codeTaskNotFound,

	gateway.CodeBucketExists:  codeDataExists,
	gateway.CodePackageExists: codeDataExists,
	gateway.CodeObjectExists:  codeDataExists,

	gateway.CodeAccessDenied: codeUnauthorized,

	gateway.CodeBucketNotEmpty:     codeOperationFailed,
	gateway.CodePreconditionFailed: codeOperationFailed,
	gateway.CodeNotModified:        codeOperationFailed,
	gateway.CodeNotImplemented:     codeOperationFailed,
	gateway.CodeOperationFailed:    codeOperationFailed,
	gateway.CodeInternal:           codeOperationFailed,
}

// statusOf is the HTTP status of a JCS code. Business outcomes (not found,
// exists, failed) are HTTP 200 with the code, as JCS clients expect; a
// request that is malformed, whether the front sees it (bad JSON, a missing
// or mistyped field, a negative offset) or the gateway does (an invalid
// name or path, a range outside the object), is HTTP 400; failed
// authentication is 401.
func statusOf(code string) int {
	switch code {
	case codeBadArgument:
		return http.StatusBadRequest
	case codeUnauthorized:
		return http.StatusUnauthorized
	}
	return http.StatusOK
}

// apiError is an error the front itself detects.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

// badArg is a malformed request; the message names the field at fault.
func badArg(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, code: codeBadArgument, msg: fmt.Sprintf(format, args...)}
}

func unauthorized(msg string) error {
	return &apiError{status: http.StatusUnauthorized, code: codeUnauthorized, msg: msg}
}

// reply is every JSON answer of /v1.
type reply struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

// bareReply is the answer of uploadPart, which the JCS document shows
// without a data member.
type bareReply struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// noData asks writeOK for a bareReply.
type noData struct{}

// writeJSON sends v with Content-Type exactly "application/json" (download
// clients compare it verbatim).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		status = http.StatusInternalServerError
		buf.WriteString(`{"code":"OperationFailed","message":"cannot encode the reply","data":null}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func writeOK(w http.ResponseWriter, data any) {
	if _, ok := data.(noData); ok {
		writeJSON(w, http.StatusOK, bareReply{Code: codeOK})
		return
	}
	writeJSON(w, http.StatusOK, reply{Code: codeOK, Data: data})
}

// classify maps any error to its HTTP status, JCS code and client message.
func classify(err error) (status int, code, msg string) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status, ae.code, ae.msg
	}
	// Body readers installed by the verifier fail with *auth.Error when the
	// body does not match what was signed; the gateway wraps them.
	var au *auth.Error
	if errors.As(err, &au) {
		return http.StatusUnauthorized, codeUnauthorized, au.Message
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return http.StatusOK, codeOperationFailed, "the request was canceled"
	}
	gc := gateway.CodeOf(err)
	code, ok := jcsCodes[gc]
	if !ok {
		code = codeOperationFailed
	}
	return statusOf(code), code, gateway.MessageOf(err)
}

// writeErr answers err as JSON, logging what clients are not told.
func (a *api) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := classify(err)
	if gateway.CodeOf(err) == gateway.CodeEntityTooLarge {
		// The rest of the body is not read: the connection cannot carry
		// another request. Saying so also keeps net/http from reading
		// (and a client that sent Expect: 100-continue from sending) it.
		w.Header().Set("Connection", "close")
	}
	if gateway.CodeOf(err) == gateway.CodeInternal && code == codeOperationFailed {
		var ae *apiError
		if !errors.As(err, &ae) {
			a.log.LogAttrs(r.Context(), slog.LevelError, "jcs request failed",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
		}
	}
	writeJSON(w, status, reply{Code: code, Message: msg})
}

// Wire shapes of the JCS model.

type bucketJSON struct {
	BucketID int64  `json:"bucketID"`
	Name     string `json:"name"`
}

type packageJSON struct {
	PackageID  int64  `json:"packageID"`
	Name       string `json:"name"`
	BucketID   int64  `json:"bucketID"`
	CreateTime string `json:"createTime"`
}

type redundancyJSON struct {
	Type string `json:"type"`
}

type objectJSON struct {
	ObjectID   int64          `json:"objectID"`
	PackageID  int64          `json:"packageID"`
	Path       string         `json:"path"`
	Size       string         `json:"size"`
	FileHash   string         `json:"fileHash"`
	Redundancy redundancyJSON `json:"redundancy"`
	CreateTime string         `json:"createTime"`
	UpdateTime string         `json:"updateTime"`
}

// jcsTime is RFC 3339 with fractional seconds (when there are any) in the
// server's zone.
func jcsTime(t time.Time) string { return t.In(time.Local).Format(time.RFC3339Nano) }

func toBucket(b gateway.Bucket) bucketJSON { return bucketJSON{BucketID: b.ID, Name: b.Name} }

func toPackage(p gateway.Package) packageJSON {
	return packageJSON{PackageID: p.ID, Name: p.Name, BucketID: p.BucketID, CreateTime: jcsTime(p.CreateTime)}
}

func toObject(o gateway.Object) objectJSON {
	return objectJSON{
		ObjectID:   o.ID,
		PackageID:  o.PackageID,
		Path:       o.Path,
		Size:       strconv.FormatInt(o.Size, 10),
		FileHash:   o.FileHash,
		Redundancy: redundancyJSON{Type: o.Redundancy},
		CreateTime: jcsTime(o.CreateTime),
		UpdateTime: jcsTime(o.UpdateTime),
	}
}

func toObjects(os []gateway.Object) []objectJSON {
	out := make([]objectJSON, 0, len(os))
	for _, o := range os {
		out = append(out, toObject(o))
	}
	return out
}

// listReply writes {"code":"OK","message":"","data":{"<field>":[...]}}
// (what writeOK writes for such data, byte for byte) an element at a time,
// for lists of any length: at most listFlushAt bytes wait in memory. The
// head goes out with the first element, or at finish for an empty list, so
// an error found before either is still answered as an error reply.
type listReply struct {
	w     http.ResponseWriter
	field string
	buf   bytes.Buffer
	enc   *json.Encoder
	begun bool
}

const listFlushAt = 64 << 10

func newListReply(w http.ResponseWriter, field string) *listReply {
	l := &listReply{w: w, field: field}
	l.enc = json.NewEncoder(&l.buf)
	l.enc.SetEscapeHTML(false)
	return l
}

func (l *listReply) begin() {
	l.begun = true
	h := l.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	l.w.WriteHeader(http.StatusOK)
	l.buf.WriteString(`{"code":"` + codeOK + `","message":"","data":{"` + l.field + `":[`)
}

// add writes one element.
func (l *listReply) add(v any) error {
	if !l.begun {
		l.begin()
	} else {
		l.buf.WriteByte(',')
	}
	if err := l.enc.Encode(v); err != nil {
		return err
	}
	l.buf.Truncate(l.buf.Len() - 1) // Encode's newline
	if l.buf.Len() >= listFlushAt {
		return l.flush()
	}
	return nil
}

func (l *listReply) flush() error {
	_, err := l.w.Write(l.buf.Bytes())
	l.buf.Reset()
	return err
}

// finish ends the reply.
func (l *listReply) finish() error {
	if !l.begun {
		l.begin()
	}
	l.buf.WriteString("]}}\n")
	return l.flush()
}
