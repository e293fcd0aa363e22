package gateway

import (
	"errors"
	"fmt"
)

// Code classifies a gateway error. Each front maps codes to its own wire
// dialect in one table (JCS codes, S3 error codes and statuses).
type Code string

const (
	CodeBadArgument        Code = "BadArgument"
	CodeInvalidBucketName  Code = "InvalidBucketName"
	CodeKeyTooLong         Code = "KeyTooLongError"
	CodeNoSuchBucket       Code = "NoSuchBucket"
	CodeNoSuchPackage      Code = "NoSuchPackage"
	CodeNoSuchKey          Code = "NoSuchKey"
	CodeNoSuchUpload       Code = "NoSuchUpload"
	CodeNoSuchSpace        Code = "NoSuchUserSpace"
	CodeTaskNotFound       Code = "TaskNotFound"
	CodeBucketExists       Code = "BucketAlreadyOwnedByYou"
	CodePackageExists      Code = "PackageExists"
	CodeObjectExists       Code = "ObjectExists"
	CodeBucketNotEmpty     Code = "BucketNotEmpty"
	CodePreconditionFailed Code = "PreconditionFailed"
	CodeNotModified        Code = "NotModified"
	CodeInvalidPart        Code = "InvalidPart"
	CodeInvalidPartOrder   Code = "InvalidPartOrder"
	CodeEntityTooSmall     Code = "EntityTooSmall"
	CodeEntityTooLarge     Code = "EntityTooLarge"
	CodeBadDigest          Code = "BadDigest"
	CodeInvalidDigest      Code = "InvalidDigest"
	CodeInvalidRange       Code = "InvalidRange"
	CodeIncompleteBody     Code = "IncompleteBody"
	CodeInvalidRequest     Code = "InvalidRequest"
	CodeNotImplemented     Code = "NotImplemented"
	CodeOperationFailed    Code = "OperationFailed"
	CodeAccessDenied       Code = "AccessDenied"
	CodeInternal           Code = "InternalError"
)

// Error is a domain error: a code for the wire and a message for people.
type Error struct {
	Code    Code
	Message string
	Err     error // the cause, if any; never shown on the wire
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func wrapErr(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// CodeOf returns the code of err: its *Error's code, or CodeInternal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// MessageOf returns the message meant for clients: an *Error's message, or a
// generic text for unexpected failures (their details belong in logs only).
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
