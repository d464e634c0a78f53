package upstream

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// redacted replaces a secret wherever it would otherwise appear.
const redacted = "[REDACTED]"

// redactor removes known secret values from text. Errors from net/http carry
// URLs (with query strings), go-sdk errors quote server replies, and OAuth
// tokens appear only while requests are made, so the set of secrets grows
// while a session lives.
type redactor struct {
	mu      sync.RWMutex
	secrets []string // longest first, so a secret that contains another is replaced whole
}

// minSecretLen keeps a tiny value (say "1") from turning every digit of every
// message into [REDACTED]; real keys and tokens are far longer.
const minSecretLen = 4

func newRedactor(secrets ...string) *redactor {
	r := &redactor{}
	r.add(secrets...)
	return r
}

// add registers secrets together with the forms they take in URLs. Known
// secrets cost only a read lock: every OAuth request adds its token.
func (r *redactor) add(secrets ...string) {
	if r.knows(secrets) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		if len(s) < minSecretLen {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			if !slices.Contains(r.secrets, form) {
				r.secrets = append(r.secrets, form)
			}
		}
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
}

func (r *redactor) knows(secrets []string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, s := range secrets {
		if len(s) >= minSecretLen && !slices.Contains(r.secrets, s) {
			return false
		}
	}
	return true
}

// String returns s with every secret replaced.
func (r *redactor) String(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, redacted)
		}
	}
	return s
}

// Error wraps err so that its text is redacted while errors.Is and errors.As
// still see the cause.
func (r *redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: r.String(err.Error()), cause: err}
}

type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }

// redactHandler is a slog.Handler that redacts the message and every
// attribute before passing the record on. Loggers given to go-sdk go through
// it too, since go-sdk logs transport errors verbatim.
type redactHandler struct {
	next slog.Handler
	r    *redactor
}

func newRedactLogger(l *slog.Logger, r *redactor) *slog.Logger {
	return slog.New(&redactHandler{next: l.Handler(), r: r})
}

func (h *redactHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return &redactHandler{next: h.next.WithAttrs(clean), r: h.r}
}

func (h *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{next: h.next.WithGroup(name), r: h.r}
}

func (h *redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.r.String(v.String()))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]any, len(group))
		for i, g := range group {
			clean[i] = h.attr(g)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		return slog.String(a.Key, h.r.String(fmt.Sprint(v.Any())))
	default:
		return slog.Attr{Key: a.Key, Value: v}
	}
}
