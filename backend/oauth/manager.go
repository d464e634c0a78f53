package oauth

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patchbay/patchbay/backend"
)

// KV is the store for non-secret OAuth state (backend/store implements it).
type KV interface {
	GetKV(ctx context.Context, namespace, key string, v any) (bool, error)
	PutKV(ctx context.Context, namespace, key string, v any) error
}

// Options configure a Manager. Secrets is required.
type Options struct {
	// Secrets keeps tokens and registered clients; it also resolves the
	// keychain reference of a client secret.
	Secrets backend.SecretStore
	// KV keeps discovered metadata; nil means discover again when needed.
	KV        KV
	Publisher backend.Publisher
	Logger    *slog.Logger
	// Opener opens the authorization URL in a browser. The default,
	// DefaultOpener, honours $BROWSER and falls back to the system browser.
	Opener func(url string) error
	// SignInTimeout bounds how long a sign-in waits for the browser to come
	// back (default 5 minutes).
	SignInTimeout time.Duration
	// OnSignIn is called after a sign-in succeeds, OnSignOut after a
	// sign-out, so that the connector's session can reconnect or close.
	OnSignIn  func(connectorID string)
	OnSignOut func(connectorID string)
	// UserAgent identifies Patchbay to authorization servers.
	UserAgent string
}

// Manager signs connectors in and hands out their access tokens. It
// implements upstream.OAuth. It is safe for concurrent use.
type Manager struct {
	opts Options
	log  *slog.Logger
	pub  backend.Publisher
	hc   *http.Client

	ctx    context.Context // cancelled by Close; sign-in flows run under it
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns map[string]*connState
	flows map[string]*Flow
	last  map[string]*FlowStatus // the outcome of each connector's last sign-in
	// stepUps remembers when a step-up sign-in was last started.
	stepUps map[string]time.Time
}

// connState is one connector's tokens in memory, guarded by sem: whoever
// holds it may read the keychain, refresh and write back, so concurrent
// callers wait for one refresh instead of racing their own.
type connState struct {
	sem       chan struct{}
	loaded    bool
	tok       *tokenSet // nil: not signed in
	changedAt time.Time // when tok was last obtained or refreshed
	// why says why the connector is not signed in any more (a refused
	// refresh), for the status.
	why string
	// challenge is the last WWW-Authenticate header of a 401/403.
	challenge string
	// forgotten is set when the connector changed: a refresh in flight
	// must not write tokens back for settings that no longer apply.
	forgotten atomic.Bool
}

func (s *connState) lock(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *connState) unlock() { <-s.sem }

// New returns a Manager.
func New(o Options) *Manager {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Publisher == nil {
		o.Publisher = backend.NopPublisher{}
	}
	if o.Opener == nil {
		o.Opener = DefaultOpener
	}
	if o.SignInTimeout <= 0 {
		o.SignInTimeout = 5 * time.Minute
	}
	if o.UserAgent == "" {
		o.UserAgent = "Patchbay"
	}
	m := &Manager{opts: o, log: o.Logger, pub: o.Publisher, hc: newHTTPClient(),
		conns: map[string]*connState{}, flows: map[string]*Flow{}, last: map[string]*FlowStatus{}, stepUps: map[string]time.Time{}}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// newHTTPClient returns the client for requests to authorization servers.
// Its transport has no dialer of its own, so that go-sdk's discovery
// helpers keep their SSRF protections (private addresses refused, loopback
// allowed).
func newHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConns:          20,
		},
	}
}

// state returns connector id's in-memory state, creating it.
func (m *Manager) state(id string) *connState {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.conns[id]
	if s == nil {
		s = &connState{sem: make(chan struct{}, 1)}
		m.conns[id] = s
	}
	return s
}

// Forget drops what the Manager holds in memory for connector id and
// cancels its sign-in, if one runs. Call it when the connector is edited or
// deleted: its tokens are read again (or found gone) on next use.
func (m *Manager) Forget(id string) {
	m.mu.Lock()
	s := m.conns[id]
	delete(m.conns, id)
	f := m.flows[id]
	m.mu.Unlock()
	if s != nil {
		s.forgotten.Store(true)
	}
	if f != nil {
		f.cancel()
	}
}

// Close cancels every sign-in under way and waits for them to end.
func (m *Manager) Close() error {
	m.cancel()
	m.wg.Wait()
	m.hc.CloseIdleConnections()
	return nil
}

func (m *Manager) publish(data ProgressEvent) {
	m.pub.Publish(backend.NewEvent(backend.EventOAuthProgress, data))
}

// ProgressEvent is the data of a backend.EventOAuthProgress event.
type ProgressEvent struct {
	ConnectorID string `json:"connector_id"`
	// Step is waiting_for_browser, exchanging_code, done or failed.
	Step             string `json:"step"`
	Message          string `json:"message"`
	RedirectURI      string `json:"redirect_uri,omitempty"`
	AuthorizationURL string `json:"authorization_url,omitempty"`
	// Code and Fix are set when the sign-in failed.
	Code string `json:"code,omitempty"`
	Slug string `json:"slug,omitempty"`
	Fix  string `json:"suggested_fix,omitempty"`
}

// Sign-in steps.
const (
	StepWaiting    = "waiting_for_browser"
	StepExchanging = "exchanging_code"
	StepDone       = "done"
	StepFailed     = "failed"
)
