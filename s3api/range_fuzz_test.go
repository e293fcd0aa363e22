package s3api

import (
	"regexp"
	"strconv"
	"testing"
	"unicode/utf8"
)

// rangeRE is the Range header parseRange serves: one byte range, digits
// only, blanks allowed around its parts.
var rangeRE = regexp.MustCompile(`^[\t\n\v\f\r ]*bytes=[\t\n\v\f\r ]*([0-9]*)[\t\n\v\f\r ]*-[\t\n\v\f\r ]*([0-9]*)[\t\n\v\f\r ]*$`)

// refRange is parseRange written out from its contract, for ASCII specs:
// nil and no error for a header to ignore, "InvalidRange" for one that
// cannot be satisfied.
func refRange(spec string, size int64) (*byteRange, string) {
	m := rangeRE.FindStringSubmatch(spec)
	if m == nil {
		return nil, ""
	}
	num := func(s string) (int64, bool) {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	if m[1] == "" {
		n, ok := num(m[2])
		switch {
		case !ok:
			return nil, ""
		case n == 0 || size == 0:
			return nil, "InvalidRange"
		}
		n = min(n, size)
		return &byteRange{size - n, n}, ""
	}
	a, ok := num(m[1])
	if !ok {
		return nil, ""
	}
	end := size - 1
	if m[2] != "" {
		b, ok := num(m[2])
		if !ok || b < a {
			return nil, ""
		}
		end = min(b, size-1)
	}
	if a >= size {
		return nil, "InvalidRange"
	}
	return &byteRange{a, end - a + 1}, ""
}

// FuzzParseRange feeds arbitrary Range (and x-amz-copy-source-range)
// headers: nothing may panic, a served range must lie inside the object,
// a refusal must be InvalidRange with the object's size in Content-Range,
// and for ASCII headers the answer must be exactly the contract's.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"", "bytes=0-0", "bytes=0-9", "bytes=3-", "bytes=-3", " bytes= 2 - 4 ", "bytes=10-",
		"bytes=-0", "bytes=5-2", "bytes=0-1,3-4", "items=0-1", "bytes=+3-5", "bytes=3-+5", "bytes=--3", "bytes=-+3",
		"bytes=99999999999999999999-", "bytes=0-99999999999999999999", "bytes=\u00a01-2", "bytes=\u0661-2"} {
		f.Add(s, int64(10))
	}
	f.Add("bytes=0-", int64(0))
	f.Add("bytes=-1", int64(1<<62))
	f.Fuzz(func(t *testing.T, spec string, size int64) {
		if size < 0 {
			return
		}
		got, err := parseRange(spec, size)
		if err != nil {
			ae, ok := err.(*apiError)
			if !ok || ae.Code != "InvalidRange" || ae.Status != 416 || ae.Header["Content-Range"] != "bytes */"+strconv.FormatInt(size, 10) {
				t.Fatalf("parseRange(%q, %d): %v", spec, size, err)
			}
			if got != nil {
				t.Fatalf("parseRange(%q, %d): a range and an error", spec, size)
			}
		}
		if got != nil && (got.off < 0 || got.n < 1 || got.off > size-got.n) {
			t.Fatalf("parseRange(%q, %d) = %+v: outside the object", spec, size, *got)
		}
		if isASCII(spec) {
			want, code := refRange(spec, size)
			if (got == nil) != (want == nil) || got != nil && *got != *want || code != errCode(err) {
				t.Fatalf("parseRange(%q, %d) = %v, %v; want %v, %q", spec, size, got, err, want, code)
			}
		}
		if got != nil {
			// The range, written canonically, reads back the same.
			again, err := parseRange("bytes="+strconv.FormatInt(got.off, 10)+"-"+strconv.FormatInt(got.off+got.n-1, 10), size)
			if err != nil || again == nil || *again != *got {
				t.Fatalf("canonical form of %+v reads back as %v, %v", *got, again, err)
			}
		}

		off, n, err := parseCopyRange(spec, size)
		if err != nil {
			if errCode(err) != "InvalidArgument" {
				t.Fatalf("parseCopyRange(%q, %d): %v", spec, size, err)
			}
		} else if off < 0 || n < 1 || off > size-n {
			t.Fatalf("parseCopyRange(%q, %d) = %d, %d: outside the object", spec, size, off, n)
		}
	})
}

func errCode(err error) string {
	if ae, ok := err.(*apiError); ok {
		return ae.Code
	}
	if err != nil {
		return "?" + err.Error()
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
