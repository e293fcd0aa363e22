package gateway

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"jcsgw/backends"
	"jcsgw/catalog"
)

// FuzzContinuationToken checks the listByPath (and ListObjectsV2)
// continuation token: EncodeToken/DecodeToken round-trip every non-empty
// string, DecodeToken never panics and refuses with a reason, and a listing
// resumed from any token — valid or forged — never panics and returns only
// keys after the position the token names, in order, at most a page.
func FuzzContinuationToken(f *testing.F) {
	for _, s := range []string{"a", "dir/", "dir/x", "ü/ß", "\x00", "\xff\xff", "a/b/c", strings.Repeat("z", 300)} {
		f.Add(s, EncodeToken(s))
	}
	f.Add("", "")
	f.Add("x", "!!")
	f.Add("x", "YQ==")
	f.Add("x", "YQ\n")
	f.Add("x", "_-_-")

	ctx := context.Background()
	dir := f.TempDir()
	cat, err := catalog.OpenBolt(filepath.Join(dir, "catalog.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { cat.Close() })
	store, err := backends.NewLocal(filepath.Join(dir, "store"))
	if err != nil {
		f.Fatal(err)
	}
	svc, err := New(ctx, Config{Catalog: cat, Default: store})
	if err != nil {
		f.Fatal(err)
	}
	b, err := svc.CreateBucket(ctx, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	pkg, err := svc.CreatePackage(ctx, b.ID, "pkg")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{"a", "a/b", "a/c/d", "a-b", "dir/x", "dir/y/z", "ü", "z"} {
		if _, err := svc.PutObject(ctx, pkg.ID, p, PutInput{Body: strings.NewReader(p), Size: int64(len(p))}); err != nil {
			f.Fatal(err)
		}
	}

	f.Fuzz(func(t *testing.T, s, tok string) {
		if s != "" {
			back, err := DecodeToken(EncodeToken(s))
			if err != nil || back != s {
				t.Fatalf("%q does not round-trip: %q, %v", s, back, err)
			}
		} else if EncodeToken(s) != "" {
			t.Fatalf("the empty position has a token")
		}
		after, tokErr := DecodeToken(tok)
		if err := tokErr; err != nil {
			if CodeOf(err) != CodeBadArgument || MessageOf(err) == "" {
				t.Fatalf("refusal of %q: %v", tok, err)
			}
		} else {
			if after == "" {
				t.Fatalf("%q decodes to the empty position", tok)
			}
			if again, err := DecodeToken(EncodeToken(after)); err != nil || again != after {
				t.Fatalf("decoded %q does not round-trip: %q, %v", after, again, err)
			}
		}
		for _, noRec := range []bool{false, true} {
			res, err := svc.ListByPath(ctx, ListByPathInput{
				PackageID: pkg.ID, Path: "", IsPrefix: true, NoRecursive: noRec, MaxKeys: 3, ContinuationToken: tok,
			})
			if tok != "" && tokErr != nil {
				if err == nil {
					t.Fatalf("forged token %q accepted", tok)
				}
				continue
			}
			if err != nil {
				t.Fatalf("listing after %q: %v", tok, err)
			}
			if n := len(res.Objects) + len(res.CommonPrefixes); n > 3 {
				t.Fatalf("page of %d > 3", n)
			}
			for _, o := range res.Objects {
				if tok != "" && o.Path <= after {
					t.Fatalf("key %q at or before the token's position %q", o.Path, after)
				}
			}
			for _, cp := range res.CommonPrefixes {
				// A prefix holding the position itself still rolls up the
				// keys after it, as in S3.
				if tok != "" && cp <= after && !strings.HasPrefix(after, cp) {
					t.Fatalf("common prefix %q before the token's position %q", cp, after)
				}
			}
			for i := 1; i < len(res.Objects); i++ {
				if bytes.Compare([]byte(res.Objects[i-1].Path), []byte(res.Objects[i].Path)) >= 0 {
					t.Fatalf("objects out of order: %q, %q", res.Objects[i-1].Path, res.Objects[i].Path)
				}
			}
			if res.IsTruncated {
				if next, err := DecodeToken(res.NextContinuationToken); err != nil || next == "" {
					t.Fatalf("truncated page with a bad next token %q", res.NextContinuationToken)
				}
			}
		}
	})
}
