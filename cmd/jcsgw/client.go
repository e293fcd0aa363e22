package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"jcsgw/gateway/auth"
)

// client signs /v1 requests the way JCS clients do: SigV4, service "jcs",
// region "any", payload hash of the body ("" for multipart forms).
type client struct {
	endpoint, access, secret string
}

func newClient(name string, args []string) (*client, *flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var f serveFlags
	f.register(fs)
	endpoint := fs.String("endpoint", envOr("JCSGW_ENDPOINT", ""), "server URL (default: http://<addr>) (env JCSGW_ENDPOINT)")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	c := &client{endpoint: *endpoint, access: f.access, secret: f.secret}
	if c.endpoint == "" {
		c.endpoint = "http://" + f.addr
	}
	if c.access == "" {
		b, err := os.ReadFile(filepath.Join(f.data, "credentials.json"))
		if err != nil {
			return nil, nil, fmt.Errorf("no key given and none found in the data dir: %w", err)
		}
		var kept struct{ AccessKey, SecretKey string }
		if err := json.Unmarshal(b, &kept); err != nil {
			return nil, nil, fmt.Errorf("read credentials: %w", err)
		}
		c.access, c.secret = kept.AccessKey, kept.SecretKey
	}
	return c, fs, nil
}

func (c *client) do(ctx context.Context, method, path string, body io.Reader, payloadHash, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.endpoint, "/")+path, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if err := auth.SignJCS(req, c.access, c.secret, payloadHash, time.Now()); err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}

func call(ctx context.Context, args []string, out io.Writer) error {
	c, fs, err := newClient("call", args)
	if err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return fmt.Errorf("usage: jcsgw call METHOD PATH [BODY]")
	}
	method, path := strings.ToUpper(fs.Arg(0)), fs.Arg(1)
	var body []byte
	if fs.NArg() > 2 {
		body = []byte(fs.Arg(2))
		if strings.HasPrefix(fs.Arg(2), "@") {
			if body, err = os.ReadFile(fs.Arg(2)[1:]); err != nil {
				return err
			}
		}
	}
	sum := sha256.Sum256(body)
	ct := ""
	if len(body) > 0 {
		ct = "application/json"
	}
	resp, err := c.do(ctx, method, path, bytes.NewReader(body), hex.EncodeToString(sum[:]), ct)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(out, resp.Body)
	fmt.Fprintln(out)
	return err
}

func upload(ctx context.Context, args []string, out io.Writer) error {
	c, fs, err := newClient("upload", args)
	if err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return fmt.Errorf("usage: jcsgw upload PACKAGE_ID FILE [PATH]")
	}
	f, err := os.Open(fs.Arg(1))
	if err != nil {
		return err
	}
	defer f.Close()
	name := filepath.Base(fs.Arg(1))
	if fs.NArg() > 2 {
		name = fs.Arg(2)
	}
	// Stream the form: the file is never held in memory.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			iw, err := mw.CreateFormField("info")
			if err != nil {
				return err
			}
			fmt.Fprintf(iw, `{"packageID":%s}`, fs.Arg(0))
			fw, err := mw.CreateFormFile("files", url.PathEscape(name))
			if err != nil {
				return err
			}
			if _, err := io.Copy(fw, f); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	resp, err := c.do(ctx, http.MethodPost, "/v1/object/upload", pr, "", mw.FormDataContentType())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(out, resp.Body)
	fmt.Fprintln(out)
	return err
}

func download(ctx context.Context, args []string, out io.Writer) error {
	c, fs, err := newClient("download", args)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: jcsgw download OBJECT_ID")
	}
	empty := sha256.Sum256(nil)
	resp, err := c.do(ctx, http.MethodGet, "/v1/object/download?objectID="+url.QueryEscape(fs.Arg(0)), nil, hex.EncodeToString(empty[:]), "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct == "application/json" {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		return fmt.Errorf("download failed: %s", b)
	}
	_, err = io.Copy(out, resp.Body)
	return err
}
