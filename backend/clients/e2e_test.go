package clients_test

// End-to-end: a real MCP client from npm (the TypeScript SDK) is configured
// from exactly the file Patchbay wrote for Cursor, VS Code and Claude
// Desktop, and calls a tool through a running Patchbay (app.Core on a free
// loopback port) to an in-process upstream server.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/app/apptest"
	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/clients"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
	"github.com/patchbay/patchbay/backend/secrets"
)

// patchbay is a running instance with one connector ("peer", the test
// peer's tools) enabled in the default conversation.
type patchbay struct {
	*apptest.Instance
}

func startPatchbay(t *testing.T, sec backend.SecretStore, needAdmin bool) *patchbay {
	t.Helper()
	in := apptest.Start(t, apptest.Options{Secrets: sec, NeedAdminToken: needAdmin})
	c := in.AddPeer(t, testpeer.NewServer(t, testpeer.ServerOptions{}).URL)
	if _, err := in.Core.Registry.SetConnectorEnabled(context.Background(), backend.DefaultConversationSlug, c.ID, true); err != nil {
		t.Fatal(err)
	}
	return &patchbay{Instance: in}
}

// runClient runs the npm client on a config file and returns what the
// tool call answered.
func runClient(t *testing.T, file, container, entry, tool, args string) (string, error) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: run `make test-deps` (needs node and npm)")
	}
	script := filepath.Join(testpeer.NodeDir(), "client-from-config.mjs")
	if _, err := os.Stat(filepath.Join(testpeer.NodeDir(), "node_modules", "@modelcontextprotocol", "sdk")); err != nil {
		t.Fatal("@modelcontextprotocol/sdk is missing: run `make test-deps`")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, file, container, entry, tool, args)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return errb.String(), err
	}
	var res struct {
		Tools  []string
		Result struct {
			Content []struct{ Text string }
			IsError bool
		}
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("client output %q: %v (stderr %s)", out.String(), err, errb.String())
	}
	if len(res.Result.Content) == 0 || res.Result.IsError {
		t.Fatalf("tool call failed: %s (stderr %s)", out.String(), errb.String())
	}
	return res.Result.Content[0].Text, nil
}

// Cursor and VS Code: the URL and the Authorization header written into
// their files, used by the TypeScript SDK's Streamable HTTP transport.
func TestRealClientWithHTTPConfig(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	pb := startPatchbay(t, secrets.NewMemory(), false)
	ctx := context.Background()
	for _, c := range []struct{ id, file, container string }{
		{"cursor", filepath.Join(home, ".cursor", "mcp.json"), "mcpServers"},
		{"vscode", filepath.Join(home, ".config", "Code", "User", "mcp.json"), "servers"},
	} {
		t.Run(c.id, func(t *testing.T) {
			// Through the admin API, as the Clients screen does.
			var res clients.ConnectResult
			if err := pb.API.Do(ctx, http.MethodPost, "/api/v1/clients/"+c.id+"/connect", clients.ConnectRequest{Conversation: "default"}, &res); err != nil {
				t.Fatal(err)
			}
			if !res.Connected || res.ConfigPath != c.file {
				t.Fatalf("connect: %+v", res)
			}
			text, err := runClient(t, c.file, c.container, "patchbay", "peer_echo", `{"message":"hello from `+c.id+`"}`)
			if err != nil {
				t.Fatalf("client: %v\n%s", err, text)
			}
			if text != "Echo: hello from "+c.id {
				t.Fatalf("tool answered %q", text)
			}
			// Disconnect revokes the token: the same configuration is
			// refused from now on.
			written, _ := os.ReadFile(c.file)
			old := filepath.Join(t.TempDir(), "old.json")
			os.WriteFile(old, written, 0o600)
			var d clients.DisconnectResult
			if err := pb.API.Do(ctx, http.MethodPost, "/api/v1/clients/"+c.id+"/disconnect", struct{}{}, &d); err != nil || !d.Removed || !d.TokenRevoked {
				t.Fatalf("disconnect: %+v %v", d, err)
			}
			msg, err := runClient(t, old, c.container, "patchbay", "peer_echo", `{"message":"x"}`)
			t.Logf("with the revoked token: %s", strings.TrimSpace(msg))
			if err == nil || !strings.Contains(msg, "401") {
				t.Fatalf("a revoked token still works (or failed for another reason): %v %s", err, msg)
			}
		})
	}
}

// Claude Desktop: the command (the real patchbay binary, by absolute path)
// and args written into claude_desktop_config.json, launched by the
// TypeScript SDK's stdio transport as Claude Desktop would; the bridge
// forwards to the running Patchbay.
func TestRealClientWithClaudeDesktopStdioConfig(t *testing.T) {
	bin := os.Getenv("PATCHBAY_TEST_BINARY")
	if bin == "" {
		t.Fatal("PATCHBAY_TEST_BINARY is not set: run `make test-go` (it builds bin/patchbay-headless and sets it), or run `make headless` and set it to the absolute path")
	}
	if _, err := os.Stat(bin); err != nil || !filepath.IsAbs(bin) {
		t.Fatalf("PATCHBAY_TEST_BINARY=%s: %v (run `make headless`; the path must be absolute)", bin, err)
	}
	if os.Getenv("PATCHBAY_PRIVATE_KEYRING") != "1" {
		t.Fatal("run under .ci/with-keyring (make test-go does): the bridge reads its token from the keychain; needs gnome-keyring, dbus, libsecret-tools")
	}
	ctx := context.Background()
	pb := startPatchbay(t, nil, true) // the real (private) keychain, shared with the bridge
	conv, err := pb.Core.Registry.CreateConversation(ctx, &backend.Conversation{Name: "Work"})
	if err != nil {
		t.Fatal(err)
	}
	peer, err := pb.Core.Registry.GetConnector(ctx, "peer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pb.Core.Registry.SetConnectorEnabled(ctx, conv.Slug, peer.ID, true); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	env := clients.OSEnv()
	env.Home, env.Getenv = home, func(string) string { return "" }
	svc := clients.New(clients.Options{
		KV: pb.Core.DB, Tokens: pb.Core.Registry, Conversations: pb.Core.Registry, BaseURL: pb.Core.BaseURL,
		BackupDir: filepath.Join(pb.Dir, "client-backups"), Env: env,
		Binary:   func() (string, error) { return bin, nil },
		StdioEnv: map[string]string{"PATCHBAY_HOME": pb.Dir},
	})
	res, err := svc.Connect(ctx, "claude-desktop", clients.ConnectRequest{Conversation: "work"})
	if err != nil || !res.Connected {
		t.Fatalf("connect: %+v %v", res, err)
	}
	file := filepath.Join(home, ".config", "Claude", "claude_desktop_config.json")
	written, _ := os.ReadFile(file)
	t.Logf("%s:\n%s", file, written)
	if !bytes.Contains(written, []byte(`"command": "`+bin+`"`)) || !bytes.Contains(written, []byte(`"args": ["stdio", "--conversation", "work"]`)) {
		t.Fatalf("unexpected entry:\n%s", written)
	}
	text, err := runClient(t, file, "mcpServers", "patchbay-work", "peer_echo", `{"message":"hello from Claude Desktop"}`)
	if err != nil {
		t.Fatalf("client over the stdio bridge: %v\n%s", err, text)
	}
	if text != "Echo: hello from Claude Desktop" {
		t.Fatalf("tool answered %q", text)
	}
}
