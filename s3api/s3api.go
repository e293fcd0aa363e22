// Package s3api is the S3 REST front: it turns S3 requests into gateway
// calls and gateway answers into S3 XML.
package s3api

import (
	"log/slog"
	"net/http"

	"jcsgw/gateway"
	"jcsgw/gateway/auth"
)

// Options configure the S3 front.
type Options struct {
	// BaseDomain enables virtual-host-style addressing: "bkt.BaseDomain".
	BaseDomain string
}

// New returns the S3 front's handler.
func New(svc *gateway.Service, v *auth.Verifier, opts Options, log *slog.Logger) http.Handler {
	return http.NotFoundHandler() // replaced by the S3 front under construction
}
