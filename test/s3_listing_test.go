package test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"jcsgw/gateway"
)

// s3Entry is one item of a listing: a key or a common prefix.
type s3Entry struct {
	name   string
	prefix bool
}

// s3Reference lists keys (sorted) the way S3 does: keys after `after` that
// start with prefix, those holding delimiter after the prefix rolled up into
// common prefixes. A common prefix equal to after is skipped (that is how a
// V1 NextMarker resumes).
func s3Reference(keys []string, prefix, delimiter, after string) []s3Entry {
	var out []s3Entry
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) || k <= after {
			continue
		}
		if delimiter != "" {
			if i := strings.Index(k[len(prefix):], delimiter); i >= 0 {
				cp := k[:len(prefix)+i+len(delimiter)]
				if cp == after || (len(out) > 0 && out[len(out)-1].name == cp) {
					continue
				}
				out = append(out, s3Entry{cp, true})
				continue
			}
		}
		out = append(out, s3Entry{k, false})
	}
	return out
}

// mergePage puts a page's keys and prefixes back in one ordered list.
func mergePage(keys, prefixes []string) []s3Entry {
	var out []s3Entry
	for _, k := range keys {
		out = append(out, s3Entry{k, false})
	}
	for _, p := range prefixes {
		out = append(out, s3Entry{p, true})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// s3ListingKeys is the data set: 10,000 keys across 50 packages plus root
// keys, tricky neighbours and explicit folder markers.
func s3ListingKeys() (keys, markers []string) {
	forms := []string{"file-%03d", "dir%d/sub-%03d/x", "x/%03d", "ax/y-%03d", "deep/%03d/x/leaf", "x-%03d/x/"}
	for p := range 50 {
		for j := range 196 {
			f := forms[j%len(forms)]
			var path string
			if strings.Count(f, "%") == 2 {
				path = fmt.Sprintf(f, j%3, j)
			} else {
				path = fmt.Sprintf(f, j)
			}
			keys = append(keys, fmt.Sprintf("pkg%02d/%s", p, path))
		}
	}
	for j := range 180 {
		keys = append(keys, fmt.Sprintf("root-%03d", j))
	}
	keys = append(keys, "a-b/x", "a/x", "a/x/y-z", "a+b", "a b/x", "a", "ax/x/", "ax-", "pkg", "pkg-/x", "pkg0", "pkg07-",
		"pkg07/x", "pkg07/x/", "pkg07/x/-", "x-x/x/", "ü/ß", "z~", "zz/x/x/x")
	markers = []string{"pkg05/", "empty/", "x/"}
	return keys, markers
}

func TestS3Listing(t *testing.T) {
	t.Parallel()
	e := newS3Env(t, s3Modes[2])
	b := e.bucket("bkt-listing")
	keys, markers := s3ListingKeys()

	start := time.Now()
	// Build the data set through the service: 16 writers at once.
	var wg sync.WaitGroup
	work := make(chan string)
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				body := k
				if slices.Contains(markers, k) {
					body = "" // a folder marker holds nothing
				}
				_, err := e.svc().PutKey(bg, b, k, gateway.PutInput{Body: strings.NewReader(body), Size: int64(len(body))})
				if err != nil {
					errs <- fmt.Errorf("%s: %w", k, err)
					return
				}
			}
		}()
	}
	for _, k := range append(append([]string(nil), keys...), markers...) {
		work <- k
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	t.Logf("%d keys written in %v", len(keys)+len(markers), time.Since(start))
	start = time.Now()
	defer func() { t.Logf("listings checked in %v", time.Since(start)) }()
	all := append(append([]string(nil), keys...), markers...)
	sort.Strings(all)
	require.GreaterOrEqual(t, len(all), 10000)
	sizes := map[string]int{}
	for _, k := range keys {
		sizes[k] = len(k)
	}

	type combo struct{ prefix, delimiter string }
	var combos []combo
	for _, p := range []string{"", "pkg0", "pkg07/", "pkg07/x", "a", "root-1", "nomatch", "pkg05/"} {
		for _, d := range []string{"", "/", "-", "x/"} {
			combos = append(combos, combo{p, d})
		}
	}
	checked := 0
	for _, c := range combos {
		want := s3Reference(all, c.prefix, c.delimiter, "")
		for _, size := range []int{1, 7, 1000} {
			if size == 1 && len(want) > 300 || size == 7 && len(want) > 2000 {
				continue
			}
			name := fmt.Sprintf("prefix=%q delimiter=%q max=%d", c.prefix, c.delimiter, size)
			require.Equal(t, want, listV2All(t, e, b, c.prefix, c.delimiter, size, sizes), "V2 "+name)
			require.Equal(t, want, listV1All(t, e, b, c.prefix, c.delimiter, size, sizes), "V1 "+name)
			checked++
		}
	}
	require.Greater(t, checked, 60)

	// start-after at random keys.
	r := rand.New(rand.NewPCG(1, 2))
	for range 40 {
		after := all[r.IntN(len(all))]
		c := combos[r.IntN(len(combos))]
		want := s3Reference(all, c.prefix, c.delimiter, after)
		if len(want) > 25 {
			want = want[:25]
		}
		out, err := e.S3.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: &b, Prefix: &c.prefix, Delimiter: &c.delimiter,
			StartAfter: &after, MaxKeys: aws.Int32(25)})
		require.NoError(t, err)
		var ks, ps []string
		for _, o := range out.Contents {
			ks = append(ks, *o.Key)
		}
		for _, p := range out.CommonPrefixes {
			ps = append(ps, *p.Prefix)
		}
		require.Equal(t, want, mergePage(ks, ps), "start-after %q prefix %q delimiter %q", after, c.prefix, c.delimiter)
	}
}

func listV2All(t *testing.T, e *s3Env, b, prefix, delimiter string, size int, sizes map[string]int) []s3Entry {
	t.Helper()
	var got []s3Entry
	p := s3.NewListObjectsV2Paginator(e.S3, &s3.ListObjectsV2Input{Bucket: &b, Prefix: &prefix, Delimiter: &delimiter, MaxKeys: aws.Int32(int32(size))})
	for p.HasMorePages() {
		page, err := p.NextPage(bg)
		require.NoError(t, err)
		var ks, ps []string
		for _, o := range page.Contents {
			ks = append(ks, *o.Key)
			require.Equal(t, int64(sizes[*o.Key]), *o.Size, *o.Key)
		}
		for _, cp := range page.CommonPrefixes {
			ps = append(ps, *cp.Prefix)
		}
		n := len(ks) + len(ps)
		require.Equal(t, int32(n), *page.KeyCount)
		require.LessOrEqual(t, n, size)
		if *page.IsTruncated {
			require.Equal(t, size, n, "a truncated page is full")
		}
		got = append(got, mergePage(ks, ps)...)
	}
	return got
}

func listV1All(t *testing.T, e *s3Env, b, prefix, delimiter string, size int, sizes map[string]int) []s3Entry {
	t.Helper()
	var got []s3Entry
	marker := ""
	for {
		page, err := e.S3.ListObjects(bg, &s3.ListObjectsInput{Bucket: &b, Prefix: &prefix, Delimiter: &delimiter,
			Marker: &marker, MaxKeys: aws.Int32(int32(size))})
		require.NoError(t, err)
		var ks, ps []string
		for _, o := range page.Contents {
			ks = append(ks, *o.Key)
			require.Equal(t, int64(sizes[*o.Key]), *o.Size)
		}
		for _, cp := range page.CommonPrefixes {
			ps = append(ps, *cp.Prefix)
		}
		require.LessOrEqual(t, len(ks)+len(ps), size)
		entries := mergePage(ks, ps)
		got = append(got, entries...)
		if !*page.IsTruncated {
			return got
		}
		if delimiter != "" {
			marker = aws.ToString(page.NextMarker)
			require.Equal(t, entries[len(entries)-1].name, marker)
		} else {
			require.Nil(t, page.NextMarker)
			marker = entries[len(entries)-1].name
		}
	}
}
