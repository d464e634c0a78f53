package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/patchbay/patchbay/backend"
	"golang.org/x/oauth2"
)

// setupTimeout bounds discovery, registration and opening the listener;
// exchangeTimeout bounds the code exchange.
const (
	setupTimeout    = 60 * time.Second
	exchangeTimeout = 30 * time.Second
)

// Flow is a sign-in under way. Every Login for the same connector while it
// runs gets the same Flow, so two windows (or a window and the CLI) never
// race two sign-ins.
//
// Its status holds the authorization URL and the redirect URI once Login
// has returned.
type Flow struct {
	ctx      context.Context
	cancel   context.CancelFunc
	ready    chan struct{} // closed when the URLs are known or setup failed
	done     chan struct{} // closed when the sign-in ended
	setupErr error         // why setup failed (written before ready is closed)
	err      error         // the outcome (written before done is closed)

	mu     sync.Mutex
	status FlowStatus
}

// FlowStatus is the state of a sign-in, for the API.
type FlowStatus struct {
	// State is waiting_for_browser, exchanging_code, done or failed.
	State            string    `json:"state"`
	Message          string    `json:"message,omitempty"`
	AuthorizationURL string    `json:"authorization_url,omitempty"`
	RedirectURI      string    `json:"redirect_uri,omitempty"`
	StartedAt        time.Time `json:"started_at"`
	EndedAt          time.Time `json:"ended_at,omitzero"`
	// Code, Slug and Fix describe a failure.
	Code string `json:"code,omitempty"`
	Slug string `json:"slug,omitempty"`
	Fix  string `json:"suggested_fix,omitempty"`
}

// Wait waits for the sign-in to end or ctx to be done.
func (f *Flow) Wait(ctx context.Context) error {
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Status returns a snapshot of the sign-in's state.
func (f *Flow) Status() FlowStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

// update changes the sign-in's status and returns the result.
func (f *Flow) update(change func(*FlowStatus)) FlowStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(&f.status)
	return f.status
}

// progressOf is the event that tells everyone about a sign-in's status.
func progressOf(connectorID string, s FlowStatus) ProgressEvent {
	return ProgressEvent{ConnectorID: connectorID, Step: s.State, Message: s.Message, RedirectURI: s.RedirectURI,
		AuthorizationURL: s.AuthorizationURL, Code: s.Code, Slug: s.Slug, Fix: s.Fix}
}

// Login starts a sign-in for the connector, or joins the one under way,
// and returns once the authorization URL is known (the browser has been
// asked to open it). joined reports that the sign-in was already running.
// Progress is published as backend.EventOAuthProgress events; Flow.Wait
// waits for the outcome.
func (m *Manager) Login(ctx context.Context, c *backend.Connector) (f *Flow, joined bool, err error) {
	if c.ID == "" {
		return nil, false, errUnsaved()
	}
	if c.Auth.Type != backend.AuthOAuth {
		return nil, false, errNotOAuth(c)
	}
	f, joined, err = m.startFlow(c)
	if err != nil {
		return nil, false, err
	}
	select {
	case <-f.ready:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	if f.setupErr != nil {
		return nil, false, f.setupErr
	}
	return f, joined, nil
}

// startFlow returns the connector's running sign-in or starts one.
func (m *Manager) startFlow(c *backend.Connector) (*Flow, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f := m.flows[c.ID]; f != nil {
		return f, true, nil
	}
	if m.ctx.Err() != nil {
		return nil, false, errCancelled(c)
	}
	f := &Flow{ready: make(chan struct{}), done: make(chan struct{}), status: FlowStatus{State: "starting", StartedAt: time.Now()}}
	f.ctx, f.cancel = context.WithCancel(m.ctx)
	m.flows[c.ID] = f
	m.wg.Add(1)
	go m.runFlow(f, c.Clone())
	return f, false, nil
}

// startStepUp starts a sign-in for more scopes after an insufficient_scope
// answer, at most once a minute per connector so that a client retrying
// the call does not open a browser tab each time. It reports whether a
// sign-in is (now) under way.
func (m *Manager) startStepUp(c *backend.Connector) bool {
	m.mu.Lock()
	if f := m.flows[c.ID]; f != nil {
		m.mu.Unlock()
		return true
	}
	if t, ok := m.stepUps[c.ID]; ok && time.Since(t) < time.Minute {
		m.mu.Unlock()
		return false
	}
	m.stepUps[c.ID] = time.Now()
	m.mu.Unlock()
	_, _, err := m.startFlow(c)
	return err == nil
}

func (m *Manager) runFlow(f *Flow, c *backend.Connector) {
	defer m.wg.Done()
	defer f.cancel()
	err := m.signIn(f.ctx, f, c)
	select {
	case <-f.ready:
	default:
		f.setupErr = err
		if err == nil {
			f.setupErr = errCancelled(c)
		}
		close(f.ready)
	}
	m.finish(f, c, err)
}

// signIn runs the whole sign-in: discovery, registration, the browser, the
// redirect, the code exchange and saving the tokens.
func (m *Manager) signIn(ctx context.Context, f *Flow, c *backend.Connector) error {
	o := oauthConfig(c)
	st := m.state(c.ID)
	sctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	if err := st.lock(sctx); err != nil {
		return errCancelled(c)
	}
	challenge := st.challenge
	st.unlock()

	md, err := m.resolve(sctx, c, challenge, true)
	if err != nil {
		return err
	}
	remembered := 0
	if !md.Manual {
		remembered = md.RedirectPort
	}
	srv, err := listenLoopback(o.RedirectPorts, remembered)
	if err != nil {
		return err
	}
	defer srv.close()
	cl, err := m.clientFor(sctx, c, md, srv.redirectURI, true)
	if err != nil {
		return err
	}
	cfg := cl.oauth2Config(md, srv.redirectURI, requestScopes(o, md))
	state := rand.Text()
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("resource", md.Resource)}
	verifier := ""
	if !o.DisablePKCE {
		verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	authURL := cfg.AuthCodeURL(state, opts...)
	if md.RedirectPort != srv.port {
		md.RedirectPort = srv.port
		m.saveMetadata(sctx, c, md)
	}

	waiting := f.update(func(s *FlowStatus) {
		s.State, s.Message = StepWaiting, fmt.Sprintf("Waiting for you to sign in to %q in your browser.", c.Name)
		s.AuthorizationURL, s.RedirectURI = authURL, srv.redirectURI
	})
	close(f.ready)
	m.log.Info("OAuth sign-in started", "connector", c.Name, "connector_id", c.ID, "redirect_uri", srv.redirectURI,
		"registration", map[bool]string{true: "dynamic", false: "preregistered"}[cl.Dynamic])
	m.publish(progressOf(c.ID, waiting))

	opened := make(chan error, 1)
	go func() { opened <- m.opts.Opener(authURL) }()
	timer := time.NewTimer(m.opts.SignInTimeout)
	defer timer.Stop()
	for {
		select {
		case err := <-opened:
			opened = nil
			if err != nil {
				msg := fmt.Sprintf("Could not open a browser (%s). Open this address in a browser to sign in to %q: %s", cleanText(err.Error()), c.Name, authURL)
				m.publish(progressOf(c.ID, f.update(func(s *FlowStatus) { s.Message = msg })))
			}
		case cb := <-srv.results:
			err := m.complete(ctx, f, c, st, md, cl, cfg, cb, srv, state, verifier)
			if err != nil {
				cb.reply <- failurePage(err)
				return err
			}
			cb.reply <- successPage(c)
			return nil
		case <-timer.C:
			return errTimeout(c, m.opts.SignInTimeout, srv.redirectURI)
		case <-ctx.Done():
			return errCancelled(c)
		}
	}
}

// complete checks the browser's answer, exchanges the code and saves the
// tokens.
func (m *Manager) complete(ctx context.Context, f *Flow, c *backend.Connector, st *connState, md *metadata, cl *client,
	cfg *oauth2.Config, cb *callback, srv *callbackServer, state, verifier string) error {
	q := cb.query
	if want := fmt.Sprintf("127.0.0.1:%d", srv.port); cb.host != want {
		return errRejected("oauth_wrong_host", "The browser came back to %q instead of %s, so the sign-in answer was rejected.", cleanText(cb.host), want)
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
		return errRejected("oauth_state_mismatch", "The sign-in answer does not belong to the sign-in Patchbay started (its state does not match), so it was rejected.")
	}
	switch iss := q.Get("iss"); {
	case iss != "" && md.Issuer != "" && !issuersEqual(iss, md.Issuer):
		return errRejected("oauth_issuer_mismatch", "The sign-in answer says it comes from %q, not from %q where Patchbay sent you, so it was rejected (RFC 9207).", cleanText(iss), md.Issuer)
	case iss == "" && md.IssRequired:
		return errRejected("oauth_issuer_missing", "The sign-in answer does not say which provider sent it, although %s promised to (RFC 9207), so it was rejected.", md.Issuer)
	}
	if e := q.Get("error"); e != "" {
		return backend.Errorf(backend.EUNAUTHORIZED, "The provider did not sign Patchbay in to %q: %s.", c.Name, describeOAuthError(e, q.Get("error_description"))).
			WithSlug("oauth_denied").WithFix("Try again, and allow Patchbay's access when the provider asks. If the provider named a problem with the client or redirect URI, check the connector's OAuth settings.")
	}
	code := q.Get("code")
	if code == "" {
		return backend.Errorf(backend.EINVALID, "The provider sent the browser back to Patchbay without an authorization code.").
			WithSlug("oauth_no_code").WithFix("Try again; if it keeps happening, check the connector's OAuth settings (client ID, scopes).")
	}

	m.publish(progressOf(c.ID, f.update(func(s *FlowStatus) {
		s.State, s.Message = StepExchanging, fmt.Sprintf("Finishing the sign-in to %q.", c.Name)
	})))
	ectx, cancel := context.WithTimeout(ctx, exchangeTimeout)
	defer cancel()
	ts, err := m.exchange(ectx, cfg, code, verifier, md.Resource)
	if err != nil {
		var te *tokenError
		if errors.As(err, &te) && te.Code == "invalid_client" && cl.Dynamic {
			// The provider forgot the registration: register again next time.
			_ = m.opts.Secrets.Delete(ctx, clientKey(c.ID))
		}
		return backend.Errorf(backend.EUNAUTHORIZED, "The provider of %q refused to finish the sign-in: %s.", c.Name, cleanText(err.Error())).
			WithSlug("oauth_exchange_failed").
			WithFix("Try again. If it keeps failing, check the client ID, client secret and token authentication method in the connector's OAuth settings.")
	}
	ts.Config = fingerprint(c)

	if err := st.lock(ctx); err != nil {
		return errCancelled(c)
	}
	defer st.unlock()
	if st.forgotten.Load() {
		return errCancelled(c)
	}
	if err := m.saveSecretJSON(ctx, tokenKey(c.ID), ts); err != nil {
		return fmt.Errorf("saving the tokens: %w", err)
	}
	st.tok, st.loaded, st.changedAt, st.why, st.challenge = ts, true, time.Now(), "", ""
	return nil
}

// requestScopes picks the scopes to ask for: the person's, else the
// server's challenge, else its resource metadata; plus any a step-up asked
// for, and offline_access when the provider offers it (for a refresh
// token).
func requestScopes(o *backend.OAuthAuth, md *metadata) []string {
	var s []string
	switch {
	case len(o.Scopes) > 0:
		s = slices.Clone(o.Scopes)
	case len(md.ChallengeScopes) > 0:
		s = slices.Clone(md.ChallengeScopes)
	case len(md.ResourceScopes) > 0:
		s = slices.Clone(md.ResourceScopes)
	}
	for _, x := range md.StepUpScopes {
		if !slices.Contains(s, x) {
			s = append(s, x)
		}
	}
	if slices.Contains(md.ASScopes, "offline_access") && !slices.Contains(s, "offline_access") {
		s = append(s, "offline_access")
	}
	return s
}

// finish records the outcome, tells everyone, and ends the flow.
func (m *Manager) finish(f *Flow, c *backend.Connector, err error) {
	status := f.update(func(s *FlowStatus) {
		s.EndedAt = time.Now()
		if err == nil {
			s.State, s.Message = StepDone, fmt.Sprintf("Signed in to %q.", c.Name)
			return
		}
		be := asBackendError(err)
		s.State, s.Message, s.Code, s.Slug, s.Fix = StepFailed, be.Message, be.Code, be.Slug, be.SuggestedFix
	})

	m.mu.Lock()
	if m.flows[c.ID] == f {
		delete(m.flows, c.ID)
	}
	m.last[c.ID] = &status
	m.mu.Unlock()

	if err == nil {
		m.log.Info("OAuth sign-in done", "connector", c.Name, "connector_id", c.ID)
	} else {
		m.log.Warn("OAuth sign-in failed", "connector", c.Name, "connector_id", c.ID, "error", status.Message)
	}
	// OnSignIn runs before the flow is done, so that whoever waits for the
	// sign-in finds the connector's session already renewed.
	if err == nil && m.opts.OnSignIn != nil {
		m.opts.OnSignIn(c.ID)
	}
	m.publish(progressOf(c.ID, status))
	f.err = err
	close(f.done)
}

// asBackendError returns err as a *backend.Error, wrapping other errors in
// a generic one (their text may be internal).
func asBackendError(err error) *backend.Error {
	var be *backend.Error
	if errors.As(err, &be) {
		return be
	}
	return &backend.Error{Code: backend.EINTERNAL, Slug: "oauth_failed", Message: "The sign-in failed: " + cleanText(err.Error()), Err: err}
}
