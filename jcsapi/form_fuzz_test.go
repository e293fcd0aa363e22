package jcsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"jcsgw/backends"
	"jcsgw/catalog"
	"jcsgw/gateway"
)

// Small limits, so that the fuzzer reaches the size checks too.
var fuzzLimits = gateway.Limits{MaxPutSize: 64, MaxPartSize: 48, MaxJSONBody: 128, MaxKeyLength: 40}.WithDefaults()

const fuzzBoundary = "XyZ"

// formEnv is a front over a real gateway for the form readers.
type formEnv struct {
	a      *api
	svc    *gateway.Service
	store  *backends.Local
	root   string
	pkgID  int64
	partID int64 // a JCS multipart object in progress
}

func newFormEnv(tb testing.TB) *formEnv {
	ctx := context.Background()
	dir := tb.TempDir()
	cat, err := catalog.OpenBolt(filepath.Join(dir, "catalog.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cat.Close() })
	root := filepath.Join(dir, "store")
	store, err := backends.NewLocal(root)
	if err != nil {
		tb.Fatal(err)
	}
	svc, err := gateway.New(ctx, gateway.Config{Catalog: cat, Default: store})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(svc.Close)
	b, err := svc.CreateBucket(ctx, "fuzz")
	if err != nil {
		tb.Fatal(err)
	}
	p, err := svc.CreatePackage(ctx, b.ID, "pkg")
	if err != nil {
		tb.Fatal(err)
	}
	o, err := svc.NewMultipartObject(ctx, p.ID, "mp", 0)
	if err != nil {
		tb.Fatal(err)
	}
	a := &api{svc: svc, log: slog.New(slog.DiscardHandler), lim: fuzzLimits}
	return &formEnv{a: a, svc: svc, store: store, root: root, pkgID: p.ID, partID: o.ID}
}

// fuzzForm builds a form body from parts given as [name, filename or "-"
// for none, data].
func fuzzForm(parts ...[3]string) []byte {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.SetBoundary(fuzzBoundary)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := fmt.Sprintf(`form-data; name=%q`, p[0])
		if p[1] != "-" {
			cd += fmt.Sprintf(`; filename=%q`, p[1])
		}
		h.Set("Content-Disposition", cd)
		pw, _ := w.CreatePart(h)
		pw.Write([]byte(p[2]))
	}
	w.Close()
	return buf.Bytes()
}

// refPart is one part of a form as an independent reading sees it.
type refPart struct {
	name, filename string
	hasFilename    bool
	data           []byte
}

// refForm reads a form whole with mime/multipart; ok is false when it is
// malformed or cut off.
func refForm(body []byte) ([]refPart, bool) {
	mr := multipart.NewReader(bytes.NewReader(body), fuzzBoundary)
	var out []refPart
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return out, true
		}
		if err != nil {
			return nil, false
		}
		var rp refPart
		rp.name = p.FormName()
		if _, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition")); err == nil {
			rp.filename, rp.hasFilename = params["filename"]
		}
		if rp.data, err = io.ReadAll(p); err != nil {
			return nil, false
		}
		out = append(out, rp)
	}
}

// fullHash is the JCS fileHash of b.
func fullHash(b []byte) string {
	s := sha256.Sum256(b)
	return "Full" + strings.ToUpper(hex.EncodeToString(s[:]))
}

// state is what a refused form must leave as it was: the package's
// objects, the multipart object, and the blobs.
func (e *formEnv) state(t *testing.T) string {
	ctx := context.Background()
	objs, err := e.svc.PackageObjects(ctx, e.pkgID)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, o := range objs {
		fmt.Fprintf(&sb, "%d %q %d %s %s|", o.ID, o.Path, o.Size, o.FileHash, o.UpdateTime)
	}
	if err := e.store.List(ctx, func(n string) error { sb.WriteString(n + ","); return nil }); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// FuzzUploadForm feeds arbitrary multipart bodies to the readers of
// object/upload (even op) and object/uploadPart (odd op). Nothing may
// panic; a refusal must be a clean 400 BadArgument (or DataNotFound for an
// unknown ID) that stores nothing and leaves no temp file; and a form may
// be accepted only if an independent reading of it finds exactly what the
// endpoint requires, within the limits, and then what was stored must be
// exactly the files sent.
func FuzzUploadForm(f *testing.F) {
	e := newFormEnv(f)
	info := fmt.Sprintf(`{"userID":1,"packageID":%d}`, e.pkgID)
	pinfo := fmt.Sprintf(`{"objectID":%d,"index":3}`, e.partID)
	for _, form := range [][]byte{
		fuzzForm([3]string{"info", "-", info}, [3]string{"files", "a.txt", "hello"}),
		fuzzForm([3]string{"files", "dir%2Fb", "x"}, [3]string{"files", "c", ""}, [3]string{"info", "-", info}),
		fuzzForm([3]string{"info", "-", info}, [3]string{"files", "a", "1"}, [3]string{"files", "a", "2"}),
		fuzzForm([3]string{"files", "a", "1"}),
		fuzzForm([3]string{"info", "-", info}, [3]string{"info", "-", info}),
		fuzzForm([3]string{"info", "-", info}, [3]string{"other", "-", "x"}),
		fuzzForm([3]string{"info", "-", info}, [3]string{"files", "big", strings.Repeat("b", 65)}),
		fuzzForm([3]string{"info", "-", info + strings.Repeat(" ", 128)}),
		fuzzForm([3]string{"info", "-", `{"packageID":"1"}`}, [3]string{"files", "a", "1"}),
		fuzzForm([3]string{"info", "-", info}, [3]string{"files", "%zz", "1"}),
		fuzzForm([3]string{"info", "-", info}, [3]string{"files", strings.Repeat("k", 37), "1"}),
		fuzzForm([3]string{"info", "-", info}, [3]string{"files", "-", "1"}),
		fuzzForm([3]string{"info", "-", `{"packageID":99999}`}, [3]string{"files", "a", "1"}),
		fuzzForm([3]string{"info", "-", pinfo}, [3]string{"file", "f", "part"}),
		fuzzForm([3]string{"file", "f", "part"}, [3]string{"info", "-", pinfo}),
		fuzzForm([3]string{"info", "-", pinfo}),
		fuzzForm([3]string{"info", "-", pinfo}, [3]string{"file", "f", "1"}, [3]string{"file", "f", "2"}),
		fuzzForm([3]string{"info", "-", pinfo}, [3]string{"file", "f", strings.Repeat("p", 49)}),
		fuzzForm([3]string{"info", "-", `{"objectID":1,"index":-1}`}, [3]string{"file", "f", "1"}),
	} {
		f.Add(form, uint8(0))
		f.Add(form, uint8(1))
		f.Add(form[:len(form)/2], uint8(0))
	}
	f.Add([]byte("--XyZ--\r\n"), uint8(0))
	f.Add([]byte(""), uint8(1))
	f.Add([]byte("--XyZ\r\nContent-Disposition: form-data; name=info\r\n\r\n{}\r\n--XyZ"), uint8(1))

	tmp := filepath.Join(e.root, "tmp")
	f.Fuzz(func(t *testing.T, body []byte, op uint8) {
		ctx := context.Background()
		before := e.state(t)
		r := httptest.NewRequest(http.MethodPost, "/v1/object/upload", bytes.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
		var data any
		var err error
		upload := op%2 == 0
		if upload {
			data, err = e.a.upload(ctx, r)
		} else {
			data, err = e.a.uploadPart(ctx, r)
		}
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Fatalf("%d temp files left behind (err %v)", len(left), err)
		}
		if err != nil {
			if _, code, msg := classify(err); code != codeBadArgument && code != codeDataNotFound || msg == "" {
				t.Fatalf("refused as %s %q: %v", code, msg, err)
			}
			if after := e.state(t); after != before {
				t.Fatalf("a refused form changed the store: %v", err)
			}
			return
		}
		parts, ok := refForm(body)
		if !ok {
			t.Fatalf("accepted a malformed form")
		}
		var infos, files []refPart
		for _, p := range parts {
			switch {
			case p.name == "info":
				infos = append(infos, p)
			case upload && p.name == "files", !upload && p.name == "file":
				files = append(files, p)
			default:
				t.Fatalf("accepted a form with a part named %q", p.name)
			}
		}
		if len(infos) != 1 || len(infos[0].data) > int(fuzzLimits.MaxJSONBody) {
			t.Fatalf("accepted a form with %d info parts", len(infos))
		}
		var in struct {
			PackageID, ObjectID, Index, Affinity *json.Number
		}
		dec := json.NewDecoder(bytes.NewReader(infos[0].data))
		dec.UseNumber()
		if dec.Decode(&in) != nil {
			t.Fatalf("accepted an info part that is not a JSON object: %q", infos[0].data)
		}
		for _, p := range files {
			limit := fuzzLimits.MaxPutSize
			if !upload {
				limit = fuzzLimits.MaxPartSize
			}
			if int64(len(p.data)) > limit {
				t.Fatalf("accepted a file of %d bytes over the limit of %d", len(p.data), limit)
			}
		}
		if !upload {
			if len(files) != 1 || in.ObjectID == nil || in.ObjectID.String() != fmt.Sprint(e.partID) || in.Index == nil {
				t.Fatalf("accepted uploadPart form %q", body)
			}
			if _, ok := data.(noData); !ok {
				t.Fatalf("uploadPart answered %#v", data)
			}
			return
		}
		if in.PackageID == nil || in.PackageID.String() != fmt.Sprint(e.pkgID) || in.Affinity != nil && in.Affinity.String() != "0" && in.Affinity.String() != "1" {
			t.Fatalf("accepted upload info %q", infos[0].data)
		}
		seen := map[string]bool{}
		for _, p := range files {
			path, err := url.PathUnescape(p.filename)
			if !p.hasFilename || p.filename == "" || err != nil || seen[path] || gateway.ValidatePath("pkg", path) != nil ||
				len("pkg/"+path) > fuzzLimits.MaxKeyLength {
				t.Fatalf("accepted a files part with filename %q", p.filename)
			}
			seen[path] = true
		}
		objs := data.(map[string]any)["uploadeds"].([]objectJSON)
		if len(objs) != len(files) {
			t.Fatalf("%d files stored for %d sent", len(objs), len(files))
		}
		ids := make([]int64, 0, len(objs))
		for i, o := range objs {
			path, _ := url.PathUnescape(files[i].filename)
			if o.Path != path || o.Size != fmt.Sprint(len(files[i].data)) || o.FileHash != fullHash(files[i].data) {
				t.Fatalf("stored %+v for %q (%d bytes)", o, path, len(files[i].data))
			}
			ids = append(ids, o.ObjectID)
		}
		// Keep the package small for the next input.
		if err := e.svc.DeleteObjects(ctx, ids); err != nil {
			t.Fatal(err)
		}
	})
}
