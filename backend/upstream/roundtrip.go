package upstream

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/patchbay/patchbay/backend"
)

// credentials are a connector's secret values, resolved for one connection
// and kept only in memory.
type credentials struct {
	apiKey  string
	headers []headerValue // custom headers, plain and secret, in order
}

type headerValue struct{ name, value string }

// transportEvents is told about what the RoundTripper notices in replies
// that go-sdk does not surface (or surfaces too late).
type transportEvents interface {
	// sessionGone: the server no longer knows our session (404, or 400
	// naming the session) — a restarted server or an expired session.
	sessionGone(reason string)
	// streamLost: a long-lived stream that go-sdk does not resume (the
	// 2026-07-28 subscriptions/listen stream) ended.
	streamLost(err error)
}

// authTransport is the one http.RoundTripper for every transport of a
// connection: it adds identification and credentials to each request and
// watches each reply.
type authTransport struct {
	base      http.RoundTripper
	connector *backend.Connector
	creds     credentials
	oauth     OAuth  // nil unless the connector uses OAuth and OAuth is configured
	transport string // backend.TransportSSE or TransportStreamableHTTP
	userAgent string
	red       *redactor
	log       *slog.Logger // redacts every attribute (newRedactLogger)
	obs       *httpLog
	events    transportEvents // may be nil (connection tests)
	// life ends with the session (or with a failed connection attempt).
	// Every request is cancelled then, including the ones go-sdk sends
	// detached from any caller (the best-effort notifications/cancelled
	// after a timed-out handshake), which would otherwise hold the
	// session's Close until the server answers or go-sdk gives up.
	life context.Context
}

// reservedHeaders are set by go-sdk and must not be replaced by a custom
// header, or the transport breaks in ways that are hard to explain.
func reservedHeader(name string) bool {
	n := http.CanonicalHeaderKey(name)
	return n == "Content-Type" || n == "Accept" || n == "Last-Event-Id" || strings.HasPrefix(n, "Mcp-")
}

func (t *authTransport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	ctx := req.Context()
	if t.life != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		stop := context.AfterFunc(t.life, cancel)
		release := func() { stop(); cancel() }
		defer func() {
			if err != nil || resp == nil {
				release()
				return
			}
			// The body is read after RoundTrip returns: release when the
			// reader is done with it.
			resp.Body = &releaseBody{ReadCloser: resp.Body, release: release}
		}()
	}
	r := req.Clone(ctx)
	t.decorate(r)
	if t.oauth != nil {
		token, err := t.oauth.Token(ctx, t.connector)
		if err != nil {
			// Only EUNAUTHORIZED means "sign in"; a provider that cannot be
			// reached for a refresh is a connection problem, retried.
			if backend.ErrorCode(err) == backend.EUNAUTHORIZED {
				err = &signInError{cause: err}
			}
			t.obs.failed(err)
			return nil, t.red.Error(err)
		}
		t.red.add(token)
		r.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err = t.base.RoundTrip(r)
	if err != nil {
		t.obs.failed(err)
		// The logger redacts; r.URL and err are formatted only when debug
		// logging is on.
		t.log.Debug("upstream request failed", "method", r.Method, "url", r.URL, "error", err)
		return nil, t.red.Error(err)
	}
	if t.oauth != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
		resp = t.retryAuthorized(r, resp)
	}
	t.log.Debug("upstream request", "method", r.Method, "url", r.URL, "status", resp.StatusCode, "duration", time.Since(start))
	ex := t.obs.record(resp, t.red)
	// Requests that name a session: Streamable HTTP sends its header, the
	// SSE transport posts to a per-session URL.
	namesSession := r.Header.Get("Mcp-Session-Id") != "" || t.transport == backend.TransportSSE && r.Method == http.MethodPost
	if t.events != nil && namesSession && sessionRejected(ex) {
		t.events.sessionGone(ex.summary())
	}
	if t.events != nil && r.Header.Get("Mcp-Method") == "subscriptions/listen" && ex.Status/100 == 2 {
		resp.Body = &watchedBody{ReadCloser: resp.Body, onEnd: t.events.streamLost}
	}
	return resp, nil
}

// decorate adds the User-Agent, custom headers and the API key.
func (t *authTransport) decorate(r *http.Request) {
	r.Header.Set("User-Agent", t.userAgent)
	for _, h := range t.creds.headers {
		if !reservedHeader(h.name) {
			r.Header.Set(h.name, h.value)
		}
	}
	a := t.connector.Auth.APIKey
	if t.connector.Auth.Type != backend.AuthAPIKey || a == nil || t.creds.apiKey == "" {
		return
	}
	switch a.In {
	case backend.APIKeyInQuery:
		// Added to every request, not just the first: go-sdk's SSE client
		// posts to the URL from the server's endpoint event, which has lost
		// our query string.
		q := r.URL.Query()
		q.Set(a.Name, t.creds.apiKey)
		r.URL.RawQuery = q.Encode()
	default:
		r.Header.Set(a.Name, a.Prefix+t.creds.apiKey)
	}
}

// retryAuthorized asks the OAuth layer what to do about a 401/403 and, when
// it hands back a token, repeats the request once with it.
func (t *authTransport) retryAuthorized(r *http.Request, resp *http.Response) *http.Response {
	ctx := r.Context()
	var token string
	var err error
	if or, ok := t.oauth.(OAuthRejected); ok {
		sent := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		token, err = or.Rejected(ctx, t.connector, sent, resp.Header.Get("WWW-Authenticate"))
	} else {
		token, err = t.oauth.Unauthorized(ctx, t.connector, resp.Header.Get("WWW-Authenticate"))
	}
	if err != nil {
		if backend.ErrorCode(err) == backend.EUNAUTHORIZED {
			t.obs.setSignIn(&signInError{cause: err})
		}
		return resp
	}
	if token == "" || (r.Body != nil && r.Body != http.NoBody && r.GetBody == nil) {
		return resp
	}
	r2 := r.Clone(ctx)
	if r.GetBody != nil {
		body, err := r.GetBody()
		if err != nil {
			return resp
		}
		r2.Body = body
	}
	t.red.add(token)
	r2.Header.Set("Authorization", "Bearer "+token)
	resp2, err := t.base.RoundTrip(r2)
	if err != nil {
		return resp
	}
	drain(resp)
	return resp2
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// sessionRejected reports whether a reply to a request that carried our
// session ID says the server no longer knows the session. The MCP spec
// answers 404; some servers (the TypeScript examples among them) answer 400
// and say so in the body.
func sessionRejected(ex exchange) bool {
	switch ex.Status {
	case http.StatusNotFound:
		return true
	case http.StatusBadRequest:
		return strings.Contains(strings.ToLower(ex.Body), "session")
	}
	return false
}

// signInError marks a failure to get an OAuth token: the person must sign in.
type signInError struct{ cause error }

func (e *signInError) Error() string { return "not signed in: " + e.cause.Error() }
func (e *signInError) Unwrap() error { return e.cause }

// watchedBody reports the end of a long-lived stream once.
type watchedBody struct {
	io.ReadCloser
	once  sync.Once
	onEnd func(error)
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.once.Do(func() { b.onEnd(err) })
	}
	return n, err
}

func (b *watchedBody) Close() error {
	b.once.Do(func() { b.onEnd(errors.New("stream closed")) })
	return b.ReadCloser.Close()
}

// releaseBody calls release once the response body is closed.
type releaseBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}
