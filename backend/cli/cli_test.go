package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/api"
	"github.com/patchbay/patchbay/backend/cli"
	"github.com/patchbay/patchbay/backend/clients"
	"github.com/patchbay/patchbay/backend/events"
	"github.com/patchbay/patchbay/backend/registry"
	"github.com/patchbay/patchbay/backend/secrets"
	"github.com/patchbay/patchbay/backend/store"
)

// world is an in-process backend (real store, in-memory keychain) behind
// the real admin API, and a way to run the CLI against it.
type world struct {
	t    *testing.T
	mem  *secrets.Memory
	api  *api.Server
	home string // the home directory client setup writes into
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db, err := store.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mem := secrets.NewMemory()
	hub := events.New()
	reg := registry.New(registry.Options{Store: db, Secrets: mem, Publisher: hub})
	srv := api.New(api.Options{Services: api.Services{
		Connectors: reg, Tools: reg, Conversations: reg, Tokens: reg, Settings: reg, Activity: db,
	}, Events: hub})
	home := t.TempDir()
	srv.HandleClients(clients.New(clients.Options{
		KV: db, Tokens: reg, Conversations: reg, BackupDir: t.TempDir(), Hostname: "test",
		BaseURL: func() string { return "http://127.0.0.1:47821" },
		Env:     &clients.Env{GOOS: "linux", Home: home},
	}))
	return &world{t: t, mem: mem, api: srv, home: home}
}

type result struct {
	code           int
	stdout, stderr string
}

func (w *world) run(stdin string, args ...string) result {
	var out, errb bytes.Buffer
	env := &cli.Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Connect: func(context.Context) (*api.Client, func(), error) {
			return api.NewInProcessClient(w.api.InProcessHandler()), func() {}, nil
		},
		Version: "test",
	}
	code := cli.Run(context.Background(), env, args)
	return result{code, out.String(), errb.String()}
}

func TestUsageAndUnknownCommands(t *testing.T) {
	w := newWorld(t)
	if r := w.run("", "help"); r.code != cli.ExitOK || !strings.Contains(r.stderr, "connector") {
		t.Fatalf("help: %+v", r)
	}
	if r := w.run(""); r.code != cli.ExitUsage {
		t.Fatalf("no args: code %d", r.code)
	}
	if r := w.run("", "frobnicate"); r.code != cli.ExitUsage || !strings.Contains(r.stderr, "unknown command") {
		t.Fatalf("unknown command: %+v", r)
	}
	if r := w.run("", "connector", "fly"); r.code != cli.ExitUsage || !strings.Contains(r.stderr, "unknown subcommand") {
		t.Fatalf("unknown subcommand: %+v", r)
	}
	if r := w.run("", "connector", "show"); r.code != cli.ExitUsage || !strings.Contains(r.stderr, "Usage: patchbay connector show") {
		t.Fatalf("missing argument: %+v", r)
	}
	if r := w.run("", "version"); r.code != 0 || r.stdout != "patchbay test\n" {
		t.Fatalf("version: %+v", r)
	}
}

func TestSecretsComeFromStdinOrEnvNeverFromFlags(t *testing.T) {
	w := newWorld(t)
	r := w.run("", "connector", "add", "--name", "A", "--url", "https://a.example/mcp", "--bearer", "--api-key", "sk-in-history")
	if r.code != cli.ExitError || !strings.Contains(r.stderr, "shell history") || strings.Contains(r.stderr, "sk-in-history") {
		t.Fatalf("secret flag value accepted or echoed: %+v", r)
	}
	// Secrets are read from stdin in flag order: API key, then secret headers.
	r = w.run("key-canary\nheader-canary\n", "connector", "add", "--name", "A", "--url", "https://a.example/mcp",
		"--api-key-query", "key", "--secret-header", "X-One", "--secret-header", "X-Two: ${TWO_TOKEN}", "--json")
	if r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	var v api.ConnectorView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("--json output: %v\n%s", err, r.stdout)
	}
	if got, _ := w.mem.Get(context.Background(), v.Auth.APIKey.Value.Key); got != "key-canary" {
		t.Fatalf("API key in keychain = %q", got)
	}
	if got, _ := w.mem.Get(context.Background(), v.Headers[0].Secret.Key); got != "header-canary" {
		t.Fatalf("X-One in keychain = %q", got)
	}
	if h := v.Headers[1].Secret; h.Source != backend.SecretEnv || h.Env != "TWO_TOKEN" {
		t.Fatalf("X-Two = %#v, want an env reference", h)
	}
	if strings.Contains(r.stdout+r.stderr, "canary") {
		t.Fatal("a secret was printed")
	}
	// Standard input that ends early is a clear error, and nothing is saved.
	r = w.run("", "connector", "add", "--name", "B", "--url", "https://b.example/mcp", "--bearer")
	if r.code != cli.ExitError || !strings.Contains(r.stderr, "Standard input ended") {
		t.Fatalf("missing stdin: %+v", r)
	}
}

func TestFlagsMayFollowArguments(t *testing.T) {
	w := newWorld(t)
	w.run("", "connector", "add", "--name", "Alpha", "--url", "https://a.example/mcp")
	r := w.run("", "connector", "show", "alpha", "--json")
	if r.code != 0 || !strings.HasPrefix(strings.TrimSpace(r.stdout), "{") {
		t.Fatalf("show NAME --json: %+v", r)
	}
}

func TestEditChangesOnlyGivenFlagsAndKeepsSecrets(t *testing.T) {
	w := newWorld(t)
	w.run("k1\n", "connector", "add", "--name", "Alpha", "--url", "https://a.example/mcp", "--bearer", "--header", "X-Team: a", "--description", "first")
	if r := w.run("", "connector", "edit", "alpha", "--description", "second", "--remove-header", "X-Team"); r.code != 0 {
		t.Fatalf("edit: %+v", r)
	}
	r := w.run("", "connector", "show", "alpha", "--json")
	var v api.ConnectorView
	json.Unmarshal([]byte(r.stdout), &v)
	if v.Description != "second" || len(v.Headers) != 0 || v.URL != "https://a.example/mcp" || v.Auth.APIKey.Prefix != "Bearer " {
		t.Fatalf("after edit: %+v", v.Connector)
	}
	if got, _ := w.mem.Get(context.Background(), v.Auth.APIKey.Value.Key); got != "k1" {
		t.Fatalf("edit lost the key: %q", got)
	}
	if r := w.run("", "connector", "edit", "alpha", "--remove-header", "X-Nope"); r.code != cli.ExitError || !strings.Contains(r.stderr, "no header") {
		t.Fatalf("removing a missing header: %+v", r)
	}
}

func TestRemoveNeedsConfirmationWithoutATerminal(t *testing.T) {
	w := newWorld(t)
	w.run("", "connector", "add", "--name", "Alpha", "--url", "https://a.example/mcp")
	if r := w.run("y\n", "connector", "remove", "alpha"); r.code != cli.ExitError || !strings.Contains(r.stderr, "--yes") {
		t.Fatalf("remove without --yes: %+v", r)
	}
	if r := w.run("", "connector", "remove", "alpha", "--yes"); r.code != 0 {
		t.Fatalf("remove --yes: %+v", r)
	}
	if r := w.run("", "connector", "list"); !strings.Contains(r.stdout, "No connectors yet") {
		t.Fatalf("list after remove: %+v", r)
	}
}

func TestErrorsShowFieldsAndFix(t *testing.T) {
	w := newWorld(t)
	r := w.run("", "conversation", "create", "Research", "--connector", "ghost")
	if r.code != cli.ExitError {
		t.Fatalf("code %d", r.code)
	}
	for _, want := range []string{"Error: ", "  - connectors[0]: no connector \"ghost\"", "Fix: "} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	r = w.run("", "tools", "policy", "ghost", "always_allow")
	if r.code != cli.ExitError || !strings.Contains(r.stderr, "ghost") {
		t.Fatalf("policy for a missing connector: %+v", r)
	}
}

func TestSettingsSetParsesValues(t *testing.T) {
	w := newWorld(t)
	if r := w.run("", "settings", "set", "approval_timeout_seconds=45", "elicit_approvals=true"); r.code != 0 {
		t.Fatalf("set: %+v", r)
	}
	r := w.run("", "settings", "--json")
	var s backend.Settings
	json.Unmarshal([]byte(r.stdout), &s)
	if s.ApprovalTimeoutSeconds != 45 || !s.ElicitApprovals {
		t.Fatalf("settings = %+v", s)
	}
	if r := w.run("", "settings", "set", "port=80"); r.code != cli.ExitError || !strings.Contains(r.stderr, "port") {
		t.Fatalf("bad port: %+v", r)
	}
	if r := w.run("", "settings", "set", "colour=red"); r.code != cli.ExitError || !strings.Contains(r.stderr, "colour") {
		t.Fatalf("unknown setting: %+v", r)
	}
}

// An entry Patchbay did not write is replaced only when the person says
// so: without a terminal the command stops and nothing changes; with
// --overwrite it is replaced, and undo restores the file byte for byte.
func TestClientsConnectAsksBeforeReplacingAnUnknownEntry(t *testing.T) {
	w := newWorld(t)
	path := filepath.Join(w.home, ".cursor", "mcp.json")
	os.MkdirAll(filepath.Dir(path), 0o700)
	original := "{\n  \"mcpServers\": {\n    \"patchbay\": {\"url\": \"http://elsewhere.example/mcp\"}\n  }\n}\n"
	os.WriteFile(path, []byte(original), 0o600)

	r := w.run("y\n", "clients", "connect", "cursor")
	if r.code != cli.ExitError || !strings.Contains(r.stderr, "--overwrite") {
		t.Fatalf("connect over an unknown entry without a terminal: %+v", r)
	}
	if b, _ := os.ReadFile(path); string(b) != original {
		t.Fatalf("the file changed without confirmation:\n%s", b)
	}
	r = w.run("", "clients", "connect", "cursor", "--overwrite")
	if r.code != 0 || !strings.Contains(r.stdout, "Bearer") {
		t.Fatalf("connect --overwrite: %+v", r)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "http://127.0.0.1:47821/mcp") {
		t.Fatalf("the entry was not replaced:\n%s", b)
	}
	if r := w.run("", "clients", "undo", "cursor"); r.code != 0 {
		t.Fatalf("undo: %+v", r)
	}
	if b, _ := os.ReadFile(path); string(b) != original {
		t.Fatalf("undo did not restore the file:\n%s", b)
	}
}
