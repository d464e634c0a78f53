// Package apptest runs a real Patchbay for the end-to-end tests of other
// packages: an app.Core (real store, registry, upstream manager, gateway
// and admin API) listening on a free loopback port, closed when the test
// ends. Only tests import it.
package apptest

import (
	"context"
	"os"
	"path/filepath"
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

// Binary returns the headless binary under test, named by
// PATCHBAY_TEST_BINARY (make test-go builds it and sets it), and fails the
// test with what to run when it is missing.
func Binary(t testing.TB) string {
	t.Helper()
	b := os.Getenv("PATCHBAY_TEST_BINARY")
	if b == "" {
		t.Fatal("PATCHBAY_TEST_BINARY is not set: run `make test-go` (it builds bin/patchbay-headless and sets it), or `make headless` and set it to the absolute path")
	}
	if _, err := os.Stat(b); err != nil || !filepath.IsAbs(b) {
		t.Fatalf("PATCHBAY_TEST_BINARY=%s: %v (run `make headless`; the path must be absolute)", b, err)
	}
	return b
}

// RequireKeyring fails unless the test runs against the private keyring of
// .ci/with-keyring, so that a developer's real keychain is never written.
func RequireKeyring(t testing.TB) {
	t.Helper()
	if os.Getenv("PATCHBAY_PRIVATE_KEYRING") != "1" {
		t.Fatal("run under .ci/with-keyring (make test does this); needs gnome-keyring, dbus, libsecret-tools")
	}
}
