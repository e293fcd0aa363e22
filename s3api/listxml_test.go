package s3api

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"jcsgw/gateway"
)

// The reference: ListBucketResult as it was produced with encoding/xml
// before the hand-written encoder. The encoder must give the same bytes.

type objectXML struct {
	Key               string
	LastModified      string
	ETag              string
	Size              int64
	StorageClass      string
	Owner             *owner `xml:",omitempty"`
	ChecksumAlgorithm string `xml:",omitempty"`
	ChecksumType      string `xml:",omitempty"`
}

type listBucketResultV1 struct {
	XMLName        xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name           string
	Prefix         string
	Marker         string
	NextMarker     string `xml:",omitempty"`
	MaxKeys        int
	Delimiter      string `xml:",omitempty"`
	IsTruncated    bool
	EncodingType   string         `xml:",omitempty"`
	Contents       []objectXML    `xml:"Contents"`
	CommonPrefixes []commonPrefix `xml:"CommonPrefixes"`
}

type listBucketResultV2 struct {
	XMLName               xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string
	Prefix                string
	MaxKeys               int
	KeyCount              int
	Delimiter             string `xml:",omitempty"`
	IsTruncated           bool
	ContinuationToken     string         `xml:",omitempty"`
	NextContinuationToken string         `xml:",omitempty"`
	StartAfter            string         `xml:",omitempty"`
	EncodingType          string         `xml:",omitempty"`
	Contents              []objectXML    `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

func refContents(lq listQuery, objs []gateway.Object, withOwner *owner) []objectXML {
	out := make([]objectXML, 0, len(objs))
	for i := range objs {
		o := &objs[i]
		x := objectXML{
			Key: lq.enc(o.Key()), LastModified: isoTime(o.UpdateTime), ETag: quoteETag(o.ETag),
			Size: o.Size, StorageClass: "STANDARD", Owner: withOwner,
		}
		if o.Checksum != nil && o.Checksum.Algorithm != "" {
			x.ChecksumAlgorithm = o.Checksum.Algorithm
			x.ChecksumType = o.Checksum.Type
		}
		out = append(out, x)
	}
	return out
}

func marshalRef(t testing.TB, v any) []byte {
	t.Helper()
	b, err := xml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(xml.Header), b...)
}

// listCase is one listing request and the gateway's answer to it.
type listCase struct {
	lq                listQuery
	marker            string // V1
	token, startAfter string // V2
	fetchOwner        bool   // V2
	owner             owner
	res               gateway.ListKeysResult
	bucketName        string
}

func (c *listCase) refV1(t testing.TB) []byte {
	lq, res := c.lq, c.res
	out := listBucketResultV1{
		Name: c.bucketName, Prefix: lq.enc(lq.prefix), Marker: lq.enc(c.marker), MaxKeys: lq.maxKeys,
		Delimiter: lq.enc(lq.delimiter), IsTruncated: res.IsTruncated, EncodingType: lq.encodingType(),
		Contents: refContents(lq, res.Objects, &c.owner), CommonPrefixes: lq.prefixes(res.CommonPrefixes),
	}
	if res.IsTruncated && lq.delimiter != "" {
		out.NextMarker = lq.enc(res.NextAfter)
	}
	return marshalRef(t, out)
}

func (c *listCase) refV2(t testing.TB) []byte {
	lq, res := c.lq, c.res
	var withOwner *owner
	if c.fetchOwner {
		withOwner = &c.owner
	}
	out := listBucketResultV2{
		Name: c.bucketName, Prefix: lq.enc(lq.prefix), MaxKeys: lq.maxKeys,
		KeyCount:  len(res.Objects) + len(res.CommonPrefixes),
		Delimiter: lq.enc(lq.delimiter), IsTruncated: res.IsTruncated,
		ContinuationToken: c.token, StartAfter: lq.enc(c.startAfter), EncodingType: lq.encodingType(),
		Contents: refContents(lq, res.Objects, withOwner), CommonPrefixes: lq.prefixes(res.CommonPrefixes),
	}
	if res.IsTruncated {
		out.NextContinuationToken = gateway.EncodeToken(res.NextAfter)
	}
	return marshalRef(t, out)
}

// encode runs the hand-written encoder as writeList does.
func encodePage(p *listPage, res gateway.ListKeysResult) []byte {
	p.end(res)
	var body []byte
	for i := range res.Objects {
		o := res.Objects[i] // writeList's objects are reused: so are these
		body = p.appendObject(body, &o)
	}
	b := p.appendHead(nil, len(res.Objects)+len(res.CommonPrefixes))
	b = append(b, body...)
	return p.appendTail(b, res.CommonPrefixes)
}

func (c *listCase) gotV1() []byte {
	lq := c.lq
	p := &listPage{
		encode: lq.encode, bucket: c.bucketName, prefix: lq.prefix, delimiter: lq.delimiter, maxKeys: lq.maxKeys,
		marker: c.marker,
	}
	p.setOwner(c.owner)
	return encodePage(p, c.res)
}

func (c *listCase) gotV2() []byte {
	lq := c.lq
	p := &listPage{
		v2: true, encode: lq.encode, bucket: c.bucketName, prefix: lq.prefix, delimiter: lq.delimiter, maxKeys: lq.maxKeys,
		token: c.token, startAfter: c.startAfter,
	}
	if c.fetchOwner {
		p.setOwner(c.owner)
	}
	return encodePage(p, c.res)
}

func (c *listCase) check(t *testing.T, name string) {
	t.Helper()
	if want, got := c.refV1(t), c.gotV1(); !bytes.Equal(got, want) {
		t.Errorf("%s V1:\n got %q\nwant %q", name, got, want)
	}
	if want, got := c.refV2(t), c.gotV2(); !bytes.Equal(got, want) {
		t.Errorf("%s V2:\n got %q\nwant %q", name, got, want)
	}
}

// awkward strings: XML specials, controls, what XML cannot hold, invalid
// and truncated UTF-8, a real U+FFFD, and characters URL encoding must
// percent-encode.
var awkward = []string{
	"", "plain", `a&b<c>d"e'f`, "tab\tnl\ncr\r", "ctl\x00\x01\x1f\x7f", "ü/ß/日本/😀", "\uFFFE\uFFFF\U0010FFFF",
	"bad\xff\xfeutf8", "\xed\xa0\x80surrogate", "real \uFFFD", "trunc\xe2\x82", "\xe2\x82/x", "sp ace+plus%pct~._-",
	"&amp;", "]]>", "a/b/c/", "/lead", "deep/" + string(make([]byte, 40)),
}

func TestListXMLMatchesEncodingXML(t *testing.T) {
	times := []time.Time{
		time.Unix(0, 0), {}, time.Date(2025, 6, 24, 0, 31, 28, 999_999_999, time.UTC),
		time.Date(2025, 12, 31, 23, 59, 59, 1_000_000, time.FixedZone("x", -5*3600)),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(1_700_000_000, 123_456_789).Local(),
	}
	checksums := []*gateway.Checksum{
		nil, {Algorithm: "CRC32", Type: "FULL_OBJECT"}, {}, {Algorithm: "CRC32C"}, {Algorithm: "<x>", Type: "&"},
	}
	var objs []gateway.Object
	for i, k := range awkward {
		pkg, path := gateway.SplitKey(k)
		objs = append(objs, gateway.Object{
			PackageName: pkg, Path: path, Size: int64(i) * 1e9, ETag: awkward[(i+2)%len(awkward)],
			UpdateTime: times[i%len(times)], Checksum: checksums[i%len(checksums)],
		})
	}
	objs = append(objs, gateway.Object{PackageName: "marker", ETag: "d41d8cd98f00b204e9800998ecf8427e"})
	owners := []owner{ownerOf("AK"), {ID: `i"d&`, DisplayName: "<disp\x01>"}, {}}

	n := 0
	for _, encode := range []bool{false, true} {
		for i, s := range awkward {
			for _, truncated := range []bool{false, true} {
				c := &listCase{
					lq:     listQuery{prefix: s, delimiter: awkward[(i+1)%len(awkward)], maxKeys: i * 100, encode: encode},
					marker: awkward[(i+3)%len(awkward)], token: gateway.EncodeToken(s), startAfter: awkward[(i+4)%len(awkward)],
					fetchOwner: i%2 == 0, owner: owners[i%len(owners)], bucketName: "bkt-" + fmt.Sprint(i),
					res: gateway.ListKeysResult{
						Objects: objs[:i*len(objs)/len(awkward)], CommonPrefixes: awkward[:len(awkward)-i],
						IsTruncated: truncated, NextAfter: awkward[(i+5)%len(awkward)],
					},
				}
				c.check(t, fmt.Sprintf("encode=%v case %d truncated=%v", encode, i, truncated))
				n++
			}
		}
		// An empty page, and one with every object and no prefixes.
		empty := &listCase{lq: listQuery{encode: encode, maxKeys: 1000}, bucketName: "b", owner: owners[0]}
		empty.check(t, fmt.Sprintf("encode=%v empty", encode))
		full := &listCase{lq: listQuery{encode: encode, maxKeys: 1000}, bucketName: "b", owner: owners[1], fetchOwner: true,
			res: gateway.ListKeysResult{Objects: objs}}
		full.check(t, fmt.Sprintf("encode=%v full", encode))
	}
	if n < 60 {
		t.Fatalf("only %d cases", n)
	}
}

func TestAppendISOTime(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("e", 14*3600), time.FixedZone("w", -12*3600)}
	for range 20000 {
		// Years -50 to 10049 around the fast path's bounds and within it.
		sec := r.Int64N(10100*365*86400) - 1970*365*86400 - 50*365*86400
		tm := time.Unix(sec, r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
		if got, want := string(appendISOTime(nil, tm)), isoTime(tm); got != want {
			t.Fatalf("appendISOTime(%v) = %q; want %q", tm, got, want)
		}
	}
}

func FuzzListXML(f *testing.F) {
	for i, s := range awkward {
		f.Add(s, awkward[(i+1)%len(awkward)], awkward[(i+2)%len(awkward)], int64(i)*1e17, i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, key, etag, prefix string, nanos int64, encode bool) {
		pkg, path := gateway.SplitKey(key)
		c := &listCase{
			lq: listQuery{prefix: prefix, delimiter: etag, maxKeys: 1, encode: encode}, marker: key, token: etag,
			startAfter: prefix, fetchOwner: true, owner: owner{ID: key, DisplayName: etag}, bucketName: prefix,
			res: gateway.ListKeysResult{
				Objects: []gateway.Object{{PackageName: pkg, Path: path, ETag: etag, UpdateTime: time.Unix(0, nanos),
					Checksum: &gateway.Checksum{Algorithm: prefix, Type: key}}},
				CommonPrefixes: []string{prefix, key}, IsTruncated: nanos%2 == 0, NextAfter: key,
			},
		}
		c.check(t, "fuzz")
	})
}
