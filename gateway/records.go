package gateway

import (
	"encoding/binary"
	"encoding/json"
	"time"
)

// Catalog tables. Keys that must sort numerically are big-endian.
const (
	tBucket     = "bucket"      // id → bucketRec
	tBucketName = "bucket_name" // name → id
	tPkg        = "pkg"         // id → pkgRec
	tPkgName    = "pkg_name"    // bucketID + name → id
	tObj        = "obj"         // id → objRec
	tPathIdx    = "pidx"        // packageID + path → objectID (JCS listings)
	tKeyIdx     = "kidx"        // bucketID + S3 key → objectID, or markerVal (S3 listings)
	tRef        = "ref"         // spaceID + blob name → count
	tJPart      = "jpart"       // objectID + index → jpartRec (JCS multipart)
	tUpload     = "upload"      // uploadID → uploadRec (S3 multipart)
	tUploadKey  = "upload_key"  // bucketID + key + 0 + initiated + uploadID → nil
	tUPart      = "upart"       // uploadID + 0 + partNumber → partRec
	tMeta       = "meta"        // server-wide settings
)

// markerVal in the key index stands for an explicit package's "P/" marker.
var markerVal = []byte{}

func u64(v int64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(v))
	return b
}

func getU64(b []byte) int64 {
	if len(b) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

func cat(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

type bucketRec struct {
	ID      int64     `json:"id"`
	Name    string    `json:"n"`
	Created time.Time `json:"c"`
	Owner   int64     `json:"o,omitempty"` // user ID; 0 = the admin
}

type pkgRec struct {
	ID       int64     `json:"id"`
	BucketID int64     `json:"b"`
	Name     string    `json:"n"`
	Created  time.Time `json:"c"`
	Explicit bool      `json:"x,omitempty"`
}

type objRec struct {
	ID         int64             `json:"id"`
	PackageID  int64             `json:"p"`
	BucketID   int64             `json:"b"`
	Path       string            `json:"k"`
	Size       int64             `json:"s"`
	FileHash   string            `json:"h"`
	ETag       string            `json:"e"`
	Redundancy string            `json:"r"`
	Created    time.Time         `json:"c"`
	Updated    time.Time         `json:"u"`
	SpaceID    int64             `json:"sp"`
	Meta       Meta              `json:"m"`
	Tags       map[string]string `json:"t,omitempty"`
	Checksum   *Checksum         `json:"ck,omitempty"`
	Parts      int               `json:"pc,omitempty"`
	Blocks     []Block           `json:"bl"`
	// PartSizes lists S3 multipart part sizes, for GetObject partNumber.
	PartSizes []int64 `json:"ps,omitempty"`
	// blocksRaw holds a long Blocks still encoded, Blocks nil, in a record
	// read for a GET or HEAD (decObjForRead): part of the record's bytes,
	// so valid only in the transaction that read it; never written back.
	blocksRaw []byte
}

type jpartRec struct {
	Block
	SHA256 []byte `json:"d"` // raw digest, for the "Comp" hash
	MD5    []byte `json:"m"`
}

type uploadRec struct {
	ID        string            `json:"id"`
	BucketID  int64             `json:"b"`
	Key       string            `json:"k"`
	Initiated time.Time         `json:"i"`
	Meta      Meta              `json:"m"`
	Tags      map[string]string `json:"t,omitempty"`
	SpaceID   int64             `json:"sp"`
	CkAlgo    string            `json:"ca,omitempty"`
	CkType    string            `json:"ct,omitempty"`
}

type partRec struct {
	Number   int       `json:"n"`
	Block    Block     `json:"bl"`
	MD5      string    `json:"e"`
	Modified time.Time `json:"u"`
	Checksum string    `json:"ck,omitempty"` // base64 of the part's checksum
	// CkRaw is the raw digest, for composite checksums.
	CkRaw []byte `json:"cr,omitempty"`
}

func enc(v any) []byte {
	if r, ok := v.(binaryRecord); ok {
		return encodeBin(r)
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic("gateway: encode record: " + err.Error()) // only our own plain structs get here
	}
	return b
}

// decObjForRead decodes an object record for reading the object: a long
// block list stays encoded (blocksRaw), for the reader to copy out only
// the blocks it reads (blocksWindow) before the transaction ends.
func decObjForRead(b []byte) (objRec, error) {
	if len(b) == 0 || b[0] != recBinary {
		return dec[objRec](b)
	}
	var o objRec
	err := decodeBinFrom(&recReader{b: b[1:], all: b[1:], forRead: true}, &o)
	return o, err
}

func dec[T any](b []byte) (T, error) {
	var v T
	if len(b) > 0 && b[0] == recBinary {
		if d, ok := any(&v).(binaryDecoder); ok {
			// Decoded first: the order of v's read and the call within
			// one return statement is not specified.
			err := decodeBin(b[1:], d)
			return v, err
		}
	}
	err := json.Unmarshal(b, &v)
	return v, err
}
