package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	algoV4        = "AWS4-HMAC-SHA256"
	scopeTerminal = "aws4_request"
	amzDateLayout = "20060102T150405Z"
	scopeLayout   = "20060102"

	unsignedPayload = "UNSIGNED-PAYLOAD"
	// emptySHA256 is the hex SHA-256 of the empty string.
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// v4Auth is a parsed SigV4 authorization, from either the Authorization
// header or the presigned query parameters.
type v4Auth struct {
	accessKey     string
	scopeDate     string // YYYYMMDD, as sent
	region        string
	service       string
	signedHeaders []string // lowercase names, in the order sent
	signedRaw     string   // SignedHeaders exactly as sent
	signature     []byte   // decoded

	amzDate string    // timestamp line of the string to sign
	t       time.Time // amzDate parsed
}

func (a *v4Auth) scope() string {
	return a.scopeDate + "/" + a.region + "/" + a.service + "/" + scopeTerminal
}

// parseV4Authorization parses
//
//	AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
//
// Clients differ in whitespace around the commas, so components are trimmed;
// each must appear exactly once. The returned message never echoes the
// header value.
func parseV4Authorization(h string) (*v4Auth, string) {
	rest, ok := strings.CutPrefix(h, algoV4)
	if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		return nil, "the authorization header is malformed; the algorithm must be " + algoV4
	}
	var cred, signed, sig string
	var seenCred, seenSigned, seenSig bool
	for more := true; more; {
		var part string
		part, rest, more = strings.Cut(rest, ",")
		part = strings.TrimSpace(part)
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, "the authorization header is malformed; components must be key=value"
		}
		switch k {
		case "Credential":
			if seenCred {
				return nil, "the authorization header is malformed; duplicate Credential"
			}
			cred, seenCred = val, true
		case "SignedHeaders":
			if seenSigned {
				return nil, "the authorization header is malformed; duplicate SignedHeaders"
			}
			signed, seenSigned = val, true
		case "Signature":
			if seenSig {
				return nil, "the authorization header is malformed; duplicate Signature"
			}
			sig, seenSig = val, true
		default:
			return nil, "the authorization header is malformed; unexpected component"
		}
	}
	if !seenCred || !seenSigned || !seenSig {
		return nil, "the authorization header is malformed; Credential, SignedHeaders and Signature are required"
	}
	a := &v4Auth{}
	if msg := a.setCredential(cred); msg != "" {
		return nil, msg
	}
	if msg := a.setSignedHeaders(signed); msg != "" {
		return nil, msg
	}
	if msg := a.setSignature(sig); msg != "" {
		return nil, msg
	}
	return a, ""
}

// setCredential parses AKID/date/region/service/aws4_request. The access key
// is everything before the last four components, so keys containing '/'
// still parse; the scope components are validated for shape only (any region;
// the service is checked by the caller).
func (a *v4Auth) setCredential(cred string) string {
	// The last four components, from the right; the access key is the rest.
	var scope [4]string
	rest := cred
	for i := 3; i >= 0; i-- {
		j := strings.LastIndexByte(rest, '/')
		if j < 0 {
			return "the credential is malformed; expected \"<access-key>/<date>/<region>/<service>/aws4_request\""
		}
		scope[i], rest = rest[j+1:], rest[:j]
	}
	a.accessKey = rest
	a.scopeDate, a.region, a.service = scope[0], scope[1], scope[2]
	if a.accessKey == "" {
		return "the credential is malformed; missing access key"
	}
	if len(a.scopeDate) != 8 {
		return "the credential is malformed; invalid date"
	}
	if _, ok := parseBasicTime(a.scopeDate); !ok {
		return "the credential is malformed; invalid date"
	}
	if a.region == "" || !isScopeToken(a.region) {
		return "the credential is malformed; invalid region"
	}
	if a.service == "" || !isScopeToken(a.service) {
		return "the credential is malformed; invalid service"
	}
	if scope[3] != scopeTerminal {
		return "the credential is malformed; the scope must end with aws4_request"
	}
	return ""
}

// isScopeToken keeps scope components printable and free of separators, so
// that the scope line of the string to sign is unambiguous.
func isScopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '/' {
			return false
		}
	}
	return true
}

func (a *v4Auth) setSignedHeaders(s string) string {
	if s == "" {
		return "SignedHeaders is empty"
	}
	names := strings.Split(s, ";")
	hasHost, sorted := false, true
	for i, n := range names {
		if n == "" || n != strings.ToLower(n) || strings.ContainsAny(n, " \t:\r\n") {
			return "SignedHeaders is malformed"
		}
		if i > 0 && n <= names[i-1] {
			sorted = false
		}
		if n == "host" {
			hasHost = true
		}
	}
	if !sorted {
		// Clients list them in order, which already rules out twice the
		// same name; only another order needs a set.
		seen := make(map[string]bool, len(names))
		for _, n := range names {
			if seen[n] {
				return "SignedHeaders contains a duplicate header"
			}
			seen[n] = true
		}
	}
	if !hasHost {
		return "SignedHeaders must include host"
	}
	a.signedHeaders, a.signedRaw = names, s
	return ""
}

func (a *v4Auth) setSignature(s string) string {
	if len(s) != 2*sha256.Size {
		return "the signature is malformed"
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return "the signature is malformed"
	}
	a.signature = b
	return ""
}

// setAmzDate parses the ISO 8601 basic timestamp. It reports whether the
// value parsed and whether its day matches the credential scope date, which
// S3 requires.
func (a *v4Auth) setAmzDate(s string) (parsed, scopeMatches bool) {
	t, ok := parseBasicTime(s)
	if !ok || len(s) != len(amzDateLayout) {
		return false, false
	}
	a.amzDate, a.t = s, t
	return true, s[:len(scopeLayout)] == a.scopeDate // the layouts share the day's digits
}

// headerTime finds the request timestamp for header authentication:
// X-Amz-Date, or else the Date header (which SigV4 permits). The string to
// sign always carries the ISO 8601 basic form.
func headerTime(r *http.Request) (string, bool) {
	if s := r.Header.Get("X-Amz-Date"); s != "" {
		return s, true
	}
	if s := r.Header.Get("Date"); s != "" {
		t, err := http.ParseTime(s)
		if err != nil {
			return "", false
		}
		return t.UTC().Format(amzDateLayout), true
	}
	return "", false
}

// signingKey derives the SigV4 signing key for a scope.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, scopeTerminal)
}

// signingKeys remembers derived signing keys: a client signs every request
// of a day with the same one, and deriving it is four HMACs.
type signingKeys struct {
	mu sync.Mutex
	m  map[signingScope][]byte
}

type signingScope struct{ secret, date, region, service string }

// maxSigningKeys bounds the cache; it is emptied when full, which costs
// only a re-derivation per key.
const maxSigningKeys = 1024

func (c *signingKeys) get(secret, date, region, service string) []byte {
	id := signingScope{secret, date, region, service}
	c.mu.Lock()
	k, ok := c.m[id]
	c.mu.Unlock()
	if ok {
		return k
	}
	k = signingKey(secret, date, region, service)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxSigningKeys {
		c.m = make(map[signingScope][]byte)
	}
	c.m[id] = k
	c.mu.Unlock()
	return k
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// v4Match is the outcome of a successful SigV4 check.
type v4Match struct {
	key     []byte            // signing key, needed to verify chunk signatures
	sig     [sha256.Size]byte // the request signature; its hex seeds the chunk chain
	payload string            // payload hash that made the signature match
}

// verifyV4 recomputes the signature for every candidate canonical form and
// accepts the request if one matches. Candidates exist because clients differ
// in harmless ways that the server cannot see (whether a path was
// re-encoded, whether a default port was dropped from Host, which payload
// placeholder a presigner used); every candidate describes the same request as
// the gateway will interpret it, so accepting any of them grants nothing more.
func (v *Verifier) verifyV4(r *http.Request, a *v4Auth, secret string, paths []string, query string, payloads []string) (v4Match, bool) {
	key := v.keys.get(secret, a.scopeDate, a.region, a.service)
	scope := a.scope()
	var crHex [2 * sha256.Size]byte
	var stack [1024]byte   // most canonical requests fit: no allocation for them
	var hdrStack [512]byte // and most header blocks
	hosts, nhosts := hostCandidates(r)
	for _, host := range hosts[:nhosts] {
		headers := appendCanonicalHeaders(hdrStack[:0], r, a.signedHeaders, host)
		for _, p := range paths {
			for _, payload := range payloads {
				cr := stack[:0]
				for _, s := range [...]string{r.Method, "\n", p, "\n", query, "\n"} {
					cr = append(cr, s...)
				}
				cr = append(cr, headers...)
				for _, s := range [...]string{"\n", a.signedRaw, "\n", payload} {
					cr = append(cr, s...)
				}
				sum := sha256.Sum256(cr)
				hex.Encode(crHex[:], sum[:])
				sig := signV4(key, a.amzDate, scope, crHex[:])
				if hmac.Equal(sig[:], a.signature) {
					return v4Match{key: key, sig: sig, payload: payload}, true
				}
			}
		}
	}
	return v4Match{}, false
}

// signV4 is HMAC-SHA256(key, string to sign) for a signing key, which is
// always one SHA-256 long: written out over fixed buffers because
// crypto/hmac allocates a keyed state per call, and every request signs.
func signV4(key []byte, amzDate, scope string, crHex []byte) [sha256.Size]byte {
	const block = 64
	var buf [block + len(algoV4) + 1 + len(amzDateLayout) + 1 + 128 + 1 + 2*sha256.Size]byte
	sts := len(algoV4) + 1 + len(amzDate) + 1 + len(scope) + 1 + len(crHex)
	if len(key) > block || block+sts > len(buf) {
		return [sha256.Size]byte(hmacSHA256(key, algoV4+"\n"+amzDate+"\n"+scope+"\n"+string(crHex)))
	}
	for i := range block {
		var k byte
		if i < len(key) {
			k = key[i]
		}
		buf[i] = k ^ 0x36
	}
	n := block
	n += copy(buf[n:], algoV4)
	buf[n] = '\n'
	n++
	n += copy(buf[n:], amzDate)
	buf[n] = '\n'
	n++
	n += copy(buf[n:], scope)
	buf[n] = '\n'
	n++
	n += copy(buf[n:], crHex)
	inner := sha256.Sum256(buf[:n])
	for i := range block {
		buf[i] ^= 0x36 ^ 0x5c
	}
	copy(buf[block:], inner[:])
	return sha256.Sum256(buf[:block+sha256.Size])
}

// hostCandidates returns the Host as sent and, if it carries a default port,
// the host without it: the AWS SDKs sign the host without :80/:443 even when
// the URL spells the port out.
func hostCandidates(r *http.Request) (hosts [3]string, n int) {
	h := r.Host
	if h == "" && r.URL != nil {
		h = r.URL.Host
	}
	hosts[0], n = h, 1
	for _, p := range [...]string{":80", ":443"} {
		if s, ok := strings.CutSuffix(h, p); ok && s != "" && !strings.HasSuffix(s, ":") {
			hosts[n] = s
			n++
		}
	}
	return hosts, n
}

// appendCanonicalHeaders appends the CanonicalHeaders block (each line ends in
// "\n"). Values are trimmed with inner runs of spaces collapsed, multiple
// values joined with ','. Host and Content-Length need special care because
// net/http moves them out of r.Header.
func appendCanonicalHeaders(b []byte, r *http.Request, names []string, host string) []byte {
	for _, n := range names {
		b = append(b, n...)
		b = append(b, ':')
		switch n {
		case "host":
			b = appendCollapsed(b, host)
		case "content-length":
			if vs := r.Header.Values("Content-Length"); len(vs) > 0 {
				b = appendValues(b, vs)
			} else if r.ContentLength >= 0 {
				b = strconv.AppendInt(b, r.ContentLength, 10)
			}
		case "transfer-encoding":
			if vs := r.Header.Values("Transfer-Encoding"); len(vs) > 0 {
				b = appendValues(b, vs)
			} else {
				b = append(b, strings.Join(r.TransferEncoding, ",")...)
			}
		default:
			b = appendValues(b, headerValues(r.Header, n))
		}
		b = append(b, '\n')
	}
	return b
}

// headerValues is h.Values(name) for a lowercase name, canonicalised on the
// stack: every signed header is looked up this way on every request, and
// textproto allocates the canonical form of each name it does not know.
func headerValues(h http.Header, name string) []string {
	var buf [64]byte
	if len(name) > len(buf) {
		return h.Values(name)
	}
	b := buf[:len(name)]
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z':
			if upper {
				c -= 'a' - 'A'
			}
		case '0' <= c && c <= '9', c == '-':
		default:
			return h.Values(name) // textproto's rules for the unusual ones
		}
		b[i] = c
		upper = c == '-'
	}
	return h[string(b)]
}

func appendValues(b []byte, vs []string) []byte {
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCollapsed(b, v)
	}
	return b
}

// appendCollapsed appends s trimmed of surrounding whitespace, with its
// runs of spaces turned into one, as the canonical header rules require.
func appendCollapsed(b []byte, s string) []byte {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "  ") {
		return append(b, s...) // the usual case: one copy
	}
	prevSpace := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if prevSpace {
				continue
			}
			prevSpace = true
		} else {
			prevSpace = false
		}
		b = append(b, c)
	}
	return b
}

// unsignedAmzHeader returns the name of an x-amz-* header that the signature
// does not cover, or "". S3 refuses such requests, since otherwise anyone
// relaying a signed request could add x-amz-* semantics (ACLs, metadata,
// copy sources) to it. X-Amz-Content-Sha256 and X-Amz-Date are covered by the
// string to sign itself when they are used.
func unsignedAmzHeader(r *http.Request, signed []string) string {
	for name := range r.Header {
		if len(name) < len("x-amz-") || !strings.EqualFold(name[:len("x-amz-")], "x-amz-") {
			continue
		}
		if strings.EqualFold(name, "x-amz-content-sha256") || strings.EqualFold(name, "x-amz-date") ||
			slices.ContainsFunc(signed, func(s string) bool { return strings.EqualFold(s, name) }) {
			continue
		}
		return strings.ToLower(name)
	}
	return ""
}

// queryParam is one decoded query parameter, in the order sent.
type queryParam struct {
	key, value string
	hasEq      bool // "k=" rather than "k"; SigV2 resources distinguish them
}

// parseQuery splits a raw query without dropping anything net/url would
// silently drop (e.g. keys with ';'), because the canonical query must list
// everything the client signed. '+' decodes to a space, matching what
// r.URL.Query() gives the handlers, so the signature covers the values the
// gateway acts on.
func parseQuery(raw string) ([]queryParam, bool) {
	var out []queryParam
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, val, hasEq := strings.Cut(part, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(val)
		if err1 != nil || err2 != nil {
			return nil, false
		}
		out = append(out, queryParam{key: dk, value: dv, hasEq: hasEq})
	}
	return out, true
}

// queryValues gathers the values of key (case-sensitive, as AWS treats
// query parameter names).
func queryValues(params []queryParam, key string) []string {
	var vs []string
	for _, p := range params {
		if p.key == key {
			vs = append(vs, p.value)
		}
	}
	return vs
}

func hasQuery(params []queryParam, keys ...string) bool {
	for _, p := range params {
		for _, k := range keys {
			if p.key == k {
				return true
			}
		}
	}
	return false
}

// canonicalQuery encodes every parameter except skip with the AWS rules and
// sorts by encoded key, then encoded value.
func canonicalQuery(params []queryParam, skip string) string {
	if len(params) == 0 {
		return ""
	}
	type kv struct{ k, v string }
	list := make([]kv, 0, len(params))
	for _, p := range params {
		if p.key == skip {
			continue
		}
		list = append(list, kv{uriEncode(p.key, true), uriEncode(p.value, true)})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].k != list[j].k {
			return list[i].k < list[j].k
		}
		return list[i].v < list[j].v
	})
	var b strings.Builder
	for i, p := range list {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// uriEncode is the AWS UriEncode: every byte except the unreserved set
// A-Z a-z 0-9 - _ . ~ is percent-encoded with upper-case hex; '/' is kept
// when encodeSlash is false (paths). A string with nothing to encode, most
// paths, comes back as it is.
func uriEncode(s string, encodeSlash bool) string {
	const hexdig = "0123456789ABCDEF"
	i := 0
	for i < len(s) && keptByURIEncode(s[i], encodeSlash) {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		if c := s[i]; keptByURIEncode(c, encodeSlash) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hexdig[c>>4])
			b.WriteByte(hexdig[c&15])
		}
	}
	return b.String()
}

func keptByURIEncode(c byte, encodeSlash bool) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
		c == '-', c == '_', c == '.', c == '~':
		return true
	}
	return c == '/' && !encodeSlash
}

// rawPath is the request path exactly as it came over the wire. The server's
// RequestURI is preferred because url.URL.EscapedPath may re-encode a path
// that the client sent with unusual (but signed) escaping.
func rawPath(r *http.Request) string {
	if u := r.RequestURI; strings.HasPrefix(u, "/") {
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		return u
	}
	if r.URL == nil {
		return "/"
	}
	if op := r.URL.Opaque; op != "" {
		// Client-side requests built the way the AWS SDK recommends:
		// Opaque = "//host/path".
		if i := strings.IndexByte(op, '?'); i >= 0 {
			op = op[:i]
		}
		if s, ok := strings.CutPrefix(op, "//"); ok {
			if i := strings.IndexByte(s, '/'); i >= 0 {
				return s[i:]
			}
			return "/"
		}
		return op
	}
	if p := r.URL.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// s3Paths are the canonical URI candidates for S3, which encodes the path
// once and does not normalize it: the path as sent, and the AWS encoding of
// the decoded path, for clients that send looser escaping than they sign
// ("!" on the wire, "%21" signed). The second form is skipped when the path
// contains an encoded slash, which decoding would merge with a real one.
func s3Paths(r *http.Request) []string {
	raw := rawPath(r)
	out := []string{raw}
	if r.URL != nil && r.URL.Path != "" && !strings.Contains(raw, "%2F") && !strings.Contains(raw, "%2f") {
		out = appendUnique(out, uriEncode(r.URL.Path, false))
	}
	return out
}

// jcsPaths adds the doubly encoded forms: SigV4 for services other than S3
// encodes the (already encoded) path again, which is what the SDK signer does
// by default.
func jcsPaths(r *http.Request) []string {
	single := s3Paths(r)
	out := append([]string(nil), single...)
	for _, p := range single {
		out = appendUnique(out, uriEncode(p, false))
	}
	return out
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// authorizationHeader returns the Authorization header; more than one is
// refused rather than guessing which one the client meant.
func authorizationHeader(r *http.Request) (string, *Error) {
	vs := r.Header.Values("Authorization")
	switch {
	case len(vs) == 0:
		return "", nil
	case len(vs) > 1:
		return "", newError(CodeInvalidArgument, "Only one Authorization header is allowed")
	}
	return strings.TrimSpace(vs[0]), nil
}

// v4QueryKeys mark a SigV4 presigned request.
var v4QueryKeys = []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"}

// singleQuery returns the one value of key; absent or repeated parameters are
// reported, since a repeated auth parameter is ambiguous.
func singleQuery(params []queryParam, key string) (string, *Error) {
	vs := queryValues(params, key)
	switch len(vs) {
	case 0:
		return "", newError(CodeAuthorizationQueryParametersError, "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
	case 1:
		return vs[0], nil
	}
	return "", newError(CodeAuthorizationQueryParametersError, "Duplicate query parameter "+key)
}

// parseV4Query parses the presigned parameters shared by S3 and JCS. The
// expiry parameter differs between the two fronts and is handled by callers.
func parseV4Query(params []queryParam) (*v4Auth, *Error) {
	var vals [5]string
	for i, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		s, err := singleQuery(params, k)
		if err != nil {
			return nil, err
		}
		vals[i] = s
	}
	if vals[0] != algoV4 {
		return nil, newError(CodeAuthorizationQueryParametersError, "X-Amz-Algorithm only supports \""+algoV4+"\"")
	}
	a := &v4Auth{}
	if msg := a.setCredential(vals[1]); msg != "" {
		return nil, newError(CodeAuthorizationQueryParametersError, msg)
	}
	if parsed, match := a.setAmzDate(vals[2]); !parsed {
		return nil, newError(CodeAuthorizationQueryParametersError, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	} else if !match {
		return nil, newError(CodeAuthorizationQueryParametersError, "The date in X-Amz-Credential does not match X-Amz-Date")
	}
	if msg := a.setSignedHeaders(vals[3]); msg != "" {
		return nil, newError(CodeAuthorizationQueryParametersError, msg)
	}
	if msg := a.setSignature(vals[4]); msg != "" {
		return nil, newError(CodeAuthorizationQueryParametersError, msg)
	}
	return a, nil
}

// parseExpires validates a presigned validity in seconds (1..604800); name
// is the parameter it came from, for the message.
func parseExpires(name, s string) (time.Duration, *Error) {
	n, ok := parseDecimal(s)
	switch {
	case !ok && strings.HasPrefix(s, "-"):
		return 0, newError(CodeAuthorizationQueryParametersError, name+" must be non-negative")
	case !ok:
		return 0, newError(CodeAuthorizationQueryParametersError, name+" should be a number")
	case n < 1:
		return 0, newError(CodeAuthorizationQueryParametersError, name+" must be at least 1 second")
	case n > maxPresignExpiry:
		return 0, newError(CodeAuthorizationQueryParametersError, name+" must be less than a week (in seconds) that is, the given "+name+" must be less than 604800 seconds")
	}
	return time.Duration(n) * time.Second, nil
}

// parseDecimal parses a non-negative decimal integer without sign, spaces or
// overflow.
func parseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
