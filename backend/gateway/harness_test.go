package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/events"
	"github.com/patchbay/patchbay/backend/gateway"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
	"github.com/patchbay/patchbay/backend/registry"
	"github.com/patchbay/patchbay/backend/secrets"
	"github.com/patchbay/patchbay/backend/store"
	"github.com/patchbay/patchbay/backend/upstream"
)

var ctx = context.Background()

// harness is a real Patchbay backend without the admin API: store,
// keychain (in memory), registry, upstream manager, event hub and the
// gateway on a loopback test server.
type harness struct {
	t     testing.TB
	db    *store.DB
	hub   *events.Hub
	reg   *registry.Registry
	up    *upstream.Manager
	gw    *gateway.Gateway
	srv   *httptest.Server
	mem   *secrets.Memory
	token string // a valid client token, labelled "test client"
}

type harnessOptions struct {
	approvalTimeout time.Duration
	maxResult       int
	coldWait        time.Duration
}

func newHarness(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	hub := events.New()
	db, err := store.Open(t.TempDir(), &store.Options{OnActivity: func(es []*backend.ActivityEntry) {
		for _, e := range es {
			hub.Publish(backend.NewEvent(backend.EventActivity, e))
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	mem := secrets.NewMemory()
	reg := registry.New(registry.Options{Store: db, Secrets: mem, Publisher: hub})
	up := upstream.NewManager(upstream.Options{Store: db, Secrets: secrets.NewResolver(mem), Publisher: hub, KeepAlive: -1})
	gw := gateway.New(gateway.Options{
		Store: db, Upstream: up, Events: hub, Policies: reg, Secrets: mem, Version: "test",
		ApprovalTimeout: o.approvalTimeout, MaxResultBytes: o.maxResult, ColdListWait: o.coldWait,
	})
	srv := httptest.NewServer(gw)
	h := &harness{t: t, db: db, hub: hub, reg: reg, up: up, gw: gw, srv: srv, mem: mem}
	t.Cleanup(func() {
		gw.Close()
		srv.Close()
		up.Close()
		db.Close()
	})
	h.token = h.issue("test client")
	return h
}

func (h *harness) issue(label string) string {
	h.t.Helper()
	v, _, err := h.reg.IssueToken(ctx, label, "")
	if err != nil {
		h.t.Fatal(err)
	}
	return v
}

// addPeer adds a connector for an in-process upstream, lists its tools and
// gives them all policy.
func (h *harness) addPeer(name, slug, url, policy string) *backend.Connector {
	h.t.Helper()
	c, err := h.reg.CreateConnector(ctx, &backend.Connector{Name: name, Slug: slug, URL: url, Transport: backend.TransportStreamableHTTP, Auth: backend.Auth{Type: backend.AuthNone}})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.up.RefreshTools(ctx, c.ID); err != nil {
		h.t.Fatal(err)
	}
	if err := h.reg.SetToolPolicy(ctx, c.ID, nil, policy); err != nil {
		h.t.Fatal(err)
	}
	return c
}

// url returns the endpoint of a conversation path ("/mcp", "/mcp/x").
func (h *harness) url(path string) string { return h.srv.URL + path }

// authTransport adds a bearer token to every request.
type authTransport struct {
	token string
	base  http.RoundTripper
}

func (a *authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+a.token)
	return a.base.RoundTrip(r)
}

// client is a go-sdk client connected to the gateway.
type client struct {
	cs      *mcp.ClientSession
	changed chan struct{}
	mu      sync.Mutex
	elicit  func(*mcp.ElicitRequest) (*mcp.ElicitResult, error)
	prog    chan *mcp.ProgressNotificationParams
}

// Eras of go-sdk clients.
const (
	newEra    = "2026-07-28"
	legacyEra = "2025-11-25"
)

func (h *harness) connect(path, era string) *client {
	h.t.Helper()
	return h.connectWith(path, era, h.token, nil)
}

func (h *harness) connectWith(path, era, token string, elicit func(*mcp.ElicitRequest) (*mcp.ElicitResult, error)) *client {
	h.t.Helper()
	c := &client{changed: make(chan struct{}, 16), elicit: elicit, prog: make(chan *mcp.ProgressNotificationParams, 64)}
	opts := &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case c.changed <- struct{}{}:
			default:
			}
		},
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			select {
			case c.prog <- r.Params:
			default:
			}
		},
	}
	if elicit != nil {
		opts.ElicitationHandler = func(_ context.Context, r *mcp.ElicitRequest) (*mcp.ElicitResult, error) { return c.elicit(r) }
	}
	cl := mcp.NewClient(&mcp.Implementation{Name: "gotest-" + era, Version: "1.2.3"}, opts)
	tr := &mcp.StreamableClientTransport{Endpoint: h.url(path), HTTPClient: &http.Client{Transport: &authTransport{token: token, base: http.DefaultTransport}}}
	cs, err := cl.Connect(ctx, tr, &mcp.ClientSessionOptions{ProtocolVersion: era})
	if err != nil {
		h.t.Fatalf("connect %s (%s): %v", path, era, err)
	}
	h.t.Cleanup(func() { cs.Close() })
	c.cs = cs
	return c
}

func (c *client) names(t testing.TB) []string {
	t.Helper()
	res, err := c.cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tl := range res.Tools {
		out = append(out, tl.Name)
	}
	return out
}

func (c *client) call(t testing.TB, name string, args any) *mcp.CallToolResult {
	t.Helper()
	res, err := c.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	return res
}

// waitChanged waits for a tools/list_changed notification.
func (c *client) waitChanged(t testing.TB) {
	t.Helper()
	select {
	case <-c.changed:
	case <-time.After(10 * time.Second):
		t.Fatal("no notifications/tools/list_changed within 10s")
	}
}

func text(res *mcp.CallToolResult) string {
	var s string
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			s += t.Text
		}
	}
	return s
}

// newPeer starts an in-process upstream of the 2026-07-28 era.
func newPeer(t testing.TB) *testpeer.Server {
	return testpeer.NewServer(t, testpeer.ServerOptions{})
}

// activity returns the activity log, newest first, after the gateway's
// queue is written.
func (h *harness) activity(f backend.ActivityFilter) []*backend.ActivityEntry {
	h.t.Helper()
	h.gw.FlushActivity()
	f.Limit = 1000
	var out []*backend.ActivityEntry
	for {
		page, err := h.db.ListActivity(ctx, f)
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, page.Entries...)
		if page.Next == 0 {
			return out
		}
		f.Before = page.Next
	}
}

func toolParams(name string, args any) *mcp.CallToolParams {
	return &mcp.CallToolParams{Name: name, Arguments: args}
}

// waitFor polls cond for up to 10s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
