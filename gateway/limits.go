package gateway

import (
	"fmt"
	"io"
)

// Limits are the sizes and counts a server accepts: the one place their
// numbers live. jcsgw.Config carries them, cmd/jcsgw sets the main ones from
// flags, and each front enforces those of its dialect, answering in its own
// error shape before anything is stored. A zero field means its default
// (DefaultLimits); WithDefaults fills them in.
type Limits struct {
	// MaxObjectSize bounds an object however it is written: a single
	// upload, an assembled S3 multipart upload, a JCS multipart object.
	// Default 5 TiB. S3: EntityTooLarge; JCS: BadArgument.
	MaxObjectSize int64
	// MaxPutSize bounds the body of one single-request upload (S3
	// PutObject, each file of a JCS upload form, a JCS presigned upload).
	// Default 5 GiB. A body that announces more is refused before it is
	// read; one of unknown length is cut off at the limit.
	MaxPutSize int64
	// MaxPartSize bounds one multipart part (S3 UploadPart and
	// UploadPartCopy, JCS uploadPart). Default 5 GiB.
	MaxPartSize int64
	// MaxParts bounds S3 part numbers (1..MaxParts) and the parts listed in
	// one completion, S3 or JCS. Default 10,000; at most MaxParts (the
	// gateway constant).
	MaxParts int
	// MaxKeyLength bounds an S3 key, and a JCS package name + "/" + path,
	// in bytes. Default 1,024; at most MaxKeyLen. S3: KeyTooLongError.
	MaxKeyLength int
	// MaxUserMetadata bounds the x-amz-meta-* names and values of one
	// object together, in bytes. Default 2 KiB. S3: MetadataTooLarge.
	MaxUserMetadata int
	// MaxTags, MaxTagKeyLength and MaxTagValueLength bound S3 object tags
	// (count, and characters of a key and of a value). Defaults 10, 128,
	// 256. S3: InvalidTag.
	MaxTags           int
	MaxTagKeyLength   int
	MaxTagValueLength int
	// MaxHeaderBytes bounds a request's line and headers
	// (http.Server.MaxHeaderBytes). Default 64 KiB. Answered by net/http:
	// 431 Request Header Fields Too Large.
	MaxHeaderBytes int
	// MaxJSONBody bounds a /v1 JSON request body and the info part of a
	// /v1 multipart form. Default 1 MiB. JCS: 400 BadArgument.
	MaxJSONBody int64
	// MaxDeleteKeys bounds the keys of one S3 DeleteObjects. Default 1,000.
	// S3: MalformedXML.
	MaxDeleteKeys int
	// MaxListKeys caps a listing page (S3 max-keys, max-uploads, max-parts;
	// JCS listByPath maxKeys): larger requests get this many. Default
	// 1,000; at most MaxMaxKeys.
	MaxListKeys int
}

// DefaultLimits are the limits of S3 itself, and 1 MiB for /v1 JSON bodies.
func DefaultLimits() Limits {
	return Limits{
		MaxObjectSize:     5 << 40,
		MaxPutSize:        5 << 30,
		MaxPartSize:       5 << 30,
		MaxParts:          MaxParts,
		MaxKeyLength:      MaxKeyLen,
		MaxUserMetadata:   2 << 10,
		MaxTags:           10,
		MaxTagKeyLength:   128,
		MaxTagValueLength: 256,
		MaxHeaderBytes:    64 << 10,
		MaxJSONBody:       1 << 20,
		MaxDeleteKeys:     1000,
		MaxListKeys:       MaxMaxKeys,
	}
}

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	or64 := func(v *int64, def int64) {
		if *v == 0 {
			*v = def
		}
	}
	or := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	or64(&l.MaxObjectSize, d.MaxObjectSize)
	or64(&l.MaxPutSize, d.MaxPutSize)
	or64(&l.MaxPartSize, d.MaxPartSize)
	or(&l.MaxParts, d.MaxParts)
	or(&l.MaxKeyLength, d.MaxKeyLength)
	or(&l.MaxUserMetadata, d.MaxUserMetadata)
	or(&l.MaxTags, d.MaxTags)
	or(&l.MaxTagKeyLength, d.MaxTagKeyLength)
	or(&l.MaxTagValueLength, d.MaxTagValueLength)
	or(&l.MaxHeaderBytes, d.MaxHeaderBytes)
	or64(&l.MaxJSONBody, d.MaxJSONBody)
	or(&l.MaxDeleteKeys, d.MaxDeleteKeys)
	or(&l.MaxListKeys, d.MaxListKeys)
	return l
}

// Validate reports a limit that is negative, or above what the gateway can
// hold at all (key length, part numbers, page size are also enforced by
// the gateway at their constants, so a Limits may lower them, not raise
// them). Zero fields are valid: they mean the default.
func (l Limits) Validate() error {
	for _, f := range []struct {
		name string
		v    int64
		max  int64 // 0 = none
	}{
		{"MaxObjectSize", l.MaxObjectSize, 0},
		{"MaxPutSize", l.MaxPutSize, 0},
		{"MaxPartSize", l.MaxPartSize, 0},
		{"MaxParts", int64(l.MaxParts), MaxParts},
		{"MaxKeyLength", int64(l.MaxKeyLength), MaxKeyLen},
		{"MaxUserMetadata", int64(l.MaxUserMetadata), 0},
		{"MaxTags", int64(l.MaxTags), 0},
		{"MaxTagKeyLength", int64(l.MaxTagKeyLength), 0},
		{"MaxTagValueLength", int64(l.MaxTagValueLength), 0},
		{"MaxHeaderBytes", int64(l.MaxHeaderBytes), 0},
		{"MaxJSONBody", l.MaxJSONBody, 0},
		{"MaxDeleteKeys", int64(l.MaxDeleteKeys), 0},
		{"MaxListKeys", int64(l.MaxListKeys), MaxMaxKeys},
	} {
		if f.v < 0 {
			return fmt.Errorf("limits: %s is %d; it must not be negative (0 = the default)", f.name, f.v)
		}
		if f.max > 0 && f.v > f.max {
			return fmt.Errorf("limits: %s is %d; at most %d is supported", f.name, f.v, f.max)
		}
	}
	return nil
}

// PutLimit is the most bytes one single-request upload may hold: the
// smaller of MaxPutSize and MaxObjectSize.
func (l Limits) PutLimit() int64 { return min(l.MaxPutSize, l.MaxObjectSize) }

// PartLimit is the most bytes one multipart part may hold.
func (l Limits) PartLimit() int64 { return min(l.MaxPartSize, l.MaxObjectSize) }

// TooLarge is the EntityTooLarge error of a body of n bytes (what names it:
// "the object", "the part") over limit.
func TooLarge(what string, n, limit int64) error {
	if n < 0 {
		return errorf(CodeEntityTooLarge, "%s is larger than the limit of %d bytes", what, limit)
	}
	return errorf(CodeEntityTooLarge, "%s is %d bytes, larger than the limit of %d bytes", what, n, limit)
}

// CheckSize refuses an announced size above limit; a negative (unknown)
// size passes, and is then bounded while it streams by LimitBody.
func CheckSize(what string, n, limit int64) error {
	if n > limit {
		return TooLarge(what, n, limit)
	}
	return nil
}

// CheckKeyLength refuses an S3 key, or a package name + "/" + path, longer
// than l.MaxKeyLength bytes.
func (l Limits) CheckKeyLength(key string) error {
	if len(key) > l.MaxKeyLength {
		return errorf(CodeKeyTooLong, "the object key is %d bytes; at most %d are allowed", len(key), l.MaxKeyLength)
	}
	return nil
}

// LimitBody returns a reader of body that fails with EntityTooLarge (a
// *Error, which the gateway's writers pass through unchanged, discarding
// what they staged) as soon as body turns out to hold more than limit
// bytes. It never reads more than limit+1 bytes from body.
func LimitBody(body io.Reader, what string, limit int64) io.Reader {
	if body == nil {
		return nil
	}
	limit = max(limit, 0)
	return &limitedBody{r: body, left: limit, what: what, limit: limit}
}

type limitedBody struct {
	r     io.Reader
	left  int64 // bytes still allowed
	what  string
	limit int64
	err   error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	if int64(n) > b.left {
		b.err = TooLarge(b.what, -1, b.limit)
		n = int(b.left)
		b.left = 0
		return n, b.err
	}
	b.left -= int64(n)
	return n, err
}
