// Package registry is the configuration side of Patchbay: connectors (with
// their secrets moved to the keychain), tool policies, conversations, client
// tokens and settings. It validates input, keeps the store and the keychain
// consistent, and publishes what changed.
//
// The registry is used in two places: inside the running instance (behind the
// admin API) and by the CLI when no instance runs. It holds no state of its
// own beyond its dependencies, so both uses behave the same.
package registry

import (
	"context"
	"time"

	"github.com/patchbay/patchbay/backend"
)

// Store is the persistence the registry needs (implemented by store.DB).
type Store interface {
	ListConnectors(ctx context.Context) ([]*backend.Connector, error)
	GetConnector(ctx context.Context, id string) (*backend.Connector, error)
	FindConnector(ctx context.Context, ref string) (*backend.Connector, error)
	PutConnector(ctx context.Context, c *backend.Connector) error
	DeleteConnector(ctx context.Context, id string) error

	ListTools(ctx context.Context, connectorID string) ([]*backend.Tool, error)
	UpdateTool(ctx context.Context, connectorID, name string, fn func(*backend.Tool) error) error

	ListConversations(ctx context.Context) ([]*backend.Conversation, error)
	FindConversation(ctx context.Context, ref string) (*backend.Conversation, error)
	PutConversation(ctx context.Context, c *backend.Conversation) error
	DeleteConversation(ctx context.Context, id string) error

	PutToken(ctx context.Context, t *backend.ClientToken) error
	ListTokens(ctx context.Context) ([]*backend.ClientToken, error)
	DeleteToken(ctx context.Context, id string) error

	Settings() backend.Settings
	PutSettings(ctx context.Context, s *backend.Settings) error

	DeleteKV(ctx context.Context, namespace, prefix string) error
}

// Options configure a Registry.
type Options struct {
	Store   Store
	Secrets backend.SecretStore
	// Publisher receives change events; nil discards them.
	Publisher backend.Publisher
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// BaseURL is the endpoint's base (http://127.0.0.1:PORT), used to build
	// conversation URLs and setup commands.
	BaseURL func() string
}

// Registry implements the configuration services of the backend package.
type Registry struct {
	store   Store
	secrets backend.SecretStore
	pub     backend.Publisher
	now     func() time.Time
	baseURL func() string
}

var (
	_ backend.ConnectorService    = (*Registry)(nil)
	_ backend.ToolService         = (*Registry)(nil)
	_ backend.ConversationService = (*Registry)(nil)
	_ backend.TokenService        = (*Registry)(nil)
	_ backend.SettingsService     = (*Registry)(nil)
)

// New returns a Registry.
func New(o Options) *Registry {
	r := &Registry{store: o.Store, secrets: o.Secrets, pub: o.Publisher, now: o.Now, baseURL: o.BaseURL}
	if r.pub == nil {
		r.pub = backend.NopPublisher{}
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.baseURL == nil {
		r.baseURL = func() string {
			s := o.Store.Settings()
			return "http://" + s.Addr()
		}
	}
	return r
}

func (r *Registry) publish(typ string, data any) { r.pub.Publish(backend.NewEvent(typ, data)) }
