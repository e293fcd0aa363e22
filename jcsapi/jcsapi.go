// Package jcsapi is the JCS /v1 JSON front.
package jcsapi

import (
	"log/slog"
	"net/http"

	"jcsgw/gateway"
	"jcsgw/gateway/auth"
)

// New returns the /v1 handler.
func New(svc *gateway.Service, v *auth.Verifier, log *slog.Logger) http.Handler {
	return http.NotFoundHandler() // replaced by the JCS front under construction
}
