package s3api

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"jcsgw/gateway"
)

// ListBucketResult is written by hand rather than by encoding/xml: a page
// holds up to 1000 keys, and reflecting over one struct per key cost more
// server CPU than reading the page from the catalog. The bytes are those
// encoding/xml would produce for listBucketResultV1/V2 (listxml_test.go
// checks it).

// listPage is one page of a bucket listing, in either version. Values are as
// the request and the gateway give them; the encoder applies
// encoding-type=url where S3 does.
type listPage struct {
	v2        bool
	encode    bool // encoding-type=url
	bucket    string
	prefix    string
	delimiter string
	maxKeys   int
	truncated bool
	// V1 only.
	marker, nextMarker string
	// V2 only; tokens are never URL-encoded.
	token, nextToken, startAfter string
	// ownerXML is the escaped inside of the <Owner> shown with every object,
	// or nil for none.
	ownerXML []byte
}

func (p *listPage) setOwner(o owner) {
	p.ownerXML = appendElem(nil, "ID", o.ID)
	p.ownerXML = appendElem(p.ownerXML, "DisplayName", o.DisplayName)
}

// end records how the gateway ended the page.
func (p *listPage) end(res gateway.ListKeysResult) {
	p.truncated = res.IsTruncated
	switch {
	case !res.IsTruncated:
	case p.v2:
		p.nextToken = gateway.EncodeToken(res.NextAfter)
	case p.delimiter != "":
		// Without a delimiter, V1 clients resume from the last key.
		p.nextMarker = res.NextAfter
	}
}

// writeList lists the request's bucket and sends the page. The objects are
// encoded as the gateway reads them, into a pooled buffer; the head, which
// counts them, is sent in front of it once the page is read.
func (rq *req) writeList(p *listPage, in gateway.ListKeysInput) error {
	body := xmlBufs.Get().(*[]byte)
	defer putXMLBuf(body)
	b, n := (*body)[:0], 0
	res, err := rq.api.svc.ListKeysEach(rq.ctx(), rq.bucket, in, func(o *gateway.Object) {
		b = p.appendObject(reserve(b, 4<<10), o)
		n++
	})
	*body = b
	if err != nil {
		return err
	}
	p.end(res)
	*body = p.appendTail(*body, res.CommonPrefixes)
	head := p.appendHead(make([]byte, 0, 1024), n+len(res.CommonPrefixes))
	rq.writeRaw(http.StatusOK, head, *body)
	return nil
}

// appendHead appends the XML declaration and what comes before the first
// <Contents>; count is the page's number of objects and common prefixes.
func (p *listPage) appendHead(b []byte, count int) []byte {
	b = append(b, xml.Header...)
	b = append(b, `<ListBucketResult xmlns="`+ns+`">`...)
	b = appendElem(b, "Name", p.bucket)
	b = p.appendValue(b, "Prefix", p.prefix)
	if !p.v2 {
		b = p.appendValue(b, "Marker", p.marker)
		if p.nextMarker != "" {
			b = p.appendValue(b, "NextMarker", p.nextMarker)
		}
	}
	b = append(b, "<MaxKeys>"...)
	b = strconv.AppendInt(b, int64(p.maxKeys), 10)
	b = append(b, "</MaxKeys>"...)
	if p.v2 {
		b = append(b, "<KeyCount>"...)
		b = strconv.AppendInt(b, int64(count), 10)
		b = append(b, "</KeyCount>"...)
	}
	if p.delimiter != "" {
		b = p.appendValue(b, "Delimiter", p.delimiter)
	}
	b = append(b, "<IsTruncated>"...)
	b = strconv.AppendBool(b, p.truncated)
	b = append(b, "</IsTruncated>"...)
	if p.v2 {
		if p.token != "" {
			b = appendElem(b, "ContinuationToken", p.token)
		}
		if p.nextToken != "" {
			b = appendElem(b, "NextContinuationToken", p.nextToken)
		}
		if p.startAfter != "" {
			b = p.appendValue(b, "StartAfter", p.startAfter)
		}
	}
	if p.encode {
		b = append(b, "<EncodingType>url</EncodingType>"...)
	}
	return b
}

// appendTail appends the common prefixes and the end of the document.
func (p *listPage) appendTail(b []byte, prefixes []string) []byte {
	for _, cp := range prefixes {
		b = append(b, "<CommonPrefixes>"...)
		b = p.appendValue(b, "Prefix", cp)
		b = append(b, "</CommonPrefixes>"...)
	}
	return append(b, "</ListBucketResult>"...)
}

// appendObject appends one <Contents>.
func (p *listPage) appendObject(b []byte, o *gateway.Object) []byte {
	b = append(b, "<Contents><Key>"...)
	// The key is JoinKey(PackageName, Path), written in two parts to save
	// the concatenation: both encodings work byte by byte or rune by rune,
	// and '/' ends any rune, so the result is the same.
	if o.PackageName != "" {
		b = p.appendText(b, o.PackageName)
		b = append(b, '/')
	}
	b = p.appendText(b, o.Path)
	b = append(b, "</Key><LastModified>"...)
	b = appendISOTime(b, o.UpdateTime)
	b = append(b, "</LastModified><ETag>&#34;"...)
	b = appendEscaped(b, o.ETag)
	b = append(b, "&#34;</ETag><Size>"...)
	b = strconv.AppendInt(b, o.Size, 10)
	b = append(b, "</Size><StorageClass>STANDARD</StorageClass>"...)
	if p.ownerXML != nil {
		b = append(b, "<Owner>"...)
		b = append(b, p.ownerXML...)
		b = append(b, "</Owner>"...)
	}
	if c := o.Checksum; c != nil && c.Algorithm != "" {
		b = appendElem(b, "ChecksumAlgorithm", c.Algorithm)
		if c.Type != "" {
			b = appendElem(b, "ChecksumType", c.Type)
		}
	}
	return append(b, "</Contents>"...)
}

// appendValue appends <name>s</name> with s URL-encoded if the page is.
func (p *listPage) appendValue(b []byte, name, s string) []byte {
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = p.appendText(b, s)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

// appendText appends s URL-encoded if the page is, else XML-escaped. The
// URL form needs no escaping: it is all unreserved characters, '/' and '%'.
func (p *listPage) appendText(b []byte, s string) []byte {
	if p.encode {
		return appendS3URLEncoded(b, s)
	}
	return appendEscaped(b, s)
}

// appendElem appends <name>s</name> with s XML-escaped.
func appendElem(b []byte, name, s string) []byte {
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = appendEscaped(b, s)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

// plainASCII marks the bytes appendEscaped copies as they are; the others
// (specials, controls, and every byte of a multi-byte rune) take the slow,
// rune-by-rune path.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"'&<>` {
		t[c] = false
	}
	return t
}()

// appendEscaped appends s escaped as encoding/xml escapes character data
// (its EscapeString): the five specials and \t \n \r as character
// references, and what XML cannot hold (other controls, U+FFFE, U+FFFF,
// invalid UTF-8) as U+FFFD.
func appendEscaped(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		if plainASCII[s[i]] {
			i++
			continue
		}
		r, width := utf8.DecodeRuneInString(s[i:])
		var esc string
		switch r {
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			if !isXMLChar(r) || r == utf8.RuneError && width == 1 {
				esc = "\uFFFD"
				break
			}
			i += width
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		i += width
		last = i
	}
	return append(b, s[last:]...)
}

// isXMLChar is XML 1.0's Char production, as encoding/xml applies it.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// appendISOTime appends t as isoTime formats it, without going through a
// layout string for the common years.
func appendISOTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, isoLayout)
	}
	h, mi, s := t.Clock()
	ms := t.Nanosecond() / 1e6
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(b, byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-', byte('0'+d/10), byte('0'+d%10), 'T')
	b = append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':')
	b = append(b, byte('0'+s/10), byte('0'+s%10), '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
	return b
}

// xmlBufs recycles reply buffers: a listing page is a few hundred KiB, and
// allocating it anew for every page costs clearing and collecting it.
var xmlBufs = sync.Pool{New: func() any { return new([]byte) }}

// reserve makes room for n more bytes in b, doubling its capacity when it
// grows: append alone grows a large slice by 1.25×, which for a page of a
// few hundred KiB copies it several times over.
func reserve(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), max(2*cap(b), len(b)+n, 64<<10))
	copy(nb, b)
	return nb
}

// putXMLBuf returns a buffer to xmlBufs unless it grew so large for a rare
// reply that keeping it would waste memory.
func putXMLBuf(b *[]byte) {
	if cap(*b) <= 4<<20 {
		xmlBufs.Put(b)
	}
}
