package oauth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/patchbay/patchbay/backend"
)

// recentChange is how long after a refresh a 401 reported without its
// token (Unauthorized) is taken to be about the token that was just
// replaced: the request that failed was likely sent before the refresh
// finished, so it is retried with the new token instead of refreshing again.
const recentChange = 5 * time.Second

// refreshTimeout bounds one refresh request.
const refreshTimeout = 30 * time.Second

// Token returns a current access token for the connector, refreshing it
// first when it is about to expire. Concurrent callers share one refresh.
// When the person must sign in, the error is an EUNAUTHORIZED
// *backend.Error that says how.
func (m *Manager) Token(ctx context.Context, c *backend.Connector) (string, error) {
	if c.ID == "" {
		return "", backend.Errorf(backend.EUNAUTHORIZED, "Patchbay is not signed in to %q yet.", c.Name).
			WithSlug("oauth_sign_in_required").WithFix("Save the connector, then sign in.")
	}
	st := m.state(c.ID)
	if err := st.lock(ctx); err != nil {
		return "", err
	}
	defer st.unlock()
	return m.currentLocked(ctx, st, c, func(tok *tokenSet) bool { return tok.fresh(time.Now()) })
}

// Unauthorized is told about a 401 or 403 and its WWW-Authenticate header.
// It returns a token to retry with (refreshed, or one refreshed moments
// ago by another request), or an error: the person must sign in, or — for
// insufficient_scope — grant more scopes, for which it starts a sign-in.
// Rejected, which knows the refused token, is preferred by upstream.
func (m *Manager) Unauthorized(ctx context.Context, c *backend.Connector, wwwAuthenticate string) (string, error) {
	return m.rejected(ctx, c, "", wwwAuthenticate)
}

// Rejected is Unauthorized for a known refused token: when the connector's
// token has changed since that one was sent, the new one is returned
// without a refresh, so that any number of requests refused with the old
// token cause one refresh.
func (m *Manager) Rejected(ctx context.Context, c *backend.Connector, token, wwwAuthenticate string) (string, error) {
	if token == "" {
		token = noToken
	}
	return m.rejected(ctx, c, token, wwwAuthenticate)
}

// noToken stands for "the request carried no token", which is never the
// current one.
const noToken = "\x00"

func (m *Manager) rejected(ctx context.Context, c *backend.Connector, sent, wwwAuthenticate string) (string, error) {
	if c.ID == "" {
		return m.Token(ctx, c)
	}
	ci := parseChallenge(wwwAuthenticate)
	st := m.state(c.ID)
	if err := st.lock(ctx); err != nil {
		return "", err
	}
	if wwwAuthenticate != "" {
		st.challenge = wwwAuthenticate
	}
	if ci.err == "insufficient_scope" {
		m.noteStepUp(ctx, st, c, ci.scopes)
		st.unlock()
		opened := m.startStepUp(c)
		return "", errStepUp(c, ci.scopes, opened)
	}
	defer st.unlock()
	return m.currentLocked(ctx, st, c, func(tok *tokenSet) bool {
		if sent != "" {
			return sent != tok.AccessToken // replaced since that request was sent
		}
		return time.Since(st.changedAt) < recentChange // probably replaced since; see recentChange
	})
}

// currentLocked returns the connector's access token: the one it has when
// keep says it will do, else a refreshed one.
func (m *Manager) currentLocked(ctx context.Context, st *connState, c *backend.Connector, keep func(*tokenSet) bool) (string, error) {
	tok, err := m.loadLocked(ctx, st, c)
	if err != nil {
		return "", err
	}
	if tok == nil {
		return "", notSignedIn(st, c)
	}
	if keep(tok) {
		return tok.AccessToken, nil
	}
	if tok, err = m.refreshLocked(ctx, st, c, tok); err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// loadLocked returns the connector's tokens, reading the keychain the first
// time. Tokens issued under other settings count as none.
func (m *Manager) loadLocked(ctx context.Context, st *connState, c *backend.Connector) (*tokenSet, error) {
	if !st.loaded {
		var ts tokenSet
		found, err := m.loadSecretJSON(ctx, tokenKey(c.ID), &ts)
		if err != nil {
			return nil, err
		}
		st.loaded = true
		if found && ts.AccessToken != "" {
			st.tok = &ts
		}
	}
	if st.tok == nil || st.tok.Config != fingerprint(c) {
		return nil, nil
	}
	return st.tok, nil
}

func notSignedIn(st *connState, c *backend.Connector) error {
	if st.why != "" {
		return errSignInExpired(c, st.why)
	}
	return errNotSignedIn(c)
}

// refreshLocked refreshes the tokens and saves them — a rotated refresh
// token is in the keychain before the new access token is used. A refresh
// the server refuses for good deletes the tokens.
func (m *Manager) refreshLocked(ctx context.Context, st *connState, c *backend.Connector, tok *tokenSet) (*tokenSet, error) {
	if tok.RefreshToken == "" {
		m.dropLocked(ctx, st, c, "the access token expired and the server issued no refresh token", false)
		return nil, notSignedIn(st, c)
	}
	md, err := m.resolve(ctx, c, st.challenge, false)
	if err != nil {
		return nil, err
	}
	cl, err := m.clientFor(ctx, c, md, "", false)
	if errors.Is(err, errNoClient) {
		m.dropLocked(ctx, st, c, "Patchbay's registration with the provider is gone", false)
		return nil, notSignedIn(st, c)
	}
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	nt, err := m.refreshGrant(rctx, md, cl, tok)
	if err != nil {
		var te *tokenError
		if errors.As(err, &te) && te.dead() {
			m.log.Warn("the OAuth refresh was refused; sign-in needed", "connector", c.Name, "connector_id", c.ID, "error", te.Error())
			m.dropLocked(ctx, st, c, "the provider refused to refresh it: "+te.Error(), te.Code == "invalid_client" && cl.Dynamic)
			return nil, notSignedIn(st, c)
		}
		m.log.Warn("refreshing the OAuth token failed", "connector", c.Name, "connector_id", c.ID, "error", cleanText(err.Error()))
		return nil, backend.Errorf(backend.EUNAVAILABLE, "Cannot refresh the sign-in to %q: %s.", c.Name, cleanText(err.Error())).
			WithSlug("oauth_refresh_failed").
			WithFix("Patchbay tries again with the next request; check this computer's connection to the provider.")
	}
	rotated := nt.RefreshToken != tok.RefreshToken
	if st.forgotten.Load() {
		// The connector changed meanwhile: use the token for this request
		// but do not store it for settings that no longer apply.
		return nt, nil
	}
	if err := m.saveSecretJSON(ctx, tokenKey(c.ID), nt); err != nil {
		// Keep it in memory all the same: the old refresh token may be
		// spent, and losing both would force a sign-in.
		m.log.Warn("saving the refreshed OAuth token failed", "connector_id", c.ID, "error", backend.ErrorMessage(err))
	}
	st.tok, st.changedAt, st.why = nt, time.Now(), ""
	m.log.Info("refreshed the OAuth token", "connector", c.Name, "connector_id", c.ID,
		"expires_in", nt.Expiry.Sub(nt.ObtainedAt).Round(time.Second), "rotated", rotated)
	return nt, nil
}

// dropLocked forgets dead tokens (and a dead registration) and records why
// for the error messages and the status.
func (m *Manager) dropLocked(ctx context.Context, st *connState, c *backend.Connector, why string, dropClient bool) {
	st.tok, st.why = nil, why
	if err := m.opts.Secrets.Delete(ctx, tokenKey(c.ID)); err != nil {
		m.log.Warn("deleting dead OAuth tokens failed", "connector_id", c.ID, "error", backend.ErrorMessage(err))
	}
	if dropClient {
		if err := m.opts.Secrets.Delete(ctx, clientKey(c.ID)); err != nil {
			m.log.Warn("deleting a dead OAuth client failed", "connector_id", c.ID, "error", backend.ErrorMessage(err))
		}
	}
}

// noteStepUp records the scopes an insufficient_scope answer asked for,
// together with those already granted, for the next sign-in.
func (m *Manager) noteStepUp(ctx context.Context, st *connState, c *backend.Connector, asked []string) {
	var scopes []string
	if tok, _ := m.loadLocked(ctx, st, c); tok != nil {
		scopes = strings.Fields(tok.Scope)
	}
	for _, s := range asked {
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	md := m.loadMetadata(ctx, c)
	if md == nil {
		md = &metadata{}
	}
	md.StepUpScopes = scopes
	m.saveMetadata(ctx, c, md)
}
