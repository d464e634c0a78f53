package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/store"
)

func open(t testing.TB, dir string, opts *store.Options) *store.DB {
	t.Helper()
	db, err := store.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var ctx = context.Background()

func connector(name string) *backend.Connector {
	c := &backend.Connector{ID: backend.NewID("c"), Name: name, URL: "https://example.com/mcp"}
	c.Normalize()
	return c
}

func TestOpenCreatesDefaultConversationAndSettings(t *testing.T) {
	db := open(t, t.TempDir(), nil)
	convs, err := db.ListConversations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) != 1 || !convs[0].IsDefault() || convs[0].Path() != "/mcp" {
		t.Fatalf("want one default conversation at /mcp, got %+v", convs)
	}
	if got, want := db.Settings(), backend.DefaultSettings(); got != want {
		t.Fatalf("settings = %+v, want defaults %+v", got, want)
	}
}

func TestReopenKeepsDataAndDoesNotRemigrate(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := connector("Kept")
	if err := db.PutConnector(ctx, c); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, dir, nil)
	got, err := db.GetConnector(ctx, c.ID)
	if err != nil || got.Name != "Kept" {
		t.Fatalf("after reopen: %v, %+v", err, got)
	}
	convs, _ := db.ListConversations(ctx)
	if len(convs) != 1 {
		t.Fatalf("reopen created another default conversation: %d conversations", len(convs))
	}
}

func TestSecondOpenReportsAlreadyRunningQuickly(t *testing.T) {
	dir := t.TempDir()
	open(t, dir, nil)
	start := time.Now()
	_, err := store.Open(dir, &store.Options{LockTimeout: 300 * time.Millisecond})
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("second Open succeeded; want already-running error")
	}
	if backend.ErrorCode(err) != backend.ECONFLICT {
		t.Fatalf("code = %q, want conflict (%v)", backend.ErrorCode(err), err)
	}
	want := fmt.Sprintf("already running (pid %d)", os.Getpid())
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
	if elapsed > 2*time.Second {
		t.Fatalf("second Open took %s; must fail fast", elapsed)
	}
}

func TestSchemaTooNewIsRefused(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := store.SetSchemaVersionForTest(dir, store.SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(dir, nil)
	if err == nil || !strings.Contains(err.Error(), "newer Patchbay") {
		t.Fatalf("want newer-schema error, got %v", err)
	}
}

func TestPutConnectorRefusesSecretValues(t *testing.T) {
	db := open(t, t.TempDir(), nil)
	c := connector("Leaky")
	c.Auth = backend.Auth{Type: backend.AuthAPIKey, APIKey: &backend.APIKeyAuth{In: "header", Name: "X-Key", Value: &backend.Secret{Value: "canary-secret-123"}}}
	err := db.PutConnector(ctx, c)
	if err == nil {
		t.Fatal("PutConnector saved a connector with a secret value")
	}
	if strings.Contains(err.Error(), "canary-secret-123") {
		t.Fatal("error text contains the secret")
	}
	db.Close()
	raw, _ := os.ReadFile(filepath.Join(db.Dir(), store.DBFile))
	if strings.Contains(string(raw), "canary-secret-123") {
		t.Fatal("secret reached the database file")
	}
}

func TestConnectorLookupAndDeleteCascade(t *testing.T) {
	db := open(t, t.TempDir(), nil)
	a, b := connector("Alpha Docs"), connector("beta")
	for _, c := range []*backend.Connector{a, b} {
		if err := db.PutConnector(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, ref := range []string{a.ID, "alpha-docs", "ALPHA DOCS", " Alpha Docs "} {
		got, err := db.FindConnector(ctx, ref)
		if err != nil || got.ID != a.ID {
			t.Errorf("FindConnector(%q) = %v, %v", ref, got, err)
		}
	}
	if _, err := db.FindConnector(ctx, "nope"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Errorf("missing connector: code %q", backend.ErrorCode(err))
	}
	list, _ := db.ListConnectors(ctx)
	if len(list) != 2 || list[0].Name != "Alpha Docs" {
		t.Fatalf("list order: %+v", list)
	}

	def, _ := db.FindConversation(ctx, backend.DefaultConversationSlug)
	def.Connectors = []string{a.ID, b.ID}
	if err := db.PutConversation(ctx, def); err != nil {
		t.Fatal(err)
	}
	if err := db.ReplaceTools(ctx, a.ID, []*backend.Tool{{ConnectorID: a.ID, ToolDef: backend.ToolDef{Name: "search"}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteConnector(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	def, _ = db.FindConversation(ctx, "default")
	if len(def.Connectors) != 1 || def.Connectors[0] != b.ID {
		t.Fatalf("conversation still lists deleted connector: %v", def.Connectors)
	}
	if tools, _ := db.ListTools(ctx, a.ID); len(tools) != 0 {
		t.Fatalf("tools of deleted connector remain: %v", tools)
	}
	if err := db.DeleteConnector(ctx, a.ID); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("second delete: %v", err)
	}
}

func TestToolsReplaceAndUpdate(t *testing.T) {
	db := open(t, t.TempDir(), nil)
	c := connector("Tools")
	db.PutConnector(ctx, c)
	tools := []*backend.Tool{
		{ConnectorID: c.ID, ToolDef: backend.ToolDef{Name: "b", InputSchema: json.RawMessage(`{"type":"object"}`)}, Policy: backend.PolicyNeedsApproval},
		{ConnectorID: c.ID, ToolDef: backend.ToolDef{Name: "a"}, Policy: backend.PolicyAlwaysAllow},
	}
	if err := db.ReplaceTools(ctx, c.ID, tools); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateTool(ctx, c.ID, "b", func(t *backend.Tool) error { t.Policy = backend.PolicyDisabled; return nil }); err != nil {
		t.Fatal(err)
	}
	got, _ := db.ListTools(ctx, c.ID)
	if len(got) != 2 || got[0].Name != "a" || got[1].Policy != backend.PolicyDisabled || string(got[1].InputSchema) != `{"type":"object"}` {
		t.Fatalf("tools = %+v", got)
	}
	if err := db.ReplaceTools(ctx, c.ID, tools[:1]); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.ListTools(ctx, c.ID); len(got) != 1 {
		t.Fatalf("replace kept old tools: %d", len(got))
	}
	if err := db.UpdateTool(ctx, c.ID, "zzz", func(*backend.Tool) error { return nil }); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("update of missing tool: %v", err)
	}
	if err := db.ReplaceTools(ctx, "c_missing", tools); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("tools for missing connector: %v", err)
	}
}

func TestDefaultConversationCannotBeDeleted(t *testing.T) {
	db := open(t, t.TempDir(), nil)
	def, _ := db.FindConversation(ctx, "default")
	if err := db.DeleteConversation(ctx, def.ID); backend.ErrorCode(err) != backend.EINVALID {
		t.Fatalf("delete default: %v", err)
	}
	other := &backend.Conversation{ID: backend.NewID("v"), Name: "Research", Slug: "research"}
	db.PutConversation(ctx, other)
	if err := db.DeleteConversation(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindConversation(ctx, "research"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("deleted conversation still found: %v", err)
	}
}

func TestTokensKeepHashOnDiskButNotInJSON(t *testing.T) {
	db := open(t, t.TempDir(), nil)
	value := backend.NewTokenValue()
	tok := &backend.ClientToken{ID: backend.NewID("t"), Label: "Cursor", Hash: backend.HashToken(value), Hint: backend.TokenHint(value), CreatedAt: time.Now()}
	if err := db.PutToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	list, _ := db.ListTokens(ctx)
	if len(list) != 1 || backend.HashToken(value) != list[0].Hash {
		t.Fatalf("stored token does not match: %+v", list)
	}
	out, _ := json.Marshal(list[0])
	if strings.Contains(string(out), list[0].Hash) {
		t.Fatal("token hash appears in JSON output")
	}
	used := time.Now().Add(time.Minute)
	if err := db.TouchTokens(ctx, map[string]time.Time{tok.ID: used}); err != nil {
		t.Fatal(err)
	}
	list, _ = db.ListTokens(ctx)
	if !list[0].LastUsedAt.Equal(used) {
		t.Fatalf("last used = %v, want %v", list[0].LastUsedAt, used)
	}
	db.Close()
	raw, _ := os.ReadFile(filepath.Join(db.Dir(), store.DBFile))
	if strings.Contains(string(raw), value) {
		t.Fatal("the token value reached the database file")
	}
}

func TestSettingsValidatedAndPersisted(t *testing.T) {
	dir := t.TempDir()
	db, _ := store.Open(dir, nil)
	s := db.Settings()
	s.Port = 80
	if err := db.PutSettings(ctx, &s); backend.ErrorCode(err) != backend.EINVALID {
		t.Fatalf("bad port accepted: %v", err)
	}
	s = db.Settings()
	s.ApprovalTimeoutSeconds = 30
	if err := db.PutSettings(ctx, &s); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, dir, nil)
	if db.Settings().ApprovalTimeoutSeconds != 30 {
		t.Fatalf("settings not persisted: %+v", db.Settings())
	}
}

func TestKVNamespaces(t *testing.T) {
	db := open(t, t.TempDir(), nil)
	db.PutKV(ctx, "oauth", "c_1/meta", map[string]string{"issuer": "a"})
	db.PutKV(ctx, "oauth", "c_1/other", 1)
	db.PutKV(ctx, "oauth", "c_2/meta", 2)
	var m map[string]string
	if ok, err := db.GetKV(ctx, "oauth", "c_1/meta", &m); !ok || err != nil || m["issuer"] != "a" {
		t.Fatalf("GetKV: %v %v %v", ok, err, m)
	}
	if err := db.DeleteKV(ctx, "oauth", "c_1/"); err != nil {
		t.Fatal(err)
	}
	var n int
	if ok, _ := db.GetKV(ctx, "oauth", "c_1/other", &n); ok {
		t.Fatal("DeleteKV left a key")
	}
	if ok, _ := db.GetKV(ctx, "oauth", "c_2/meta", &n); !ok || n != 2 {
		t.Fatal("DeleteKV removed another prefix")
	}
}

func TestActivityAppendListFilterPage(t *testing.T) {
	var mu sync.Mutex
	var written []uint64
	db := open(t, t.TempDir(), &store.Options{OnActivity: func(es []*backend.ActivityEntry) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range es {
			written = append(written, e.Seq)
		}
	}})
	for i := 0; i < 25; i++ {
		outcome := backend.OutcomeOK
		if i%5 == 0 {
			outcome = backend.OutcomeDenied
		}
		db.AppendActivity(&backend.ActivityEntry{
			Conversation: "default", ConnectorID: "c_" + strconv.Itoa(i%2), Tool: "echo", ExposedName: "x_echo",
			Arguments: json.RawMessage(fmt.Sprintf(`{"message":"hello %d <b> say \"hi\""}`, i)), Outcome: outcome,
		})
	}
	page, err := db.ListActivity(ctx, backend.ActivityFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 10 || page.Entries[0].Seq != 25 || page.Entries[9].Seq != 16 || page.Next != 16 {
		t.Fatalf("first page: %d entries, first %d, next %d", len(page.Entries), page.Entries[0].Seq, page.Next)
	}
	page2, _ := db.ListActivity(ctx, backend.ActivityFilter{Limit: 10, Before: page.Next})
	if page2.Entries[0].Seq != 15 {
		t.Fatalf("second page starts at %d, want 15", page2.Entries[0].Seq)
	}
	denied, _ := db.ListActivity(ctx, backend.ActivityFilter{Outcome: backend.OutcomeDenied, Limit: 100})
	if len(denied.Entries) != 5 {
		t.Fatalf("denied = %d, want 5", len(denied.Entries))
	}
	byConn, _ := db.ListActivity(ctx, backend.ActivityFilter{ConnectorID: "c_1", Limit: 100})
	if len(byConn.Entries) != 12 {
		t.Fatalf("c_1 entries = %d, want 12", len(byConn.Entries))
	}
	for _, q := range []string{"HELLO 7 <B>", `say "hi"`, "x_echo"} {
		r, _ := db.ListActivity(ctx, backend.ActivityFilter{Text: q, Limit: 100})
		if len(r.Entries) == 0 {
			t.Errorf("text %q found nothing", q)
		}
	}
	r, _ := db.ListActivity(ctx, backend.ActivityFilter{Text: "hello 7 <b>", Limit: 100})
	if len(r.Entries) != 1 || r.Entries[0].Seq != 8 {
		t.Fatalf("text search with JSON-escaped characters: %+v", r.Entries)
	}
	after, _ := db.ListActivity(ctx, backend.ActivityFilter{After: 20, Limit: 100})
	if len(after.Entries) != 5 {
		t.Fatalf("after 20: %d entries", len(after.Entries))
	}
	e, err := db.GetActivity(ctx, 3)
	if err != nil || e.Seq != 3 || e.Time.IsZero() {
		t.Fatalf("GetActivity: %+v %v", e, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(written) != 25 {
		t.Fatalf("OnActivity saw %d entries, want 25", len(written))
	}
}

func TestActivityRetentionByAgeAndSize(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	var clockMu sync.Mutex
	clock := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	db := open(t, t.TempDir(), &store.Options{Now: clock})
	s := db.Settings()
	s.ActivityRetentionDays = 7
	s.ActivityMaxEntries = 100
	if err := db.PutSettings(ctx, &s); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		db.AppendActivity(&backend.ActivityEntry{Time: now.AddDate(0, 0, -10), Tool: "old", Outcome: "ok"})
	}
	db.FlushActivity()
	for i := 0; i < 150; i++ {
		db.AppendActivity(&backend.ActivityEntry{Time: now, Tool: "new" + strconv.Itoa(i), Outcome: "ok"})
	}
	db.FlushActivity()
	page, _ := db.ListActivity(ctx, backend.ActivityFilter{Limit: 1000})
	if len(page.Entries) != 100 {
		t.Fatalf("after size retention: %d entries, want 100", len(page.Entries))
	}
	if last := page.Entries[len(page.Entries)-1]; last.Tool != "new50" {
		t.Fatalf("oldest kept = %s, want new50 (oldest removed first)", last.Tool)
	}
	for _, e := range page.Entries {
		if e.Tool == "old" {
			t.Fatal("an entry older than the retention age survived")
		}
	}
}

func TestActivityFlushedOnClose(t *testing.T) {
	dir := t.TempDir()
	db, _ := store.Open(dir, &store.Options{ActivityFlushInterval: time.Hour})
	db.AppendActivity(&backend.ActivityEntry{Tool: "last", Outcome: "ok"})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(t, dir, nil)
	page, _ := db.ListActivity(ctx, backend.ActivityFilter{})
	if len(page.Entries) != 1 || page.Entries[0].Tool != "last" {
		t.Fatalf("entry lost on close: %+v", page.Entries)
	}
}

func TestClosedDatabaseErrors(t *testing.T) {
	db := open(t, t.TempDir(), nil)
	db.Close()
	if _, err := db.ListConnectors(ctx); err == nil || backend.ErrorCode(err) != backend.EUNAVAILABLE {
		t.Fatalf("closed db: %v", err)
	}
	var e *backend.Error
	if _, err := db.GetConnector(ctx, "x"); !errors.As(err, &e) {
		t.Fatalf("closed db error is not a *backend.Error: %v", err)
	}
}

func TestUpdateToolsIsOneTransaction(t *testing.T) {
	db := open(t, t.TempDir(), nil)
	c := connector("Tools")
	db.PutConnector(ctx, c)
	db.ReplaceTools(ctx, c.ID, []*backend.Tool{{ConnectorID: c.ID, ToolDef: backend.ToolDef{Name: "a"}, Policy: backend.PolicyNeedsApproval}})
	err := db.UpdateTools(ctx, c.ID, func(stored []*backend.Tool) ([]*backend.Tool, error) {
		if len(stored) != 1 || stored[0].Name != "a" {
			t.Errorf("fn saw %+v", stored)
		}
		return append(stored, &backend.Tool{ConnectorID: c.ID, ToolDef: backend.ToolDef{Name: "b"}}), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := db.ListTools(ctx, c.ID); len(got) != 2 || got[0].Policy != backend.PolicyNeedsApproval {
		t.Fatalf("after UpdateTools: %+v", got)
	}
	boom := errors.New("boom")
	if err := db.UpdateTools(ctx, c.ID, func([]*backend.Tool) ([]*backend.Tool, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("error not returned: %v", err)
	}
	if got, _ := db.ListTools(ctx, c.ID); len(got) != 2 {
		t.Fatalf("a failed UpdateTools changed the tools: %+v", got)
	}
}
