package backend

import (
	"strings"
	"time"
)

// Transports a connector can use to reach its server.
const (
	TransportAuto           = "auto"            // try Streamable HTTP, fall back to SSE
	TransportStreamableHTTP = "streamable-http" // MCP Streamable HTTP
	TransportSSE            = "sse"             // the legacy HTTP+SSE transport
)

// Authentication kinds.
const (
	AuthNone   = "none"
	AuthAPIKey = "api-key"
	AuthOAuth  = "oauth"
)

// Where an API key is sent.
const (
	APIKeyInHeader = "header"
	APIKeyInQuery  = "query"
)

// OAuth token endpoint authentication methods (RFC 7591 names).
const (
	TokenAuthPost  = "client_secret_post"
	TokenAuthBasic = "client_secret_basic"
	TokenAuthNone  = "none"
)

// Connector is a remote MCP server the person has added.
type Connector struct {
	// ID is assigned on creation and never changes; names and slugs may.
	ID string `json:"id"`
	// Name is what the person calls it: unique, 1–64 characters, trimmed.
	Name string `json:"name"`
	// Slug is derived from Name unless given: [a-z0-9-], unique. It prefixes
	// the connector's tools as clients see them ("<slug>_<tool>").
	Slug        string `json:"slug"`
	Description string `json:"description,omitempty"`
	// Icon is a data: URL of a small image (PNG, JPEG, GIF, WebP or SVG).
	Icon string `json:"icon,omitempty"`
	// URL is the server's MCP endpoint (Streamable HTTP) or SSE endpoint.
	URL       string `json:"url"`
	Transport string `json:"transport"`
	// DetectedTransport is the transport that worked last, remembered when
	// Transport is auto so the next connection does not probe again.
	DetectedTransport string   `json:"detected_transport,omitempty"`
	Auth              Auth     `json:"auth"`
	Headers           []Header `json:"headers,omitempty"`
	// DefaultPolicy is the policy new tools get. Empty means: read-only tools
	// are always allowed, all others need approval.
	DefaultPolicy string `json:"default_policy,omitempty"`
	// CallTimeoutSeconds bounds one tool call; 0 means DefaultCallTimeout.
	CallTimeoutSeconds int       `json:"call_timeout_seconds,omitempty"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// DefaultCallTimeout bounds a tool call when the connector sets no timeout.
const DefaultCallTimeout = 60 * time.Second

// CallTimeout returns the connector's per-call timeout.
func (c *Connector) CallTimeout() time.Duration {
	if c.CallTimeoutSeconds > 0 {
		return time.Duration(c.CallTimeoutSeconds) * time.Second
	}
	return DefaultCallTimeout
}

// Auth is how Patchbay authenticates to the connector's server.
type Auth struct {
	Type   string      `json:"type"`
	APIKey *APIKeyAuth `json:"api_key,omitempty"`
	OAuth  *OAuthAuth  `json:"oauth,omitempty"`
}

// APIKeyAuth sends a static key in a header or a query parameter.
type APIKeyAuth struct {
	In string `json:"in"` // header or query
	// Name is the header name ("Authorization", "X-API-Key") or the query
	// parameter name ("api_key").
	Name string `json:"name"`
	// Prefix is put before the key in a header, for example "Bearer ".
	Prefix string  `json:"prefix,omitempty"`
	Value  *Secret `json:"value"`
}

// OAuthAuth configures OAuth 2.x for the connector. Every field is optional:
// with none set, everything is discovered from the server (the MCP
// authorization spec) and the client is registered dynamically.
type OAuthAuth struct {
	ClientID     string   `json:"client_id,omitempty"`
	ClientSecret *Secret  `json:"client_secret,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
	// Issuer is the authorization server's issuer URL, used by Discover.
	Issuer string `json:"issuer,omitempty"`
	// AuthorizationURL and TokenURL are set together or not at all; when
	// unset they are discovered.
	AuthorizationURL string `json:"authorization_url,omitempty"`
	TokenURL         string `json:"token_url,omitempty"`
	RevocationURL    string `json:"revocation_url,omitempty"`
	// TokenAuthMethod is client_secret_post, client_secret_basic or none;
	// empty picks client_secret_post when a secret is set, none otherwise.
	TokenAuthMethod string `json:"token_auth_method,omitempty"`
	// DisablePKCE turns PKCE off for providers that reject it. PKCE (S256) is
	// on by default.
	DisablePKCE bool `json:"disable_pkce,omitempty"`
	// RedirectPorts are the loopback ports the redirect listener may use, in
	// order of preference; empty means an ephemeral port.
	RedirectPorts []int `json:"redirect_ports,omitempty"`
}

// Header is a custom HTTP header sent on every request to the server. Its
// value is either plain (Value) or secret (Secret), never both.
type Header struct {
	Name   string  `json:"name"`
	Value  string  `json:"value,omitempty"`
	Secret *Secret `json:"secret,omitempty"`
}

// Secrets returns pointers to every secret field of c, each with a stable
// label (used to derive its keychain account). Headers whose names clash
// (invalid input, rejected by Validate) share a label; secretFields sees
// them all.
func (c *Connector) Secrets() map[string]*Secret {
	m := map[string]*Secret{}
	for _, f := range c.secretFields() {
		m[f.label] = f.secret
	}
	return m
}

type secretField struct {
	label  string
	secret *Secret
}

// secretFields returns every secret field of c with its label, in field
// order; the one walk over the connector that Secrets, Redacted,
// HasSecretValues and Normalize share.
func (c *Connector) secretFields() []secretField {
	var out []secretField
	if a := c.Auth.APIKey; a != nil && a.Value != nil {
		out = append(out, secretField{"api-key", a.Value})
	}
	if o := c.Auth.OAuth; o != nil && o.ClientSecret != nil {
		out = append(out, secretField{"oauth-client-secret", o.ClientSecret})
	}
	for i := range c.Headers {
		if h := &c.Headers[i]; h.Secret != nil {
			out = append(out, secretField{"header/" + strings.ToLower(h.Name), h.Secret})
		}
	}
	return out
}

// Redacted returns a deep copy of c with every secret Value removed.
func (c *Connector) Redacted() *Connector {
	r := c.Clone()
	if r == nil {
		return nil
	}
	for _, f := range r.secretFields() {
		f.secret.Value = ""
	}
	return r
}

// Clone returns a deep copy of c.
func (c *Connector) Clone() *Connector {
	if c == nil {
		return nil
	}
	r := *c
	if c.Auth.APIKey != nil {
		a := *c.Auth.APIKey
		a.Value = cloneSecret(a.Value)
		r.Auth.APIKey = &a
	}
	if c.Auth.OAuth != nil {
		o := *c.Auth.OAuth
		o.ClientSecret = cloneSecret(o.ClientSecret)
		o.Scopes = append([]string(nil), o.Scopes...)
		o.RedirectPorts = append([]int(nil), o.RedirectPorts...)
		r.Auth.OAuth = &o
	}
	if c.Headers != nil {
		r.Headers = make([]Header, len(c.Headers))
		for i, h := range c.Headers {
			h.Secret = cloneSecret(h.Secret)
			r.Headers[i] = h
		}
	}
	return &r
}

func cloneSecret(s *Secret) *Secret {
	if s == nil {
		return nil
	}
	c := *s
	return &c
}

// HasSecretValues reports whether any secret field of c still carries a
// plain value. Persisting such a connector would be a bug.
func (c *Connector) HasSecretValues() bool {
	for _, f := range c.secretFields() {
		if f.secret.Value != "" {
			return true
		}
	}
	return false
}

// ConnectorStatus is the live state of a connector's upstream connection.
type ConnectorStatus struct {
	ConnectorID string `json:"connector_id"`
	State       string `json:"state"`
	// Transport and ProtocolVersion are known once connected.
	Transport       string    `json:"transport,omitempty"`
	ProtocolVersion string    `json:"protocol_version,omitempty"`
	ServerName      string    `json:"server_name,omitempty"`
	ServerVersion   string    `json:"server_version,omitempty"`
	LastError       string    `json:"last_error,omitempty"`
	LastErrorFix    string    `json:"last_error_fix,omitempty"`
	LastErrorAt     time.Time `json:"last_error_at,omitzero"`
	ConnectedAt     time.Time `json:"connected_at,omitzero"`
	ToolCount       int       `json:"tool_count"`
}

// Connector states.
const (
	StateIdle           = "idle"            // configured, not connected yet (connections are lazy)
	StateConnecting     = "connecting"      // a connection attempt is under way
	StateConnected      = "connected"       // the session is live
	StateNeedsSignIn    = "needs-sign-in"   // OAuth: no usable token; the person must sign in
	StateNeedsAttention = "needs-attention" // the server refused the credentials (401/403)
	StateError          = "error"           // the last attempt failed; retrying with backoff
)
