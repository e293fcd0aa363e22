package auth

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// JCS clients sign with SigV4 for this service and region.
const (
	jcsService = "jcs"
	jcsRegion  = "any"
)

// VerifyJCS authenticates a JCS /v1 request, signed with SigV4 either in the
// Authorization header or as a presigned query (X-Amz-Algorithm,
// X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders, X-Amz-Signature and a
// validity in X-Expires or X-Amz-Expires). Any well-formed scope is accepted:
// JCS clients use region "any" and service "jcs", but the scope only has to
// be what the client signed.
//
// payloadHash is the hex SHA-256 of the (buffered) JSON body, or "" for
// multipart-form endpoints. If the request carries X-Amz-Content-Sha256,
// that value is what was signed: when it is a hex hash and payloadHash is not
// "", the two must agree (XAmzContentSHA256Mismatch); when payloadHash is "",
// r.Body is wrapped to check the hash at EOF. Presigned requests do not cover
// the body; a signature computed with "UNSIGNED-PAYLOAD", "" or the hash of
// the empty string is accepted.
//
// Every failure is an *Error with Status 401 and the S3 code; a missing
// signature is AccessDenied "missing signature", an expired presigned URL is
// AccessDenied with Expired set.
func (v *Verifier) VerifyJCS(r *http.Request, payloadHash string) (Identity, error) {
	id, err := v.verifyJCS(r, payloadHash)
	if err != nil {
		err.Status = http.StatusUnauthorized
		return Identity{}, err
	}
	return id, nil
}

func (v *Verifier) verifyJCS(r *http.Request, payloadHash string) (Identity, *Error) {
	authz, err := authorizationHeader(r)
	if err != nil {
		return Identity{}, err
	}
	params, qok := parseQuery(r.URL.RawQuery)
	var hasQ bool
	if qok {
		hasQ = hasQuery(params, v4QueryKeys...)
	} else {
		q := r.URL.Query()
		hasQ = q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Credential") || q.Has("X-Amz-Signature")
	}
	switch {
	case authz == "" && !hasQ:
		return Identity{}, newError(CodeAccessDenied, "missing signature")
	case authz != "" && hasQ:
		return Identity{}, newError(CodeInvalidArgument, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified")
	case !qok:
		return Identity{}, newError(CodeInvalidArgument, "The query string is not validly percent-encoded")
	case authz != "":
		return v.jcsHeader(r, authz, params, payloadHash)
	default:
		return v.jcsQuery(r, params)
	}
}

func (v *Verifier) jcsHeader(r *http.Request, authz string, params []queryParam, payloadHash string) (Identity, *Error) {
	if !strings.HasPrefix(authz, algoV4) {
		return Identity{}, newError(CodeInvalidArgument, "Unsupported Authorization Type")
	}
	a, msg := parseV4Authorization(authz)
	if a == nil {
		return Identity{}, newError(CodeAuthorizationHeaderMalformed, msg)
	}
	secret, err := v.secret(a.accessKey)
	if err != nil {
		return Identity{}, err
	}
	hdr, err := contentSHA256(r)
	if err != nil {
		return Identity{}, err
	}
	payload := payloadHash
	checkBody := false
	if hdr != "" {
		mode, ok := payloadModeOf(hdr)
		if !ok || (mode != modeUnsigned && mode != modeHex) {
			return Identity{}, newError(CodeInvalidArgument, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value.")
		}
		if mode == modeHex {
			if payloadHash != "" && !strings.EqualFold(hdr, payloadHash) {
				return Identity{}, newError(CodeXAmzContentSHA256Mismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.")
			}
			checkBody = payloadHash == ""
		}
		payload = hdr
	}
	if err := v.headerDate(r, a); err != nil {
		return Identity{}, err
	}
	if unsignedAmzHeader(r, a.signedHeaders) != "" {
		return Identity{}, headersNotSigned()
	}
	m, ok := v.verifyV4(r, a, secret, jcsPaths(r), canonicalQuery(params, ""), []string{payload})
	if !ok {
		return Identity{}, signatureMismatch()
	}
	if checkBody {
		// The caller did not hash the body (multipart form), but the
		// client committed to a hash: hold it to that while it streams.
		if err := installBody(r, modeHex, payload, a, m); err != nil {
			return Identity{}, err
		}
	}
	return Identity{AccessKey: a.accessKey}, nil
}

func (v *Verifier) jcsQuery(r *http.Request, params []queryParam) (Identity, *Error) {
	a, err := parseV4Query(params)
	if err != nil {
		return Identity{}, err
	}
	// JCS presigners put the validity in X-Expires; X-Amz-Expires is
	// accepted too, and if both are signed the shorter one wins.
	var validity time.Duration
	for _, name := range []string{"X-Expires", "X-Amz-Expires"} {
		switch vs := queryValues(params, name); len(vs) {
		case 0:
		case 1:
			d, err := parseExpires(name, vs[0])
			if err != nil {
				return Identity{}, err
			}
			if validity == 0 || d < validity {
				validity = d
			}
		default:
			return Identity{}, newError(CodeAuthorizationQueryParametersError, "Duplicate query parameter "+name)
		}
	}
	if validity == 0 {
		return Identity{}, newError(CodeAuthorizationQueryParametersError, "Query-string authentication requires X-Expires (or X-Amz-Expires)")
	}
	secret, err := v.secret(a.accessKey)
	if err != nil {
		return Identity{}, err
	}
	if unsignedAmzHeader(r, a.signedHeaders) != "" {
		return Identity{}, headersNotSigned()
	}
	payloads := []string{unsignedPayload, "", emptySHA256}
	if _, ok := v.verifyV4(r, a, secret, jcsPaths(r), canonicalQuery(params, "X-Amz-Signature"), payloads); !ok {
		return Identity{}, signatureMismatch()
	}
	if err := v.checkPresignedWindow(a.t, validity); err != nil {
		return Identity{}, err
	}
	return Identity{AccessKey: a.accessKey}, nil
}

// SignJCS signs req in place in the header form (Authorization and
// X-Amz-Date) for service "jcs", region "any", with payloadHash as given: the
// hex SHA-256 of the body, or "" for multipart forms. It does not add
// X-Amz-Content-Sha256. Every header already on req is signed, so set them
// all (Content-Type, ...) before signing; headers the transport adds later
// (User-Agent, Accept-Encoding) are not signed and do not matter.
func SignJCS(req *http.Request, accessKey, secretKey, payloadHash string, t time.Time) error {
	if req == nil || req.URL == nil {
		return errors.New("auth: SignJCS: nil request")
	}
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	return v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, jcsService, jcsRegion, t)
}

// PresignJCS returns req's URL with a SigV4 query signature valid for
// expires (1s to 7 days, whole seconds) from t, carried in X-Expires. The
// body is not covered ("UNSIGNED-PAYLOAD"). Headers on req are signed, so
// whoever uses the URL must send them with the same values; req itself is
// not modified.
func PresignJCS(req *http.Request, accessKey, secretKey string, expires time.Duration, t time.Time) (string, error) {
	if req == nil || req.URL == nil {
		return "", errors.New("auth: PresignJCS: nil request")
	}
	secs := int64(expires / time.Second)
	if secs < 1 || secs > maxPresignExpiry {
		return "", errors.New("auth: PresignJCS: expires must be between 1s and 7 days")
	}
	r := req.Clone(context.Background())
	// X-Expires goes in before signing so that the signature covers it.
	q := r.URL.Query()
	q.Set("X-Expires", strconv.FormatInt(secs, 10))
	r.URL.RawQuery = q.Encode()
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, unsignedPayload, jcsService, jcsRegion, t)
	return u, err
}
