package auth

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// x-amz-content-sha256 values with a special meaning.
const (
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// payloadMode is how the body is bound to the signature.
type payloadMode int

const (
	modeUnsigned              payloadMode = iota // UNSIGNED-PAYLOAD: body not covered
	modeHex                                      // hex SHA-256 of the whole body
	modeStreamSigned                             // aws-chunked, every chunk signed
	modeStreamSignedTrailer                      // aws-chunked, signed chunks and trailer
	modeStreamUnsignedTrailer                    // aws-chunked, no signatures, trailer
)

func payloadModeOf(s string) (payloadMode, bool) {
	switch s {
	case unsignedPayload:
		return modeUnsigned, true
	case streamingSigned:
		return modeStreamSigned, true
	case streamingSignedTrailer:
		return modeStreamSignedTrailer, true
	case streamingUnsignedTrailer:
		return modeStreamUnsignedTrailer, true
	}
	if isHexSHA256(s) {
		return modeHex, true
	}
	return 0, false
}

func isHexSHA256(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// contentSHA256 returns the X-Amz-Content-Sha256 header. Repeating it is
// refused: the payload line of the canonical request takes one value, and
// the body check must use that same one.
func contentSHA256(r *http.Request) (string, *Error) {
	vs := r.Header.Values("X-Amz-Content-Sha256")
	if len(vs) > 1 {
		return "", newError(CodeInvalidArgument, "Only one x-amz-content-sha256 header is allowed")
	}
	if len(vs) == 0 {
		return "", nil
	}
	return vs[0], nil
}

func invalidPayloadHash() *Error {
	return newError(CodeInvalidArgument, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-UNSIGNED-PAYLOAD-TRAILER or a valid sha256 value.")
}

func signatureMismatch() *Error {
	return newError(CodeSignatureDoesNotMatch, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
}

func headersNotSigned() *Error {
	return newError(CodeAccessDenied, "There were headers present in the request which were not signed")
}

// VerifyS3 authenticates an S3 request signed with SigV4 (Authorization
// header or presigned query) or SigV2 (Authorization header or query).
// A request carrying no authentication at all yields Identity{Anonymous:
// true} and a nil error; the front decides whether to serve it.
//
// On success r.Body may be replaced by a reader that verifies (and for
// aws-chunked bodies, decodes) the payload while it streams. Such a reader
// returns an *Error instead of io.EOF when the payload turns out not to match
// what was signed, so a caller that commits only after a clean EOF never
// stores unauthenticated data:
//   - hex x-amz-content-sha256: SHA-256 checked at EOF (XAmzContentSHA256Mismatch);
//   - STREAMING-*: aws-chunked framing removed, chunk and trailer signatures
//     verified (SignatureDoesNotMatch), r.ContentLength set from
//     X-Amz-Decoded-Content-Length (or -1), "aws-chunked" removed from
//     Content-Encoding; trailers are then available through Trailers;
//   - Content-MD5, when sent, checked at EOF (BadDigest).
//
// Failures are returned as *Error with the S3 code and status.
func (v *Verifier) VerifyS3(r *http.Request) (Identity, error) {
	id, err := v.verifyS3(r)
	if err != nil {
		return Identity{}, err
	}
	return id, nil
}

func (v *Verifier) verifyS3(r *http.Request) (Identity, *Error) {
	authz, err := authorizationHeader(r)
	if err != nil {
		return Identity{}, err
	}
	params, qok := parseQuery(r.URL.RawQuery)
	var hasV4Q, hasV2Q bool
	if qok {
		hasV4Q = hasQuery(params, v4QueryKeys...)
		hasV2Q = hasQuery(params, "AWSAccessKeyId", "Signature")
	} else {
		// Still tell anonymous requests with an odd query apart from
		// signed ones; net/url's lenient parse is enough for that.
		q := r.URL.Query()
		hasV4Q = q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Credential") || q.Has("X-Amz-Signature")
		hasV2Q = q.Has("AWSAccessKeyId") || q.Has("Signature")
	}
	n := 0
	for _, b := range []bool{authz != "", hasV4Q, hasV2Q} {
		if b {
			n++
		}
	}
	switch {
	case n == 0:
		return Identity{Anonymous: true}, nil
	case n > 1:
		return Identity{}, newError(CodeInvalidArgument, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
	case !qok:
		return Identity{}, newError(CodeInvalidArgument, "The query string is not validly percent-encoded")
	}
	switch {
	case strings.HasPrefix(authz, algoV4):
		return v.s3V4Header(r, authz, params)
	case strings.HasPrefix(authz, "AWS "):
		return v.s3V2Header(r, authz, params)
	case authz != "":
		return Identity{}, newError(CodeInvalidArgument, "Unsupported Authorization Type")
	case hasV4Q:
		return v.s3V4Query(r, params)
	default:
		return v.s3V2Query(r, params)
	}
}

func (v *Verifier) s3V4Header(r *http.Request, authz string, params []queryParam) (Identity, *Error) {
	a, msg := parseV4Authorization(authz)
	if a == nil {
		return Identity{}, newError(CodeAuthorizationHeaderMalformed, msg)
	}
	if a.service != "s3" {
		return Identity{}, newError(CodeAuthorizationHeaderMalformed, "the credential scope service must be s3")
	}
	secret, err := v.secret(a.accessKey)
	if err != nil {
		return Identity{}, err
	}
	payload, err := contentSHA256(r)
	if err != nil {
		return Identity{}, err
	}
	if payload == "" {
		return Identity{}, newError(CodeInvalidRequest, "Missing required header for this request: x-amz-content-sha256")
	}
	mode, ok := payloadModeOf(payload)
	if !ok {
		return Identity{}, invalidPayloadHash()
	}
	if err := v.headerDate(r, a); err != nil {
		return Identity{}, err
	}
	if unsignedAmzHeader(r, a.signedHeaders) != "" {
		return Identity{}, headersNotSigned()
	}
	m, ok := v.verifyV4(r, a, secret, s3Paths(r), canonicalQuery(params, ""), []string{payload})
	if !ok {
		return Identity{}, signatureMismatch()
	}
	if err := installBody(r, mode, payload, a, m); err != nil {
		return Identity{}, err
	}
	return Identity{AccessKey: a.accessKey}, nil
}

// headerDate finds, parses and skew-checks the timestamp of a
// header-authenticated SigV4 request. The skew check comes before signature
// verification so that stale replays are rejected cheaply.
func (v *Verifier) headerDate(r *http.Request, a *v4Auth) *Error {
	ts, ok := headerTime(r)
	if !ok {
		return newError(CodeAccessDenied, "AWS authentication requires a valid Date or x-amz-date header")
	}
	parsed, match := a.setAmzDate(ts)
	if !parsed {
		return newError(CodeAccessDenied, "AWS authentication requires a valid Date or x-amz-date header")
	}
	if !match {
		return newError(CodeAuthorizationHeaderMalformed, "the date in the credential scope does not match the request date")
	}
	return v.checkSkew(a.t)
}

func (v *Verifier) s3V4Query(r *http.Request, params []queryParam) (Identity, *Error) {
	a, err := parseV4Query(params)
	if err != nil {
		return Identity{}, err
	}
	if a.service != "s3" {
		return Identity{}, newError(CodeAuthorizationQueryParametersError, "the credential scope service must be s3")
	}
	expStr, err := singleQuery(params, "X-Amz-Expires")
	if err != nil {
		return Identity{}, err
	}
	validity, err := parseExpires("X-Amz-Expires", expStr)
	if err != nil {
		return Identity{}, err
	}
	secret, err := v.secret(a.accessKey)
	if err != nil {
		return Identity{}, err
	}
	// A presigned URL does not cover the body unless the presigner put a
	// payload hash into the query.
	payload := unsignedPayload
	switch vs := queryValues(params, "X-Amz-Content-Sha256"); len(vs) {
	case 0:
	case 1:
		payload = vs[0]
	default:
		return Identity{}, newError(CodeAuthorizationQueryParametersError, "Duplicate query parameter X-Amz-Content-Sha256")
	}
	mode, ok := payloadModeOf(payload)
	if !ok {
		return Identity{}, invalidPayloadHash()
	}
	if unsignedAmzHeader(r, a.signedHeaders) != "" {
		return Identity{}, headersNotSigned()
	}
	m, ok := v.verifyV4(r, a, secret, s3Paths(r), canonicalQuery(params, "X-Amz-Signature"), []string{payload})
	if !ok {
		return Identity{}, signatureMismatch()
	}
	// The validity window is checked after the signature so that "expired"
	// is only ever reported for URLs we actually issued.
	if err := v.checkPresignedWindow(a.t, validity); err != nil {
		return Identity{}, err
	}
	if err := installBody(r, mode, payload, a, m); err != nil {
		return Identity{}, err
	}
	return Identity{AccessKey: a.accessKey}, nil
}

// installBody replaces r.Body with the verifying/decoding reader the payload
// mode calls for, plus a Content-MD5 check when the header is present. It
// leaves r untouched when nothing needs checking.
func installBody(r *http.Request, mode payloadMode, payload string, a *v4Auth, m v4Match) *Error {
	orig := r.Body
	if orig == nil {
		orig = http.NoBody
	}
	var rd io.Reader = orig
	var ch *chunkedReader
	switch mode {
	case modeUnsigned:
	case modeHex:
		if r.ContentLength == 0 && strings.EqualFold(payload, emptySHA256) {
			break // nothing to read, nothing to check
		}
		want, _ := hex.DecodeString(payload)
		rd = &digestReader{r: rd, h: sha256.New(), want: want, mismatch: func() *Error {
			return newError(CodeXAmzContentSHA256Mismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.")
		}}
	default:
		cfg := chunkedConfig{decodedLength: -1}
		if s := r.Header.Get("X-Amz-Decoded-Content-Length"); s != "" {
			n, ok := parseDecimal(s)
			if !ok {
				return newError(CodeInvalidArgument, "x-amz-decoded-content-length is not a valid length")
			}
			cfg.decodedLength = n
		}
		switch mode {
		case modeStreamSigned:
			cfg.signed = true
		case modeStreamSignedTrailer:
			cfg.signed, cfg.trailers, cfg.signedTrailers = true, true, true
		case modeStreamUnsignedTrailer:
			cfg.trailers = true
		}
		if cfg.signed {
			cfg.key, cfg.amzDate, cfg.scope, cfg.seed = m.key, a.amzDate, a.scope(), hex.EncodeToString(m.sig[:])
		}
		if cfg.trailers {
			cfg.declared = declaredTrailers(r.Header)
		}
		ch = newChunkedReader(rd, cfg)
		rd = ch
		// The framing never reaches the caller, so neither may the
		// headers describing it.
		r.ContentLength = cfg.decodedLength
		if cfg.decodedLength >= 0 {
			r.Header.Set("Content-Length", strconv.FormatInt(cfg.decodedLength, 10))
		} else {
			r.Header.Del("Content-Length")
		}
		stripAWSChunked(r.Header)
	}
	if vs := r.Header.Values("Content-Md5"); len(vs) > 0 {
		want, err := base64.StdEncoding.DecodeString(strings.TrimSpace(vs[0]))
		if len(vs) > 1 || err != nil || len(want) != md5.Size {
			return newError(CodeInvalidDigest, "The Content-MD5 you specified was invalid.")
		}
		rd = &digestReader{r: rd, h: md5.New(), want: want, mismatch: func() *Error {
			return newError(CodeBadDigest, "The Content-MD5 you specified did not match what we received.")
		}}
	}
	if rd != io.Reader(orig) {
		r.Body = &verifiedBody{r: rd, c: orig, chunked: ch}
	}
	return nil
}

// declaredTrailers lists the X-Amz-Trailer names, lowercased; nil when the
// header is absent (then any trailer is accepted).
func declaredTrailers(h http.Header) []string {
	vs := h.Values("X-Amz-Trailer")
	if len(vs) == 0 {
		return nil
	}
	out := []string{}
	for _, v := range vs {
		for _, n := range strings.Split(v, ",") {
			if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
				out = append(out, n)
			}
		}
	}
	return out
}

// stripAWSChunked removes the aws-chunked token from Content-Encoding so
// that callers store the object's real encoding.
func stripAWSChunked(h http.Header) {
	var keep []string
	for _, v := range h.Values("Content-Encoding") {
		for _, tok := range strings.Split(v, ",") {
			tok = strings.TrimSpace(tok)
			if tok != "" && !strings.EqualFold(tok, "aws-chunked") {
				keep = append(keep, tok)
			}
		}
	}
	if len(keep) == 0 {
		h.Del("Content-Encoding")
		return
	}
	h.Set("Content-Encoding", strings.Join(keep, ","))
}
