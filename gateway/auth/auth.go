// Package auth verifies request authentication for the two HTTP fronts of
// jcsgw: the S3 front (SigV4 header and presigned query, SigV2 header and
// query, aws-chunked streaming bodies) and the JCS /v1 JSON front (SigV4 with
// service "jcs", header or presigned form).
//
// The verifier is deliberately self-contained: it does not use the AWS SDK to
// verify anything, so that what it accepts is exactly what is written here.
// The SDK is only used by the client-side helpers SignJCS and PresignJCS,
// which is what real JCS clients use as well.
//
// Secrets never leave this package: errors carry S3 error codes and generic
// messages, never key material, signatures or canonical requests.
package auth

import (
	"net/http"
	"time"
)

// KeyLookup finds the secret for an access key. ok=false if unknown.
type KeyLookup interface {
	SecretKey(accessKey string) (secret string, ok bool)
}

// Identity is the authenticated caller.
type Identity struct {
	AccessKey string
	Anonymous bool
}

// Error is an authentication failure; Code is the S3 error code, Status the
// HTTP status. Expired is set when a presigned URL (SigV4 or SigV2) has
// expired, so that a front can answer differently (the JCS front answers 401;
// the S3 front answers AccessDenied/403 "Request has expired").
//
// Errors returned by the body readers installed by VerifyS3/VerifyJCS are
// also *Error values (XAmzContentSHA256Mismatch, SignatureDoesNotMatch,
// BadDigest, IncompleteBody, InvalidRequest), so a front can map a failed
// body read to a proper response.
type Error struct {
	Code    string
	Message string
	Status  int
	Expired bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// S3 error codes used by this package.
const (
	CodeAccessDenied                      = "AccessDenied"
	CodeSignatureDoesNotMatch             = "SignatureDoesNotMatch"
	CodeInvalidAccessKeyID                = "InvalidAccessKeyId"
	CodeRequestTimeTooSkewed              = "RequestTimeTooSkewed"
	CodeAuthorizationHeaderMalformed      = "AuthorizationHeaderMalformed"
	CodeAuthorizationQueryParametersError = "AuthorizationQueryParametersError"
	CodeMissingSecurityHeader             = "MissingSecurityHeader"
	CodeInvalidArgument                   = "InvalidArgument"
	CodeXAmzContentSHA256Mismatch         = "XAmzContentSHA256Mismatch"
	CodeBadDigest                         = "BadDigest"
	CodeInvalidDigest                     = "InvalidDigest"
	CodeIncompleteBody                    = "IncompleteBody"
	CodeInvalidRequest                    = "InvalidRequest"
)

// statusOf is the HTTP status the S3 front uses for each code. Errors are
// always built through newError so code and status cannot disagree.
func statusOf(code string) int {
	switch code {
	case CodeAccessDenied, CodeSignatureDoesNotMatch, CodeInvalidAccessKeyID, CodeRequestTimeTooSkewed:
		return http.StatusForbidden
	default:
		return http.StatusBadRequest
	}
}

// newError returns a fresh *Error: errors are never shared between requests,
// so a caller mutating one (as VerifyJCS does with Status) cannot affect
// another.
func newError(code, msg string) *Error {
	return &Error{Code: code, Message: msg, Status: statusOf(code)}
}

func expiredError() *Error {
	e := newError(CodeAccessDenied, "Request has expired")
	e.Expired = true
	return e
}

// Verifier checks request signatures against the keys in Keys.
// The zero values of Now and MaxSkew mean time.Now and 15 minutes.
type Verifier struct {
	Keys    KeyLookup
	Now     func() time.Time // nil = time.Now
	MaxSkew time.Duration    // 0 = 15 minutes

	keys signingKeys
}

const (
	defaultMaxSkew = 15 * time.Minute
	// maxPresignExpiry is the longest validity S3 accepts for a SigV4
	// presigned URL (7 days).
	maxPresignExpiry = 604800
)

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return defaultMaxSkew
}

// secret looks up the secret for accessKey; a nil Keys knows no keys.
func (v *Verifier) secret(accessKey string) (string, *Error) {
	if v.Keys != nil && accessKey != "" {
		if s, ok := v.Keys.SecretKey(accessKey); ok {
			return s, nil
		}
	}
	return "", newError(CodeInvalidAccessKeyID, "The AWS Access Key Id you provided does not exist in our records.")
}

// checkSkew rejects header-authenticated requests whose timestamp is too far
// from the server clock, which bounds how long a captured request can be
// replayed.
func (v *Verifier) checkSkew(t time.Time) *Error {
	d := v.now().Sub(t)
	if d < 0 {
		d = -d
	}
	if d > v.maxSkew() {
		return newError(CodeRequestTimeTooSkewed, "The difference between the request time and the current time is too large.")
	}
	return nil
}

// checkPresignedWindow enforces "not before" (with the usual skew allowance
// for clients whose clock is ahead) and "not after" for presigned requests.
func (v *Verifier) checkPresignedWindow(signed time.Time, validity time.Duration) *Error {
	now := v.now()
	if signed.Sub(now) > v.maxSkew() {
		return newError(CodeAccessDenied, "Request is not valid yet")
	}
	if now.After(signed.Add(validity)) {
		return expiredError()
	}
	return nil
}

// Trailers returns the trailing headers read from an aws-chunked body after
// it has been read to EOF, with lowercased names (e.g.
// "x-amz-checksum-crc32"; index the map directly, since Header.Get would
// canonicalize the name). The x-amz-trailer-signature trailer is verified by
// the body reader and not included.
//
// It returns nil if the body was not trailer-encoded (STREAMING-*-TRAILER),
// has not been read to EOF yet, or failed verification. The trailers are recorded by the body
// reader that VerifyS3 installs as r.Body, so Trailers must be given the
// request whose Body is still that reader (read it through r.Body or a wrapper
// around it, but do not replace r.Body before calling Trailers).
func Trailers(r *http.Request) http.Header {
	if r == nil {
		return nil
	}
	if b, ok := r.Body.(*verifiedBody); ok {
		return b.trailers()
	}
	return nil
}

// PayloadHashHeader returns the X-Amz-Content-Sha256 header as sent, or "".
// VerifyJCS uses it in preference to the caller's payload hash.
func PayloadHashHeader(r *http.Request) string {
	return r.Header.Get("X-Amz-Content-Sha256")
}
