package s3api

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"jcsgw/gateway"
	"jcsgw/gateway/auth"
)

// defaultContentType is what S3 reports for objects stored without one.
const defaultContentType = "binary/octet-stream"

const metaPrefix = "x-amz-meta-"

// parseMeta reads the HTTP-level description of an object from a write
// request: content headers and x-amz-meta-*, whose names and values
// together may hold at most lim.MaxUserMetadata bytes, as in S3.
func parseMeta(h http.Header, lim *gateway.Limits) (gateway.Meta, error) {
	m := gateway.Meta{
		ContentType:        h.Get("Content-Type"),
		ContentEncoding:    stripAWSChunked(h.Values("Content-Encoding")),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentLanguage:    h.Get("Content-Language"),
		CacheControl:       h.Get("Cache-Control"),
		Expires:            h.Get("Expires"),
	}
	size := 0
	for k, vs := range h {
		if len(k) <= len(metaPrefix) || !hasPrefixFold(k, metaPrefix) {
			continue
		}
		lk := strings.ToLower(k)
		if m.User == nil {
			m.User = map[string]string{}
		}
		name := lk[len(metaPrefix):]
		v := strings.Join(vs, ",")
		m.User[name] = v
		size += len(name) + len(v)
	}
	if size > lim.MaxUserMetadata {
		return m, s3Error("MetadataTooLarge", http.StatusBadRequest,
			"Your metadata headers exceed the maximum allowed metadata size (%d bytes).", lim.MaxUserMetadata)
	}
	return m, nil
}

// stripAWSChunked drops the aws-chunked transfer coding, which describes the
// request and not the object.
func stripAWSChunked(vs []string) string {
	var keep []string
	for _, v := range vs {
		for _, c := range strings.Split(v, ",") {
			c = strings.TrimSpace(c)
			if c != "" && !strings.EqualFold(c, "aws-chunked") {
				keep = append(keep, c)
			}
		}
	}
	return strings.Join(keep, ",")
}

// setObjectHeaders writes an object's description to a GET/HEAD reply.
func setObjectHeaders(h http.Header, o *gateway.Object) {
	ct := o.Meta.ContentType
	if ct == "" {
		ct = defaultContentType
	}
	// The values every object has share one array (each slice capped, so
	// that an Add copies rather than writes over its neighbour): a small
	// GET's header values were a tenth of its allocations. The names are
	// in canonical form, as Set would make them.
	v := []string{quoteETag(o.ETag), httpTime(o.UpdateTime), "bytes", ct}
	h["Etag"], h["Last-Modified"], h["Accept-Ranges"], h["Content-Type"] = v[0:1:1], v[1:2:2], v[2:3:3], v[3:4:4]
	for _, kv := range [...][2]string{
		{"Content-Encoding", o.Meta.ContentEncoding},
		{"Content-Disposition", o.Meta.ContentDisposition},
		{"Content-Language", o.Meta.ContentLanguage},
		{"Cache-Control", o.Meta.CacheControl},
		{"Expires", o.Meta.Expires},
	} {
		if kv[1] != "" {
			h[kv[0]] = []string{kv[1]}
		}
	}
	for k, v := range o.Meta.User {
		// Lowercase on the wire, as S3 sends them: clients that keep the
		// name as received (botocore) must see the name as it was stored.
		h[metaPrefix+k] = []string{v}
	}
	if len(o.Tags) > 0 {
		h.Set("X-Amz-Tagging-Count", strconv.Itoa(len(o.Tags)))
	}
	if o.PartsCount > 0 {
		h.Set("X-Amz-Mp-Parts-Count", strconv.Itoa(o.PartsCount))
	}
}

// setChecksumHeaders writes an object's additional checksum.
func setChecksumHeaders(h http.Header, ck *gateway.Checksum) {
	if ck == nil || ck.Value == "" {
		return
	}
	h.Set("X-Amz-Checksum-"+strings.ToLower(ck.Algorithm), ck.Value)
	if ck.Type != "" {
		h.Set("X-Amz-Checksum-Type", ck.Type)
	}
}

// responseOverrides are the response-* query parameters of GetObject and the
// headers they set.
var responseOverrides = [][2]string{
	{"response-content-type", "Content-Type"},
	{"response-content-language", "Content-Language"},
	{"response-expires", "Expires"},
	{"response-cache-control", "Cache-Control"},
	{"response-content-disposition", "Content-Disposition"},
	{"response-content-encoding", "Content-Encoding"},
}

// byteRange is a satisfiable range of an object: n bytes from off.
type byteRange struct{ off, n int64 }

// parseRange reads a Range header against an object of size bytes. It
// returns nil (serve the whole object) for a missing, malformed or
// multi-range header, as S3 does, and InvalidRange for an unsatisfiable one.
func parseRange(spec string, size int64) (*byteRange, error) {
	spec = strings.TrimSpace(spec)
	rest, ok := strings.CutPrefix(spec, "bytes=")
	if !ok || strings.Contains(rest, ",") {
		return nil, nil
	}
	first, last, ok := strings.Cut(strings.TrimSpace(rest), "-")
	if !ok {
		return nil, nil
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" { // suffix: the last n bytes
		n, err := parseDigits(last)
		if err != nil || n < 0 {
			return nil, nil
		}
		if n == 0 || size == 0 {
			return nil, errInvalidRange(size)
		}
		n = min(n, size)
		return &byteRange{size - n, n}, nil
	}
	a, err := parseDigits(first)
	if err != nil || a < 0 {
		return nil, nil
	}
	end := size - 1
	if last != "" {
		b, err := parseDigits(last)
		if err != nil || b < a {
			return nil, nil
		}
		end = min(b, size-1)
	}
	if a >= size {
		return nil, errInvalidRange(size)
	}
	return &byteRange{a, end - a + 1}, nil
}

// parseDigits reads a byte position: decimal digits only, no sign (which
// strconv.ParseInt would take), as HTTP ranges are written.
func parseDigits(s string) (int64, error) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

func errInvalidRange(size int64) *apiError {
	e := s3Error("InvalidRange", http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable")
	e.Header = map[string]string{"Content-Range": "bytes */" + strconv.FormatInt(size, 10)}
	return e
}

// parseCopyRange reads x-amz-copy-source-range, which must be bytes=a-b.
func parseCopyRange(spec string, size int64) (off, n int64, err error) {
	bad := errInvalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last " +
		"where first and last are the zero-based offsets of the first and last bytes to copy")
	rest, ok := strings.CutPrefix(strings.TrimSpace(spec), "bytes=")
	if !ok {
		return 0, 0, bad
	}
	first, last, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, 0, bad
	}
	a, err1 := parseDigits(first)
	b, err2 := parseDigits(last)
	if err1 != nil || err2 != nil || a < 0 || b < a {
		return 0, 0, bad
	}
	if b >= size {
		return 0, 0, errInvalidArgument("Range specified is not valid for source object of size: %d", size)
	}
	return a, b - a + 1, nil
}

// parseHTTPTime reads an HTTP date; S3 ignores conditions with bad dates.
func parseHTTPTime(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := http.ParseTime(s)
	if err != nil {
		return nil
	}
	return &t
}

// parseConditions reads read preconditions from headers named prefix +
// If-Match etc. ("" for GET/HEAD, "X-Amz-Copy-Source-" for a copy source).
func parseConditions(h http.Header, prefix string) gateway.Conditions {
	return gateway.Conditions{
		IfMatch:           h.Get(prefix + "If-Match"),
		IfNoneMatch:       h.Get(prefix + "If-None-Match"),
		IfModifiedSince:   parseHTTPTime(h.Get(prefix + "If-Modified-Since")),
		IfUnmodifiedSince: parseHTTPTime(h.Get(prefix + "If-Unmodified-Since")),
	}
}

func errInvalidTag(format string, args ...any) *apiError {
	return s3Error("InvalidTag", http.StatusBadRequest, format, args...)
}

// parseTagHeader reads the x-amz-tagging header: a URL query string.
func parseTagHeader(s string, lim *gateway.Limits) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(s)
	if err != nil {
		return nil, errInvalidArgument("The x-amz-tagging header is not a valid URL-encoded query string")
	}
	tags := map[string]string{}
	for k, vs := range q {
		if len(vs) > 1 {
			return nil, errInvalidTag("Cannot provide multiple Tags with the same key")
		}
		tags[k] = vs[0]
	}
	return tags, validateTags(tags, lim)
}

// tagsFromXML converts and checks a Tagging body's tag set.
func tagsFromXML(set []tag, lim *gateway.Limits) (map[string]string, error) {
	tags := make(map[string]string, len(set))
	for _, t := range set {
		if _, dup := tags[t.Key]; dup {
			return nil, errInvalidTag("Cannot provide multiple Tags with the same key")
		}
		tags[t.Key] = t.Value
	}
	return tags, validateTags(tags, lim)
}

// validateTags applies the S3 tag limits: lim.MaxTags tags, keys of 1 to
// lim.MaxTagKeyLength characters, values of at most lim.MaxTagValueLength.
func validateTags(tags map[string]string, lim *gateway.Limits) error {
	if len(tags) > lim.MaxTags {
		return errInvalidTag("Object tags cannot be greater than %d", lim.MaxTags)
	}
	for k, v := range tags {
		switch {
		case k == "" || utf8.RuneCountInString(k) > lim.MaxTagKeyLength || !utf8.ValidString(k):
			return errInvalidTag("The TagKey you have provided is invalid")
		case utf8.RuneCountInString(v) > lim.MaxTagValueLength || !utf8.ValidString(v):
			return errInvalidTag("The TagValue you have provided is invalid")
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return errInvalidTag("Your TagKey cannot be prefixed with aws:")
		}
	}
	return nil
}

// tagSet lists tags in key order.
func tagSet(tags map[string]string) []tag {
	out := make([]tag, 0, len(tags))
	for k, v := range tags {
		out = append(out, tag{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// checksumAlgorithms are the S3 additional checksums and their digest sizes.
var checksumAlgorithms = []struct {
	name   string
	size   int
	header string // canonical, as net/http keys it: looked up on every write
}{
	{"CRC32", 4, "X-Amz-Checksum-Crc32"}, {"CRC32C", 4, "X-Amz-Checksum-Crc32c"},
	{"CRC64NVME", 8, "X-Amz-Checksum-Crc64nvme"}, {"SHA1", 20, "X-Amz-Checksum-Sha1"},
	{"SHA256", 32, "X-Amz-Checksum-Sha256"},
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case, for header names
// without lowering a copy of each.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

const checksumHeaderPrefix = "x-amz-checksum-"

// requestChecksum is what a write request says about its additional
// checksum.
type requestChecksum struct {
	algo     string        // "" = none
	expected func() string // nil = nothing claimed
}

// parseChecksum reads a write's checksum: an x-amz-checksum-<algo> header,
// an x-amz-trailer announcing one (read after the body's end), or
// x-amz-sdk-checksum-algorithm alone (compute and keep).
func parseChecksum(r *http.Request) (requestChecksum, error) {
	var rc requestChecksum
	for _, a := range checksumAlgorithms {
		v := r.Header.Get(a.header)
		if v == "" {
			continue
		}
		name := strings.ToLower(a.header)
		if rc.algo != "" {
			return rc, errInvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		if raw, err := base64.StdEncoding.DecodeString(v); err != nil || len(raw) != a.size {
			return rc, errInvalidRequest("Value for %s header is invalid.", name)
		}
		rc.algo = a.name
		rc.expected = func() string { return v }
	}
	if tr := strings.ToLower(strings.TrimSpace(r.Header.Get("X-Amz-Trailer"))); tr != "" {
		algo, ok := strings.CutPrefix(tr, checksumHeaderPrefix)
		if !ok || !gateway.ValidChecksumAlgorithm(algo) {
			return rc, errInvalidRequest("The value specified in the x-amz-trailer header is not supported")
		}
		if rc.algo != "" {
			return rc, errInvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		rc.algo = strings.ToUpper(algo)
		rc.expected = func() string {
			if vs := auth.Trailers(r)[tr]; len(vs) > 0 && vs[0] != "" {
				return vs[0]
			}
			// Announced but never sent: claim something that cannot match.
			return "(missing trailer " + tr + ")"
		}
	}
	if sdk := strings.ToUpper(strings.TrimSpace(r.Header.Get("X-Amz-Sdk-Checksum-Algorithm"))); sdk != "" {
		if !gateway.ValidChecksumAlgorithm(sdk) {
			return rc, errInvalidRequest("Value for x-amz-sdk-checksum-algorithm header is invalid.")
		}
		if rc.algo == "" {
			rc.algo = sdk
		} else if rc.algo != sdk {
			return rc, errInvalidRequest("Value for x-amz-sdk-checksum-algorithm header is invalid.")
		}
	}
	return rc, nil
}

// checkACL accepts the private canned ACL (what every object here has) and
// refuses any other ACL header.
func checkACL(h http.Header) error {
	if acl := h.Get("X-Amz-Acl"); acl != "" && acl != "private" {
		return errNotImplemented("Access control lists are not supported; only the canned ACL 'private' is accepted")
	}
	for k := range h {
		if hasPrefixFold(k, "x-amz-grant-") {
			return errNotImplemented("Access control lists are not supported; only the canned ACL 'private' is accepted")
		}
	}
	return nil
}

// checkUnsupportedWriteHeaders refuses write options this server would
// otherwise silently ignore while the client relies on them.
func checkUnsupportedWriteHeaders(h http.Header) error {
	if err := checkACL(h); err != nil {
		return err
	}
	for _, name := range []string{
		"X-Amz-Server-Side-Encryption", "X-Amz-Server-Side-Encryption-Customer-Algorithm",
		"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id",
	} {
		if h.Get(name) != "" {
			return errNotImplemented("Server-side encryption is not supported")
		}
	}
	for _, name := range []string{"X-Amz-Object-Lock-Mode", "X-Amz-Object-Lock-Retain-Until-Date", "X-Amz-Object-Lock-Legal-Hold"} {
		if h.Get(name) != "" {
			return errNotImplemented("Object Lock is not supported")
		}
	}
	if h.Get("X-Amz-Website-Redirect-Location") != "" {
		return errNotImplemented("Website redirects are not supported")
	}
	return nil
}

// parseCopySource reads x-amz-copy-source: "[/]bucket/key[?versionId=v]",
// URL-encoded.
func parseCopySource(s string) (bucket, key string, err error) {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i] // a versionId: every object has the one version
	}
	dec, uerr := url.PathUnescape(s)
	if uerr != nil {
		return "", "", errInvalidArgument("Copy Source is not validly URL-encoded")
	}
	dec = strings.TrimPrefix(dec, "/")
	bucket, key, _ = strings.Cut(dec, "/")
	if bucket == "" || key == "" {
		return "", "", errInvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	return bucket, key, nil
}

// s3URLEncode is the encoding-type=url form of listing values: every byte
// but the unreserved ones and '/' percent-encoded (so spaces are %20 and '+'
// is %2B, and both URL and form decoders read it back).
func s3URLEncode(s string) string { return string(appendS3URLEncoded(nil, s)) }

func appendS3URLEncoded(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return b
}

// parseMaxInt reads a non-negative count parameter; absent = def; capped.
func parseMaxInt(q url.Values, name string, def, limit int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errInvalidArgument("Provided %s not an integer or within integer range", name)
	}
	return min(n, limit), nil
}
