package upstream

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/patchbay/patchbay/backend"
)

// Options configure a Manager. Store is required; everything else has a
// sensible default.
type Options struct {
	Store   Store
	Secrets backend.SecretResolver
	// OAuth supplies tokens for OAuth connectors. Without it such connectors
	// are reported as needing sign-in.
	OAuth     OAuth
	Publisher backend.Publisher
	Logger    *slog.Logger
	// Version is Patchbay's version, sent as "User-Agent: Patchbay/<version>".
	Version string
	// GlobalDefaultPolicy returns the settings-wide policy for new tools ("" for none).
	GlobalDefaultPolicy func() string

	// ConnectTimeout bounds one connection attempt (default 15s).
	ConnectTimeout time.Duration
	// KeepAlive is the ping interval on sessions of the 2025-11-25 era and
	// older (2026-07-28 has no ping). Default 30s; negative disables.
	KeepAlive time.Duration
	// BackoffInitial and BackoffMax shape the reconnect delays after
	// failures: doubling from BackoffInitial up to BackoffMax (defaults 1s
	// and 60s).
	BackoffInitial time.Duration
	BackoffMax     time.Duration
}

// Manager keeps the live upstream sessions, one per connector in use.
type Manager struct {
	opts      Options
	log       *slog.Logger
	pub       backend.Publisher
	base      *http.Transport // under every session's authTransport
	userAgent string

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the Manager starts

	mu     sync.Mutex
	conns  map[string]*conn
	closed bool
}

// NewManager returns a Manager. Nothing connects until something needs a
// connector.
func NewManager(opts Options) *Manager {
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 15 * time.Second
	}
	if opts.KeepAlive == 0 {
		opts.KeepAlive = 30 * time.Second
	}
	if opts.BackoffInitial <= 0 {
		opts.BackoffInitial = time.Second
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = 60 * time.Second
	}
	if opts.BackoffMax < opts.BackoffInitial {
		opts.BackoffMax = opts.BackoffInitial
	}
	if opts.GlobalDefaultPolicy == nil {
		opts.GlobalDefaultPolicy = func() string { return "" }
	}
	m := &Manager{
		opts:      opts,
		log:       opts.Logger,
		pub:       opts.Publisher,
		userAgent: userAgent(opts.Version),
		conns:     map[string]*conn{},
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.pub == nil {
		m.pub = backend.NopPublisher{}
	}
	m.base = http.DefaultTransport.(*http.Transport).Clone()
	m.base.DialContext = (&net.Dialer{Timeout: opts.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
	m.base.TLSHandshakeTimeout = opts.ConnectTimeout
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

func userAgent(version string) string {
	if version == "" {
		version = "dev"
	}
	return "Patchbay/" + version
}

// conn returns the state of connector id, creating it; nil after Close.
func (m *Manager) conn(id string) *conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	c := m.conns[id]
	if c == nil {
		ctx, cancel := context.WithCancel(m.ctx)
		c = &conn{m: m, id: id, ctx: ctx, cancel: cancel, state: backend.StateIdle}
		m.conns[id] = c
	}
	return c
}

// Status returns the live status of connector id; a connector Patchbay has
// not needed yet is idle.
func (m *Manager) Status(id string) backend.ConnectorStatus {
	m.mu.Lock()
	c := m.conns[id]
	m.mu.Unlock()
	if c == nil {
		return backend.ConnectorStatus{ConnectorID: id, State: backend.StateIdle}
	}
	return c.statusSnapshot()
}

// Reconnect closes connector id's session, if any, and connects again now,
// waiting for the outcome.
func (m *Manager) Reconnect(ctx context.Context, id string) error {
	c := m.conn(id)
	if c == nil {
		return errManagerClosed()
	}
	c.mu.Lock()
	if c.forgotten {
		c.mu.Unlock()
		return errManagerClosed()
	}
	old := c.sess
	c.sess = nil
	a := c.startAttemptLocked()
	c.mu.Unlock()
	c.publishNow()
	if old != nil {
		m.closeAsync(old)
	}
	select {
	case <-a.done:
		return a.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Forget closes connector id's session and drops its state; call it when
// the connector is edited or deleted. The next use connects afresh with
// the connector as stored then.
func (m *Manager) Forget(id string) {
	m.mu.Lock()
	c := m.conns[id]
	delete(m.conns, id)
	m.mu.Unlock()
	if c != nil {
		c.shutdown()
	}
}

// Close closes every session and waits until every goroutine the Manager
// started has ended.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	conns := m.conns
	m.conns = map[string]*conn{}
	m.mu.Unlock()
	for _, c := range conns {
		c.shutdown()
	}
	m.cancel()
	m.wg.Wait()
	m.base.CloseIdleConnections()
	return nil
}

// closeAsync closes a session without making the caller wait: closing a
// Streamable HTTP session sends a DELETE that a dead server makes slow.
func (m *Manager) closeAsync(s *session) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		s.close()
	}()
}

// backoff returns the delay before retry number n (1-based): doubling,
// capped, with jitter so that many connectors do not retry in step.
func (m *Manager) backoff(n int) time.Duration {
	d := m.opts.BackoffInitial
	for i := 1; i < n && d < m.opts.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, m.opts.BackoffMax)
	return d/2 + rand.N(d/2+1)
}

func errManagerClosed() *backend.Error {
	return backend.Errorf(backend.EUNAVAILABLE, "Patchbay is shutting down or the connector was changed.").
		WithSlug("upstream_closed").WithFix("Try again.")
}
