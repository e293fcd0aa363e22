package gateway

import (
	"io"
	"time"
)

// Bucket is a JCS bucket, which is also an S3 bucket of the same name.
type Bucket struct {
	ID         int64
	Name       string
	CreateTime time.Time
}

// Package groups objects in a bucket. To S3 it is the folder "Name/".
// Explicit packages (made through /v1 or by an S3 PUT of "Name/") persist
// while marked; implicit ones (made by an S3 write of "Name/x") go away with
// their last object.
type Package struct {
	ID         int64
	Name       string
	BucketID   int64
	CreateTime time.Time
	Explicit   bool
}

// Redundancy types of the JCS object model.
const (
	RedundancyNone      = "none"
	RedundancyMultipart = "multipartUpload"
)

// Checksum algorithms of S3.
const (
	ChecksumCRC32     = "CRC32"
	ChecksumCRC32C    = "CRC32C"
	ChecksumSHA1      = "SHA1"
	ChecksumSHA256    = "SHA256"
	ChecksumCRC64NVME = "CRC64NVME"
)

// Checksum types of S3 multipart uploads.
const (
	ChecksumFullObject = "FULL_OBJECT"
	ChecksumComposite  = "COMPOSITE"
)

// Checksum is an S3 additional checksum: the value is base64 of the digest;
// a composite one ends in "-N".
type Checksum struct {
	Algorithm string
	Value     string
	Type      string
}

// Meta is the HTTP-level description of an object that S3 clients set.
type Meta struct {
	ContentType        string            `json:"ct,omitempty"`
	ContentEncoding    string            `json:"ce,omitempty"`
	ContentDisposition string            `json:"cd,omitempty"`
	ContentLanguage    string            `json:"cl,omitempty"`
	CacheControl       string            `json:"cc,omitempty"`
	Expires            string            `json:"ex,omitempty"`
	User               map[string]string `json:"u,omitempty"` // x-amz-meta-* without the prefix, names lowercased
}

// Block is one content-addressed blob holding a run of an object's bytes.
type Block struct {
	Hash string `json:"h"` // blob name: "Full" + SHA-256 hex of the blob
	Size int64  `json:"s"`
}

// Object is an object of a package, which is also the S3 object with key
// Key().
type Object struct {
	ID          int64
	PackageID   int64
	BucketID    int64
	PackageName string
	Path        string
	Size        int64
	FileHash    string
	ETag        string // unquoted: hex MD5, or hex MD5-of-MD5s + "-N"
	Redundancy  string
	CreateTime  time.Time
	UpdateTime  time.Time
	SpaceID     int64
	Meta        Meta
	Tags        map[string]string
	Checksum    *Checksum
	PartsCount  int // S3 multipart: number of parts; 0 for a single upload
	// PartSizes are an S3 multipart object's part sizes, for GET ?partNumber.
	PartSizes []int64
	Blocks    []Block
	// window: Blocks are only those of the window ObjectToRead readied,
	// the first at offset windowAt of the object.
	window   bool
	windowAt int64
}

// Key is the object's S3 key.
func (o *Object) Key() string { return JoinKey(o.PackageName, o.Path) }

// PutInput describes a write of one object's bytes.
type PutInput struct {
	Body io.Reader
	// Size is the announced length, or -1 when unknown. A body that ends
	// early or runs long fails with IncompleteBody and stores nothing.
	Size    int64
	SpaceID int64 // 0 = the default user space
	Meta    Meta
	Tags    map[string]string
	// ContentMD5 is the base64 Content-MD5 header, if the client sent one.
	ContentMD5 string
	// ChecksumAlgorithm asks for an additional S3 checksum to be computed
	// and stored. Expected, when set, is called once the body has been read
	// to its end (trailers arrive last) and returns the base64 value the
	// client claims; "" means none claimed.
	ChecksumAlgorithm string
	Expected          func() string
	// Conditional write: If-Match (an ETag, or "*") and If-None-Match ("*").
	IfMatch     string
	IfNoneMatch string
}

// ListByPathInput is a JCS listByPath query.
type ListByPathInput struct {
	PackageID         int64
	Path              string
	IsPrefix          bool
	NoRecursive       bool
	MaxKeys           int
	ContinuationToken string
}

// ListByPathResult is the answer to a JCS listByPath query.
type ListByPathResult struct {
	Objects               []Object
	CommonPrefixes        []string
	IsTruncated           bool
	NextContinuationToken string
}

// Moving is one item of a JCS object/move request.
type Moving struct {
	ObjectID  int64
	PackageID int64
	Path      string
}

// Cloning is one item of a JCS object/clone request.
type Cloning struct {
	ObjectID     int64
	NewPackageID int64
	NewPath      string
}

// ListKeysInput is an S3 listing query over one bucket's keys.
type ListKeysInput struct {
	Prefix    string
	Delimiter string
	After     string // exclusive start: marker, start-after or decoded continuation token
	MaxKeys   int
}

// ListKeysResult is one page of an S3 listing. Objects and CommonPrefixes
// are each in key order; NextAfter is the last key or prefix returned.
type ListKeysResult struct {
	Objects        []Object
	CommonPrefixes []string
	IsTruncated    bool
	NextAfter      string
}

// Conditions are HTTP preconditions on an object (GET, HEAD, copy source).
type Conditions struct {
	IfMatch           string
	IfNoneMatch       string
	IfModifiedSince   *time.Time
	IfUnmodifiedSince *time.Time
}

// CopyInput is an S3 CopyObject.
type CopyInput struct {
	SrcBucket, SrcKey string
	DstBucket, DstKey string
	SrcConditions     Conditions
	// ReplaceMeta: metadata directive REPLACE (use Meta) instead of COPY.
	ReplaceMeta bool
	Meta        Meta
	// ReplaceTags: tagging directive REPLACE (use Tags) instead of COPY.
	ReplaceTags       bool
	Tags              map[string]string
	ChecksumAlgorithm string
	IfMatch           string
	IfNoneMatch       string
}

// Upload is an S3 multipart upload in progress.
type Upload struct {
	ID                string
	Bucket            string
	Key               string
	Initiated         time.Time
	Meta              Meta
	Tags              map[string]string
	ChecksumAlgorithm string
	ChecksumType      string
}

// Part is an uploaded part of an S3 multipart upload.
type Part struct {
	Number       int
	Size         int64
	ETag         string // unquoted hex MD5
	LastModified time.Time
	Checksum     *Checksum
}

// CompletePart is one entry of a CompleteMultipartUpload request.
type CompletePart struct {
	Number   int
	ETag     string // quotes are tolerated
	Checksum string // base64 value for the upload's algorithm, if sent
}

// ListUploadsInput is an S3 ListMultipartUploads query.
type ListUploadsInput struct {
	Prefix, Delimiter         string
	KeyMarker, UploadIDMarker string
	MaxUploads                int
}

// ListUploadsResult is one page of ListMultipartUploads.
type ListUploadsResult struct {
	Uploads            []Upload
	CommonPrefixes     []string
	IsTruncated        bool
	NextKeyMarker      string
	NextUploadIDMarker string
}

// ListPartsResult is one page of ListParts.
type ListPartsResult struct {
	Upload               Upload
	Parts                []Part
	IsTruncated          bool
	NextPartNumberMarker int
}
