package oauth

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/patchbay/patchbay/backend"
)

// Status is a connector's sign-in state, for the API and the CLI. It holds
// no secret.
type Status struct {
	SignedIn        bool      `json:"signed_in"`
	ExpiresAt       time.Time `json:"expires_at,omitzero"`
	Scopes          []string  `json:"scopes,omitempty"`
	HasRefreshToken bool      `json:"has_refresh_token"`
	// Reason says why the connector is not signed in (any more).
	Reason string `json:"reason,omitempty"`
	// RedirectURI is what the next sign-in will use.
	RedirectURI RedirectPreview `json:"redirect"`
	Issuer      string          `json:"issuer,omitempty"`
	// ClientID and Registration (preregistered or dynamic) say which
	// client Patchbay signs in as, when known.
	ClientID     string `json:"client_id,omitempty"`
	Registration string `json:"registration,omitempty"`
	// Flow is the sign-in under way, or else the last one.
	Flow *FlowStatus `json:"flow,omitempty"`
}

// RedirectPreview is the redirect URI a sign-in will use, shown to the
// person so that they can register it with a provider that needs it.
type RedirectPreview struct {
	RedirectURI string `json:"redirect_uri"`
	// Port is the port it names; 0 when any port will do.
	Port int `json:"port,omitempty"`
	// Available is false when the configured ports are all in use now.
	Available bool `json:"available"`
	// AnyPort: no port is configured, so one is picked at sign-in; providers
	// that follow RFC 8252 accept any port on 127.0.0.1.
	AnyPort bool   `json:"any_port,omitempty"`
	Note    string `json:"note,omitempty"`
}

// PreviewRedirect says which redirect URI a sign-in with these ports would
// use: the first free one (or the first, when all are busy).
func PreviewRedirect(ports []int) RedirectPreview {
	if len(ports) == 0 {
		return RedirectPreview{RedirectURI: "http://127.0.0.1/callback", Available: true, AnyPort: true,
			Note: "Patchbay picks a free port on 127.0.0.1 at sign-in (http://127.0.0.1:PORT/callback). If the provider needs an exact redirect URI, set one or more redirect ports and register http://127.0.0.1:PORT/callback for each."}
	}
	for _, p := range ports {
		if portFree(p) {
			return RedirectPreview{RedirectURI: redirectURIFor(p), Port: p, Available: true}
		}
	}
	return RedirectPreview{RedirectURI: redirectURIFor(ports[0]), Port: ports[0],
		Note: fmt.Sprintf("All the redirect ports (%s) are in use by other programs right now.", joinInts(ports))}
}

func redirectURIFor(port int) string { return fmt.Sprintf("http://127.0.0.1:%d/callback", port) }

func portFree(p int) bool {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// Status returns the connector's sign-in state.
func (m *Manager) Status(ctx context.Context, c *backend.Connector) (*Status, error) {
	if c.Auth.Type != backend.AuthOAuth {
		return nil, errNotOAuth(c)
	}
	o := oauthConfig(c)
	out := &Status{}
	md := m.loadMetadata(ctx, c)
	switch {
	case len(o.RedirectPorts) > 0:
		out.RedirectURI = PreviewRedirect(o.RedirectPorts)
	case md != nil && md.RedirectPort > 0 && !md.Manual && portFree(md.RedirectPort):
		out.RedirectURI = RedirectPreview{RedirectURI: redirectURIFor(md.RedirectPort), Port: md.RedirectPort, Available: true,
			Note: "The port of the last sign-in, used again while it is free."}
	default:
		out.RedirectURI = PreviewRedirect(nil)
	}
	if md != nil {
		out.Issuer = md.Issuer
	}
	if o.ClientID != "" {
		out.ClientID, out.Registration = o.ClientID, "preregistered"
	} else {
		var ci clientInfo
		if ok, _ := m.loadSecretJSON(ctx, clientKey(c.ID), &ci); ok {
			out.ClientID, out.Registration = ci.ClientID, "dynamic"
		}
	}
	if c.ID != "" {
		st := m.state(c.ID)
		if err := st.lock(ctx); err != nil {
			return nil, err
		}
		tok, err := m.loadLocked(ctx, st, c)
		why := st.why
		st.unlock()
		if err != nil {
			return nil, err
		}
		if tok != nil {
			out.SignedIn, out.ExpiresAt, out.HasRefreshToken = true, tok.Expiry, tok.RefreshToken != ""
			out.Scopes = strings.Fields(tok.Scope)
		} else {
			out.Reason = why
		}
	}
	m.mu.Lock()
	if f := m.flows[c.ID]; f != nil {
		s := f.Status()
		out.Flow = &s
	} else if l := m.last[c.ID]; l != nil {
		s := *l
		out.Flow = &s
	}
	m.mu.Unlock()
	return out, nil
}

// LogoutResult says what a sign-out did.
type LogoutResult struct {
	// WasSignedIn: there were tokens to delete.
	WasSignedIn bool `json:"was_signed_in"`
	// Revoked: the provider's revocation endpoint accepted the tokens.
	Revoked bool `json:"revoked"`
	// RevokeError says why revocation failed; the tokens are deleted all
	// the same.
	RevokeError string `json:"revoke_error,omitempty"`
}

// Logout signs the connector out: it cancels a sign-in under way, revokes
// the tokens at the provider's revocation endpoint when there is one
// (RFC 7009) and deletes them from the keychain. The registered client is
// kept, so signing in again does not register again.
func (m *Manager) Logout(ctx context.Context, c *backend.Connector) (*LogoutResult, error) {
	if c.Auth.Type != backend.AuthOAuth {
		return nil, errNotOAuth(c)
	}
	m.mu.Lock()
	f := m.flows[c.ID]
	m.mu.Unlock()
	if f != nil {
		f.cancel()
	}
	st := m.state(c.ID)
	if err := st.lock(ctx); err != nil {
		return nil, err
	}
	defer st.unlock()
	tok, err := m.loadLocked(ctx, st, c)
	if err != nil {
		return nil, err
	}
	res := &LogoutResult{WasSignedIn: tok != nil}
	if tok != nil {
		res.Revoked, res.RevokeError = m.revokeAll(ctx, c, tok)
	}
	if err := m.opts.Secrets.Delete(ctx, tokenKey(c.ID)); err != nil {
		return nil, err
	}
	st.tok, st.loaded, st.why = nil, true, ""
	m.log.Info("OAuth sign-out", "connector", c.Name, "connector_id", c.ID, "revoked", res.Revoked)
	m.publish(ProgressEvent{ConnectorID: c.ID, Step: StepSignedOut, Message: fmt.Sprintf("Signed out of %q.", c.Name)})
	if m.opts.OnSignOut != nil {
		m.opts.OnSignOut(c.ID)
	}
	return res, nil
}

// StepSignedOut is the progress step published by Logout.
const StepSignedOut = "signed_out"

// revokeAll revokes the refresh token (which ends the grant on most
// servers) and the access token.
func (m *Manager) revokeAll(ctx context.Context, c *backend.Connector, tok *tokenSet) (bool, string) {
	md := m.loadMetadata(ctx, c)
	if md == nil && oauthConfig(c).AuthorizationURL != "" {
		md, _ = m.resolve(ctx, c, "", false)
	}
	if md == nil || md.RevocationURL == "" {
		return false, ""
	}
	if err := checkEndpoint("revocation endpoint", md.RevocationURL); err != nil {
		return false, backend.ErrorMessage(err)
	}
	cl, err := m.clientFor(ctx, c, md, "", false)
	if err != nil {
		return false, "Patchbay's client registration is gone"
	}
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if tok.RefreshToken != "" {
		if err := m.revoke(rctx, md.RevocationURL, cl, tok.RefreshToken, "refresh_token"); err != nil {
			return false, "the provider did not revoke the refresh token: " + err.Error()
		}
	}
	if err := m.revoke(rctx, md.RevocationURL, cl, tok.AccessToken, "access_token"); err != nil {
		return false, "the provider did not revoke the access token: " + err.Error()
	}
	return true, ""
}
