package backend_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/backend"
)

func TestProblemsErr(t *testing.T) {
	var none backend.Problems
	if err := none.Err("connector"); err != nil {
		t.Fatalf("no problems: Err() = %v, want nil", err)
	}

	var one backend.Problems
	one.Add("name", "is %d characters; the limit is %d", 70, 64)
	err := one.Err("connector")
	var e *backend.Error
	if !errors.As(err, &e) {
		t.Fatalf("Err() is %T, want *backend.Error", err)
	}
	if e.Code != backend.EINVALID || e.Slug != "validation_failed" {
		t.Errorf("code %q slug %q", e.Code, e.Slug)
	}
	if want := "The connector has a problem: name: is 70 characters; the limit is 64"; e.Message != want {
		t.Errorf("one problem message = %q, want %q", e.Message, want)
	}
	if e.SuggestedFix != "Correct the fields listed and try again; nothing was saved." {
		t.Errorf("fix = %q", e.SuggestedFix)
	}
	if len(e.Fields) != 1 || e.Fields[0] != (backend.FieldError{Field: "name", Message: "is 70 characters; the limit is 64"}) {
		t.Errorf("fields = %+v", e.Fields)
	}

	var two backend.Problems
	two.Add("url", "is required")
	two.Add("headers[0].name", "%q is bad", "X Y")
	err = two.Err("conversation")
	if got, want := backend.ErrorMessage(err), "The conversation has 2 problem(s)."; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	wantText := "The conversation has 2 problem(s).\n  url: is required\n  headers[0].name: \"X Y\" is bad\nCorrect the fields listed and try again; nothing was saved."
	if err.Error() != wantText {
		t.Errorf("Error() =\n%s\nwant\n%s", err.Error(), wantText)
	}
	// A format verb in a message argument stays literal.
	var pct backend.Problems
	pct.Add("x", "got %q", "%d")
	if pct[0].Message != `got "%d"` {
		t.Errorf("message = %q", pct[0].Message)
	}
}

func TestErrorShape(t *testing.T) {
	cause := errors.New("dial tcp 10.0.0.1:443: connection refused")
	e := backend.Errorf(backend.EUNAVAILABLE, "Cannot reach %s.", "Linear").WithSlug("upstream_unreachable").WithFix("Check the URL.")
	e.Err = cause
	if e.Error() != "Cannot reach Linear.\nCheck the URL." {
		t.Errorf("Error() = %q", e.Error())
	}
	if !errors.Is(e, cause) {
		t.Error("errors.Is does not see the cause")
	}
	if e.Slug != "upstream_unreachable" || e.Code != backend.EUNAVAILABLE {
		t.Errorf("slug %q code %q", e.Slug, e.Code)
	}
	if got := backend.Errorf(backend.ENOTFOUND, "No connector %q.", "x").Error(); got != `No connector "x".` {
		t.Errorf("Error() without fix = %q", got)
	}
}

func TestErrorCodeAndMessage(t *testing.T) {
	appErr := backend.Errorf(backend.ECONFLICT, "The name Linear is taken.")
	tests := []struct {
		name    string
		err     error
		code    string
		message string
	}{
		{"nil", nil, "", ""},
		{"*Error", appErr, backend.ECONFLICT, "The name Linear is taken."},
		{"wrapped *Error", fmt.Errorf("create connector: %w", appErr), backend.ECONFLICT, "The name Linear is taken."},
		{"joined", errors.Join(errors.New("first"), appErr), backend.ECONFLICT, "The name Linear is taken."},
		{"plain error hides details", errors.New("open /home/me/.config/patchbay/state.db: permission denied"), backend.EINTERNAL, "Internal error."},
	}
	for _, tt := range tests {
		if got := backend.ErrorCode(tt.err); got != tt.code {
			t.Errorf("%s: ErrorCode = %q, want %q", tt.name, got, tt.code)
		}
		if got := backend.ErrorMessage(tt.err); got != tt.message {
			t.Errorf("%s: ErrorMessage = %q, want %q", tt.name, got, tt.message)
		}
	}
}

func TestHTTPStatus(t *testing.T) {
	tests := map[string]int{
		backend.EINVALID:      http.StatusBadRequest,
		backend.EUNAUTHORIZED: http.StatusUnauthorized,
		backend.EFORBIDDEN:    http.StatusForbidden,
		backend.ENOTFOUND:     http.StatusNotFound,
		backend.ECONFLICT:     http.StatusConflict,
		backend.EUNAVAILABLE:  http.StatusServiceUnavailable,
		backend.ETIMEOUT:      http.StatusGatewayTimeout,
		backend.EINTERNAL:     http.StatusInternalServerError,
		"":                    http.StatusInternalServerError,
		"teapot":              http.StatusInternalServerError,
	}
	for code, want := range tests {
		if got := backend.HTTPStatus(code); got != want {
			t.Errorf("HTTPStatus(%q) = %d, want %d", code, got, want)
		}
	}
}

func TestValidDecision(t *testing.T) {
	for _, d := range []string{backend.DecisionAllowOnce, backend.DecisionAllowAlways, backend.DecisionDeny} {
		if !backend.ValidDecision(d) {
			t.Errorf("ValidDecision(%q) = false", d)
		}
	}
	// Timeout and cancelled are recorded by Patchbay, never sent by a person.
	for _, d := range []string{backend.DecisionTimeout, backend.DecisionCancelled, "", "allow"} {
		if backend.ValidDecision(d) {
			t.Errorf("ValidDecision(%q) = true", d)
		}
	}
}

func TestNewEvent(t *testing.T) {
	ev := backend.NewEvent(backend.EventConnectorChanged, map[string]string{"id": "c_1"})
	if ev.Type != "connector.changed" || string(ev.Data) != `{"id":"c_1"}` {
		t.Errorf("NewEvent = %s %s", ev.Type, ev.Data)
	}
	if !strings.Contains(string(backend.NewEvent(backend.EventSettingsChanged, backend.DefaultSettings()).Data), `"port":47821`) {
		t.Error("settings event lacks the port")
	}
	backend.NopPublisher{}.Publish(ev) // must not panic
}
