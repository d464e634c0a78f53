package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
)

// progressSeq numbers progress tokens; they only need to be unique within a
// session, and a process-wide counter is simplest.
var progressSeq atomic.Uint64

// Call calls tool on connector connectorID and returns the upstream result
// unchanged — isError results, structured content, images and resource
// links included. It connects when needed; the call is bounded by the
// connector's call timeout and by ctx, whose cancellation is forwarded
// upstream (notifications/cancelled). progress, when not nil, receives the
// server's progress notifications for this call.
//
// Errors are *backend.Error naming the connector and what to do. An error
// the server answered with (a JSON-RPC error) stays in the chain as a
// *jsonrpc.Error for the gateway to pass on.
func (m *Manager) Call(ctx context.Context, connectorID, tool string, args json.RawMessage, progress func(*mcp.ProgressNotificationParams)) (*mcp.CallToolResult, error) {
	var arguments any
	if trimmed := bytes.TrimSpace(args); len(trimmed) > 0 && !bytes.Equal(trimmed, []byte("null")) {
		if !json.Valid(trimmed) || trimmed[0] != '{' {
			return nil, backend.Errorf(backend.EINVALID, "The arguments for %q are not a JSON object.", tool).
				WithSlug("upstream_bad_arguments")
		}
		arguments = json.RawMessage(trimmed)
	}
	c := m.conn(connectorID)
	if c == nil {
		return nil, errManagerClosed()
	}
	for try := 0; ; try++ {
		s, err := c.session(ctx)
		if err != nil {
			return nil, waitError(ctx, err)
		}
		start := time.Now()
		res, timedOut, err := s.call(ctx, tool, arguments, progress)
		if err == nil {
			return res, nil
		}
		retry, cerr := c.callFailed(ctx, s, tool, err, timedOut, start)
		if !retry || try > 0 {
			return nil, cerr
		}
		s.log.Info("upstream call not delivered; retrying on a new session", "tool", tool)
	}
}

// call makes one call on the session under the connector's call timeout.
// timedOut reports that this timeout, not ctx, ended the call.
func (s *session) call(ctx context.Context, tool string, arguments any, progress func(*mcp.ProgressNotificationParams)) (_ *mcp.CallToolResult, timedOut bool, _ error) {
	cctx, cancel := context.WithTimeout(ctx, s.connector.CallTimeout())
	defer cancel()
	params := &mcp.CallToolParams{Name: tool, Arguments: arguments}
	if progress != nil {
		token := "patchbay-" + strconv.FormatUint(progressSeq.Add(1), 10)
		params.SetProgressToken(token)
		s.progress.Store(token, progress)
		defer s.progress.Delete(token)
	}
	res, err := s.cs.CallTool(cctx, params)
	return res, err != nil && ctx.Err() == nil && cctx.Err() != nil, err
}

// waitError explains a failure to get a session for a call.
func waitError(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return contextEnded(ctx, "waiting for the connection")
	}
	return err
}

// contextEnded is the error for a call whose caller gave up.
func contextEnded(ctx context.Context, while string) *backend.Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &backend.Error{Code: backend.ETIMEOUT, Slug: "upstream_call_timeout",
			Message: fmt.Sprintf("The call ran out of time while %s.", while), Err: ctx.Err()}
	}
	return &backend.Error{Code: backend.EUNAVAILABLE, Slug: "upstream_call_cancelled",
		Message: fmt.Sprintf("The call was cancelled while %s.", while), Err: ctx.Err()}
}

// callFailed explains a failed call and decides whether it may be retried
// on a new session: only when the request certainly did not run (it never
// reached the server, or the server had forgotten our session).
func (c *conn) callFailed(ctx context.Context, s *session, tool string, err error, timedOut bool, start time.Time) (retry bool, _ error) {
	name := s.connector.Name
	what := fmt.Sprintf("Calling %q on %q", tool, name)
	cause := s.red.Error(err)
	if f := c.refusal(s, start); f != nil {
		return false, f.requestError(what, cause)
	}
	switch {
	case ctx.Err() != nil:
		return false, contextEnded(ctx, fmt.Sprintf("calling %q on %q", tool, name))
	case timedOut:
		return false, &backend.Error{Code: backend.ETIMEOUT, Slug: "upstream_call_timeout",
			Message:      fmt.Sprintf("%q did not finish %q within %s.", name, tool, s.connector.CallTimeout()),
			SuggestedFix: "Try again. If the tool is slow by nature, raise the call timeout in the connector's settings.",
			Err:          cause}
	}
	if rpcErr := answered(s, err); rpcErr != nil {
		code := backend.EUNAVAILABLE
		switch rpcErr.Code {
		case jsonrpc.CodeInvalidParams:
			code = backend.EINVALID
		case jsonrpc.CodeMethodNotFound:
			code = backend.ENOTFOUND
		}
		return false, &backend.Error{Code: code, Slug: "upstream_error",
			Message: fmt.Sprintf("%q answered the call to %q with an error: %s", name, tool, s.red.String(rpcErr.Message)),
			Err:     cause}
	}
	f, notRun := c.broken(s, err)
	return notRun, f.requestError(what, cause)
}

// Calls and tool listings fail in the same ways; refusal, answered and
// broken tell the ways apart and do to the session what each requires.

// refusal returns why the server refused the credentials of a request on s
// that started at start — its own 401/403, or the refusal that retired the
// session while it ran, which cut it short — and retires the session for
// good, since only the person can fix that. It returns nil when nothing
// was refused.
func (c *conn) refusal(s *session, start time.Time) *failure {
	f := refusedSince(s, start)
	if f == nil {
		f = s.refused.Load()
	}
	if f != nil {
		c.failSession(s, f)
	}
	return f
}

// answered returns the JSON-RPC error the server answered a request on s
// with, or nil — also when the "answer" only says that the server no
// longer knows the session, which broken explains.
func answered(s *session, err error) *jsonrpc.Error {
	if s.gone.Load() || errors.Is(err, mcp.ErrSessionMissing) {
		return nil
	}
	return serverAnswer(err)
}

// broken explains a request on s that got no answer from the MCP server
// and retires the session as the failure requires: a lost session or
// connection is rebuilt, credentials the server refused wait for the
// person, and an HTTP 5xx for this one request leaves the session up.
// notRun reports that the request certainly did not run (it never reached
// the server, or the server had forgotten the session).
func (c *conn) broken(s *session, err error) (f *failure, notRun bool) {
	if s.gone.Load() || errors.Is(err, mcp.ErrSessionMissing) {
		c.lost(s, "the server no longer knows the session")
		return &failure{code: backend.EUNAVAILABLE, slug: "upstream_session_lost", state: backend.StateError,
			detail: "the server no longer knows Patchbay's session (it may have restarted).",
			fix:    "Patchbay reconnects by itself; try again in a moment."}, true
	}
	f = diagnose(s.connector, err, s.rt.obs.snapshot(), c.m.opts.ConnectTimeout, s.red)
	switch {
	case f.state != backend.StateError:
		c.failSession(s, f)
		return f, false
	case f.slug == "upstream_server_error":
		return f, false
	}
	if errors.Is(err, mcp.ErrConnectionClosed) || f.slug == "upstream_connect_failed" {
		f.detail = "the connection was lost before the server answered."
		f.fix = "Patchbay reconnects by itself; try again in a moment. If it keeps happening, check the server."
	}
	c.lost(s, f.detail)
	var opErr *net.OpError
	return f, errors.As(err, &opErr) && opErr.Op == "dial"
}

// refusedSince explains a 401/403 the server answered since start (its
// body may hold a JSON-RPC error, which must not pass for a tool error).
func refusedSince(s *session, start time.Time) *failure {
	v := s.rt.obs.snapshot()
	if v.auth == nil || v.last != v.auth || v.auth.At.Before(start) {
		return nil
	}
	f := &failure{code: backend.EUNAVAILABLE, state: backend.StateError}
	if signIn := asSignIn(v.signIn); signIn != nil {
		// The OAuth layer said why (expired, revoked, more scopes needed).
		return signInFailure(f, signIn, s.red)
	}
	return authFailure(s.connector, *v.auth, f)
}

// failSession retires a session whose credentials the server refused: no
// automatic retry, since only the person can fix that.
func (c *conn) failSession(s *session, f *failure) {
	c.mu.Lock()
	if c.sess != s || c.forgotten {
		c.mu.Unlock()
		return
	}
	c.sess = nil
	c.setFailedLocked(f.state, f.connectError(s.connector.Name))
	c.mu.Unlock()
	s.refused.Store(f)
	c.m.closeAsync(s)
	c.publishNow()
}
