package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/patchbay/patchbay/backend"
)

// tokenSet is what a sign-in yields, kept as one JSON entry in the keychain.
type tokenSet struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	Scope        string    `json:"scope,omitempty"`
	ObtainedAt   time.Time `json:"obtained_at"`
	// Config is the fingerprint of the connector settings the tokens were
	// issued under; tokens for other settings are not used.
	Config string `json:"config"`
}

// maxRefreshMargin bounds how long before expiry a token is refreshed.
const maxRefreshMargin = 30 * time.Second

// fresh reports whether the access token can still be used at now. A token
// is refreshed a little before it expires — a fifth of its lifetime, at
// most 30 seconds — so that it does not expire in flight, while tokens that
// live only seconds are not refreshed on every request.
func (t *tokenSet) fresh(now time.Time) bool {
	if t.Expiry.IsZero() {
		return true
	}
	margin := min(maxRefreshMargin, t.Expiry.Sub(t.ObtainedAt)/5)
	return now.Add(max(margin, 0)).Before(t.Expiry)
}

// clientInfo is a dynamically registered client, kept in the keychain so
// that Patchbay registers once, not at every sign-in.
type clientInfo struct {
	ClientID        string    `json:"client_id"`
	ClientSecret    string    `json:"client_secret,omitempty"`
	TokenAuthMethod string    `json:"token_endpoint_auth_method,omitempty"`
	RedirectURIs    []string  `json:"redirect_uris"`
	SecretExpiresAt time.Time `json:"client_secret_expires_at,omitzero"`
	// Issuer and RegistrationURL say where the client was registered.
	Issuer          string    `json:"issuer"`
	RegistrationURL string    `json:"registration_endpoint"`
	RegisteredAt    time.Time `json:"registered_at"`
}

// usableFor reports whether the stored client can be used with the server
// and redirect URI at hand.
func (ci *clientInfo) usableFor(md *metadata, redirectURI string, now time.Time) bool {
	return ci != nil && ci.ClientID != "" && issuersEqual(ci.Issuer, md.Issuer) &&
		slices.Contains(ci.RedirectURIs, redirectURI) &&
		(ci.SecretExpiresAt.IsZero() || ci.SecretExpiresAt.After(now.Add(time.Minute)))
}

// metadata is what discovery found out about a connector's authorization,
// kept in the store (it holds no secret) so that refreshes and sign-outs
// need no discovery.
type metadata struct {
	Issuer           string   `json:"issuer,omitempty"`
	AuthorizationURL string   `json:"authorization_endpoint"`
	TokenURL         string   `json:"token_endpoint"`
	RevocationURL    string   `json:"revocation_endpoint,omitempty"`
	RegistrationURL  string   `json:"registration_endpoint,omitempty"`
	TokenAuthMethods []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	ASScopes         []string `json:"as_scopes_supported,omitempty"`
	// IssRequired: the server said it sends the RFC 9207 iss parameter.
	IssRequired bool `json:"iss_required,omitempty"`
	// Resource is the RFC 8707 resource indicator sent with every request.
	Resource            string   `json:"resource"`
	ResourceMetadataURL string   `json:"resource_metadata_url,omitempty"`
	ResourceScopes      []string `json:"resource_scopes_supported,omitempty"`
	// ChallengeScopes came with the last WWW-Authenticate challenge;
	// StepUpScopes with an insufficient_scope answer.
	ChallengeScopes []string `json:"challenge_scopes,omitempty"`
	StepUpScopes    []string `json:"step_up_scopes,omitempty"`
	// Manual: the endpoints were set by hand, not discovered.
	Manual bool `json:"manual,omitempty"`
	// RedirectPort is the loopback port of the last sign-in, tried first
	// next time so that a registered redirect URI stays valid.
	RedirectPort int       `json:"redirect_port,omitempty"`
	Config       string    `json:"config"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// fingerprint identifies the connector settings that tokens and discovered
// metadata depend on. It is stored with them, so its form must not change
// (TestFingerprintIsStable), and it is computed on every upstream request
// (Token), so it is built without fmt (BenchmarkToken).
func fingerprint(c *backend.Connector) string {
	o := oauthConfig(c)
	b := make([]byte, 0, 256)
	for _, s := range []string{c.URL, o.ClientID, o.Issuer, o.AuthorizationURL, o.TokenURL} {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
		b = append(b, '\n')
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// oauthConfig returns the connector's OAuth settings; none set means all
// discovered.
func oauthConfig(c *backend.Connector) *backend.OAuthAuth {
	if c.Auth.OAuth == nil {
		return &backend.OAuthAuth{}
	}
	return c.Auth.OAuth
}

const kvNamespace = "oauth"

func metadataKey(id string) string { return id + "/metadata" }

// loadMetadata returns the stored metadata when it belongs to the
// connector's current settings, else nil.
func (m *Manager) loadMetadata(ctx context.Context, c *backend.Connector) *metadata {
	if m.opts.KV == nil {
		return nil
	}
	var md metadata
	ok, err := m.opts.KV.GetKV(ctx, kvNamespace, metadataKey(c.ID), &md)
	if err != nil {
		m.log.Warn("reading OAuth metadata failed", "connector_id", c.ID, "error", err)
		return nil
	}
	if !ok || md.Config != fingerprint(c) {
		return nil
	}
	return &md
}

func (m *Manager) saveMetadata(ctx context.Context, c *backend.Connector, md *metadata) {
	if m.opts.KV == nil {
		return
	}
	md.Config = fingerprint(c)
	md.UpdatedAt = time.Now().UTC()
	if err := m.opts.KV.PutKV(ctx, kvNamespace, metadataKey(c.ID), md); err != nil {
		m.log.Warn("saving OAuth metadata failed", "connector_id", c.ID, "error", err)
	}
}

// loadSecretJSON reads a JSON keychain entry; a missing one is (false, nil).
func (m *Manager) loadSecretJSON(ctx context.Context, key string, v any) (bool, error) {
	s, err := m.opts.Secrets.Get(ctx, key)
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		// Never quote the entry: it holds secrets.
		m.log.Warn("an OAuth keychain entry is not valid JSON; ignoring it", "key", key)
		return false, nil
	}
	return true, nil
}

func (m *Manager) saveSecretJSON(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return m.opts.Secrets.Set(ctx, key, string(b))
}

func tokenKey(id string) string  { return backend.OAuthSecretKey(id, "token") }
func clientKey(id string) string { return backend.OAuthSecretKey(id, "client") }
