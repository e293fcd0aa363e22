package gateway

import (
	"strings"
	"time"
)

// etagMatches compares a header's ETag list (quoted or not, or "*") with an
// object's ETag.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		t = strings.TrimPrefix(t, "W/")
		if t == "*" || strings.Trim(t, `"`) == etag {
			return true
		}
	}
	return false
}

// CheckConditions evaluates read preconditions in the order RFC 9110 and S3
// use: If-Match, If-Unmodified-Since (ignored when If-Match is present),
// If-None-Match, If-Modified-Since (ignored when If-None-Match is present).
// It returns a PreconditionFailed or NotModified error, or nil.
func CheckConditions(o Object, c Conditions) error {
	mod := o.UpdateTime.Truncate(time.Second)
	if c.IfMatch != "" {
		if !etagMatches(c.IfMatch, o.ETag) {
			return errorf(CodePreconditionFailed, "If-Match: the object's ETag does not match")
		}
	} else if c.IfUnmodifiedSince != nil && mod.After(*c.IfUnmodifiedSince) {
		return errorf(CodePreconditionFailed, "If-Unmodified-Since: the object was modified since")
	}
	if c.IfNoneMatch != "" {
		if etagMatches(c.IfNoneMatch, o.ETag) {
			return errorf(CodeNotModified, "If-None-Match: the object's ETag matches")
		}
	} else if c.IfModifiedSince != nil && !mod.After(*c.IfModifiedSince) {
		return errorf(CodeNotModified, "If-Modified-Since: the object was not modified since")
	}
	return nil
}
