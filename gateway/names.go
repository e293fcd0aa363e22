package gateway

import (
	"net"
	"strings"
	"unicode/utf8"
)

// MaxKeyLen bounds an S3 key, and so a package name plus "/" plus a path.
const MaxKeyLen = 1024

// reserved names would shadow the server's own paths in path-style S3.
var reserved = map[string]bool{"v1": true, "healthz": true, "readyz": true, "metrics": true}

// SplitKey maps an S3 key to its package and path: the package is what comes
// before the first "/", and a key with no "/" lives in the root package "".
// The key "P/" is package P's folder marker (path "").
func SplitKey(key string) (pkg, path string) {
	if i := strings.IndexByte(key, '/'); i >= 0 {
		return key[:i], key[i+1:]
	}
	return "", key
}

// JoinKey is the inverse of SplitKey.
func JoinKey(pkg, path string) string {
	if pkg == "" {
		return path
	}
	return pkg + "/" + path
}

// ValidateKey checks that an S3 key is one the mapping round-trips.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return errorf(CodeBadArgument, "the object key is empty")
	case len(key) > MaxKeyLen:
		return errorf(CodeKeyTooLong, "the object key is %d bytes; at most %d are allowed", len(key), MaxKeyLen)
	case !utf8.ValidString(key):
		return errorf(CodeBadArgument, "the object key is not valid UTF-8")
	case strings.IndexByte(key, 0) >= 0:
		return errorf(CodeBadArgument, "the object key contains a NUL byte")
	case key[0] == '/':
		// It would name the root package, whose paths hold no "/".
		return errorf(CodeBadArgument, "object keys starting with '/' are not supported: the part before the first '/' names a package, which cannot be empty")
	}
	return nil
}

// ValidatePath checks a JCS object path in the named package.
func ValidatePath(pkg, path string) error {
	switch {
	case path == "":
		return errorf(CodeBadArgument, "path is empty")
	case !utf8.ValidString(path):
		return errorf(CodeBadArgument, "path is not valid UTF-8")
	case strings.IndexByte(path, 0) >= 0:
		return errorf(CodeBadArgument, "path contains a NUL byte")
	case pkg == "" && strings.IndexByte(path, '/') >= 0:
		return errorf(CodeBadArgument, "path %q: objects of the root package (name \"\") cannot contain '/'; the part before the first '/' names a package", path)
	case len(JoinKey(pkg, path)) > MaxKeyLen:
		return errorf(CodeBadArgument, "path is too long: package name, '/' and path together must be at most %d bytes", MaxKeyLen)
	}
	return nil
}

// ValidatePackageName checks a package name. "" is the bucket's root package.
func ValidatePackageName(name string) error {
	switch {
	case len(name) > 255:
		return errorf(CodeBadArgument, "name is longer than 255 bytes")
	case !utf8.ValidString(name):
		return errorf(CodeBadArgument, "name is not valid UTF-8")
	case strings.ContainsRune(name, '/'):
		return errorf(CodeBadArgument, "name %q contains '/': a package is one level of the S3 key space", name)
	case hasControl(name):
		return errorf(CodeBadArgument, "name contains control characters")
	}
	return nil
}

// ValidateBucketName checks a bucket name made through /v1: any printable
// name that can be one path segment.
func ValidateBucketName(name string) error {
	switch {
	case name == "":
		return errorf(CodeBadArgument, "name is empty")
	case len(name) > 63:
		return errorf(CodeBadArgument, "name is longer than 63 bytes")
	case !utf8.ValidString(name):
		return errorf(CodeBadArgument, "name is not valid UTF-8")
	case strings.ContainsAny(name, "/\\?#%") || hasControl(name) || strings.ContainsRune(name, ' '):
		return errorf(CodeBadArgument, "name %q contains a character that cannot stand in a URL path segment", name)
	case name == "." || name == "..":
		return errorf(CodeBadArgument, "name %q is not allowed", name)
	case reserved[name]:
		return errorf(CodeBadArgument, "name %q is reserved for the server's own paths", name)
	}
	return nil
}

// ValidateS3BucketName applies the S3 naming rules for buckets created
// through the S3 front.
func ValidateS3BucketName(name string) error {
	bad := func(why string) error {
		return errorf(CodeInvalidBucketName, "the bucket name %q is not valid: %s", name, why)
	}
	if len(name) < 3 || len(name) > 63 {
		return bad("it must be 3 to 63 characters long")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return bad("only lowercase letters, digits, '.' and '-' are allowed")
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return bad("it must begin and end with a letter or digit")
	}
	if strings.Contains(name, "..") || strings.Contains(name, ".-") || strings.Contains(name, "-.") {
		return bad("dots may not be adjacent to dots or dashes")
	}
	if net.ParseIP(name) != nil {
		return bad("it must not be formatted as an IP address")
	}
	if reserved[name] {
		return bad("it is reserved for the server's own paths")
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}
