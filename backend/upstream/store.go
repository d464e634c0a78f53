package upstream

import (
	"context"

	"github.com/patchbay/patchbay/backend"
)

// Store is the persistence upstream needs; backend/store implements it.
type Store interface {
	// GetConnector returns the connector or an ENOTFOUND *backend.Error.
	GetConnector(ctx context.Context, id string) (*backend.Connector, error)
	// SetDetectedTransport remembers the transport that worked for an auto
	// connector.
	SetDetectedTransport(ctx context.Context, id, transport string) error
	// UpdateTools replaces the connector's tools with what fn makes of the
	// stored ones, atomically (a policy edit in between is never lost).
	UpdateTools(ctx context.Context, connectorID string, fn func(stored []*backend.Tool) ([]*backend.Tool, error)) error
}

// OAuth supplies tokens for connectors with Auth.Type == oauth. The OAuth
// layer (a separate package) implements it; upstream uses it from the one
// RoundTripper every transport shares, because go-sdk's SSE transport has
// no OAuth handler of its own.
type OAuth interface {
	// Token returns a current access token, refreshing first when it is
	// about to expire. It returns an EUNAUTHORIZED *backend.Error when the
	// person must sign in.
	Token(ctx context.Context, c *backend.Connector) (string, error)
	// Unauthorized is told about a 401/403 (with its WWW-Authenticate
	// header) and returns a token to retry with, or an error (for example:
	// needs sign-in).
	Unauthorized(ctx context.Context, c *backend.Connector, wwwAuthenticate string) (string, error)
}

// OAuthRejected may be implemented by the OAuth layer to learn which token
// a 401/403 refused; it is then asked instead of Unauthorized. Knowing the
// token tells a refusal of a token that was replaced meanwhile (retry with
// the new one) from a refusal of the current one (refresh it).
type OAuthRejected interface {
	Rejected(ctx context.Context, c *backend.Connector, token, wwwAuthenticate string) (string, error)
}
