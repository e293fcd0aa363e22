package s3api

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"jcsgw/gateway"
)

func TestS3SlowXML(t *testing.T) {
	defer func(a, e time.Duration) { keepAliveAfter, keepAliveEvery = a, e }(keepAliveAfter, keepAliveEvery)
	keepAliveAfter, keepAliveEvery = 20*time.Millisecond, 5*time.Millisecond
	a := New(nil, nil, Options{}, nil).(*api)
	mk := func() (*req, *httptest.ResponseRecorder) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/b/k?uploadId=x", nil)
		return &req{api: a, w: w, r: r, id: "RID", bucket: "b", key: "k"}, w
	}
	ok := func() (any, error) { return initiateMultipartUploadResult{Bucket: "b", Key: "k", UploadID: "u"}, nil }
	fail := func() (any, error) { return nil, &gateway.Error{Code: gateway.CodeInvalidPart, Message: "bad part"} }
	slow := func(fn func() (any, error)) func() (any, error) {
		return func() (any, error) { time.Sleep(80 * time.Millisecond); return fn() }
	}

	rq, w := mk()
	if err := rq.slowXML(ok); err != nil || w.Code != 200 || !strings.Contains(w.Body.String(), "<UploadId>u</UploadId>") {
		t.Errorf("fast: %v %d %q", err, w.Code, w.Body.String())
	}
	rq, _ = mk()
	if err := rq.slowXML(fail); gateway.CodeOf(err) != gateway.CodeInvalidPart {
		t.Errorf("fast error: %v", err)
	}

	rq, w = mk()
	if err := rq.slowXML(slow(ok)); err != nil || w.Code != 200 {
		t.Fatalf("slow: %v %d", err, w.Code)
	}
	body := w.Body.String()
	if !strings.HasPrefix(body, "<?xml") || !strings.Contains(body, "?>\n ") || !strings.HasSuffix(body, "</InitiateMultipartUploadResult>") {
		t.Errorf("slow body: %q", body)
	}

	rq, w = mk()
	if err := rq.slowXML(slow(fail)); err != nil || w.Code != 200 {
		t.Fatalf("slow error: %v %d", err, w.Code)
	}
	body = w.Body.String()
	if !strings.Contains(body, "<Error><Code>InvalidPart</Code><Message>bad part</Message>") || !strings.Contains(body, "<RequestId>RID</RequestId>") {
		t.Errorf("slow error body: %q", body)
	}
}
