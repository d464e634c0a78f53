package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
)

// canary is part of every secret in these tests; it must never show up in
// a log line, an error text, a status or a test result.
const canary = "canary-5ecret-9f27"

// memStore is an in-memory Store.
type memStore struct {
	mu         sync.Mutex
	connectors map[string]*backend.Connector
	tools      map[string][]*backend.Tool
}

func newMemStore(cs ...*backend.Connector) *memStore {
	s := &memStore{connectors: map[string]*backend.Connector{}, tools: map[string][]*backend.Tool{}}
	for _, c := range cs {
		s.put(c)
	}
	return s
}

func (s *memStore) put(c *backend.Connector) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connectors[c.ID] = c.Clone()
}

func (s *memStore) GetConnector(_ context.Context, id string) (*backend.Connector, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.connectors[id]
	if !ok {
		return nil, backend.Errorf(backend.ENOTFOUND, "No connector %q.", id)
	}
	return c.Clone(), nil
}

func (s *memStore) SetDetectedTransport(_ context.Context, id, transport string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.connectors[id]; ok {
		c.DetectedTransport = transport
	}
	return nil
}

func (s *memStore) ListTools(_ context.Context, id string) ([]*backend.Tool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*backend.Tool
	for _, t := range s.tools[id] {
		c := *t
		out = append(out, &c)
	}
	return out, nil
}

func (s *memStore) ReplaceTools(_ context.Context, id string, tools []*backend.Tool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var in []*backend.Tool
	for _, t := range tools {
		c := *t
		in = append(in, &c)
	}
	s.tools[id] = in
	return nil
}

func (s *memStore) UpdateTools(ctx context.Context, id string, fn func([]*backend.Tool) ([]*backend.Tool, error)) error {
	stored, _ := s.ListTools(ctx, id)
	tools, err := fn(stored)
	if err != nil {
		return err
	}
	return s.ReplaceTools(ctx, id, tools)
}

func (s *memStore) tool(id, name string) *backend.Tool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tools[id] {
		if t.Name == name {
			c := *t
			return &c
		}
	}
	return nil
}

func (s *memStore) detected(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connectors[id].DetectedTransport
}

// fakeSecrets resolves keychain references from a map.
type fakeSecrets map[string]string

func (f fakeSecrets) Resolve(_ context.Context, s *backend.Secret) (string, error) {
	if s.Value != "" {
		return s.Value, nil
	}
	if v, ok := f[s.Key]; ok {
		return v, nil
	}
	return "", backend.Errorf(backend.ENOTFOUND, "No secret %q in the keychain.", s.Key)
}

// recorder collects published events and shows each to hook.
type recorder struct {
	mu     sync.Mutex
	events []backend.Event
	hook   func(backend.Event)
}

func (r *recorder) Publish(e backend.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	if r.hook != nil {
		r.hook(e)
	}
}

func (r *recorder) all() []backend.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]backend.Event(nil), r.events...)
}

// syncBuffer is a bytes.Buffer safe for concurrent logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is a Manager with fakes around it. At the end of the test it
// checks that no canary secret reached the log (written at debug level).
type harness struct {
	*Manager
	store  *memStore
	events *recorder
	logs   *syncBuffer

	mu      sync.Mutex
	changes []toolsChangedEvent
	changed chan struct{}
}

func newHarness(t *testing.T, opts Options, cs ...*backend.Connector) *harness {
	t.Helper()
	h := &harness{store: newMemStore(cs...), logs: &syncBuffer{}, changed: make(chan struct{}, 100)}
	// Tool changes are followed as the gateway follows them: through the
	// tools.changed events.
	h.events = &recorder{hook: func(e backend.Event) {
		var ch toolsChangedEvent
		if e.Type != backend.EventToolsChanged || backend.DecodeEvent(e, &ch) != nil {
			return
		}
		h.mu.Lock()
		h.changes = append(h.changes, ch)
		h.mu.Unlock()
		h.changed <- struct{}{}
	}}
	opts.Store = h.store
	if opts.Secrets == nil {
		opts.Secrets = fakeSecrets{"key/api": canary + "-api", "key/header": canary + "-header"}
	}
	opts.Publisher = h.events
	opts.Logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Version = "test"
	if opts.ConnectTimeout == 0 {
		opts.ConnectTimeout = 10 * time.Second
	}
	if opts.BackoffInitial == 0 {
		opts.BackoffInitial, opts.BackoffMax = 50*time.Millisecond, 500*time.Millisecond
	}
	h.Manager = NewManager(opts)
	t.Cleanup(func() {
		h.Close()
		logs := h.logs.String()
		if strings.Contains(logs, canary) {
			t.Errorf("a canary secret reached the log:\n%s", logs)
		}
		for _, e := range h.events.all() {
			if strings.Contains(string(e.Data), canary) {
				t.Errorf("a canary secret reached an event: %s", e.Data)
			}
		}
	})
	return h
}

// connector returns a saved-looking connector for url, with a secret
// custom header so that every test carries a canary.
func connector(id, url, transport string) *backend.Connector {
	return &backend.Connector{
		ID: id, Name: "Test " + id, Slug: id, URL: url, Transport: transport,
		Auth: backend.Auth{Type: backend.AuthNone},
		Headers: []backend.Header{
			{Name: "X-Plain", Value: "plain-value"},
			{Name: "X-Secret", Secret: &backend.Secret{Source: backend.SecretKeychain, Key: "key/header"}},
		},
	}
}

// noCanary fails the test when err's text (or message and fix) carries a
// canary secret.
func noCanary(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var be *backend.Error
	texts := []string{err.Error()}
	if errors.As(err, &be) {
		texts = append(texts, be.Message, be.SuggestedFix)
		if be.Err != nil {
			texts = append(texts, be.Err.Error())
		}
	}
	for _, s := range texts {
		if strings.Contains(s, canary) {
			t.Fatalf("a canary secret reached an error: %s", s)
		}
	}
}

// resultText returns the text content of a tool result.
func resultText(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// mustEcho calls the echo tool of connector id and fails the test unless
// it answers "Echo: " + msg.
func mustEcho(t *testing.T, h *harness, id, msg string) {
	t.Helper()
	res, err := h.Call(context.Background(), id, "echo", args(t, map[string]any{"message": msg}), nil)
	noCanary(t, err)
	if err != nil {
		t.Fatalf("echo %q on %s: %v", msg, id, err)
	}
	if got := resultText(t, res); got != "Echo: "+msg {
		t.Fatalf("echo %q on %s = %q", msg, id, got)
	}
}

func args(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// eventually polls cond until it holds or the (generous) deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
