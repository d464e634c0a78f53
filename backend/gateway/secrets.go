package gateway

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/patchbay/patchbay/backend"
)

// secretWatch keeps the redactor's list of secret values: every connector's
// API key and secret headers (from the keychain or the environment) and
// its OAuth tokens. Values are read in the background when connectors
// change (and every few minutes, as OAuth tokens rotate) and live only in
// memory.
type secretWatch struct {
	store   Store
	secrets backend.SecretStore
	getenv  func(string) (string, bool)
	red     *redactor
	log     *slog.Logger

	stale atomic.Bool
	mu    sync.Mutex // one refresh at a time
}

func newSecretWatch(s Store, sec backend.SecretStore, getenv func(string) (string, bool), red *redactor, log *slog.Logger) *secretWatch {
	w := &secretWatch{store: s, secrets: sec, getenv: getenv, red: red, log: log}
	w.stale.Store(true)
	return w
}

func (w *secretWatch) invalidate() { w.stale.Store(true) }

// refreshIfStale re-reads the secret values when connectors changed.
func (w *secretWatch) refreshIfStale(ctx context.Context) {
	if !w.stale.Load() {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stale.Swap(false) {
		return
	}
	conns, err := w.store.ListConnectors(ctx)
	if err != nil {
		w.stale.Store(true)
		return
	}
	var values []string
	for _, c := range conns {
		for _, s := range c.Secrets() {
			if s.Source == backend.SecretKeychain && w.secrets == nil {
				continue
			}
			if v, err := backend.ResolveSecret(ctx, w.secrets, w.getenv, s); err == nil && v != "" {
				values = append(values, v)
			}
		}
		if c.Auth.Type == backend.AuthOAuth && w.secrets != nil {
			for _, kind := range backend.OAuthSecretKinds {
				if v, err := w.secrets.Get(ctx, backend.OAuthSecretKey(c.ID, kind)); err == nil {
					values = append(values, credentialStrings(v)...)
				}
			}
		}
	}
	w.red.setValues(values)
}

// credentialStrings returns the credentials inside a stored OAuth state:
// string fields whose name mentions a token or a secret, at any depth.
func credentialStrings(stored string) []string {
	var v any
	if json.Unmarshal([]byte(stored), &v) != nil {
		return nil
	}
	var out []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, y := range x {
				walk(k, y)
			}
		case []any:
			for _, y := range x {
				walk(key, y)
			}
		case string:
			k := strings.ToLower(key)
			if (strings.Contains(k, "token") || strings.Contains(k, "secret")) && !strings.HasSuffix(k, "type") && len(x) >= 16 {
				out = append(out, x)
			}
		}
	}
	walk("", v)
	return out
}
