package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/patchbay/patchbay/backend"
)

// Test step IDs, in the order a connection goes through them.
const (
	stepResolve   = "resolve"
	stepConnect   = "connect"
	stepTLS       = "tls"
	stepHTTP      = "http"
	stepTransport = "transport"
	stepHandshake = "handshake"
	stepAuth      = "auth"
	stepTools     = "tools"
)

// rejectedCode is the code of go-sdk's internal jsonrpc2.ErrRejected, which
// go-sdk wraps around transport failures (a request that could not be
// delivered, an HTTP error reply). It is a *jsonrpc.Error too, so without
// looking at codes a dead server would look like a server answering with
// an error.
const rejectedCode = -32005

// serverAnswer returns the JSON-RPC error the server answered a request
// with — in a normal reply or in the body of an HTTP error — or nil when
// err is a transport failure without one.
func serverAnswer(err error) *jsonrpc.Error {
	var found *jsonrpc.Error
	walkErrors(err, func(e error) bool {
		if w, ok := e.(*jsonrpc.Error); ok && w.Code != rejectedCode {
			found = w
			return false
		}
		return true
	})
	return found
}

// walkErrors visits err's whole tree (errors.Join and multiple %w
// included) until visit returns false.
func walkErrors(err error, visit func(error) bool) bool {
	if err == nil {
		return true
	}
	if !visit(err) {
		return false
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return walkErrors(u.Unwrap(), visit)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if !walkErrors(e, visit) {
				return false
			}
		}
	}
	return true
}

// errConnectTimeout is the cause given when a connection attempt runs out of
// time (the session context must outlive Connect, so this is not a
// context deadline).
var errConnectTimeout = errors.New("connect timeout")

// failure explains why a connection (or a call on it) failed: where it
// happened, in plain words, and what to do about it.
type failure struct {
	step   string // the test step it belongs to
	code   string // backend error code
	slug   string
	detail string // one sentence, starting lower-case, no connector name
	fix    string
	state  string // the connector state it leads to
	cause  error  // already redacted
}

// connectError is the *backend.Error for a failed connection to name.
func (f *failure) connectError(name string) *backend.Error {
	return &backend.Error{
		Code:         f.code,
		Slug:         f.slug,
		Message:      fmt.Sprintf("Cannot connect to %q: %s", name, f.detail),
		SuggestedFix: f.fix,
		Err:          f.cause,
	}
}

// requestError is the *backend.Error for a request on a session that
// failed; what names the request ("Calling \"t\" on \"X\"").
func (f *failure) requestError(what string, cause error) *backend.Error {
	return &backend.Error{Code: f.code, Slug: f.slug, Message: what + " failed: " + f.detail, SuggestedFix: f.fix, Err: cause}
}

// sentence returns the detail as a sentence of its own (for test steps).
func (f *failure) sentence() string { return capitalize(f.detail) }

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func asSignIn(err error) *signInError {
	var s *signInError
	if errors.As(err, &s) {
		return s
	}
	return nil
}

// hostOf returns host:port of a URL for messages.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return net.JoinHostPort(u.Hostname(), portOf(u))
}

// diagnose explains a failed connection attempt from the error go-sdk
// returned and what the RoundTripper saw. red redacts any text taken from
// the error.
func diagnose(c *backend.Connector, err error, v logView, timeout time.Duration, red *redactor) *failure {
	host := hostOf(c.URL)
	cause := red.Error(err)
	f := &failure{code: backend.EUNAVAILABLE, state: backend.StateError, cause: cause}

	signIn := asSignIn(err)
	if signIn == nil {
		signIn = asSignIn(v.signIn)
	}
	if signIn != nil || errors.Is(err, errNoOAuth) {
		return signInFailure(f, signIn, red)
	}

	var dnsErr *net.DNSError
	var opErr *net.OpError
	var netErr net.Error
	switch {
	case errors.As(err, &dnsErr):
		f.step, f.slug = stepResolve, "upstream_dns"
		if dnsErr.IsNotFound {
			f.detail = fmt.Sprintf("the host name %q could not be found (DNS).", dnsErr.Name)
		} else {
			f.detail = fmt.Sprintf("looking up the host name %q failed: %s.", dnsErr.Name, red.String(dnsErr.Err))
		}
		f.fix = "Check the URL for typos. If the server is on a private network, connect to that network (for example over VPN) first."
		return f
	case errors.As(err, &opErr) && opErr.Op == "dial":
		f.step, f.slug = stepConnect, "upstream_unreachable"
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			f.detail = fmt.Sprintf("nothing is listening at %s (connection refused).", host)
			f.fix = "Check the port in the URL and that the server is running."
		case opErr.Timeout():
			f.code, f.slug = backend.ETIMEOUT, "upstream_timeout"
			f.detail = fmt.Sprintf("%s did not accept a connection within %s.", host, timeout)
			f.fix = "Check that the server is running and reachable from this computer; a firewall or VPN may be blocking it."
		default:
			f.detail = fmt.Sprintf("could not open a connection to %s: %s.", host, red.String(opErr.Err.Error()))
			f.fix = "Check that this computer is online and can reach the server's network."
		}
		return f
	case isTLSError(err):
		return tlsFailure(err, f, red)
	case errors.Is(err, errConnectTimeout), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		f.code, f.slug = backend.ETIMEOUT, "upstream_timeout"
		if v.first == nil {
			f.step = stepHTTP
			f.detail = fmt.Sprintf("%s accepted the connection but did not answer within %s.", host, timeout)
		} else {
			f.step = stepHandshake
			f.detail = fmt.Sprintf("the server did not complete the MCP handshake within %s.", timeout)
		}
		f.fix = "Check that the server is running and not overloaded, then try again."
		return f
	}

	// A 401/403 counts when it is the last thing that went wrong: a session
	// that once was refused and then recovered is not refused now.
	if ex := v.auth; ex != nil && v.last == ex {
		return authFailure(c, *ex, f)
	}
	if ex := v.last; ex != nil && ex.Status != 0 {
		switch {
		case ex.Status >= 500:
			f.step, f.slug = stepHTTP, "upstream_server_error"
			f.detail = fmt.Sprintf("the server failed with %s.", ex.summary())
			f.fix = "The problem is on the server's side: try again later, or tell whoever runs it."
			return f
		case notThisTransport(ex.Status):
			f.step, f.slug = stepTransport, "upstream_not_mcp"
			f.detail = fmt.Sprintf("there is no MCP endpoint at this URL (%s).", ex.summary())
			f.fix = "Check the URL's path: MCP servers usually serve /mcp (Streamable HTTP) or /sse (SSE). Copy the exact URL from the server's documentation."
			return f
		}
	}
	if ex := v.notMCP; ex != nil && v.firstM == nil {
		f.step, f.slug = stepTransport, "upstream_not_mcp"
		f.detail = fmt.Sprintf("the URL answers, but not as an MCP server (it sent %s).", orUnknown(ex.ContentType))
		f.fix = "Check the URL: it should be the server's MCP endpoint (often ending in /mcp or /sse), not a web page."
		return f
	}
	if rpcErr := serverAnswer(err); rpcErr != nil {
		f.step, f.slug = stepHandshake, "upstream_handshake"
		f.detail = fmt.Sprintf("the server rejected the MCP handshake: %s.", strings.TrimSuffix(red.String(rpcErr.Message), "."))
		f.fix = "The server may not speak a protocol version Patchbay supports (2026-07-28, 2025-11-25 or older); check for a newer version of the server."
		return f
	}
	f.slug = "upstream_connect_failed"
	f.step = stepHandshake
	if v.first == nil {
		f.step = stepHTTP
	}
	f.detail = fmt.Sprintf("%s.", strings.TrimSuffix(red.String(err.Error()), "."))
	f.fix = "Check the URL and that the server is running, then run the connection test."
	return f
}

// signInFailure explains a connection the OAuth layer has no token for:
// its message and fix (how to sign in again) are the person's to read.
func signInFailure(f *failure, signIn *signInError, red *redactor) *failure {
	f.step, f.code, f.slug, f.state = stepAuth, backend.EUNAUTHORIZED, "upstream_needs_sign_in", backend.StateNeedsSignIn
	f.detail = "Patchbay is not signed in to this server."
	f.fix = "Sign in from the connector's page."
	var be *backend.Error
	if signIn != nil && errors.As(signIn.cause, &be) {
		if be.Message != "" {
			f.detail = red.String(be.Message)
		}
		if be.SuggestedFix != "" {
			f.fix = red.String(be.SuggestedFix)
		}
	}
	return f
}

// notThisTransport reports statuses that mean "no such endpoint, or not this
// kind of endpoint": a reason for auto to try the other transport.
func notThisTransport(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed,
		http.StatusNotAcceptable, http.StatusUnsupportedMediaType:
		return true
	}
	return false
}

func orUnknown(s string) string {
	if s == "" {
		return "no content type"
	}
	return s
}

func authFailure(c *backend.Connector, ex exchange, f *failure) *failure {
	f.step = stepAuth
	f.code, f.slug = backend.EUNAUTHORIZED, "upstream_unauthorized"
	if ex.Status == http.StatusForbidden {
		f.code, f.slug = backend.EFORBIDDEN, "upstream_forbidden"
	}
	f.detail = fmt.Sprintf("the server refused the credentials (%s).", ex.summary())
	a := c.Auth.APIKey
	switch {
	case c.Auth.Type == backend.AuthOAuth:
		f.state = backend.StateNeedsSignIn
		f.fix = "Sign in again from the connector's page."
	case ex.Status == http.StatusForbidden:
		f.state = backend.StateNeedsAttention
		f.fix = "The server knows the credentials but does not allow this access: check the key's permissions or scopes."
	case c.Auth.Type == backend.AuthAPIKey && a != nil && a.In == backend.APIKeyInQuery:
		f.state = backend.StateNeedsAttention
		f.fix = fmt.Sprintf("Check the API key and the query parameter name (now %q) in the connector's settings.", a.Name)
	case c.Auth.Type == backend.AuthAPIKey && a != nil:
		f.state = backend.StateNeedsAttention
		f.fix = fmt.Sprintf("Check the API key and the header name (now %q) in the connector's settings; many servers expect \"Authorization\" with the prefix \"Bearer \".", a.Name)
	default:
		f.state = backend.StateNeedsAttention
		f.fix = "The server requires authentication: add its API key, or sign in with OAuth, in the connector's settings."
	}
	return f
}

func isTLSError(err error) bool {
	var (
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidErr  x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
		verifyErr   *tls.CertificateVerificationError
		alertErr    tls.AlertError
	)
	return errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &invalidErr) ||
		errors.As(err, &recordErr) || errors.As(err, &verifyErr) || errors.As(err, &alertErr)
}

func tlsFailure(err error, f *failure, red *redactor) *failure {
	f.step, f.slug = stepTLS, "upstream_tls"
	var (
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidErr  x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknownAuth):
		f.detail = "the server's TLS certificate is not trusted (it is signed by an unknown authority)."
		f.fix = "If the server uses a self-signed or private certificate, add its certificate authority to this computer's trust store."
	case errors.As(err, &hostErr):
		f.detail = fmt.Sprintf("the server's TLS certificate is for other names (%s).", red.String(hostErr.Error()))
		f.fix = "Check the host name in the URL; it must match the server's certificate."
	case errors.As(err, &invalidErr) && invalidErr.Reason == x509.Expired:
		f.detail = "the server's TLS certificate has expired or is not valid yet."
		f.fix = "Check this computer's clock; otherwise the server's operator must renew the certificate."
	case errors.As(err, &recordErr):
		f.detail = "the server does not speak TLS on this port."
		f.fix = "If the server does not use HTTPS, change the URL to start with http://; otherwise check the port."
	default:
		f.detail = fmt.Sprintf("the secure connection (TLS) failed: %s.", strings.TrimSuffix(red.String(err.Error()), "."))
		f.fix = "Check the URL and the server's certificate."
	}
	return f
}
