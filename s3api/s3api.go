// Package s3api is the S3 REST front: it turns S3 requests into gateway
// calls and gateway answers into S3 XML.
//
// Requests are addressed path-style (/bucket/key) always, and
// virtual-host-style (bucket.BaseDomain/key) when a base domain is set. Every
// request must be signed (SigV4 or SigV2, header or query); there is no
// anonymous access. Bodies stream from the connection to the gateway and
// back; nothing buffers an object.
package s3api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"jcsgw/gateway"
	"jcsgw/gateway/auth"
	"jcsgw/gateway/telemetry"
)

// Options configure the S3 front.
type Options struct {
	// BaseDomain enables virtual-host-style addressing: "bkt.BaseDomain".
	BaseDomain string
	// Limits are the sizes and counts the front enforces; zero fields are
	// the defaults (gateway.DefaultLimits).
	Limits gateway.Limits
}

// New returns the S3 front's handler.
func New(svc *gateway.Service, v *auth.Verifier, opts Options, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var seed [8]byte
	rand.Read(seed[:])
	hostID := base64.StdEncoding.EncodeToString(seed[:])
	return &api{
		svc:         svc,
		v:           v,
		opts:        Options{BaseDomain: strings.ToLower(strings.Trim(opts.BaseDomain, ".")), Limits: opts.Limits.WithDefaults()},
		log:         log,
		prefix:      strings.ToUpper(hex.EncodeToString(seed[:4])),
		hostID:      hostID,
		hostIDValue: []string{hostID}[:1:1],
	}
}

// serverValue is every reply's Server header value.
var serverValue = []string{"jcsgw"}[:1:1]

type api struct {
	svc    *gateway.Service
	v      *auth.Verifier
	opts   Options
	log    *slog.Logger
	prefix string
	seq    atomic.Uint64
	hostID string
	// hostIDValue is hostID as a header value, shared by every reply.
	hostIDValue []string
}

// req is one request in flight.
type req struct {
	api    *api
	w      http.ResponseWriter
	r      *http.Request
	q      url.Values
	id     string
	bucket string
	key    string
	vhost  bool   // addressed virtual-host style
	caller string // the access key that signed the request
	info   *telemetry.Info
	// c is the request's context, with its caller once verified (kept
	// here: r.WithContext would copy the whole request for it).
	c context.Context
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rq := &req{api: a, w: w, r: r, q: r.URL.Query(), c: r.Context()}
	rq.info = telemetry.FromContext(r.Context())
	if rq.id = rq.info.ID; rq.id == "" {
		rq.id = fmt.Sprintf("%s%08X", a.prefix, a.seq.Add(1))
	}
	// Every reply's; the constant values are shared by all replies (capped
	// slices: an Add copies). Canonical names, as Set would make them.
	h := w.Header()
	h["X-Amz-Request-Id"] = []string{rq.id}
	h["X-Amz-Id-2"] = a.hostIDValue
	h["Server"] = serverValue
	if err := rq.serve(); err != nil {
		rq.fail(err)
	}
}

func (rq *req) serve() error {
	var ok bool
	if rq.bucket, rq.key, rq.vhost, ok = rq.api.resolve(rq.r); !ok {
		return s3Error("InvalidBucketName", http.StatusBadRequest, "The specified bucket is not valid.")
	}
	id, err := rq.api.v.VerifyS3(rq.r)
	if err != nil {
		return err
	}
	if id.Anonymous {
		return errAccessDenied("Anonymous access is not allowed: sign the request")
	}
	rq.caller = id.AccessKey
	rq.info.User = id.AccessKey
	// The gateway refuses this caller other users' buckets.
	rq.c = gateway.WithCaller(rq.c, rq.api.svc.CallerOf(id.AccessKey))
	op, err := route(rq.r.Method, rq.bucket, rq.key, rq.q, rq.r.Header)
	if err != nil {
		return err
	}
	rq.info.Operation = opName(op)
	if rq.key != "" {
		if err := rq.api.opts.Limits.CheckKeyLength(rq.key); err != nil {
			return err
		}
	}
	return op(rq)
}

// owner is the caller as S3 names owners, made when a reply needs it: most
// replies do not, and it is a hash.
func (rq *req) owner() owner { return ownerOf(rq.caller) }

// ownerOf is the canonical user of an access key: a stable 64-hex ID.
func ownerOf(accessKey string) owner {
	sum := sha256.Sum256([]byte("jcsgw owner\x00" + accessKey))
	return owner{ID: hex.EncodeToString(sum[:]), DisplayName: "jcsgw"}
}

// resolve finds bucket and key: virtual-host style when the Host is a
// subdomain of the base domain, path-style otherwise. The key is the decoded
// path after the bucket, kept verbatim ("//", "+" and spaces included).
func (a *api) resolve(r *http.Request) (bucket, key string, vhost, ok bool) {
	p := r.URL.Path
	if a.opts.BaseDomain != "" {
		host := strings.ToLower(r.Host)
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if b, found := strings.CutSuffix(host, "."+a.opts.BaseDomain); found && b != "" {
			return b, strings.TrimPrefix(p, "/"), true, true
		}
	}
	rest := strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" && key != "" {
		return "", "", false, false
	}
	return bucket, key, false, true
}

// subresources are the S3 query parameters that name a different operation.
// A request carrying one its operation does not take is refused with
// NotImplemented, never served as a plain object or bucket operation.
var subresources = map[string]bool{
	"accelerate": true, "acl": true, "analytics": true, "attributes": true, "cors": true,
	"delete": true, "encryption": true, "intelligent-tiering": true, "inventory": true,
	"legal-hold": true, "lifecycle": true, "location": true, "logging": true,
	"metadataConfiguration": true, "metadataInventoryTable": true, "metadataJournalTable": true,
	"metadataTable": true, "metrics": true, "notification": true, "object-lock": true,
	"ownershipControls": true, "partNumber": true, "policy": true, "policyStatus": true,
	"publicAccessBlock": true, "renameObject": true, "replication": true, "requestPayment": true,
	"restore": true, "retention": true, "select": true, "select-type": true, "session": true,
	"tagging": true, "torrent": true, "uploadId": true, "uploads": true, "versionId": true,
	"versioning": true, "versions": true, "website": true, "abac": true,
}

type opFunc func(*req) error

// route picks the operation for a request.
func route(method, bucket, key string, q url.Values, h http.Header) (opFunc, error) {
	has := func(k string) bool { _, ok := q[k]; return ok }
	var op opFunc
	var takes []string
	switch {
	case bucket == "":
		switch method {
		case http.MethodGet, http.MethodHead:
			op = (*req).listBuckets
		default:
			return nil, errMethodNotAllowed()
		}
	case key == "":
		switch method {
		case http.MethodGet:
			switch {
			case has("location"):
				op, takes = (*req).getBucketLocation, []string{"location"}
			case has("versioning"):
				op, takes = (*req).getBucketVersioning, []string{"versioning"}
			case has("acl"):
				op, takes = (*req).getACL, []string{"acl"}
			case has("uploads"):
				op, takes = (*req).listUploads, []string{"uploads"}
			case q.Get("list-type") == "2":
				op = (*req).listObjectsV2
			case has("list-type") && q.Get("list-type") != "1":
				return nil, errInvalidArgument("Invalid list-type: %q", q.Get("list-type"))
			default:
				op = (*req).listObjectsV1
			}
		case http.MethodHead:
			op = (*req).headBucket
		case http.MethodPut:
			if has("acl") {
				op, takes = (*req).putACL, []string{"acl"}
			} else {
				op = (*req).createBucket
			}
		case http.MethodDelete:
			op = (*req).deleteBucket
		case http.MethodPost:
			if has("delete") {
				op, takes = (*req).deleteObjects, []string{"delete"}
			} else {
				op = notImplemented
			}
		default:
			return nil, errMethodNotAllowed()
		}
	default:
		switch method {
		case http.MethodGet, http.MethodHead:
			switch {
			case has("uploadId") && method == http.MethodGet:
				op, takes = (*req).listParts, []string{"uploadId"}
			case has("tagging") && method == http.MethodGet:
				op, takes = (*req).getTagging, []string{"tagging", "versionId"}
			case has("acl") && method == http.MethodGet:
				op, takes = (*req).getACL, []string{"acl", "versionId"}
			default:
				op, takes = (*req).getObject, []string{"versionId", "partNumber"}
			}
		case http.MethodPut:
			switch {
			case has("uploadId") || has("partNumber"):
				op, takes = (*req).uploadPart, []string{"uploadId", "partNumber"}
				if h.Get("X-Amz-Copy-Source") != "" {
					op = (*req).uploadPartCopy
				}
			case has("tagging"):
				op, takes = (*req).putTagging, []string{"tagging", "versionId"}
			case has("acl"):
				op, takes = (*req).putACL, []string{"acl", "versionId"}
			case h.Get("X-Amz-Copy-Source") != "":
				op = (*req).copyObject
			default:
				op = (*req).putObject
			}
		case http.MethodDelete:
			switch {
			case has("uploadId"):
				op, takes = (*req).abortUpload, []string{"uploadId"}
			case has("tagging"):
				op, takes = (*req).deleteTagging, []string{"tagging", "versionId"}
			default:
				op, takes = (*req).deleteObject, []string{"versionId"}
			}
		case http.MethodPost:
			switch {
			case has("uploads"):
				op, takes = (*req).createUpload, []string{"uploads"}
			case has("uploadId"):
				op, takes = (*req).completeUpload, []string{"uploadId"}
			default:
				op = notImplemented
			}
		default:
			return nil, errMethodNotAllowed()
		}
	}
	for k := range q {
		if subresources[k] && !contains(takes, k) {
			return nil, errNotImplemented("The %q subresource is not implemented by this server", k)
		}
	}
	if v := q.Get("versionId"); has("versionId") && v != "null" {
		return nil, errInvalidArgument("Invalid version id specified: versioning is not supported, and every object has the one version \"null\"")
	}
	return op, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func notImplemented(*req) error {
	return errNotImplemented("This operation is not implemented by this server")
}

// ctx is the request's context.
func (rq *req) ctx() context.Context { return rq.c }

// writeXML sends a 200 (or status) reply with an XML body.
func (rq *req) writeXML(status int, v any) error {
	b, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	rq.writeRaw(status, append([]byte(xml.Header), b...))
	return nil
}

// writeRaw sends a reply whose XML body is the concatenation of parts.
func (rq *req) writeRaw(status int, parts ...[]byte) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	h := rq.w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(n))
	rq.w.WriteHeader(status)
	if rq.r.Method != http.MethodHead {
		for _, p := range parts {
			if _, err := rq.w.Write(p); err != nil {
				return // the client is gone
			}
		}
	}
}

// noContent ends a request with a bodiless status.
func (rq *req) noContent(status int) {
	if status != http.StatusNoContent && status != http.StatusNotModified {
		rq.w.Header().Set("Content-Length", "0")
	}
	rq.w.WriteHeader(status)
}

// fail sends an S3 error reply. HEAD replies and 304 carry no body.
func (rq *req) fail(err error) {
	e := toAPIError(err)
	rq.api.log.Log(rq.ctx(), levelOf(e), "s3 request failed", "requestId", rq.id, "method", rq.r.Method,
		"path", rq.r.URL.Path, "code", e.Code, "err", err)
	h := rq.w.Header()
	for k, v := range e.Header {
		h.Set(k, v)
	}
	if e.Code == "EntityTooLarge" {
		// The rest of the body is not read: the connection cannot carry
		// another request. Saying so also keeps net/http from reading
		// (and a client that sent Expect: 100-continue from sending) it.
		h.Set("Connection", "close")
	}
	if e.Status == http.StatusNotModified {
		rq.w.WriteHeader(e.Status)
		return
	}
	if rq.r.Method == http.MethodHead {
		rq.noContent(e.Status)
		return
	}
	rq.writeRaw(e.Status, rq.errorBody(e))
}

// errorBody is the XML of an error reply.
func (rq *req) errorBody(e *apiError) []byte {
	body := errorXML{
		Code: e.Code, Message: e.Message, Resource: rq.r.URL.Path,
		RequestID: rq.id, HostID: rq.api.hostID,
	}
	switch e.Code {
	case "NoSuchBucket", "BucketNotEmpty", "BucketAlreadyOwnedByYou", "InvalidBucketName":
		body.BucketName = rq.bucket
	case "NoSuchKey":
		body.Key = rq.key
	}
	b, _ := xml.Marshal(body)
	return append([]byte(xml.Header), b...)
}

// Slow operations (those that read whole objects: completing a multipart
// upload, copying) start their reply once they have run keepAliveAfter, and
// then send a space every keepAliveEvery so that clients and proxies do not
// give up on an idle connection. As in S3, an error found after that point
// is sent as an <Error> document in the 200 reply.
var keepAliveAfter, keepAliveEvery = 5 * time.Second, 5 * time.Second

// slowXML runs fn and sends its answer as XML. fn must not touch the request
// or the reply: it may run while keep-alive spaces are being written.
func (rq *req) slowXML(fn func() (any, error)) error {
	type result struct {
		v   any
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn()
		done <- result{v, err}
	}()
	timer := time.NewTimer(keepAliveAfter)
	defer timer.Stop()
	select {
	case res := <-done:
		if res.err != nil {
			return res.err
		}
		return rq.writeXML(http.StatusOK, res.v)
	case <-timer.C:
	}
	rc := http.NewResponseController(rq.w)
	rq.w.Header().Set("Content-Type", "application/xml")
	rq.w.WriteHeader(http.StatusOK)
	io.WriteString(rq.w, xml.Header)
	rc.Flush()
	tick := time.NewTicker(keepAliveEvery)
	defer tick.Stop()
	for {
		select {
		case res := <-done:
			if res.err != nil {
				e := toAPIError(res.err)
				rq.api.log.Log(rq.ctx(), levelOf(e), "s3 request failed after its reply started", "requestId", rq.id,
					"method", rq.r.Method, "path", rq.r.URL.Path, "code", e.Code, "err", res.err)
				b, _ := xml.Marshal(errorXML{Code: e.Code, Message: e.Message, Resource: rq.r.URL.Path,
					RequestID: rq.id, HostID: rq.api.hostID})
				rq.w.Write(b)
				return nil
			}
			b, err := xml.Marshal(res.v)
			if err != nil {
				return err
			}
			rq.w.Write(b)
			return nil
		case <-tick.C:
			io.WriteString(rq.w, " ")
			rc.Flush()
		}
	}
}

func levelOf(e *apiError) slog.Level {
	if e.Status >= 500 {
		return slog.LevelError
	}
	return slog.LevelDebug
}

// readBody reads a small request body to its end, so the verifier's checks
// of the payload (signature, Content-MD5) run.
func (rq *req) readBody(limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(rq.r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, s3Error("MaxMessageLengthExceeded", http.StatusBadRequest, "Your request was too big.")
	}
	return b, nil
}

// readXML decodes a small XML request body into v.
func (rq *req) readXML(v any, limit int64) error {
	b, err := rq.readBody(limit)
	if err != nil {
		return err
	}
	if err := xml.Unmarshal(b, v); err != nil {
		return errMalformedXML()
	}
	return nil
}

var opNames sync.Map // opFunc code pointer → operation name

// opName names an operation for logs and metrics after its method
// ("jcsgw/s3api.(*req).listObjectsV2" → "listObjectsV2"), once per function.
func opName(op opFunc) string {
	pc := reflect.ValueOf(op).Pointer()
	if n, ok := opNames.Load(pc); ok {
		return n.(string)
	}
	name := "unknown"
	if f := runtime.FuncForPC(pc); f != nil {
		name = f.Name()
		name = strings.TrimSuffix(name[strings.LastIndexByte(name, '.')+1:], "-fm")
	}
	opNames.Store(pc, name)
	return name
}
