package backends

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// snapshot records every path under dir with its content and mtime.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		info, _ := d.Info()
		v := info.Mode().String() + " " + info.ModTime().String()
		if d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			v += " " + string(b)
		}
		out[p] = v
		return nil
	})
	return out
}

func TestLocalFSEscapes(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{root, outside, filepath.Join(root, "in")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("outside secret"), 0o644)
	os.WriteFile(filepath.Join(root, "in", "inside.txt"), []byte("inside"), 0o644)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(outside, filepath.Join(root, "abslink")))                               // absolute, out
	must(os.Symlink("../outside", filepath.Join(root, "rellink")))                          // relative, out
	must(os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(root, "filelink"))) // file, out
	must(os.Symlink("../../outside/secret.txt", filepath.Join(root, "in", "relfilelink")))  // file, out
	must(os.Symlink("inside.txt", filepath.Join(root, "in", "goodlink")))                   // file, in
	must(os.Symlink("in", filepath.Join(root, "dirlink")))                                  // dir, in
	before := snapshot(t, outside)

	l, err := NewLocalFS(root)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	traversal := []string{"../x", "a/../../x", "../outside/secret.txt", "/" + filepath.ToSlash(filepath.Join(outside, "x")), "/etc/passwd"}
	links := []string{"abslink/x", "rellink/x", "abslink/secret.txt", "rellink/secret.txt", "rellink/sub/x"}
	isRefusal := func(err error, p string) bool {
		if err == nil {
			return false
		}
		if slices.Contains(traversal, p) {
			return errors.Is(err, ErrInvalidPath)
		}
		return errors.Is(err, ErrOutsideRoot) || strings.Contains(err.Error(), "escapes")
	}
	for _, p := range append(slices.Clone(traversal), links...) {
		w, err := l.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("pwned"))
		if err := w.Commit(ctx, p); !isRefusal(err, p) {
			t.Errorf("commit at %q: %v", p, err)
		}
		if _, err := l.CreateAt(ctx, p); !isRefusal(err, p) {
			t.Errorf("create at %q: %v", p, err)
		}
		if _, err := l.CreateIn(ctx, p); !isRefusal(err, p) {
			t.Errorf("create in %q: %v", p, err)
		}
		if r, err := l.Open(ctx, p, 0, -1); !isRefusal(err, p) {
			if err == nil {
				b, _ := io.ReadAll(r)
				r.Close()
				t.Errorf("open %q read %q", p, b)
			} else {
				t.Errorf("open %q: %v", p, err)
			}
		}
		if _, err := l.Stat(ctx, p); !isRefusal(err, p) {
			t.Errorf("stat %q: %v", p, err)
		}
		if err := l.MkdirAll(ctx, p); !isRefusal(err, p) {
			t.Errorf("mkdir %q: %v", p, err)
		}
		if err := l.SetModTime(ctx, p, time.Unix(0, 0)); !isRefusal(err, p) {
			t.Errorf("chtimes %q: %v", p, err)
		}
		if err := l.Remove(ctx, p); err != nil && !isRefusal(err, p) {
			t.Errorf("remove %q: %v", p, err)
		}
		if err := l.Walk(ctx, p, func(Entry) error { return nil }); !isRefusal(err, p) && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("walk %q: %v", p, err)
		}
	}
	for _, p := range []string{"abslink", "rellink"} {
		if err := l.Walk(ctx, p, func(e Entry) error { t.Errorf("walk %q reported %q", p, e.Path); return nil }); !isRefusal(err, p) {
			t.Errorf("walk %q: %v", p, err)
		}
		if _, err := l.CreateIn(ctx, p); !isRefusal(err, p) {
			t.Errorf("create in %q: %v", p, err)
		}
	}
	for _, p := range []string{"filelink", "in/relfilelink"} {
		if _, err := l.Open(ctx, p, 0, -1); !isRefusal(err, p) {
			t.Errorf("open %q: %v", p, err)
		}
		if err := l.SetModTime(ctx, p, time.Unix(0, 0)); !isRefusal(err, p) {
			t.Errorf("chtimes %q: %v", p, err)
		}
	}
	// Committing over a link replaces the link, never writes through it.
	put(t, l, "filelink", []byte("replaced the link"))
	if fi, err := os.Lstat(filepath.Join(root, "filelink")); err != nil || fi.Mode()&fs.ModeSymlink != 0 {
		t.Errorf("filelink after commit: %v %v", fi, err)
	}

	// Links that stay inside are followed: to a file as that file, never
	// into a directory (no cycles).
	if got := readAll(t, l, "in/goodlink", 0, -1); string(got) != "inside" {
		t.Errorf("in-root link read %q", got)
	}
	var paths []string
	for _, e := range walkAll(t, l, "") {
		paths = append(paths, e.Path)
	}
	want := []string{"filelink", "in", "in/goodlink", "in/inside.txt"}
	if !slices.Equal(paths, want) {
		t.Errorf("walk of root = %q, want %q", paths, want)
	}

	if after := snapshot(t, outside); !mapsEqual(before, after) {
		t.Fatalf("outside directory changed:\nbefore %v\nafter  %v", before, after)
	}
	if _, err := os.Stat(filepath.Join(base, "x")); err == nil {
		t.Fatal("a file was written next to the root")
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestNewLocalFS(t *testing.T) {
	if _, err := NewLocalFS("relative/dir"); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("relative root: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := NewLocalFS(missing); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing root: %v", err)
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := NewLocalFS(f); err == nil {
		t.Error("a file as root was accepted")
	}
	l, err := NewLocalFS("")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Root() != "/" {
		t.Errorf("default root %q", l.Root())
	}
	// Under "/", an absolute-looking path is still refused, not taken as /etc.
	if _, err := l.Stat(context.Background(), "/etc"); !errors.Is(err, ErrInvalidPath) {
		t.Errorf("stat /etc under /: %v", err)
	}
}

func TestLocalFSTestFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "root")
	os.Mkdir(dir, 0o755)
	l, err := NewLocalFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Test(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := l.Test(context.Background()); err == nil {
		t.Fatal("Test passed on a removed root")
	}
}

func TestLocalFSStaging(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, _ := NewLocalFS(dir)
	defer l.Close()
	w, _ := l.Create(ctx)
	w.Write([]byte("abc"))
	if _, err := os.Stat(filepath.Join(dir, ".jcsgw-tmp")); err != nil {
		t.Fatalf("staging dir: %v", err)
	}
	if err := w.Commit(ctx, "deep/er/x"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "deep", "er", "x")); string(b) != "abc" {
		t.Fatalf("committed %q", b)
	}
	// CreateAt stages beside the target.
	w, _ = l.CreateAt(ctx, "side/y")
	w.Write([]byte("y"))
	ents, _ := os.ReadDir(filepath.Join(dir, "side"))
	if len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), stagingPrefix) {
		t.Fatalf("CreateAt staging: %v", ents)
	}
	if err := w.Commit(ctx, "side/y"); err != nil {
		t.Fatal(err)
	}
	if files := diskFiles(t, dir); !slices.Equal(files, []string{"deep/er/x", "side/y"}) {
		t.Fatalf("files %q", files)
	}
	// Committing over a directory fails and leaves no staging file.
	w, _ = l.Create(ctx)
	w.Write([]byte("z"))
	if err := w.Commit(ctx, "deep"); err == nil {
		t.Fatal("commit over a directory succeeded")
	}
	if files := diskFiles(t, dir); len(files) != 2 {
		t.Fatalf("files %q", files)
	}
}

func TestCheckLocalRoot(t *testing.T) {
	base := t.TempDir()
	allowed := filepath.Join(base, "allowed")
	other := filepath.Join(base, "other")
	os.MkdirAll(allowed, 0o755)
	os.MkdirAll(other, 0o755)
	os.Symlink(other, filepath.Join(allowed, "esc"))
	os.Symlink(allowed, filepath.Join(base, "alias"))
	list := []string{allowed, "/nonexistent-jcsgw"}
	ok := []string{allowed, allowed + "/", filepath.Join(allowed, "x", "y"), filepath.Join(base, "alias", "x")}
	bad := []string{other, allowed + "foo", filepath.Join(allowed, "..", "other"), filepath.Join(allowed, "esc"), filepath.Join(allowed, "esc", "sub"), "/", "relative"}
	for _, r := range ok {
		if err := CheckLocalRoot(r, list); err != nil {
			t.Errorf("CheckLocalRoot(%q): %v", r, err)
		}
	}
	for _, r := range bad {
		if err := CheckLocalRoot(r, list); err == nil {
			t.Errorf("CheckLocalRoot(%q) allowed", r)
		}
	}
	if err := CheckLocalRoot(other, nil); err != nil {
		t.Errorf("no restriction: %v", err)
	}
	if err := CheckLocalRoot("relative", nil); err == nil {
		t.Error("relative root allowed")
	}
}
