// Package app wires Patchbay together and hosts it: the headless server
// (`patchbay serve`), the desktop window (Wails, built with the desktop tag)
// and the in-process backend the CLI uses when no instance is running.
//
// Core is the one place where the backend packages meet: the store, the
// keychain, the registry, the upstream manager, the event hub and the admin
// API. Every mode builds the same Core, so they cannot drift apart.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/api"
	"github.com/patchbay/patchbay/backend/clients"
	"github.com/patchbay/patchbay/backend/events"
	"github.com/patchbay/patchbay/backend/gateway"
	"github.com/patchbay/patchbay/backend/oauth"
	"github.com/patchbay/patchbay/backend/registry"
	"github.com/patchbay/patchbay/backend/secrets"
	"github.com/patchbay/patchbay/backend/store"
	"github.com/patchbay/patchbay/backend/upstream"
)

// Options configure a Core.
type Options struct {
	// Dir is the data directory; empty means store.DefaultDir().
	Dir     string
	Version string
	// Frontend is the built web UI.
	Frontend fs.FS
	// Icon is the app icon (PNG), shown by the window on Linux.
	Icon []byte
	// Secrets overrides the OS keychain (tests).
	Secrets backend.SecretStore
	Logger  *slog.Logger
	// NeedAdminToken makes Open load or create the admin token, which the
	// loopback listener needs; the CLI's in-process core does not.
	NeedAdminToken bool
}

// Core is a fully wired Patchbay backend without a listener.
type Core struct {
	Dir        string
	Version    string
	Log        *slog.Logger
	DB         *store.DB
	Secrets    backend.SecretStore
	Events     *events.Hub
	Registry   *registry.Registry
	Upstream   *upstream.Manager
	OAuth      *oauth.Manager
	Gateway    *gateway.Gateway
	API        *api.Server
	Clients    *clients.Service
	AdminToken string
	// KeychainProblem, when set, says why the keychain could not be used
	// at start-up; the admin token then lives for this run only.
	KeychainProblem string

	// baseURL is set once the listener is up.
	mu      sync.RWMutex
	baseURL string

	closeOnce sync.Once
}

// Open builds a Core: it opens the store (failing fast when another
// instance holds it) and wires every service.
func Open(ctx context.Context, o Options) (*Core, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	dir, err := dataDir(o.Dir)
	if err != nil {
		return nil, err
	}
	hub := events.New()
	db, err := store.Open(dir, &store.Options{OnActivity: func(es []*backend.ActivityEntry) {
		for _, e := range es {
			hub.Publish(backend.NewEvent(backend.EventActivity, e))
		}
	}})
	if err != nil {
		return nil, err
	}
	c := &Core{Dir: dir, Version: o.Version, Log: o.Logger, DB: db, Events: hub, Secrets: o.Secrets}
	if c.Secrets == nil {
		c.Secrets = secrets.NewKeychain(nil)
	}
	st := db.Settings()
	c.baseURL = "http://" + st.Addr()
	c.Registry = registry.New(registry.Options{Store: db, Secrets: c.Secrets, Publisher: hub, BaseURL: c.BaseURL})
	c.OAuth = oauth.New(oauth.Options{
		Secrets: c.Secrets, KV: db, Publisher: hub, Logger: o.Logger, UserAgent: "Patchbay/" + o.Version,
		// After a sign-in the session reconnects with the new token (at
		// once in a long-running instance); after a sign-out it closes.
		OnSignIn: func(id string) {
			if !o.NeedAdminToken {
				c.Upstream.Forget(id)
				return
			}
			go func() { _ = c.Upstream.Reconnect(context.Background(), id) }()
		},
		OnSignOut: func(id string) { c.Upstream.Forget(id) },
	})
	c.Upstream = upstream.NewManager(upstream.Options{
		Store:               db,
		Secrets:             secrets.NewResolver(c.Secrets),
		OAuth:               c.OAuth,
		Publisher:           hub,
		Logger:              o.Logger,
		Version:             o.Version,
		GlobalDefaultPolicy: func() string { return db.Settings().DefaultPolicy },
	})
	// A connector that changed or went away must not keep its old session.
	hub.Listen(func(e backend.Event) {
		if e.Type != backend.EventConnectorChanged {
			return
		}
		var d struct{ ID string }
		if backend.DecodeEvent(e, &d) == nil && d.ID != "" {
			c.Upstream.Forget(d.ID)
			c.OAuth.Forget(d.ID)
		}
	})
	// The MCP endpoint (/mcp): it reads the store, follows the hub and
	// calls upstream; "allow always" answers go through the registry.
	c.Gateway = gateway.New(gateway.Options{
		Store: db, Upstream: c.Upstream, Events: hub, Policies: c.Registry, Secrets: c.Secrets,
		Logger: o.Logger, Version: o.Version,
	})
	if o.NeedAdminToken {
		tok, err := adminToken(ctx, c.Secrets)
		if err != nil && secrets.IsUnavailable(err) {
			// No usable keychain (a server without a desktop session, a
			// locked keyring): run with a token that lives in memory for
			// this run only, and say so. Nothing is written in plain text;
			// connector secrets still need the keychain or ${ENV_VAR}.
			o.Logger.Warn("the keychain is unavailable; using a one-run admin token", "reason", backend.ErrorMessage(err))
			c.KeychainProblem = keychainProblem(err)
			tok, err = newAdminToken(), nil
		}
		if err != nil {
			c.Close()
			return nil, err
		}
		c.AdminToken = tok
	}
	c.API = api.New(api.Options{
		Services: api.Services{
			Connectors: c.Registry, Tools: c.Registry, Conversations: c.Registry,
			Tokens: c.Registry, Settings: c.Registry, Activity: c.Gateway.ActivityService(db), Upstream: c.Upstream,
			Approvals: c.Gateway.Approvals(), Sessions: c.Gateway,
		},
		Events:     hub,
		AdminToken: c.AdminToken,
		Version:    o.Version,
		Frontend:   o.Frontend,
		BaseURL:    c.BaseURL,
		Logger:     o.Logger,
		// Only a long-running instance connects on save; the CLI's
		// in-process core lives for one command.
		ConnectOnSave: o.NeedAdminToken,
	})
	c.API.HandleOAuth(c.OAuth)
	// A stdio bridge launched by a desktop client finds only the default
	// data directory by itself; for any other, its entry says where.
	stdioEnv := map[string]string{}
	if def, err := store.OSDefaultDir(); err != nil || def != dir {
		stdioEnv["PATCHBAY_HOME"] = dir
	}
	c.Clients = clients.New(clients.Options{
		KV: db, Tokens: c.Registry, Conversations: c.Registry, BaseURL: c.BaseURL,
		BackupDir: filepath.Join(dir, "client-backups"), StdioEnv: stdioEnv, Logger: o.Logger, Publisher: hub,
	})
	c.API.HandleClients(c.Clients)
	return c, nil
}

// BaseURL returns the loopback base URL of the listener.
func (c *Core) BaseURL() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.baseURL
}

func (c *Core) setBaseURL(u string) {
	c.mu.Lock()
	c.baseURL = u
	c.mu.Unlock()
}

// Handler returns the handler of the loopback listener: the MCP endpoint
// (/mcp and /mcp/<slug>, client tokens) and everything else: the admin API
// and the web UI (admin token).
func (c *Core) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/mcp", c.Gateway)
	mux.Handle("/mcp/", c.Gateway)
	mux.Handle("/", c.API.Handler())
	return mux
}

// Close stops every service and closes the store. Safe to call twice.
func (c *Core) Close() error {
	var err error
	c.closeOnce.Do(func() {
		if c.Gateway != nil {
			// First: its sessions and pending approvals end, and its
			// queued activity reaches the store before the store closes.
			err = errors.Join(err, c.Gateway.Close())
		}
		if c.OAuth != nil {
			err = errors.Join(err, c.OAuth.Close())
		}
		if c.Upstream != nil {
			err = errors.Join(err, c.Upstream.Close())
		}
		err = errors.Join(err, c.DB.Close())
	})
	return err
}

// keychainProblem describes why the keychain is unusable, with its fix:
// the keychain's own error, under the admin-token wrapping.
func keychainProblem(err error) string {
	var be *backend.Error
	for errors.As(err, &be) {
		inner := be.Err
		var next *backend.Error
		if !errors.As(inner, &next) {
			break
		}
		err = inner
	}
	if be == nil {
		return "The keychain is unavailable."
	}
	return strings.TrimSpace(be.Message + " " + be.SuggestedFix)
}

// adminToken returns the admin token: PATCHBAY_ADMIN_TOKEN when set, else
// the one in the keychain, created on first run.
func adminToken(ctx context.Context, s backend.SecretStore) (string, error) {
	t, err := ReadAdminToken(ctx, s)
	if err == nil && t != "" {
		return t, nil
	}
	if err != nil && backend.ErrorCode(err) != backend.ENOTFOUND {
		return "", err
	}
	t = newAdminToken()
	if err := s.Set(ctx, backend.AdminTokenKey, t); err != nil {
		return "", adminTokenError(err)
	}
	return t, nil
}

// newAdminToken returns a fresh admin token: "pba_" and 256 random bits.
func newAdminToken() string {
	return "pba_" + strings.ToLower(backend.NewTokenValue()[len(backend.TokenPrefix):])
}

func adminTokenError(err error) error {
	var be *backend.Error
	if errors.As(err, &be) {
		return &backend.Error{
			Code: be.Code, Slug: be.Slug, Err: err,
			Message:      "Cannot read or create the admin token in the keychain: " + be.Message,
			SuggestedFix: strings.TrimSpace(be.SuggestedFix + " Or set PATCHBAY_ADMIN_TOKEN to a long random value for this run."),
		}
	}
	return fmt.Errorf("admin token: %w", err)
}
