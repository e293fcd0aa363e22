package jcsgw

import (
	"fmt"
	"net/http"
	"strings"
)

// headerLimit answers a request whose line and headers exceed max bytes
// in the dialect of the front it came to. net/http's own limit (set higher,
// as a hard stop) would answer in plain text.
func headerLimit(next http.Handler, max int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
		for k, vs := range r.Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4
			}
		}
		if n <= max {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Connection", "close")
		msg := fmt.Sprintf("the request line and headers are %d bytes; at most %d are allowed (max-header-bytes)", n, max)
		if p := r.URL.Path; p == "/v1" || strings.HasPrefix(p, "/v1/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge)
			fmt.Fprintf(w, `{"code":"BadArgument","message":%q,"data":null}`, msg)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<Error><Code>RequestHeaderSectionTooLarge</Code><Message>%s</Message></Error>`, msg)
	})
}
