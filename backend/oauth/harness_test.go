package oauth_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/api"
	"github.com/patchbay/patchbay/backend/events"
	"github.com/patchbay/patchbay/backend/oauth"
	"github.com/patchbay/patchbay/backend/registry"
	"github.com/patchbay/patchbay/backend/secrets"
	"github.com/patchbay/patchbay/backend/store"
	"github.com/patchbay/patchbay/backend/upstream"
	"github.com/zalando/go-keyring"
)

// keychain returns the real Secret Service under a service name unique to
// the test; its entries are removed when the test ends. Tests that write to
// the keychain run only inside .ci/with-keyring, never against a
// developer's own keyring.
func keychain(t *testing.T) *secrets.Keychain {
	t.Helper()
	if os.Getenv("PATCHBAY_PRIVATE_KEYRING") != "1" {
		t.Fatal("this test needs a private Secret Service: run it under .ci/with-keyring (make test does this); needs gnome-keyring, dbus, libsecret-tools")
	}
	svc := "patchbay-test-" + strings.ToLower(rand.Text()[:12])
	k := secrets.NewKeychain(&secrets.Options{Service: svc, Timeout: 20 * time.Second})
	if err := k.Check(t.Context()); err != nil {
		t.Fatalf("the Secret Service is not usable: %v", err)
	}
	t.Cleanup(func() { _ = keyring.DeleteAll(svc) })
	return k
}

// logBuffer collects every log line of a test, to prove no secret is in it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// patchbay is the part of Patchbay that OAuth lives in: the store, the
// keychain, the registry, the OAuth manager, the upstream manager, the
// event hub and the admin API (for the CLI), wired as app/core.go wires
// them. Reopening one on the same directory and keychain is a restart.
type patchbay struct {
	t    *testing.T
	dir  string
	kc   backend.SecretStore
	db   *store.DB
	hub  *events.Hub
	reg  *registry.Registry
	om   *oauth.Manager
	up   *upstream.Manager
	api  *api.Server
	logs *logBuffer
	// closeOnce makes close safe to call from a test and its cleanup.
	closeOnce *sync.Once
}

type options struct {
	opener  func(string) error
	timeout time.Duration
}

func openPatchbay(t *testing.T, dir string, kc backend.SecretStore, logs *logBuffer, o options) *patchbay {
	t.Helper()
	db, err := store.Open(dir, nil)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	p := &patchbay{t: t, dir: dir, kc: kc, db: db, hub: events.New(), logs: logs, closeOnce: &sync.Once{}}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p.reg = registry.New(registry.Options{Store: db, Secrets: kc, Publisher: p.hub})
	p.om = oauth.New(oauth.Options{
		Secrets: kc, KV: db, Publisher: p.hub, Logger: log, Opener: o.opener, SignInTimeout: o.timeout,
		OnSignIn:  func(id string) { p.up.Forget(id) },
		OnSignOut: func(id string) { p.up.Forget(id) },
	})
	p.up = upstream.NewManager(upstream.Options{
		Store: db, Secrets: secrets.NewResolver(kc), OAuth: p.om, Publisher: p.hub, Logger: log,
		Version: "test", KeepAlive: -1, BackoffInitial: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
	})
	p.hub.Listen(func(e backend.Event) {
		var d struct{ ID string }
		if e.Type == backend.EventConnectorChanged && backend.DecodeEvent(e, &d) == nil && d.ID != "" {
			p.up.Forget(d.ID)
			p.om.Forget(d.ID)
		}
	})
	p.api = api.New(api.Options{Services: api.Services{Connectors: p.reg, Tools: p.reg, Upstream: p.up}, Events: p.hub, Logger: log})
	p.api.HandleOAuth(p.om)
	t.Cleanup(p.close)
	return p
}

func (p *patchbay) close() {
	p.closeOnce.Do(func() {
		p.om.Close()
		p.up.Close()
		p.db.Close()
	})
}

// with returns p reporting to t (for subtests).
func (p *patchbay) with(t *testing.T) *patchbay {
	q := *p
	q.t = t
	return &q
}

// add creates an OAuth connector.
func (p *patchbay) add(name, url string, o *backend.OAuthAuth) *backend.Connector {
	p.t.Helper()
	if o == nil {
		o = &backend.OAuthAuth{}
	}
	c, err := p.reg.CreateConnector(context.Background(), &backend.Connector{Name: name, URL: url, Auth: backend.Auth{Type: backend.AuthOAuth, OAuth: o}})
	if err != nil {
		p.t.Fatalf("CreateConnector: %v", err)
	}
	return c
}

// login signs c in and waits for the outcome.
func (p *patchbay) login(c *backend.Connector) error {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f, _, err := p.om.Login(ctx, c)
	if err != nil {
		return err
	}
	return f.Wait(ctx)
}

func (p *patchbay) mustLogin(c *backend.Connector) {
	p.t.Helper()
	if err := p.login(c); err != nil {
		p.t.Fatalf("sign-in to %s: %v", c.Name, err)
	}
}

// call calls a tool and returns its text.
func (p *patchbay) call(c *backend.Connector, tool string, args map[string]any) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, _ := json.Marshal(args)
	res, err := p.up.Call(ctx, c.ID, tool, b, nil)
	if err != nil {
		return "", err
	}
	var out []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			out = append(out, tc.Text)
		}
	}
	if res.IsError {
		return strings.Join(out, "\n"), &backend.Error{Code: backend.EUNAVAILABLE, Message: "tool error: " + strings.Join(out, " ")}
	}
	return strings.Join(out, "\n"), nil
}

func (p *patchbay) echo(c *backend.Connector, msg string) {
	p.t.Helper()
	got, err := p.call(c, "echo", map[string]any{"message": msg})
	if err != nil {
		p.t.Fatalf("echo on %s: %v", c.Name, err)
	}
	if got != "Echo: "+msg {
		p.t.Fatalf("echo on %s = %q", c.Name, got)
	}
}

// tokens reads the token entry of c from the keychain.
func (p *patchbay) tokens(c *backend.Connector) map[string]any {
	p.t.Helper()
	s, err := p.kc.Get(context.Background(), backend.OAuthSecretKey(c.ID, "token"))
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		return nil
	}
	if err != nil {
		p.t.Fatalf("keychain: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		p.t.Fatalf("token entry is not JSON")
	}
	return m
}

// registeredClient reads the registered client entry of c.
func (p *patchbay) registeredClient(c *backend.Connector) map[string]any {
	p.t.Helper()
	s, err := p.kc.Get(context.Background(), backend.OAuthSecretKey(c.ID, "client"))
	if err != nil {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal([]byte(s), &m)
	return m
}

// secretsOf lists the secret values Patchbay holds for c.
func (p *patchbay) secretsOf(c *backend.Connector) []string {
	var out []string
	for _, m := range []map[string]any{p.tokens(c), p.registeredClient(c)} {
		for _, k := range []string{"access_token", "refresh_token", "client_secret"} {
			if s, _ := m[k].(string); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// assertNoSecrets fails when any value appears in the data directory's
// files or in the text given.
func assertNoSecrets(t *testing.T, dir string, values []string, texts map[string]string) {
	t.Helper()
	if len(values) == 0 {
		t.Fatal("no secret values to look for")
	}
	_ = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("reading %s: %v", path, err)
			return nil
		}
		for _, v := range values {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("a secret value is in %s", path)
			}
		}
		return nil
	})
	for name, text := range texts {
		for _, v := range values {
			if strings.Contains(text, v) {
				t.Errorf("a secret value is in the %s", name)
			}
		}
	}
}

// slugOf returns the slug of the first *backend.Error in err's chain.
func slugOf(err error) string {
	var be *backend.Error
	if errors.As(err, &be) {
		return be.Slug
	}
	return ""
}

// waitState waits until the connector's upstream state is want.
func (p *patchbay) waitState(c *backend.Connector, want string) backend.ConnectorStatus {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := p.up.Status(c.ID)
		if st.State == want {
			return st
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: state %q, want %q (%s)", c.Name, st.State, want, st.LastError)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
