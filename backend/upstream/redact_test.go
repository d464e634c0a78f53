package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

func TestRedactorRemovesSecretsInEveryForm(t *testing.T) {
	secret := canary + "/+ &="
	r := newRedactor(secret, "abc") // too short to redact: it would mangle text
	msg := fmt.Sprintf("GET http://h/sse?api_key=%s&x=abc: %s (%s)", url.QueryEscape(secret), secret, url.PathEscape(secret))
	got := r.String(msg)
	if strings.Contains(got, canary) {
		t.Fatalf("secret left in %q", got)
	}
	if !strings.Contains(got, "x=abc") || strings.Count(got, redacted) != 3 {
		t.Errorf("redacted = %q", got)
	}

	cause := errors.New("dial " + secret)
	err := r.Error(fmt.Errorf("wrapped: %w", cause))
	if strings.Contains(err.Error(), canary) || !errors.Is(err, cause) {
		t.Errorf("Error() = %q, errors.Is = %v", err, errors.Is(err, cause))
	}

	// Secrets learnt later (OAuth tokens) are redacted from then on.
	r.add(canary + "-token")
	if got := r.String("Bearer " + canary + "-token"); got != "Bearer "+redacted {
		t.Errorf("token redaction = %q", got)
	}
}

func TestRedactingLogger(t *testing.T) {
	var buf bytes.Buffer
	r := newRedactor(canary)
	log := newRedactLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), r).
		With("url", "http://h/?k="+canary)
	log.Debug("failed "+canary, "error", errors.New("boom "+canary), "n", 3,
		slog.Group("g", slog.String("s", canary)), "any", []string{canary})
	out := buf.String()
	if strings.Contains(out, canary) {
		t.Fatalf("canary in log: %s", out)
	}
	if !strings.Contains(out, "n=3") || strings.Count(out, redacted) != 5 {
		t.Errorf("log = %s", out)
	}
}

func TestExcerpt(t *testing.T) {
	cases := map[string]string{
		`{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"},"id":null}`: "Bad Request: No valid session ID provided",
		"<html><body><h1>502</h1>\n<p>Bad   gateway</p></body></html>":                                              "502 Bad gateway",
		"  plain\ttext \x00 here\n": "plain text here",
		"":                          "",
	}
	for in, want := range cases {
		if got := excerpt([]byte(in), ""); got != want {
			t.Errorf("excerpt(%q) = %q, want %q", in, got, want)
		}
	}
	if got := excerpt([]byte(strings.Repeat("é", 400)), "text/plain"); len(got) > maxExcerpt+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("long excerpt not clipped: %d bytes", len(got))
	}
}
