package gateway

import (
	"context"
	"crypto/subtle"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patchbay/patchbay/backend"
)

// tokenCache authenticates client tokens against the stored hashes,
// without a database read per request. A change announced on the hub
// (issue, revoke) invalidates it, and the next request reloads: a revoked
// token is refused from the very next request on.
type tokenCache struct {
	store Store
	now   func() time.Time

	gen    atomic.Uint64 // bumped on every change
	mu     sync.RWMutex
	loaded uint64 // generation of tokens; 0 = never
	tokens []*backend.ClientToken

	touchMu sync.Mutex
	touched map[string]time.Time
}

func newTokenCache(s Store, now func() time.Time) *tokenCache {
	c := &tokenCache{store: s, now: now, touched: map[string]time.Time{}}
	c.gen.Store(1)
	return c
}

func (c *tokenCache) invalidate() { c.gen.Add(1) }

// authenticate returns the token an Authorization header carries, or nil.
// Every stored hash is compared, in constant time, whatever matches.
func (c *tokenCache) authenticate(ctx context.Context, header string) (*backend.ClientToken, error) {
	value, ok := bearer(header)
	if !ok {
		return nil, nil
	}
	if err := c.refresh(ctx); err != nil {
		return nil, err
	}
	sum := []byte(backend.HashToken(value))
	c.mu.RLock()
	defer c.mu.RUnlock()
	var found *backend.ClientToken
	for _, t := range c.tokens {
		if subtle.ConstantTimeCompare(sum, []byte(t.Hash)) == 1 {
			found = t
		}
	}
	return found, nil
}

// bearer extracts the token of "Authorization: Bearer <token>".
func bearer(header string) (string, bool) {
	scheme, value, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	value = strings.TrimSpace(value)
	return value, value != ""
}

func (c *tokenCache) refresh(ctx context.Context) error {
	want := c.gen.Load()
	c.mu.RLock()
	fresh := c.loaded == want
	c.mu.RUnlock()
	if fresh {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	want = c.gen.Load()
	if c.loaded == want {
		return nil
	}
	list, err := c.store.ListTokens(ctx)
	if err != nil {
		return err
	}
	c.tokens = list
	c.loaded = want
	return nil
}

// ids returns the IDs of the current tokens, or nil when they cannot be
// read.
func (c *tokenCache) ids() map[string]bool {
	if err := c.refresh(context.Background()); err != nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[string]bool, len(c.tokens))
	for _, t := range c.tokens {
		out[t.ID] = true
	}
	return out
}

// touch notes that a token was used; flushTouches writes the notes in
// one transaction, so use costs no write per request.
func (c *tokenCache) touch(id string) {
	now := c.now().UTC()
	c.touchMu.Lock()
	if now.Sub(c.touched[id]) > time.Second {
		c.touched[id] = now
	}
	c.touchMu.Unlock()
}

func (c *tokenCache) flushTouches(ctx context.Context) {
	c.touchMu.Lock()
	used := c.touched
	c.touched = map[string]time.Time{}
	c.touchMu.Unlock()
	if len(used) > 0 {
		_ = c.store.TouchTokens(ctx, used)
	}
}
