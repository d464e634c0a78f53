package stdio_test

// End-to-end: the real headless binary's `patchbay stdio`, launched by the
// TypeScript SDK's StdioClientTransport (as Claude Desktop launches it),
// against a running Patchbay in front of @modelcontextprotocol/server-everything.
// The bridge keeps its token in the keychain: run under .ci/with-keyring.

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/app"
	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/api"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
	"github.com/patchbay/patchbay/backend/secrets"
	"github.com/patchbay/patchbay/backend/stdio"
)

func binary(t *testing.T) string {
	t.Helper()
	b := os.Getenv("PATCHBAY_TEST_BINARY")
	if b == "" {
		t.Fatal("PATCHBAY_TEST_BINARY is not set: run `make test-go` (it builds bin/patchbay-headless and sets it), or `make headless` and set it to the absolute path")
	}
	if _, err := os.Stat(b); err != nil {
		t.Fatalf("PATCHBAY_TEST_BINARY: %v (run `make headless`)", err)
	}
	return b
}

func requireKeyring(t *testing.T) {
	t.Helper()
	if os.Getenv("PATCHBAY_PRIVATE_KEYRING") != "1" {
		t.Fatal("run under .ci/with-keyring (make test does this); needs gnome-keyring, dbus, libsecret-tools")
	}
}

func TestStdioBridgeWithTypeScriptClient(t *testing.T) {
	requireKeyring(t)
	bin := binary(t)
	const adminToken = "pba_stdio-e2e-admin-token-0123456789"
	t.Setenv("PATCHBAY_ADMIN_TOKEN", adminToken)
	everything := testpeer.Everything(t, "streamableHttp")
	dir := t.TempDir()
	core, err := app.Open(ctx, app.Options{Dir: dir, Version: "e2e", Secrets: secrets.NewMemory(), NeedAdminToken: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := core.Listen(app.ListenOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		core.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.Shutdown(ctx)
		core.Close()
	})
	admin := api.NewInProcessClient(core.API.InProcessHandler())
	var ev backend.Connector
	if err := admin.Do(ctx, http.MethodPost, "/api/v1/connectors", map[string]any{"name": "Everything", "slug": "everything", "url": everything.URL,
		"transport": "streamable-http", "auth": map[string]any{"type": "none"}, "default_policy": "always_allow"}, &ev); err != nil {
		t.Fatal(err)
	}
	if _, err := core.Upstream.RefreshTools(ctx, ev.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := core.Registry.CreateConversation(ctx, &backend.Conversation{Name: "Research"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PATCHBAY_HOME": dir, "PATCHBAY_ADMIN_TOKEN": adminToken}
	kc := secrets.NewKeychain(nil)
	defer kc.Delete(ctx, stdio.TokenKey(dir, ""))

	c := testpeer.StartTSClient(t)
	c.Do(map[string]any{"op": "connect", "command": bin, "args": []string{"stdio"}, "env": env, "clientName": "Claude"})
	names := c.ToolNames()
	if !slices.Contains(names, "everything_echo") || !slices.Contains(names, "everything_get-sum") {
		t.Fatalf("tools over stdio: %v", names)
	}
	if r, e := c.Call("everything_echo", map[string]any{"message": "over stdio"}); e != "" || r.Text() != "Echo: over stdio" {
		t.Fatalf("echo over stdio: %+v %s", r, e)
	}
	if r, e := c.Call("everything_get-sum", map[string]any{"a": 20, "b": 22}); e != "" || !strings.Contains(r.Text(), "42") {
		t.Fatalf("get-sum over stdio: %+v %s", r, e)
	}

	// A change in Patchbay reaches the stdio client.
	c.DrainEvents()
	if _, err := core.Registry.SetConnectorEnabled(ctx, "default", ev.ID, false); err != nil {
		t.Fatal(err)
	}
	c.WaitEvent("tools_list_changed")
	waitFor(t, "the tools to go", func() bool { return len(c.ToolNames()) == 0 })
	if _, err := core.Registry.SetConnectorEnabled(ctx, "default", ev.ID, true); err != nil {
		t.Fatal(err)
	}
	c.WaitEvent("tools_list_changed")
	waitFor(t, "the tools to come back", func() bool { return slices.Contains(c.ToolNames(), "everything_echo") })

	// The bridge's token is in the keychain, labelled, and its calls are
	// logged under the stdio client's name.
	first, err := kc.Get(ctx, stdio.TokenKey(dir, ""))
	if err != nil || !strings.HasPrefix(first, backend.TokenPrefix) {
		t.Fatalf("bridge token in the keychain: %v", err)
	}
	var page backend.ActivityPage
	if err := admin.Do(ctx, http.MethodGet, "/api/v1/activity?tool=everything_echo", nil, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 || page.Entries[0].ClientName != "Claude via patchbay stdio" || page.Entries[0].TokenLabel != stdio.TokenLabel {
		t.Fatalf("activity: %+v", page.Entries)
	}

	// Revoked: the next bridge gets a new token by itself.
	tokens, err := core.Registry.ListTokens(ctx)
	if err != nil || len(tokens) == 0 {
		t.Fatalf("tokens: %d %v", len(tokens), err)
	}
	for _, tk := range tokens {
		if err := core.Registry.RevokeToken(ctx, tk.ID); err != nil {
			t.Fatal(err)
		}
	}
	c2 := testpeer.StartTSClient(t)
	c2.Do(map[string]any{"op": "connect", "command": bin, "args": []string{"stdio", "--conversation", "research"}, "env": env})
	if names := c2.ToolNames(); len(names) != 0 {
		t.Fatalf("research (no connectors) over stdio: %v", names)
	}
	if second, err := kc.Get(ctx, stdio.TokenKey(dir, "")); err != nil || second == first || !strings.HasPrefix(second, backend.TokenPrefix) {
		t.Fatalf("after the revocation the keychain holds the same token, or none (%v)", err)
	}
	if tokens, err := core.Registry.ListTokens(ctx); err != nil || len(tokens) != 1 || tokens[0].Label != stdio.TokenLabel {
		t.Fatalf("tokens after the revocation: %+v %v", tokens, err)
	}
	c2.DrainEvents()
	if _, err := core.Registry.SetConnectorEnabled(ctx, "research", ev.ID, true); err != nil {
		t.Fatal(err)
	}
	c2.WaitEvent("tools_list_changed")
	waitFor(t, "research's tools", func() bool { return slices.Contains(c2.ToolNames(), "everything_echo") })
	if r, e := c2.Call("everything_echo", map[string]any{"message": "research"}); e != "" || r.Text() != "Echo: research" {
		t.Fatalf("echo on research over stdio: %+v %s", r, e)
	}
}

func TestStdioBridgeSaysWhenPatchbayIsNotRunning(t *testing.T) {
	bin := binary(t)
	cmd := exec.Command(bin, "stdio")
	cmd.Env = append(os.Environ(), "PATCHBAY_HOME="+t.TempDir())
	cmd.Stdin = strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}` + "\n")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
		t.Fatalf("exit: %v", err)
	}
	if !strings.Contains(errb.String(), "Patchbay is not running") || out.Len() != 0 {
		t.Fatalf("stderr %q stdout %q", errb.String(), out.String())
	}
}
