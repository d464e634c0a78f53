package clients

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/patchbay/patchbay/backend"
)

// memKV is an in-memory KV for unit tests of the service's logic.
type memKV struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (k *memKV) GetKV(_ context.Context, ns, key string, v any) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	b, ok := k.m[ns+"/"+key]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(b, v)
}

func (k *memKV) PutKV(_ context.Context, ns, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string][]byte{}
	}
	k.m[ns+"/"+key] = b
	return nil
}

// memTokens is an in-memory TokenService.
type memTokens struct {
	mu     sync.Mutex
	tokens map[string]*backend.ClientToken
	values map[string]string // id → value, to check what was written
}

func (t *memTokens) IssueToken(_ context.Context, label, client string) (string, *backend.ClientToken, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tokens == nil {
		t.tokens, t.values = map[string]*backend.ClientToken{}, map[string]string{}
	}
	v := backend.NewTokenValue()
	tok := &backend.ClientToken{ID: backend.NewID("t"), Label: label, Client: client, Hint: backend.TokenHint(v), Hash: backend.HashToken(v)}
	t.tokens[tok.ID], t.values[tok.ID] = tok, v
	return v, tok, nil
}

func (t *memTokens) ListTokens(context.Context) ([]*backend.ClientToken, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*backend.ClientToken
	for _, x := range t.tokens {
		out = append(out, x)
	}
	return out, nil
}

func (t *memTokens) RevokeToken(_ context.Context, id string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.tokens[id]; !ok {
		return backend.Errorf(backend.ENOTFOUND, "no token %s", id)
	}
	delete(t.tokens, id)
	return nil
}

func (t *memTokens) live() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.tokens)
}

// memConvs knows the default conversation and "work".
type memConvs struct{ backend.ConversationService }

func (memConvs) GetConversation(_ context.Context, ref string) (*backend.Conversation, error) {
	switch ref {
	case "default", "Default":
		return &backend.Conversation{ID: "v_1", Name: "Default", Slug: "default"}, nil
	case "work", "Work":
		return &backend.Conversation{ID: "v_2", Name: "Work", Slug: "work"}, nil
	}
	return nil, backend.Errorf(backend.ENOTFOUND, "No conversation %q.", ref)
}

const testBinary = "/opt/Patch Bay/bin/patchbay"

type fixture struct {
	svc    *Service
	home   string
	tokens *memTokens
	kv     *memKV
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	home := filepath.Join(root, "home dir")
	os.MkdirAll(home, 0o700)
	f := &fixture{home: home, tokens: &memTokens{}, kv: &memKV{}}
	env := OSEnv()
	env.GOOS, env.Home = "linux", home
	env.Getenv = func(string) string { return "" }
	env.LookPath = func(string) (string, error) { return "", os.ErrNotExist }
	f.svc = New(Options{
		KV: f.kv, Tokens: f.tokens, Conversations: memConvs{},
		BaseURL:   func() string { return "http://127.0.0.1:47821" },
		BackupDir: filepath.Join(root, "data", "client-backups"),
		Env:       env,
		Binary:    func() (string, error) { return testBinary, nil },
		Hostname:  "testhost",
	})
	return f
}

func readFile(t *testing.T, p string) ([]byte, bool) {
	t.Helper()
	b, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return b, true
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
