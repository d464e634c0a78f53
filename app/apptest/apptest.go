// Package apptest runs a real Patchbay for the end-to-end tests of other
// packages: an app.Core (real store, registry, upstream manager, gateway
// and admin API) listening on a free loopback port, closed when the test
// ends. Only tests import it.
package apptest

import (
	"context"
	"testing"
	"time"

	"github.com/patchbay/patchbay/app"
	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/api"
)

// Options configure Start.
type Options struct {
	// Secrets is the keychain; nil means the OS keychain (run such tests
	// under .ci/with-keyring), secrets.NewMemory() an in-memory one.
	Secrets backend.SecretStore
	// NeedAdminToken loads or creates the admin token, as serve does.
	NeedAdminToken bool
}

// Instance is a running Patchbay.
type Instance struct {
	Core *app.Core
	// Base is the listener's URL: http://127.0.0.1:PORT.
	Base string
	// Dir is the data directory.
	Dir string
	// API is an in-process admin API client (no token needed).
	API *api.Client
}

// Start starts a Patchbay on a free loopback port; it stops when t ends.
func Start(t testing.TB, o Options) *Instance {
	t.Helper()
	dir := t.TempDir()
	core, err := app.Open(context.Background(), app.Options{Dir: dir, Version: "test", Secrets: o.Secrets, NeedAdminToken: o.NeedAdminToken})
	if err != nil {
		t.Fatal(err)
	}
	l, err := core.Listen(app.ListenOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		core.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l.Shutdown(ctx)
		core.Close()
	})
	return &Instance{Core: core, Base: "http://" + l.Addr(), Dir: dir, API: api.NewInProcessClient(core.API.InProcessHandler())}
}

// AddPeer adds a connector named "Peer" (slug "peer") for the MCP server
// at url, with every tool always allowed, and lists its tools.
func (in *Instance) AddPeer(t testing.TB, url string) *backend.Connector {
	t.Helper()
	ctx := context.Background()
	c, err := in.Core.Registry.CreateConnector(ctx, &backend.Connector{
		Name: "Peer", Slug: "peer", URL: url, Transport: backend.TransportStreamableHTTP,
		Auth: backend.Auth{Type: backend.AuthNone}, DefaultPolicy: backend.PolicyAlwaysAllow,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Core.Upstream.RefreshTools(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	return c
}
