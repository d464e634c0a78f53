package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/patchbay/patchbay/backend"
)

// client is the OAuth client Patchbay authenticates as, resolved for one
// use: pre-registered by the person, or registered dynamically.
type client struct {
	ID     string
	Secret string
	// Method is client_secret_post, client_secret_basic or none.
	Method  string
	Dynamic bool
}

// errNoClient: a dynamically registered client is needed, but none is
// stored and registering was not asked for.
var errNoClient = fmt.Errorf("no registered client")

// clientFor resolves the client for the connector. redirectURI is set for
// sign-ins, whose stored registration must list it; register allows
// registering a new client when none fits.
func (m *Manager) clientFor(ctx context.Context, c *backend.Connector, md *metadata, redirectURI string, register bool) (*client, error) {
	o := oauthConfig(c)
	if o.ClientID != "" {
		cl := &client{ID: o.ClientID, Method: o.TokenAuthMethod}
		if o.ClientSecret.IsSet() {
			secret, err := backend.ResolveSecret(ctx, m.opts.Secrets, os.LookupEnv, o.ClientSecret)
			if err != nil {
				return nil, fmt.Errorf("client secret: %w", err)
			}
			cl.Secret = secret
		}
		if cl.Method == "" {
			cl.Method = backend.TokenAuthNone
			if cl.Secret != "" {
				cl.Method = backend.TokenAuthPost
				if len(md.TokenAuthMethods) > 0 && !slices.Contains(md.TokenAuthMethods, backend.TokenAuthPost) &&
					slices.Contains(md.TokenAuthMethods, backend.TokenAuthBasic) {
					cl.Method = backend.TokenAuthBasic
				}
			}
		}
		return cl, nil
	}
	var ci clientInfo
	found, err := m.loadSecretJSON(ctx, clientKey(c.ID), &ci)
	if err != nil {
		return nil, err
	}
	if found && issuersEqual(ci.Issuer, md.Issuer) && (redirectURI == "" || ci.usableFor(md, redirectURI, time.Now())) {
		return &client{ID: ci.ClientID, Secret: ci.ClientSecret, Method: ci.TokenAuthMethod, Dynamic: true}, nil
	}
	if !register {
		return nil, errNoClient
	}
	if md.RegistrationURL == "" {
		return nil, errNoRegistration(c, redirectURI)
	}
	if err := checkEndpoint("registration endpoint", md.RegistrationURL); err != nil {
		return nil, err
	}
	reg, err := m.register(ctx, c, md, redirectURI)
	if err != nil {
		return nil, err
	}
	// Saved before it is used: a registration that is lost makes every
	// sign-in register again, and some providers limit registrations.
	if err := m.saveSecretJSON(ctx, clientKey(c.ID), reg); err != nil {
		return nil, fmt.Errorf("saving the registered client: %w", err)
	}
	m.log.Info("registered an OAuth client", "connector_id", c.ID, "client_id", reg.ClientID, "auth_method", reg.TokenAuthMethod)
	return &client{ID: reg.ClientID, Secret: reg.ClientSecret, Method: reg.TokenAuthMethod, Dynamic: true}, nil
}

// registration is the part of an RFC 7591 answer that Patchbay uses. It is
// not go-sdk's oauthex.ClientRegistrationResponse, which decodes every
// registered field, so that an odd value in one Patchbay does not need
// cannot fail the registration. The RFC 7592 management credentials some
// servers return are not kept: nothing would use them.
type registration struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret"`
	ClientSecretExpiresAt   int64    `json:"client_secret_expires_at"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	RedirectURIs            []string `json:"redirect_uris"`
}

// register registers Patchbay as a native public client (PKCE instead of a
// secret) that may use refresh tokens.
func (m *Manager) register(ctx context.Context, c *backend.Connector, md *metadata, redirectURI string) (*clientInfo, error) {
	method := backend.TokenAuthNone
	if len(md.TokenAuthMethods) > 0 && !slices.Contains(md.TokenAuthMethods, backend.TokenAuthNone) {
		method = backend.TokenAuthPost
		if !slices.Contains(md.TokenAuthMethods, backend.TokenAuthPost) && slices.Contains(md.TokenAuthMethods, backend.TokenAuthBasic) {
			method = backend.TokenAuthBasic
		}
	}
	meta := &oauthex.ClientRegistrationMetadata{
		RedirectURIs:            []string{redirectURI},
		TokenEndpointAuthMethod: method,
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		ClientName:              "Patchbay",
		ApplicationType:         "native",
		SoftwareID:              "patchbay",
	}
	body, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, md.RegistrationURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", m.opts.UserAgent)
	resp, err := m.hc.Do(req)
	if err != nil {
		return nil, backend.Errorf(backend.EUNAVAILABLE, "Cannot reach the provider of %q to register Patchbay: %s.", c.Name, cleanText(err.Error())).
			WithSlug("oauth_registration_failed").WithFix("Check your connection and try again.")
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		var e oauthex.ClientRegistrationError
		_ = json.Unmarshal(data, &e)
		why := describeOAuthError(e.ErrorCode, e.ErrorDescription)
		if e.ErrorCode == "" {
			why = resp.Status // the body is not shown: it is the server's, unchecked
		}
		return nil, backend.Errorf(backend.EUNAVAILABLE, "The provider of %q refused to register Patchbay: %s.", c.Name, why).
			WithSlug("oauth_registration_failed").
			WithFix(fmt.Sprintf("Register an application with the provider yourself (redirect URI %s) and enter its client ID in the connector's OAuth settings.", redirectURI))
	}
	var reg registration
	if err := json.Unmarshal(data, &reg); err != nil || reg.ClientID == "" {
		return nil, backend.Errorf(backend.EUNAVAILABLE, "The provider of %q answered the registration with something that is not a client.", c.Name).
			WithSlug("oauth_registration_failed")
	}
	ci := &clientInfo{
		ClientID: reg.ClientID, ClientSecret: reg.ClientSecret, TokenAuthMethod: reg.TokenEndpointAuthMethod,
		RedirectURIs: reg.RedirectURIs, Issuer: md.Issuer, RegistrationURL: md.RegistrationURL, RegisteredAt: time.Now().UTC(),
	}
	if len(ci.RedirectURIs) == 0 {
		ci.RedirectURIs = meta.RedirectURIs
	}
	if reg.ClientSecretExpiresAt > 0 {
		ci.SecretExpiresAt = time.Unix(reg.ClientSecretExpiresAt, 0).UTC()
	}
	switch {
	case ci.TokenAuthMethod != "":
	case ci.ClientSecret != "":
		ci.TokenAuthMethod = backend.TokenAuthBasic // the RFC 7591 default
	default:
		ci.TokenAuthMethod = backend.TokenAuthNone
	}
	return ci, nil
}
