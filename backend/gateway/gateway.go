package gateway

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
)

// Store is the persistence the gateway reads (store.DB implements it). The
// registry is the only writer of configuration; the gateway only reads it
// and appends to the activity log.
type Store interface {
	ListConnectors(ctx context.Context) ([]*backend.Connector, error)
	ListTools(ctx context.Context, connectorID string) ([]*backend.Tool, error)
	ListConversations(ctx context.Context) ([]*backend.Conversation, error)
	ListTokens(ctx context.Context) ([]*backend.ClientToken, error)
	TouchTokens(ctx context.Context, used map[string]time.Time) error
	AppendActivity(e *backend.ActivityEntry)
	Settings() backend.Settings
}

// Upstream is what the gateway needs of the upstream manager.
type Upstream interface {
	Call(ctx context.Context, connectorID, tool string, args json.RawMessage, progress func(*mcp.ProgressNotificationParams)) (*mcp.CallToolResult, error)
	Status(id string) backend.ConnectorStatus
	RefreshTools(ctx context.Context, id string) (backend.ToolChanges, error)
}

// Events is the event hub: the gateway listens to configuration changes and
// publishes approvals and session changes.
type Events interface {
	Listen(fn func(backend.Event))
	Publish(backend.Event)
}

// Policies sets tool policies ("allow always" answers); the registry.
type Policies interface {
	SetToolPolicy(ctx context.Context, connectorRef string, tools []string, policy string) error
}

// Options configure a Gateway. Store, Upstream and Events are required.
type Options struct {
	Store    Store
	Upstream Upstream
	Events   Events
	Policies Policies
	// Secrets is where connector secrets live; their values are redacted
	// from the activity log. nil redacts only credential shapes.
	Secrets backend.SecretStore
	Logger  *slog.Logger
	Version string
	Now     func() time.Time

	// MaxResultBytes caps what a client receives from one call; bigger
	// results are cut with a note saying so. Default 1 MiB.
	MaxResultBytes int
	// MaxLoggedResultBytes caps the result kept in the activity log.
	// Default 64 KiB.
	MaxLoggedResultBytes int
	// ColdListWait bounds how long tools/list waits for connectors that
	// have never been listed (fanned out in parallel). Default 2s.
	ColdListWait time.Duration
	// ApprovalTimeout, when set, replaces the approval timeout of the
	// settings (tests; the settings allow no less than 5s).
	ApprovalTimeout time.Duration
	// SessionIdle closes stateful sessions with no open stream and no
	// request for this long, and forgets stateless clients. Default 30m.
	SessionIdle time.Duration
}

// Gateway is the MCP endpoint. It is an http.Handler for /mcp and /mcp/*.
type Gateway struct {
	opts      Options
	log       *slog.Logger
	sdkLog    *slog.Logger
	now       func() time.Time
	approvals *Approvals
	sessions  *sessionTracker
	flights   flights
	tokens    *tokenCache
	red       *redactor
	rec       *recorder
	secrets   *secretWatch

	stateful  *mcp.StreamableHTTPHandler
	stateless *mcp.StreamableHTTPHandler
	handler   http.Handler

	// Configuration state, rebuilt by sync. gen counts changes announced
	// on the hub; synced is the generation the state reflects.
	gen      atomic.Uint64
	synced   atomic.Uint64
	syncMu   sync.Mutex
	dirtyMu  sync.Mutex
	dirty    map[string]bool // connector IDs whose tools must be re-read
	allDirty bool
	st       *state        // guarded by syncMu
	convs    atomic.Value  // map[string]*convServer by slug, replaced whole
	warm     sync.Map      // connector ID → *warming (at most one refresh at a time)
	kick     chan struct{} // wakes the worker

	ctx    context.Context
	cancel context.CancelFunc
	lifeMu sync.Mutex // orders goBackground against Close
	wg     sync.WaitGroup
	closed atomic.Bool
	// requests counts the POST and DELETE requests past the gate: a POST
	// can create a session, so Close waits for them before its last sweep.
	requests sync.WaitGroup
	// closeDone is closed when Close has finished.
	closeDone chan struct{}
}

// New returns a Gateway and starts its background worker. It reads nothing
// yet: the first request (or the worker, moments later) loads the state, so
// start-up stays fast however many connectors there are.
func New(o Options) *Gateway {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxResultBytes <= 0 {
		o.MaxResultBytes = 1 << 20
	}
	if o.MaxLoggedResultBytes <= 0 {
		o.MaxLoggedResultBytes = 64 << 10
	}
	if o.ColdListWait <= 0 {
		o.ColdListWait = 2 * time.Second
	}
	if o.SessionIdle <= 0 {
		o.SessionIdle = 30 * time.Minute
	}
	g := &Gateway{
		opts: o,
		log:  o.Logger.With("component", "gateway"),
		// go-sdk logs every stateless request at info level; only its
		// warnings are worth a line in Patchbay's log.
		sdkLog: slog.New(minLevel{o.Logger.Handler(), slog.LevelWarn}).With("component", "gateway"),
		now:    o.Now,
		red:    &redactor{},
		dirty:  map[string]bool{},
		kick:   make(chan struct{}, 1),

		closeDone: make(chan struct{}),
	}
	g.allDirty = true
	g.gen.Store(1)
	g.convs.Store(map[string]*convServer{})
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.approvals = newApprovals(o.Events, o.Now, g.allowAlways)
	g.sessions = newSessionTracker(o.Events, o.Now)
	g.tokens = newTokenCache(o.Store, o.Now)
	g.secrets = newSecretWatch(o.Store, o.Secrets, os.LookupEnv, g.red, g.log)
	g.rec = newRecorder(o.Store, g.red, g.secrets, o.MaxLoggedResultBytes)
	g.stateful = mcp.NewStreamableHTTPHandler(g.serverFor, &mcp.StreamableHTTPOptions{
		Logger: g.sdkLog,
		// Our own checks (loopback package) run first and answer in the
		// API's error shape; go-sdk's would only repeat them.
		DisableLocalhostProtection: true,
	})
	g.stateless = mcp.NewStreamableHTTPHandler(g.serverFor, &mcp.StreamableHTTPOptions{
		Stateless:                  true,
		Logger:                     g.sdkLog,
		DisableLocalhostProtection: true,
		// A 2026-07-28 request is the whole call: a client that hangs up
		// has cancelled it, and the upstream call is cancelled too.
		PropagateRequestCancellation: true,
	})
	g.handler = g.routes()
	o.Events.Listen(g.onEvent)
	g.wg.Add(2)
	go g.worker()
	go g.rec.run(&g.wg)
	g.wake() // load the state in the background, ready for the first client
	return g
}

// goBackground runs fn on a goroutine Close waits for; after Close it
// does nothing and reports false.
func (g *Gateway) goBackground(fn func()) bool {
	g.lifeMu.Lock()
	defer g.lifeMu.Unlock()
	if g.closed.Load() {
		return false
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		fn()
	}()
	return true
}

// approvalTimeout is how long a call waits for a person.
func (g *Gateway) approvalTimeout() time.Duration {
	if g.opts.ApprovalTimeout > 0 {
		return g.opts.ApprovalTimeout
	}
	s := g.opts.Store.Settings()
	return s.ApprovalTimeout()
}

// Approvals returns the approval service (for the API and the CLI).
func (g *Gateway) Approvals() *Approvals { return g.approvals }

// LiveSessions lists the clients connected to the conversation with slug.
func (g *Gateway) LiveSessions(slug string) []backend.LiveSession {
	return g.sessions.list(slug)
}

// FlushActivity waits until every call made so far is in the store's
// activity queue (the store's readers flush that queue themselves).
func (g *Gateway) FlushActivity() { g.rec.flush() }

// enter admits a request that may create a session; after Close it
// refuses. leave must follow an admitted request.
func (g *Gateway) enter() bool {
	g.lifeMu.Lock()
	defer g.lifeMu.Unlock()
	if g.closed.Load() {
		return false
	}
	g.requests.Add(1)
	return true
}

func (g *Gateway) leave() { g.requests.Done() }

// Close closes every client session, answers pending approvals as
// cancelled, records what is queued and stops the worker. In-flight calls
// see their context cancelled.
func (g *Gateway) Close() error {
	g.lifeMu.Lock()
	if !g.closed.CompareAndSwap(false, true) {
		g.lifeMu.Unlock()
		// Another caller is closing: return only once it is done, so that
		// a caller closing the store next cannot pull it from under the
		// final activity flush.
		<-g.closeDone
		return nil
	}
	g.lifeMu.Unlock()
	defer close(g.closeDone)
	g.cancel()
	for _, cs := range g.conversations() {
		cs.closeSessions()
	}
	g.sessions.closeAll()
	// A POST admitted just before Close may have created a session after
	// the sweep above: wait for those requests (their calls were cancelled
	// with g.ctx) and sweep again.
	g.requests.Wait()
	for _, cs := range g.conversations() {
		cs.closeSessions()
	}
	g.tokens.flushTouches(context.Background())
	g.rec.close()
	g.wg.Wait()
	return nil
}

// onEvent runs synchronously in the publisher's goroutine (events.Hub
// listeners): it only marks what changed, so that the next request or the
// worker rebuilds it. It must not publish.
func (g *Gateway) onEvent(e backend.Event) {
	switch e.Type {
	case backend.EventToolsChanged:
		var d struct {
			ConnectorID string `json:"connector_id"`
		}
		_ = backend.DecodeEvent(e, &d)
		g.dirtyMu.Lock()
		if d.ConnectorID == "" {
			g.allDirty = true
		} else {
			g.dirty[d.ConnectorID] = true
		}
		g.dirtyMu.Unlock()
	case backend.EventConnectorChanged:
		var d struct{ ID, Change string }
		_ = backend.DecodeEvent(e, &d)
		g.dirtyMu.Lock()
		if d.Change == "deleted" && d.ID != "" {
			g.dirty[d.ID] = true
		}
		g.dirtyMu.Unlock()
		g.secrets.invalidate()
	case backend.EventConversationChanged:
	case backend.EventTokensChanged:
		g.tokens.invalidate()
	case backend.EventOAuthProgress:
		// A sign-in saves new OAuth tokens: redact them from the next
		// entry on, not from the next periodic re-read. Nothing the
		// gateway serves changes.
		g.secrets.invalidate()
		return
	default:
		return
	}
	g.gen.Add(1)
	g.wake()
}

func (g *Gateway) wake() {
	select {
	case g.kick <- struct{}{}:
	default:
	}
}

// worker applies changes in the background (so that live sessions get
// their list_changed without waiting for a request), closes sessions of
// revoked tokens, forgets idle sessions and records token use.
func (g *Gateway) worker() {
	defer g.wg.Done()
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	secretsTick := time.NewTicker(5 * time.Minute)
	defer secretsTick.Stop()
	for {
		select {
		case <-g.ctx.Done():
			return
		case <-g.kick:
			g.ensureFresh()
			g.closeRevoked()
			g.secrets.refreshIfStale(g.ctx)
		case <-tick.C:
			g.sessions.sweep(g.opts.SessionIdle)
			g.tokens.flushTouches(g.ctx)
		case <-secretsTick.C:
			g.secrets.invalidate()
			g.secrets.refreshIfStale(g.ctx)
		}
	}
}

// closeRevoked ends the sessions (and their open streams) of tokens that no
// longer exist. Their requests are refused already; this only hangs up.
func (g *Gateway) closeRevoked() {
	valid := g.tokens.ids()
	if valid == nil {
		return
	}
	for _, id := range g.sessions.tokensInUse() {
		if id != "" && !valid[id] {
			g.flights.cancel(func(f *flight) bool { return f.tokenID == id })
			g.sessions.closeToken(id)
		}
	}
}

// allowAlways sets a tool's policy after an "allow always" answer.
func (g *Gateway) allowAlways(ctx context.Context, connectorID, tool string) error {
	if g.opts.Policies == nil {
		return nil
	}
	return g.opts.Policies.SetToolPolicy(ctx, connectorID, []string{tool}, backend.PolicyAlwaysAllow)
}

// minLevel drops records below a level.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(a), h.min}
}
func (h minLevel) WithGroup(n string) slog.Handler { return minLevel{h.Handler.WithGroup(n), h.min} }
