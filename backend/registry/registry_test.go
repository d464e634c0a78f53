package registry_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/registry"
	"github.com/patchbay/patchbay/backend/secrets"
	"github.com/patchbay/patchbay/backend/store"
)

const canary = "canary-7c1f0e-do-not-leak"

var ctx = context.Background()

type fixture struct {
	reg *registry.Registry
	db  *store.DB
	mem *secrets.Memory
	dir string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mem := secrets.NewMemory()
	return &fixture{reg: registry.New(registry.Options{Store: db, Secrets: mem}), db: db, mem: mem, dir: dir}
}

func apiKeyConnector(name string) *backend.Connector {
	return &backend.Connector{
		Name: name, URL: "https://mcp.example.com/mcp",
		Auth: backend.Auth{Type: backend.AuthAPIKey, APIKey: &backend.APIKeyAuth{
			In: "header", Name: "Authorization", Prefix: "Bearer ", Value: &backend.Secret{Value: canary + "-key"},
		}},
		Headers: []backend.Header{
			{Name: "X-Team", Value: "core"},
			{Name: "X-Secret", Secret: &backend.Secret{Value: canary + "-header"}},
		},
	}
}

func (f *fixture) assertNoCanaryOnDisk(t *testing.T) {
	t.Helper()
	f.db.Close()
	filepath.Walk(f.dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), canary) {
			t.Errorf("secret canary found in %s", path)
		}
		return nil
	})
}

func TestCreateMovesSecretsToKeychain(t *testing.T) {
	f := newFixture(t)
	c, err := f.reg.CreateConnector(ctx, apiKeyConnector("Docs Search"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Slug != "docs-search" || c.ID == "" {
		t.Fatalf("slug %q id %q", c.Slug, c.ID)
	}
	key := c.Auth.APIKey.Value
	if key.Value != "" || key.Source != backend.SecretKeychain || key.Key == "" {
		t.Fatalf("api key not a keychain reference: %#v", key)
	}
	if v, _ := f.mem.Get(ctx, key.Key); v != canary+"-key" {
		t.Fatalf("keychain holds %q", v)
	}
	if v, _ := f.mem.Get(ctx, c.Headers[1].Secret.Key); v != canary+"-header" {
		t.Fatalf("header secret in keychain = %q", v)
	}
	def, _ := f.reg.GetConversation(ctx, "default")
	if !def.Enabled(c.ID) {
		t.Fatal("new connector is not enabled in the default conversation")
	}
	f.assertNoCanaryOnDisk(t)
}

func TestCreateRollsBackWhenKeychainFails(t *testing.T) {
	f := newFixture(t)
	calls := 0
	f.mem.SetHook(func(_ context.Context, op, key string) error {
		if op == secrets.OpSet {
			calls++
			if calls == 2 {
				return secrets.NewUnavailableError()
			}
		}
		return nil
	})
	_, err := f.reg.CreateConnector(ctx, apiKeyConnector("Docs"))
	if err == nil {
		t.Fatal("create succeeded with a failing keychain")
	}
	if backend.ErrorCode(err) != backend.EUNAVAILABLE || !strings.Contains(err.Error(), "Nothing was saved") {
		t.Fatalf("error: %v", err)
	}
	if strings.Contains(err.Error(), canary) {
		t.Fatal("error text contains a secret")
	}
	if keys := f.mem.Keys(); len(keys) != 0 {
		t.Fatalf("keychain entries left behind: %v", keys)
	}
	if list, _ := f.reg.ListConnectors(ctx); len(list) != 0 {
		t.Fatalf("connector saved despite failure: %v", list)
	}
}

func TestNameAndSlugMustBeUnique(t *testing.T) {
	f := newFixture(t)
	if _, err := f.reg.CreateConnector(ctx, &backend.Connector{Name: "Linear", URL: "https://a.example/mcp"}); err != nil {
		t.Fatal(err)
	}
	_, err := f.reg.CreateConnector(ctx, &backend.Connector{Name: "linear", URL: "https://b.example/mcp"})
	var be *backend.Error
	if !errors.As(err, &be) || be.Code != backend.EINVALID {
		t.Fatalf("duplicate name: %v", err)
	}
	fields := map[string]string{}
	for _, fe := range be.Fields {
		fields[fe.Field] = fe.Message
	}
	if !strings.Contains(fields["name"], "already called") || !strings.Contains(fields["slug"], "already used") {
		t.Fatalf("fields = %v", fields)
	}
	if _, err := f.reg.CreateConnector(ctx, &backend.Connector{Name: "Linear 2", Slug: "linear", URL: "https://b.example/mcp"}); err == nil {
		t.Fatal("duplicate slug accepted")
	}
}

func TestUpdateKeepsReplacesAndRemovesSecrets(t *testing.T) {
	f := newFixture(t)
	c, _ := f.reg.CreateConnector(ctx, apiKeyConnector("Docs"))
	other, _ := f.reg.CreateConnector(ctx, apiKeyConnector("Other"))
	oldKey, oldHeaderKey := c.Auth.APIKey.Value.Key, c.Headers[1].Secret.Key

	// Keep: source without value. The input's Key is ignored: a request
	// must not be able to point at another connector's secret.
	in := c.Clone()
	in.Auth.APIKey.Value = &backend.Secret{Source: backend.SecretKeychain, Key: other.Auth.APIKey.Value.Key}
	in.Description = "edited"
	got, err := f.reg.UpdateConnector(ctx, c.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if got.Auth.APIKey.Value.Key != oldKey {
		t.Fatalf("kept secret points at %q, want %q", got.Auth.APIKey.Value.Key, oldKey)
	}

	// Replace the key, remove the secret header, switch to an env reference.
	in = got.Clone()
	in.Auth.APIKey.Value = &backend.Secret{Value: canary + "-new"}
	in.Headers = []backend.Header{{Name: "X-Env", Secret: &backend.Secret{Value: "${TEAM_TOKEN}"}}}
	got, err = f.reg.UpdateConnector(ctx, c.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	newKey := got.Auth.APIKey.Value.Key
	if newKey == oldKey {
		t.Fatal("a new value reused the old keychain entry")
	}
	if v, _ := f.mem.Get(ctx, newKey); v != canary+"-new" {
		t.Fatalf("new value = %q", v)
	}
	for _, k := range []string{oldKey, oldHeaderKey} {
		if _, err := f.mem.Get(ctx, k); backend.ErrorCode(err) != backend.ENOTFOUND {
			t.Errorf("stale keychain entry %s not deleted", k)
		}
	}
	if h := got.Headers[0].Secret; h.Source != backend.SecretEnv || h.Env != "TEAM_TOKEN" {
		t.Fatalf("env header = %#v", h)
	}

	// Keeping a secret that was never saved is an error, and nothing changes.
	in = got.Clone()
	in.Headers = []backend.Header{{Name: "X-New", Secret: &backend.Secret{Source: backend.SecretKeychain}}}
	if _, err := f.reg.UpdateConnector(ctx, c.ID, in); err == nil || !strings.Contains(err.Error(), "no saved value") {
		t.Fatalf("keep without saved value: %v", err)
	}
	still, _ := f.reg.GetConnector(ctx, c.ID)
	if still.Headers[0].Name != "X-Env" {
		t.Fatal("a failed update changed the saved connector")
	}
	f.assertNoCanaryOnDisk(t)
}

func TestUpdateFailureKeepsOldSecret(t *testing.T) {
	f := newFixture(t)
	c, _ := f.reg.CreateConnector(ctx, apiKeyConnector("Docs"))
	in := c.Clone()
	in.Auth.APIKey.Value = &backend.Secret{Value: "replacement"}
	in.URL = "ftp://bad" // validation fails after nothing was written
	if _, err := f.reg.UpdateConnector(ctx, c.ID, in); err == nil {
		t.Fatal("bad update accepted")
	}
	if v, _ := f.mem.Get(ctx, c.Auth.APIKey.Value.Key); v != canary+"-key" {
		t.Fatalf("old secret lost: %q", v)
	}
	if n := len(f.mem.Keys()); n != 2 {
		t.Fatalf("keychain has %d entries, want the original 2", n)
	}
}

func TestDeleteRemovesSecretsOAuthStateAndConversationRefs(t *testing.T) {
	f := newFixture(t)
	c, _ := f.reg.CreateConnector(ctx, apiKeyConnector("Docs"))
	f.mem.Set(ctx, backend.OAuthSecretKey(c.ID, "token"), "tok")
	f.db.PutKV(ctx, "oauth", c.ID+"/metadata", "x")
	if err := f.reg.DeleteConnector(ctx, "Docs"); err != nil {
		t.Fatal(err)
	}
	if keys := f.mem.Keys(); len(keys) != 0 {
		t.Fatalf("keychain entries left after delete: %v", keys)
	}
	var s string
	if ok, _ := f.db.GetKV(ctx, "oauth", c.ID+"/metadata", &s); ok {
		t.Fatal("OAuth metadata left after delete")
	}
	def, _ := f.reg.GetConversation(ctx, "default")
	if def.Enabled(c.ID) {
		t.Fatal("default conversation still lists the deleted connector")
	}
}

func TestConversations(t *testing.T) {
	f := newFixture(t)
	a, _ := f.reg.CreateConnector(ctx, &backend.Connector{Name: "Alpha", URL: "https://a.example/mcp"})
	f.reg.CreateConnector(ctx, &backend.Connector{Name: "Beta", URL: "https://b.example/mcp"})

	conv, err := f.reg.CreateConversation(ctx, &backend.Conversation{Name: "Research Notes", Connectors: []string{"alpha"}})
	if err != nil {
		t.Fatal(err)
	}
	if conv.Slug != "research-notes" || conv.Path() != "/mcp/research-notes" || !slices.Equal(conv.Connectors, []string{a.ID}) {
		t.Fatalf("conversation = %+v", conv)
	}
	_, err = f.reg.CreateConversation(ctx, &backend.Conversation{Name: "research notes", Connectors: []string{"nope"}, AllowedTools: []string{"bad name!"}})
	var be *backend.Error
	if !errors.As(err, &be) || len(be.Fields) != 3 {
		t.Fatalf("want 3 problems (slug taken, unknown connector, bad tool), got %v", err)
	}
	if be.SuggestedFix == "" {
		t.Fatal("validation error has no suggested fix")
	}
	conv, err = f.reg.SetConnectorEnabled(ctx, "research-notes", "Beta", true)
	if err != nil || len(conv.Connectors) != 2 {
		t.Fatalf("enable: %v %v", conv, err)
	}
	conv, _ = f.reg.SetConnectorEnabled(ctx, conv.ID, "alpha", false)
	if conv.Enabled(a.ID) {
		t.Fatal("disable did not remove the connector")
	}
	if _, err := f.reg.UpdateConversation(ctx, "default", &backend.Conversation{Name: "Main", Slug: "main"}); err == nil {
		t.Fatal("default conversation slug changed")
	}
	def, err := f.reg.UpdateConversation(ctx, "default", &backend.Conversation{Name: "Main"})
	if err != nil || def.Slug != "default" || def.Name != "Main" {
		t.Fatalf("rename default: %+v %v", def, err)
	}
	if err := f.reg.DeleteConversation(ctx, "default"); err == nil {
		t.Fatal("default conversation deleted")
	}
	if _, err := f.reg.CreateConversation(ctx, &backend.Conversation{Name: "API"}); err == nil {
		t.Fatal("reserved slug accepted")
	}
	if err := f.reg.DeleteConversation(ctx, "research-notes"); err != nil {
		t.Fatal(err)
	}
}

func TestTokens(t *testing.T) {
	f := newFixture(t)
	if _, _, err := f.reg.IssueToken(ctx, "  ", ""); err == nil {
		t.Fatal("empty label accepted")
	}
	value, tok, err := f.reg.IssueToken(ctx, "Cursor on this laptop", "cursor")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(value, backend.TokenPrefix) || backend.HashToken(value) != tok.Hash {
		t.Fatalf("token %q does not match its hash", value)
	}
	list, _ := f.reg.ListTokens(ctx)
	if len(list) != 1 || list[0].Label != "Cursor on this laptop" {
		t.Fatalf("tokens = %+v", list)
	}
	if err := f.reg.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := f.reg.ListTokens(ctx); len(list) != 0 {
		t.Fatal("revoked token still listed")
	}
	f.assertNoTokenOnDisk(t, value)
}

func (f *fixture) assertNoTokenOnDisk(t *testing.T, value string) {
	f.db.Close()
	b, _ := os.ReadFile(filepath.Join(f.dir, store.DBFile))
	if strings.Contains(string(b), value) {
		t.Fatal("token value on disk")
	}
}

func TestToolPolicyAndAccept(t *testing.T) {
	f := newFixture(t)
	c, _ := f.reg.CreateConnector(ctx, &backend.Connector{Name: "Alpha", URL: "https://a.example/mcp"})
	tools, _ := backend.MergeTools(c, nil, []backend.ToolDef{{Name: "read", Description: "v1"}, {Name: "write"}}, "", f.db.Now())
	f.db.ReplaceTools(ctx, c.ID, tools)
	if err := f.reg.SetToolPolicy(ctx, "alpha", []string{"read"}, "sometimes"); err == nil {
		t.Fatal("invalid policy accepted")
	}
	if err := f.reg.SetToolPolicy(ctx, "alpha", nil, backend.PolicyDisabled); err != nil {
		t.Fatal(err)
	}
	got, _ := f.reg.ListTools(ctx, "alpha")
	for _, tl := range got {
		if tl.Policy != backend.PolicyDisabled {
			t.Fatalf("bulk policy missed %s", tl.Name)
		}
	}
	if err := f.reg.AcceptToolChange(ctx, "alpha", "read"); err == nil {
		t.Fatal("accept without a pending change succeeded")
	}
	stored, _ := f.db.ListTools(ctx, c.ID)
	merged, ch := backend.MergeTools(c, stored, []backend.ToolDef{{Name: "read", Description: "v2"}, {Name: "write"}}, "", f.db.Now())
	if len(ch.Changed) != 1 {
		t.Fatalf("changes = %+v", ch)
	}
	f.db.ReplaceTools(ctx, c.ID, merged)
	if err := f.reg.AcceptToolChange(ctx, "alpha", "read"); err != nil {
		t.Fatal(err)
	}
	got, _ = f.reg.ListTools(ctx, "alpha")
	if got[0].Held() || got[0].Description != "v2" {
		t.Fatalf("after accept: %+v", got[0])
	}
}

// The form's Test button tests an unsaved connector: kept secrets come from
// the saved connector, and a keychain key named by the input is never used,
// so a test cannot send another connector's secret to the URL in the form.
func TestUnsavedConnectorKeepsOnlyItsOwnSecrets(t *testing.T) {
	f := newFixture(t)
	c, _ := f.reg.CreateConnector(ctx, apiKeyConnector("Docs"))
	other, _ := f.reg.CreateConnector(ctx, apiKeyConnector("Other"))

	in := c.Clone()
	in.URL = "https://elsewhere.example/mcp"
	in.Auth.APIKey.Value = &backend.Secret{Source: backend.SecretKeychain, Key: other.Auth.APIKey.Value.Key}
	got, err := f.reg.UnsavedConnector(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got.Auth.APIKey.Value.Key != c.Auth.APIKey.Value.Key {
		t.Fatalf("kept key = %q, want the saved connector's %q", got.Auth.APIKey.Value.Key, c.Auth.APIKey.Value.Key)
	}

	// A new connector (no ID) has nothing to keep: naming another
	// connector's entry is refused, not followed.
	in = apiKeyConnector("New")
	in.Auth.APIKey.Value = &backend.Secret{Source: backend.SecretKeychain, Key: other.Auth.APIKey.Value.Key}
	if _, err := f.reg.UnsavedConnector(ctx, in); err == nil || !strings.Contains(err.Error(), "no saved value to keep") {
		t.Fatalf("foreign keychain key in an unsaved connector: %v", err)
	}

	// New values are kept in place for the test; nothing reaches the keychain.
	before := len(f.mem.Keys())
	got, err = f.reg.UnsavedConnector(ctx, apiKeyConnector("Fresh"))
	if err != nil || got.Auth.APIKey.Value.Value != canary+"-key" {
		t.Fatalf("new value for the test: %+v %v", got.Auth.APIKey.Value, err)
	}
	if len(f.mem.Keys()) != before {
		t.Fatal("a connection test wrote to the keychain")
	}
	if list, _ := f.reg.ListConnectors(ctx); len(list) != 2 {
		t.Fatalf("a connection test saved a connector: %d connectors", len(list))
	}
}
