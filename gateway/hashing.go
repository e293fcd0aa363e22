package gateway

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"strings"
)

// crc64NVME is the CRC-64/NVME polynomial in Go's reversed form.
var crc64NVMETable = crc64.MakeTable(0x9A6C9329AC4BC9B5)

var crc32cTable = crc32.MakeTable(crc32.Castagnoli)

// newChecksum returns a hash for an S3 checksum algorithm, or nil if the
// algorithm is unknown.
func newChecksum(algo string) hash.Hash {
	switch strings.ToUpper(algo) {
	case ChecksumCRC32:
		return crc32.NewIEEE()
	case ChecksumCRC32C:
		return crc32.New(crc32cTable)
	case ChecksumSHA1:
		return sha1.New()
	case ChecksumSHA256:
		return sha256.New()
	case ChecksumCRC64NVME:
		return crc64.New(crc64NVMETable)
	}
	return nil
}

// ValidChecksumAlgorithm reports whether algo is an S3 checksum algorithm.
func ValidChecksumAlgorithm(algo string) bool { return newChecksum(algo) != nil }

// isCRC tells the algorithms whose full-object value can be had for multipart.
func isCRC(algo string) bool {
	switch strings.ToUpper(algo) {
	case ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME:
		return true
	}
	return false
}

// digester computes, in the one pass that streams a body to its blob, every
// digest the gateway keeps: SHA-256 (the JCS fileHash and the blob's name),
// MD5 (the S3 ETag) and the optional S3 checksum.
type digester struct {
	sha hash.Hash
	md5 hash.Hash
	ck  hash.Hash
	// md5Serial: md5 is a lone crypto/md5, not a multi-buffer lane
	// (copyHashed queues more for it).
	md5Serial bool
	algo      string
	n         int64
}

func newDigester(algo string) *digester {
	d := &digester{sha: sha256.New(), md5: md5.New(), algo: strings.ToUpper(algo)}
	if algo != "" {
		d.ck = newChecksum(algo)
	}
	return d
}

func (d *digester) Write(p []byte) (int, error) {
	d.sha.Write(p)
	if d.md5 != nil {
		d.md5.Write(p)
	}
	if d.ck != nil {
		d.ck.Write(p)
	}
	d.n += int64(len(p))
	return len(p), nil
}

// fileHash is the JCS fileHash of the bytes seen: "Full" + uppercase hex.
func (d *digester) fileHash() string { return FullHash(d.sha.Sum(nil)) }

func (d *digester) md5Hex() string {
	if d.md5 == nil {
		return ""
	}
	return hex.EncodeToString(d.md5.Sum(nil))
}

func (d *digester) checksum() string {
	if d.ck == nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(d.ck.Sum(nil))
}

// FullHash formats a SHA-256 digest as a JCS fileHash.
func FullHash(sum []byte) string { return "Full" + strings.ToUpper(hex.EncodeToString(sum)) }

// emptyFullHash is the fileHash of a fresh JCS multipart object.
var emptyFullHash = "Full" + strings.Repeat("0", 64)
