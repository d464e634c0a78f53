package backend

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error codes: the broad class of an error. Each maps to one HTTP status, and
// the CLI maps them to exit codes. The Slug names the specific failure.
const (
	ECONFLICT     = "conflict"     // the request clashes with existing state (name taken, already running)
	EINTERNAL     = "internal"     // a bug or an unexpected failure
	EINVALID      = "invalid"      // the input is wrong; FieldErrors say where
	ENOTFOUND     = "not_found"    // no such connector, tool, conversation, …
	EUNAUTHORIZED = "unauthorized" // missing or wrong credentials
	EFORBIDDEN    = "forbidden"    // credentials are fine, the request is not allowed
	EUNAVAILABLE  = "unavailable"  // a dependency (keychain, upstream server) cannot be reached
	ETIMEOUT      = "timeout"      // a dependency did not answer in time
)

// FieldError is one problem with one field of the input.
type FieldError struct {
	// Field is the JSON path of the field, for example "auth.api_key.name" or
	// "headers[2].name".
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the error type that crosses package and process boundaries. Its
// Message is written for the person using Patchbay: what happened, in plain
// words. SuggestedFix says what to do next. Neither may contain a secret.
type Error struct {
	Code         string       `json:"code"`
	Slug         string       `json:"slug,omitempty"`
	Message      string       `json:"message"`
	SuggestedFix string       `json:"suggested_fix,omitempty"`
	Fields       []FieldError `json:"errors,omitempty"`
	// Err is the underlying cause, kept for logs and errors.Is; it is not
	// serialised.
	Err error `json:"-"`
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	if e.SuggestedFix != "" {
		b.WriteString("\n")
		b.WriteString(e.SuggestedFix)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithFix returns e with SuggestedFix set; it returns e for chaining.
func (e *Error) WithFix(fix string) *Error {
	e.SuggestedFix = fix
	return e
}

// WithCause returns e with Err (the underlying cause, for logs and
// errors.Is) set.
func (e *Error) WithCause(err error) *Error {
	e.Err = err
	return e
}

// WithSlug returns e with Slug set.
func (e *Error) WithSlug(slug string) *Error {
	e.Slug = slug
	return e
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the person-facing message of err: the message of the
// first *Error in its chain, or a generic text for any other error, so that
// internal details never reach the UI by accident.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "Internal error."
	}
}

// HTTPStatus maps an error code to an HTTP status.
func HTTPStatus(code string) int {
	switch code {
	case EINVALID:
		return http.StatusBadRequest
	case EUNAUTHORIZED:
		return http.StatusUnauthorized
	case EFORBIDDEN:
		return http.StatusForbidden
	case ENOTFOUND:
		return http.StatusNotFound
	case ECONFLICT:
		return http.StatusConflict
	case EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case ETIMEOUT:
		return http.StatusGatewayTimeout
	default:
		return http.StatusInternalServerError
	}
}

// Problems collects field errors during validation so that every problem is
// reported at once.
type Problems []FieldError

// Add records a problem with field.
func (p *Problems) Add(field, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil when there are no problems, else an EINVALID *Error that
// lists them all.
func (p Problems) Err(what string) error {
	if len(p) == 0 {
		return nil
	}
	msg := fmt.Sprintf("The %s has %d problem(s).", what, len(p))
	if len(p) == 1 {
		msg = fmt.Sprintf("The %s has a problem: %s: %s", what, p[0].Field, p[0].Message)
	}
	return &Error{
		Code:         EINVALID,
		Slug:         "validation_failed",
		Message:      msg,
		SuggestedFix: "Correct the fields listed and try again; nothing was saved.",
		Fields:       p,
	}
}

// ErrorBody is the JSON shape of every error Patchbay's HTTP endpoints (the
// admin API and the MCP endpoint) answer with, so that the UI, the CLI and
// a person reading a refused request see the same fields everywhere.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inner object of ErrorBody.
type ErrorDetail struct {
	Message      string       `json:"message"`
	Code         string       `json:"code"`
	Slug         string       `json:"slug,omitempty"`
	Status       int          `json:"status"`
	RequestID    string       `json:"request_id,omitempty"`
	SuggestedFix string       `json:"suggested_fix,omitempty"`
	Errors       []FieldError `json:"errors"`
}

// Body returns the HTTP error body of e for a request.
func (e *Error) Body(requestID string) ErrorBody {
	fields := e.Fields
	if fields == nil {
		fields = []FieldError{}
	}
	return ErrorBody{Error: ErrorDetail{
		Message: e.Message, Code: e.Code, Slug: e.Slug, Status: HTTPStatus(e.Code),
		RequestID: requestID, SuggestedFix: e.SuggestedFix, Errors: fields,
	}}
}
