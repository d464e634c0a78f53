package upstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
)

// errNoOAuth: an OAuth connector, but no OAuth layer to get tokens from.
var errNoOAuth = errors.New("no OAuth support configured")

// session is one live MCP client session with a connector's server.
type session struct {
	c         *conn // nil for connection tests, which own their session
	connector *backend.Connector
	cs        *mcp.ClientSession
	transport string
	protocol  string
	rt        *authTransport
	red       *redactor
	log       *slog.Logger
	cancel    context.CancelCauseFunc
	endLife   context.CancelFunc // ends the requests of the session, after Close
	// refused is set when the session was retired because the server
	// refused its credentials, so that calls it cut short say why.
	refused     atomic.Pointer[failure]
	connectedAt time.Time

	closing atomic.Bool // set before we close it ourselves
	gone    atomic.Bool // the server said it no longer knows the session

	progress  sync.Map // progress token (string) → func(*mcp.ProgressNotificationParams)
	closeOnce sync.Once
}

func (s *session) sessionGone(reason string) {
	s.gone.Store(true)
	// lost ignores a session that is not (yet) the live one.
	if s.c != nil && !s.closing.Load() {
		s.c.lost(s, "the server no longer knows the session ("+reason+")")
	}
}

func (s *session) streamLost(err error) {
	if s.c != nil && !s.closing.Load() {
		s.c.lost(s, "the server ended the notification stream")
	}
}

func (s *session) toolsChanged(context.Context, *mcp.ToolListChangedRequest) {
	if s.c == nil {
		return
	}
	s.log.Debug("upstream tools/list_changed")
	s.c.mu.Lock()
	s.c.scheduleRefreshLocked()
	s.c.mu.Unlock()
}

// watchSubscription refreshes the tools when the server acknowledges the
// 2026-07-28 subscriptions/listen stream. go-sdk opens that stream without
// waiting for it, so a change made between our first listing and the
// server registering the stream would otherwise go unnoticed.
func (s *session) watchSubscription(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method == "notifications/subscriptions/acknowledged" {
			s.toolsChanged(ctx, nil)
		}
		return next(ctx, method, req)
	}
}

func (s *session) onProgress(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
	if req.Params == nil {
		return
	}
	if f, ok := s.progress.Load(fmt.Sprint(req.Params.ProgressToken)); ok {
		f.(func(*mcp.ProgressNotificationParams))(req.Params)
	}
}

func (s *session) close() {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		if s.cs != nil {
			_ = s.cs.Close()
		}
		if s.cancel != nil {
			s.cancel(errors.New("session closed"))
		}
		if s.endLife != nil {
			s.endLife()
		}
	})
}

// connectStored connects connector id as stored now. On failure it returns
// the state the connector is in and a *backend.Error.
func (m *Manager) connectStored(ctx context.Context, c *conn) (*session, string, error) {
	con, err := m.opts.Store.GetConnector(ctx, c.id)
	if err != nil {
		return nil, backend.StateError, err
	}
	res := m.dial(ctx, c, con)
	if res.sess == nil {
		res.log.Warn("connecting upstream failed", "error", res.fail.cause, "step", res.fail.step)
		return nil, res.fail.state, res.fail.connectError(con.Name)
	}
	s := res.sess
	s.log.Info("upstream connected", "protocol", s.protocol) // s.log names the transport
	if con.Transport == backend.TransportAuto && con.DetectedTransport != s.transport {
		if err := m.opts.Store.SetDetectedTransport(ctx, con.ID, s.transport); err != nil {
			s.log.Warn("remembering the detected transport failed", "error", err)
		}
	}
	return s, "", nil
}

// dialResult is the outcome of dial, with what each transport tried saw.
type dialResult struct {
	sess  *session
	fail  *failure // set when sess is nil
	tried []tried
	log   *slog.Logger
}

type tried struct {
	transport string
	view      logView
	end       time.Time
}

// dial resolves the connector's secrets and connects, trying the
// transports in order (auto: the remembered one first, then the other).
// owner is nil for connection tests.
func (m *Manager) dial(ctx context.Context, owner *conn, con *backend.Connector) dialResult {
	creds, secrets, err := m.credentials(ctx, con)
	red := newRedactor(secrets...)
	res := dialResult{log: newRedactLogger(m.log, red).With("connector", con.Name, "connector_id", con.ID)}
	if err != nil {
		res.fail = secretFailure(err, red)
		return res
	}
	if con.Auth.Type == backend.AuthOAuth && m.opts.OAuth == nil {
		res.fail = diagnose(con, errNoOAuth, logView{}, m.opts.ConnectTimeout, red)
		return res
	}
	for _, tr := range transportOrder(con) {
		s, obs, err := m.open(ctx, owner, con, creds, red, res.log, tr)
		res.tried = append(res.tried, tried{transport: tr, view: obs.snapshot(), end: time.Now()})
		if err == nil {
			res.sess, res.fail = s, nil
			return res
		}
		res.fail = diagnose(con, err, obs.snapshot(), m.opts.ConnectTimeout, red)
		if con.Transport != backend.TransportAuto || res.fail.step != stepTransport || ctx.Err() != nil {
			break
		}
	}
	return res
}

// transportOrder lists the transports to try.
func transportOrder(con *backend.Connector) []string {
	switch con.Transport {
	case backend.TransportSSE:
		return []string{backend.TransportSSE}
	case backend.TransportStreamableHTTP:
		return []string{backend.TransportStreamableHTTP}
	}
	if con.DetectedTransport == backend.TransportSSE {
		return []string{backend.TransportSSE, backend.TransportStreamableHTTP}
	}
	return []string{backend.TransportStreamableHTTP, backend.TransportSSE}
}

// open makes one connection over one transport.
func (m *Manager) open(ctx context.Context, owner *conn, con *backend.Connector, creds credentials, red *redactor, log *slog.Logger, transport string) (*session, *httpLog, error) {
	obs := newHTTPLog()
	s := &session{c: owner, connector: con, transport: transport, red: red, log: log.With("transport", transport)}
	rt := &authTransport{base: m.base, connector: con, creds: creds, userAgent: m.userAgent, red: red, log: s.log, obs: obs, transport: transport}
	if con.Auth.Type == backend.AuthOAuth {
		rt.oauth = m.opts.OAuth
	}
	if owner != nil {
		rt.events = s
	}
	s.rt = rt
	hc := &http.Client{Transport: rt}

	// The session context must outlive Connect (go-sdk's SSE transport
	// reads its stream with it), so the connect timeout cancels it only
	// until Connect returns.
	sctx, cancel := context.WithCancelCause(ctx)
	// The requests' life is separate: it must outlast a cancelled session
	// context while Close sends its DELETE, and end only once the session
	// is closed — or as soon as the handshake is given up, so that go-sdk's
	// detached requests cannot hold Connect's own cleanup.
	life, endLife := context.WithCancel(context.WithoutCancel(ctx))
	rt.life = life

	var t mcp.Transport
	if transport == backend.TransportSSE {
		t = &mcp.SSEClientTransport{Endpoint: con.URL, HTTPClient: hc}
	} else {
		// Few retries of a broken stream: when they fail the session is
		// rebuilt by us, which also covers a restarted server.
		t = &mcp.StreamableClientTransport{Endpoint: con.URL, HTTPClient: hc, MaxRetries: 2}
	}
	opts := &mcp.ClientOptions{
		Logger: s.log,
		// Patchbay offers no roots, sampling or elicitation upstream.
		Capabilities:              &mcp.ClientCapabilities{},
		KeepAliveFailureThreshold: 2,
	}
	if m.opts.KeepAlive > 0 && owner != nil {
		opts.KeepAlive = m.opts.KeepAlive
	}
	if owner != nil {
		opts.ToolListChangedHandler = s.toolsChanged
		opts.ProgressNotificationHandler = s.onProgress
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "patchbay", Title: "Patchbay", Version: m.opts.Version}, opts)
	if owner != nil {
		client.AddReceivingMiddleware(s.watchSubscription)
	}

	timer := time.AfterFunc(m.opts.ConnectTimeout, func() { cancel(errConnectTimeout) })
	unlink := context.AfterFunc(sctx, endLife)
	cs, err := client.Connect(sctx, t, nil)
	unlink()
	if !timer.Stop() && err == nil {
		_ = cs.Close()
		err = errConnectTimeout
	}
	if err != nil {
		if errors.Is(context.Cause(sctx), errConnectTimeout) && !errors.Is(err, errConnectTimeout) {
			err = fmt.Errorf("%w: %w", errConnectTimeout, err)
		}
		cancel(err)
		endLife()
		return nil, obs, err
	}
	s.cs, s.cancel, s.endLife = cs, cancel, endLife
	if info := cs.InitializeResult(); info != nil {
		s.protocol = info.ProtocolVersion
	}
	s.connectedAt = time.Now()
	return s, obs, nil
}

// credentials resolves the connector's secrets. A secret that carries its
// Value (an unsaved connector being tested) is used as is.
func (m *Manager) credentials(ctx context.Context, con *backend.Connector) (credentials, []string, error) {
	var creds credentials
	var secrets []string
	resolve := func(s *backend.Secret) (string, error) {
		if name, ok := backend.ParseEnvRef(s.Value); ok {
			// An unsaved form may still hold "${NAME}": a reference, not a value.
			s = &backend.Secret{Source: backend.SecretEnv, Env: name}
		} else if s.Value != "" {
			return s.Value, nil
		}
		if m.opts.Secrets == nil {
			return "", backend.Errorf(backend.EUNAVAILABLE, "No secret store is available.")
		}
		return m.opts.Secrets.Resolve(ctx, s)
	}
	if a := con.Auth.APIKey; con.Auth.Type == backend.AuthAPIKey && a != nil && a.Value.IsSet() {
		v, err := resolve(a.Value)
		if err != nil {
			return creds, secrets, fmt.Errorf("API key: %w", err)
		}
		creds.apiKey = v
		secrets = append(secrets, v)
	}
	for _, h := range con.Headers {
		v := h.Value
		if h.Secret.IsSet() {
			sv, err := resolve(h.Secret)
			if err != nil {
				return creds, secrets, fmt.Errorf("header %s: %w", h.Name, err)
			}
			v = sv
			secrets = append(secrets, sv)
		}
		creds.headers = append(creds.headers, headerValue{name: h.Name, value: v})
	}
	return creds, secrets, nil
}

// secretFailure explains a secret that could not be read.
func secretFailure(err error, red *redactor) *failure {
	f := &failure{step: stepAuth, code: backend.EUNAVAILABLE, slug: "upstream_secret", state: backend.StateError, cause: red.Error(err)}
	var be *backend.Error
	if errors.As(err, &be) {
		f.code = be.Code
		f.detail = "its secret could not be read: " + red.String(be.Message)
		f.fix = be.SuggestedFix
	} else {
		f.detail = "its secret could not be read: " + red.String(err.Error())
	}
	if f.fix == "" {
		f.fix = "Unlock the system keychain, or enter the secret again in the connector's settings."
	}
	return f
}
