package s3api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"jcsgw/gateway"
	"jcsgw/gateway/auth"
)

// apiError is an S3 error reply: the code and status of the S3 dialect and a
// message for people. Header carries the few headers some errors need (the
// Content-Range of InvalidRange).
type apiError struct {
	Code    string
	Status  int
	Message string
	Header  map[string]string
	// cause is logged for server-side failures, never shown.
	cause error
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func s3Error(code string, status int, format string, args ...any) *apiError {
	return &apiError{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

// Errors the front raises itself.
func errInvalidArgument(format string, args ...any) *apiError {
	return s3Error("InvalidArgument", http.StatusBadRequest, format, args...)
}

func errInvalidRequest(format string, args ...any) *apiError {
	return s3Error("InvalidRequest", http.StatusBadRequest, format, args...)
}

func errMalformedXML() *apiError {
	return s3Error("MalformedXML", http.StatusBadRequest,
		"The XML you provided was not well-formed or did not validate against our published schema.")
}

func errNotImplemented(format string, args ...any) *apiError {
	return s3Error("NotImplemented", http.StatusNotImplemented, format, args...)
}

func errMethodNotAllowed() *apiError {
	return s3Error("MethodNotAllowed", http.StatusMethodNotAllowed,
		"The specified method is not allowed against this resource.")
}

func errAccessDenied(msg string) *apiError {
	return s3Error("AccessDenied", http.StatusForbidden, "%s", msg)
}

// wire is how one gateway code shows in S3.
type wire struct {
	code   string
	status int
}

// codes is THE table from gateway codes to S3 codes and statuses. Codes that
// S3 requests cannot produce still map somewhere sensible.
var codes = map[gateway.Code]wire{
	gateway.CodeBadArgument:        {"InvalidArgument", http.StatusBadRequest},
	gateway.CodeInvalidBucketName:  {"InvalidBucketName", http.StatusBadRequest},
	gateway.CodeKeyTooLong:         {"KeyTooLongError", http.StatusBadRequest},
	gateway.CodeNoSuchBucket:       {"NoSuchBucket", http.StatusNotFound},
	gateway.CodeNoSuchPackage:      {"NoSuchKey", http.StatusNotFound},
	gateway.CodeNoSuchKey:          {"NoSuchKey", http.StatusNotFound},
	gateway.CodeNoSuchUpload:       {"NoSuchUpload", http.StatusNotFound},
	gateway.CodeNoSuchSpace:        {"InvalidArgument", http.StatusBadRequest},
	gateway.CodeBucketExists:       {"BucketAlreadyOwnedByYou", http.StatusConflict},
	gateway.CodePackageExists:      {"OperationAborted", http.StatusConflict},
	gateway.CodeObjectExists:       {"OperationAborted", http.StatusConflict},
	gateway.CodeBucketNotEmpty:     {"BucketNotEmpty", http.StatusConflict},
	gateway.CodePreconditionFailed: {"PreconditionFailed", http.StatusPreconditionFailed},
	gateway.CodeNotModified:        {"NotModified", http.StatusNotModified},
	gateway.CodeInvalidPart:        {"InvalidPart", http.StatusBadRequest},
	gateway.CodeInvalidPartOrder:   {"InvalidPartOrder", http.StatusBadRequest},
	gateway.CodeEntityTooSmall:     {"EntityTooSmall", http.StatusBadRequest},
	gateway.CodeEntityTooLarge:     {"EntityTooLarge", http.StatusBadRequest},
	gateway.CodeBadDigest:          {"BadDigest", http.StatusBadRequest},
	gateway.CodeInvalidDigest:      {"InvalidDigest", http.StatusBadRequest},
	gateway.CodeInvalidRange:       {"InvalidRange", http.StatusRequestedRangeNotSatisfiable},
	gateway.CodeIncompleteBody:     {"IncompleteBody", http.StatusBadRequest},
	gateway.CodeInvalidRequest:     {"InvalidRequest", http.StatusBadRequest},
	gateway.CodeNotImplemented:     {"NotImplemented", http.StatusNotImplemented},
	gateway.CodeOperationFailed:    {"InternalError", http.StatusInternalServerError},
	gateway.CodeAccessDenied:       {"AccessDenied", http.StatusForbidden},
	gateway.CodeInternal:           {"InternalError", http.StatusInternalServerError},
}

const internalMessage = "We encountered an internal error. Please try again."

// toAPIError turns any error into its S3 reply. Authentication failures
// (also those surfacing from a body read, wrapped by the gateway) keep the
// verifier's code and status; gateway errors go through the table.
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var au *auth.Error
	if errors.As(err, &au) {
		status := au.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		return &apiError{Code: au.Code, Status: status, Message: au.Message}
	}
	var ge *gateway.Error
	if errors.As(err, &ge) {
		w, ok := codes[ge.Code]
		if !ok {
			w = wire{"InternalError", http.StatusInternalServerError}
		}
		msg := ge.Message
		if ge.Code == gateway.CodeInternal {
			msg = internalMessage
		}
		return &apiError{Code: w.code, Status: w.status, Message: msg, cause: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &apiError{Code: "RequestTimeout", Status: http.StatusBadRequest,
			Message: "Your socket connection to the server was not read from or written to within the timeout period.", cause: err}
	}
	return &apiError{Code: "InternalError", Status: http.StatusInternalServerError, Message: internalMessage, cause: err}
}
