package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/patchbay/patchbay/backend"
)

// maxBody bounds request bodies: the largest legitimate one is a connector
// with an icon (64 KiB, base64-encoded).
const maxBody = 1 << 20

// ErrorBody is the JSON shape of every API error (see backend.ErrorBody).
type ErrorBody = backend.ErrorBody

// ErrorDetail is the inner object of ErrorBody.
type ErrorDetail = backend.ErrorDetail

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var be *backend.Error
	if !errors.As(err, &be) {
		switch {
		case errors.Is(err, context.Canceled):
			be = backend.Errorf(backend.ETIMEOUT, "The request was cancelled.")
		case errors.Is(err, context.DeadlineExceeded):
			be = backend.Errorf(backend.ETIMEOUT, "The request took too long.")
		default:
			// Internal details go to the log, not to the client.
			s.log.Error("internal error", "request_id", RequestID(r), "method", r.Method, "path", r.URL.Path, "err", err)
			be = backend.Errorf(backend.EINTERNAL, "Internal error.").
				WithFix("Try again; if it keeps happening, the log has the details (request " + RequestID(r) + ").")
		}
	} else if be.Code == backend.EINTERNAL {
		s.log.Error("internal error", "request_id", RequestID(r), "err", err)
	}
	writeJSON(w, backend.HTTPStatus(be.Code), be.Body(RequestID(r)))
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// readJSON decodes the request body into v, refusing unknown fields and
// trailing data with errors that say which field or where.
func readJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return backend.Errorf(backend.EINVALID, "The request body must be JSON (Content-Type: application/json), not %s.", ct).WithSlug("bad_content_type")
	}
	lr := &io.LimitedReader{R: r.Body, N: maxBody + 1}
	dec := json.NewDecoder(lr)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if lr.N <= 0 {
			return backend.Errorf(backend.EINVALID, "The request body is larger than %d KiB.", maxBody/1024).
				WithSlug("body_too_large").WithFix("Use a smaller icon (at most 64 KiB).")
		}
		return badJSON(err)
	}
	if dec.More() {
		return backend.Errorf(backend.EINVALID, "The request body has data after the JSON value.").WithSlug("bad_json")
	}
	return nil
}

func badJSON(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var p backend.Problems
	switch {
	case errors.Is(err, io.EOF):
		return backend.Errorf(backend.EINVALID, "The request body is empty; a JSON object was expected.").WithSlug("bad_json")
	case errors.As(err, &syn):
		return backend.Errorf(backend.EINVALID, "The request body is not valid JSON (at byte %d): %v.", syn.Offset, syn).WithSlug("bad_json")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		p.Add(field, "must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)
		return p.Err("request")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		p.Add(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "is not a known field")
		return p.Err("request")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return backend.Errorf(backend.EINVALID, "The request body is not valid JSON: it ends in the middle of a value.").WithSlug("bad_json")
	default:
		return backend.Errorf(backend.EINVALID, "The request body could not be read: %v.", err).WithSlug("bad_json")
	}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice", "array":
		return "a list"
	case "struct", "map", "ptr":
		return "an object"
	case "bool":
		return "true or false"
	default:
		return "a number"
	}
}

func unavailable(what string) error {
	return backend.Errorf(backend.EUNAVAILABLE, "%s is not available in this mode.", what).
		WithSlug("service_unavailable").
		WithFix(fmt.Sprintf("Start Patchbay (`patchbay serve` or the desktop app) to use %s.", strings.ToLower(what)))
}
