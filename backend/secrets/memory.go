package secrets

import (
	"context"
	"slices"
	"sync"

	"github.com/patchbay/patchbay/backend"
)

// Operation names passed to a Memory hook.
const (
	OpGet    = "get"
	OpSet    = "set"
	OpDelete = "delete"
)

// Memory is a TEST DOUBLE: a backend.SecretStore that keeps values in a map,
// for unit tests of packages that use a SecretStore. It must never hold real
// secrets in the app; Patchbay has no plain-text fallback.
//
// It behaves like Keychain (same ENOTFOUND error, Delete of a missing key is
// not an error) and is safe for concurrent use. A hook can simulate a slow,
// locked or missing keychain. The zero value is ready to use.
type Memory struct {
	mu     sync.Mutex
	values map[string]string
	hook   func(ctx context.Context, op, key string) error
}

var _ backend.SecretStore = (*Memory)(nil)

// NewMemory returns an empty Memory.
func NewMemory() *Memory { return &Memory{} }

// SetHook installs fn to run before every operation (op is OpGet, OpSet or
// OpDelete). If fn returns an error, the operation returns it and changes
// nothing; fn may block to simulate a slow keychain, and should then honour
// ctx. For example, to simulate a machine without a keychain:
//
//	m.SetHook(func(context.Context, string, string) error { return secrets.NewUnavailableError() })
func (m *Memory) SetHook(fn func(ctx context.Context, op, key string) error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hook = fn
}

func (m *Memory) before(ctx context.Context, op, key string) error {
	if err := ctx.Err(); err != nil {
		return ctxError(err, 0)
	}
	m.mu.Lock()
	hook := m.hook
	m.mu.Unlock()
	if hook != nil {
		return hook(ctx, op, key)
	}
	return nil
}

// Get returns the value stored under key, or an ENOTFOUND *backend.Error.
func (m *Memory) Get(ctx context.Context, key string) (string, error) {
	if err := m.before(ctx, OpGet, key); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.values[key]
	if !ok {
		return "", notFound(key)
	}
	return v, nil
}

// Set stores value under key.
func (m *Memory) Set(ctx context.Context, key, value string) error {
	if err := m.before(ctx, OpSet, key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.values == nil {
		m.values = make(map[string]string)
	}
	m.values[key] = value
	return nil
}

// Delete removes key; deleting a missing key is not an error.
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := m.before(ctx, OpDelete, key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.values, key)
	return nil
}

// Keys returns the stored keys in order, for assertions in tests.
func (m *Memory) Keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]string, 0, len(m.values))
	for k := range m.values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
