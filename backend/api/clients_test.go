package api_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/api"
	"github.com/patchbay/patchbay/backend/clients"
	"github.com/patchbay/patchbay/backend/events"
	"github.com/patchbay/patchbay/backend/registry"
	"github.com/patchbay/patchbay/backend/secrets"
	"github.com/patchbay/patchbay/backend/store"
)

// newClientsFixture serves the clients routes over a real store and
// registry, with the clients' files in a temporary home.
func newClientsFixture(t *testing.T) (*fixture, string, *registry.Registry) {
	t.Helper()
	db, err := store.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	hub := events.New()
	reg := registry.New(registry.Options{Store: db, Secrets: secrets.NewMemory(), Publisher: hub})
	home := t.TempDir()
	env := &clients.Env{GOOS: "linux", Home: home, Exists: func(p string) bool { _, err := os.Stat(p); return err == nil }}
	svc := clients.New(clients.Options{
		KV: db, Tokens: reg, Conversations: reg, Env: env,
		BaseURL:   func() string { return "http://127.0.0.1:47821" },
		BackupDir: filepath.Join(t.TempDir(), "client-backups"),
		Binary:    func() (string, error) { return "/usr/local/bin/patchbay", nil },
		Publisher: hub,
	})
	f := &fixture{hub: hub}
	f.srv = api.New(api.Options{
		Services: api.Services{Conversations: reg, Tokens: reg, Settings: reg, Activity: db},
		Events:   hub, AdminToken: adminToken, Version: "test",
	})
	f.srv.HandleClients(svc)
	f.ts = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.ts.Close)
	return f, home, reg
}

func TestClientsRoutesKeepTheUIContract(t *testing.T) {
	f, home, reg := newClientsFixture(t)
	sub := f.hub.Subscribe(64)
	defer sub.Close()

	resp, b := f.do(t, "GET", "/api/v1/clients", "", nil)
	var list []map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(b, &list) != nil || len(list) != len(clients.Catalog()) {
		t.Fatalf("list: %d %s", resp.StatusCode, b)
	}
	for _, k := range []string{"id", "name", "installed", "config_path", "config_exists", "connected", "conversation", "method", "notes"} {
		if _, ok := list[0][k]; !ok {
			t.Errorf("list item lacks %q: %v", k, list[0])
		}
	}

	resp, b = f.do(t, "POST", "/api/v1/clients/cursor/connect", `{"conversation":"default","dry_run":true}`, nil)
	var cr map[string]any
	json.Unmarshal(b, &cr)
	for _, k := range []string{"config_path", "diff", "backup_path", "needs_confirmation", "message"} {
		if _, ok := cr[k]; !ok {
			t.Errorf("connect answer lacks %q: %s", k, b)
		}
	}
	if resp.StatusCode != 200 || cr["config_path"] != filepath.Join(home, ".cursor", "mcp.json") || !strings.Contains(cr["diff"].(string), clients.TokenPlaceholder) {
		t.Fatalf("dry run: %d %s", resp.StatusCode, b)
	}
	if _, err := os.Stat(filepath.Join(home, ".cursor", "mcp.json")); err == nil {
		t.Fatal("dry run wrote the file")
	}

	resp, b = f.do(t, "POST", "/api/v1/clients/cursor/connect", `{"conversation":"default"}`, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"connected":true`) {
		t.Fatalf("connect: %d %s", resp.StatusCode, b)
	}
	tokens, _ := reg.ListTokens(context.Background())
	if len(tokens) != 1 || tokens[0].Client != "cursor" || !strings.HasPrefix(tokens[0].Label, "Cursor") {
		t.Fatalf("tokens: %+v", tokens)
	}
	written, _ := os.ReadFile(filepath.Join(home, ".cursor", "mcp.json"))
	if strings.Contains(string(b), tokenIn(t, written)) {
		t.Fatal("the API answer shows the token")
	}
	// The dry run told nobody; the connect did.
	if got := clientChanges(sub); !slices.Equal(got, []string{"cursor connected"}) {
		t.Fatalf("clients.changed events after a dry run and a connect: %q", got)
	}

	resp, b = f.do(t, "GET", "/api/v1/clients/cursor/snippet?conversation=default", "", nil)
	var sn map[string]any
	if json.Unmarshal(b, &sn); resp.StatusCode != 200 || sn["snippet"] == nil || sn["command"] == nil {
		t.Fatalf("snippet: %d %s", resp.StatusCode, b)
	}

	resp, b = f.do(t, "POST", "/api/v1/clients/cursor/disconnect", `{}`, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"removed":true`) || !strings.Contains(string(b), `"backup_path":"/`) {
		t.Fatalf("disconnect: %d %s", resp.StatusCode, b)
	}
	if tokens, _ := reg.ListTokens(context.Background()); len(tokens) != 0 {
		t.Fatal("disconnect did not revoke the token")
	}
	resp, b = f.do(t, "POST", "/api/v1/clients/cursor/undo", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"restored":true`) {
		t.Fatalf("undo without a body: %d %s", resp.StatusCode, b)
	}
	if got := clientChanges(sub); !slices.Equal(got, []string{"cursor disconnected", "cursor undone"}) {
		t.Fatalf("clients.changed events after a snippet, a disconnect and an undo: %q", got)
	}
	resp, b = f.do(t, "POST", "/api/v1/clients/nope/connect", `{}`, nil)
	if resp.StatusCode != 404 || errorOf(t, b).Slug != "unknown_client" {
		t.Fatalf("unknown client: %d %s", resp.StatusCode, b)
	}
	resp, b = f.do(t, "POST", "/api/v1/clients/cursor/connect", `{"conversation":"default","bogus":1}`, nil)
	if resp.StatusCode != 400 {
		t.Fatalf("unknown field: %d %s", resp.StatusCode, b)
	}
	if errorOf(t, b).Code != backend.EINVALID {
		t.Fatal(string(b))
	}
}

// clientChanges returns the clients.changed events published so far, as
// "client change". The API publishes before it answers, so they are all
// there once the request returned.
func clientChanges(sub *events.Subscription) []string {
	var out []string
	for {
		select {
		case e := <-sub.C:
			if e.Type != clients.EventClientsChanged {
				continue
			}
			var d struct{ Client, Change string }
			backend.DecodeEvent(e, &d)
			out = append(out, d.Client+" "+d.Change)
		default:
			return out
		}
	}
}

// tokenIn returns the client token written into a config file.
func tokenIn(t *testing.T, b []byte) string {
	t.Helper()
	i := strings.Index(string(b), backend.TokenPrefix)
	if i < 0 {
		t.Fatalf("no token in %s", b)
	}
	return string(b[i : i+len(backend.NewTokenValue())])
}
