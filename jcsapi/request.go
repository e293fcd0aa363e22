package jcsapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"jcsgw/gateway"
	"jcsgw/gateway/auth"
	"jcsgw/gateway/telemetry"
)

// readBody reads a small request body whole (JSON endpoints, and the empty
// body of query endpoints) so that its hash can be checked against the
// signature before anything in it is looked at. A body over the JSON body
// limit is refused once limit+1 bytes of it are read: a client that sends
// its body before it reads the answer still gets the answer (what follows
// is left to net/http, which reads a little more or ends the connection).
func (a *api) readBody(r *http.Request) ([]byte, string, error) {
	limit := a.lim.MaxJSONBody
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, "", badArg("the request body could not be read: %v", err)
	}
	if int64(len(body)) > limit {
		return nil, "", errJSONTooLarge("the request body", limit)
	}
	sum := sha256.Sum256(body)
	return body, hex.EncodeToString(sum[:]), nil
}

// errJSONTooLarge names the limit a JSON body (or info part) ran into.
func errJSONTooLarge(what string, limit int64) error {
	return badArg("%s is larger than the JSON body limit of %d bytes (max-json-body)", what, limit)
}

// authenticate verifies the request's signature. payloadHash is the hex
// SHA-256 of a buffered body, or "" for the endpoints whose body streams
// (multipart forms and presigned uploads), which JCS clients sign with an
// empty payload hash.
// It returns the request with the caller (the key's user) in its context:
// the gateway refuses that user other users' buckets.
func (a *api) authenticate(r *http.Request, payloadHash string) (*http.Request, error) {
	if payloadHash != "" {
		// The verifier signs with the header's value when there is one: it
		// must then be the hash of the body actually received (so a JSON
		// body sent as UNSIGNED-PAYLOAD is refused too: JSON bodies are
		// always covered by the signature).
		if h := auth.PayloadHashHeader(r); h != "" && !strings.EqualFold(h, payloadHash) {
			return r, unauthorized("the X-Amz-Content-Sha256 header does not match the request body")
		}
	}
	id, err := a.v.VerifyJCS(r, payloadHash)
	telemetry.FromContext(r.Context()).User = id.AccessKey
	if err != nil {
		msg := "the request signature is not valid"
		var au *auth.Error
		if errors.As(err, &au) && au.Message != "" {
			msg = au.Message
		}
		return r, unauthorized(msg)
	}
	return r.WithContext(gateway.WithCaller(r.Context(), a.svc.CallerOf(id.AccessKey))), nil
}

// decodeJSON decodes a JSON object body into v (a pointer to a struct whose
// required fields are pointers), naming the field at fault on failure.
// Unknown members (such as the userID that JCS clients send) are ignored.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badArg("the request body is empty: a JSON object is expected")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badArg("the request body has data after its JSON object")
	}
	return nil
}

// jsonError explains a decoding failure in terms of the request's fields.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return badArg("the request body is not valid JSON (at byte %d): %v", se.Offset, se)
	case errors.As(err, &te):
		if te.Field == "" {
			return badArg("the request body must be a JSON object, not %s", jsonKind(te.Value))
		}
		return badArg("%s: expected %s, got %s", te.Field, typeName(te.Type), jsonKind(te.Value))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return badArg("the request body is truncated JSON")
	}
	return badArg("the request body is not valid JSON: %v", err)
}

func jsonKind(v string) string {
	switch {
	case strings.HasPrefix(v, "number"):
		return v
	case v == "array", v == "object":
		return "an " + v
	}
	return "a " + v
}

func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

// maxID bounds the IDs accepted on the wire: IDs are kept below 2^31.
const maxID = 1<<31 - 1

// needID checks a required ID member of a JSON body.
func needID(field string, v *int64) (int64, error) {
	if v == nil {
		return 0, badArg("%s is required", field)
	}
	if *v <= 0 || *v > maxID {
		return 0, badArg("%s must be a positive integer below 2^31, not %d", field, *v)
	}
	return *v, nil
}

// needString checks a required string member of a JSON body.
func needString(field string, v *string) (string, error) {
	if v == nil {
		return "", badArg("%s is required", field)
	}
	return *v, nil
}

// optSpace checks an optional user-space ID (affinity): 0 = the default.
func optSpace(field string, v *int64) (int64, error) {
	if v == nil {
		return 0, nil
	}
	if *v < 0 || *v > maxID {
		return 0, badArg("%s must be a user space ID or 0, not %d", field, *v)
	}
	return *v, nil
}

// maxIndex bounds a multipart part index (JCS clients send int32).
const maxIndex = 1<<31 - 1

func checkIndex(field string, v int64) (int, error) {
	if v < 0 || v > maxIndex {
		return 0, badArg("%s must be an integer from 0 to %d, not %d", field, maxIndex, v)
	}
	return int(v), nil
}

// query reads query-string parameters. An empty value counts as absent.
type query struct{ url.Values }

func (q query) has(name string) bool { return q.Get(name) != "" }

// str returns a parameter that may be absent or empty.
func (q query) str(name string) string { return q.Get(name) }

// needStr returns a required parameter; present-but-empty is allowed only
// when allowEmpty (a package name "" is the root package).
func (q query) needStr(name string, allowEmpty bool) (string, error) {
	vs, ok := q.Values[name]
	if !ok || (!allowEmpty && (len(vs) == 0 || vs[0] == "")) {
		return "", badArg("%s is required", name)
	}
	if len(vs) == 0 {
		return "", nil
	}
	return vs[0], nil
}

func (q query) int(name string) (int64, bool, error) {
	s := q.Get(name)
	if s == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, true, badArg("%s must be an integer, not %q", name, s)
	}
	return n, true, nil
}

func (q query) id(name string) (int64, error) {
	n, ok, err := q.int(name)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, badArg("%s is required", name)
	}
	return needID(name, &n)
}

func (q query) bool(name string) (bool, error) {
	s := q.Get(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, badArg("%s must be true or false, not %q", name, s)
	}
	return b, nil
}

// nonNegative reads an optional integer that must not be negative.
func (q query) nonNegative(name string) (int64, bool, error) {
	n, ok, err := q.int(name)
	if err != nil {
		return 0, false, err
	}
	if n < 0 {
		return 0, false, badArg("%s must not be negative, not %d", name, n)
	}
	return n, ok, nil
}

func (q query) space(name string) (int64, error) {
	n, ok, err := q.int(name)
	if err != nil || !ok {
		return 0, err
	}
	return optSpace(name, &n)
}

// indexes reads a list of part indexes given as repeated parameters
// (indexes=2&indexes=1), comma-separated (indexes=2,1), or both; the order
// given is the order of the parts in the object.
func (q query) indexes(name string) ([]int, error) {
	var out []int
	for _, v := range q.Values[name] {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, badArg("%s must be integers, not %q", name, s)
			}
			i, err := checkIndex(name, n)
			if err != nil {
				return nil, err
			}
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		return nil, badArg("%s is required", name)
	}
	return out, nil
}
