package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/backend"
)

func TestUnknownEntryNeedsConfirmation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	path := cursor.UserPath(f.svc.env)
	orig := []byte(`{
  "mcpServers": {
    "patchbay": { "url": "http://example.com/someone-elses", "headers": { "X-Key": "theirs" } }
  }
}
`)
	writeFile(t, path, orig)
	res, err := f.svc.Connect(ctx, "cursor", ConnectRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.NeedsConfirmation || res.Connected || res.BackupPath != "" {
		t.Fatalf("want a question, got %+v", res)
	}
	if got, _ := readFile(t, path); !bytes.Equal(got, orig) {
		t.Fatal("the unknown entry was overwritten without confirmation")
	}
	if f.tokens.live() != 0 {
		t.Fatal("a token was issued for a connect that did not happen")
	}
	if !strings.Contains(res.Diff, `-    "patchbay": { "url": "http://example.com/someone-elses"`) || !strings.Contains(res.Diff, TokenPlaceholder) {
		t.Fatalf("the question should preview the replacement:\n%s", res.Diff)
	}

	res, err = f.svc.Connect(ctx, "cursor", ConnectRequest{Overwrite: true})
	if err != nil || !res.Connected || res.BackupPath == "" {
		t.Fatalf("confirmed connect: %+v %v", res, err)
	}
	if b, _ := os.ReadFile(res.BackupPath); !bytes.Equal(b, orig) {
		t.Fatal("the backup does not hold the original bytes")
	}
	if st, _ := os.Stat(res.BackupPath); st.Mode().Perm() != 0o600 {
		t.Fatalf("backup mode %v: it holds tokens", st.Mode().Perm())
	}
	// Once Patchbay wrote it, reconnecting needs no question, and the old
	// token is revoked.
	first, _ := f.svc.Get(ctx, "cursor")
	res, err = f.svc.Connect(ctx, "cursor", ConnectRequest{})
	if err != nil || !res.Connected {
		t.Fatalf("reconnect: %+v %v", res, err)
	}
	if f.tokens.live() != 1 || f.tokens.tokens[first.Connections[0].TokenID] != nil {
		t.Fatal("reconnecting did not replace the token")
	}
	// Undo twice: back to the unknown entry, exactly.
	for i := 0; i < 2; i++ {
		if u, err := f.svc.Undo(ctx, "cursor", UndoRequest{}); err != nil || !u.Restored {
			t.Fatalf("undo %d: %+v %v", i, u, err)
		}
	}
	if got, _ := readFile(t, path); !bytes.Equal(got, orig) {
		t.Fatalf("undo did not restore the unknown entry:\n%s", got)
	}
	if _, err := f.svc.Undo(ctx, "cursor", UndoRequest{}); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("third undo: %v", err)
	}
}

func TestSwitchConversationReplacesEntry(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.svc.Connect(ctx, "vscode", ConnectRequest{}); err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.Connect(ctx, "vscode", ConnectRequest{Conversation: "Work"})
	if err != nil || !res.Connected || res.Entry != "patchbay-work" {
		t.Fatalf("switch: %+v %v", res, err)
	}
	got, _ := readFile(t, vscode.UserPath(f.svc.env))
	m := parseAs(t, FormatJSONC, got)
	servers := m["servers"].(map[string]any)
	if servers["patchbay"] != nil || servers["patchbay-work"] == nil || len(servers) != 1 {
		t.Fatalf("servers after switching: %v", servers)
	}
	if u := servers["patchbay-work"].(map[string]any)["url"]; u != "http://127.0.0.1:47821/mcp/work" {
		t.Fatalf("url %v", u)
	}
	if f.tokens.live() != 1 {
		t.Fatalf("%d live tokens, want 1", f.tokens.live())
	}
	st, _ := f.svc.Get(ctx, "vscode")
	if !st.Connected || st.Conversation != "work" || len(st.Connections) != 1 {
		t.Fatalf("status: %+v", st)
	}
	if _, err := f.svc.Connect(ctx, "vscode", ConnectRequest{Conversation: "nope"}); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("unknown conversation: %v", err)
	}
}

func TestUndoAfterOutsideEditAsksFirst(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	path := gemini.UserPath(f.svc.env)
	writeFile(t, path, []byte(`{"theme": "dark"}`))
	if _, err := f.svc.Connect(ctx, "gemini", ConnectRequest{}); err != nil {
		t.Fatal(err)
	}
	edited, _ := readFile(t, path)
	edited = bytes.Replace(edited, []byte(`"dark"`), []byte(`"light"`), 1)
	writeFile(t, path, edited)
	u, err := f.svc.Undo(ctx, "gemini", UndoRequest{})
	if err != nil || u.Restored || !u.NeedsConfirmation {
		t.Fatalf("undo over an outside edit: %+v %v", u, err)
	}
	if got, _ := readFile(t, path); !bytes.Equal(got, edited) {
		t.Fatal("undo wrote without asking")
	}
	u, err = f.svc.Undo(ctx, "gemini", UndoRequest{Force: true})
	if err != nil || !u.Restored || u.BackupPath == "" {
		t.Fatalf("forced undo: %+v %v", u, err)
	}
	if got, _ := readFile(t, path); string(got) != `{"theme": "dark"}` {
		t.Fatalf("restored %s", got)
	}
	if b, _ := os.ReadFile(u.BackupPath); !bytes.Equal(b, edited) {
		t.Fatal("undo did not keep the edited file as a backup")
	}
}

func TestProjectScope(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	dir := filepath.Join(t.TempDir(), "my project")
	os.MkdirAll(dir, 0o700)
	res, err := f.svc.Connect(ctx, "claude-code", ConnectRequest{Scope: ScopeProject, ProjectDir: dir})
	if err != nil || res.ConfigPath != filepath.Join(dir, ".mcp.json") || res.Scope != ScopeProject {
		t.Fatalf("project connect: %+v %v", res, err)
	}
	tokens, _ := f.tokens.ListTokens(ctx)
	if len(tokens) != 1 || tokens[0].Label != "Claude Code on testhost (project my project)" || tokens[0].Client != "claude-code" {
		t.Fatalf("token: %+v", tokens[0])
	}
	// The user scope is separate.
	if _, err := f.svc.Connect(ctx, "claude-code", ConnectRequest{}); err != nil {
		t.Fatal(err)
	}
	st, _ := f.svc.Get(ctx, "claude-code")
	if !st.Connected || len(st.Connections) != 2 {
		t.Fatalf("status: %+v", st)
	}
	if _, err := f.svc.Disconnect(ctx, "claude-code", DisconnectRequest{ProjectDir: dir}); err != nil {
		t.Fatal(err)
	}
	if _, ok := readFile(t, filepath.Join(dir, ".mcp.json")); ok {
		t.Fatal("the .mcp.json Patchbay created is still there after disconnect")
	}
	st, _ = f.svc.Get(ctx, "claude-code")
	if !st.Connected || len(st.Connections) != 1 || f.tokens.live() != 1 {
		t.Fatalf("user scope should stay connected: %+v", st)
	}
	for _, req := range []ConnectRequest{
		{Scope: ScopeProject},
		{Scope: ScopeProject, ProjectDir: "relative/dir"},
		{Scope: "global"},
	} {
		if _, err := f.svc.Connect(ctx, "cursor", req); backend.ErrorCode(err) != backend.EINVALID {
			t.Errorf("%+v: %v", req, err)
		}
	}
	if _, err := f.svc.Connect(ctx, "windsurf", ConnectRequest{ProjectDir: dir}); backend.ErrorCode(err) != backend.EINVALID {
		t.Errorf("windsurf has no project scope: %v", err)
	}
	if _, err := f.svc.Connect(ctx, "cursor", ConnectRequest{ProjectDir: filepath.Join(dir, "missing")}); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Errorf("missing project dir: %v", err)
	}
}

func TestStdioEntryForConversationAndDataDir(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.svc.stdio = Object{{"PATCHBAY_HOME", `/data/my patchbay`}}
	res, err := f.svc.Connect(ctx, "claude-desktop", ConnectRequest{Conversation: "work"})
	if err != nil || res.Method != MethodStdio || res.TokenHint != "" {
		t.Fatalf("%+v %v", res, err)
	}
	if f.tokens.live() != 0 {
		t.Fatal("the stdio bridge entry should not carry a token")
	}
	got, _ := readFile(t, res.ConfigPath)
	e := parseAs(t, FormatJSON, got)["mcpServers"].(map[string]any)["patchbay-work"].(map[string]any)
	if e["command"] != testBinary || len(e["args"].([]any)) != 3 || e["args"].([]any)[2] != "work" ||
		e["env"].(map[string]any)["PATCHBAY_HOME"] != "/data/my patchbay" {
		t.Fatalf("entry: %v", e)
	}
}

func TestDisconnectWhenNotConnected(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.Disconnect(context.Background(), "zed", DisconnectRequest{})
	if backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("%v", err)
	}
	if _, err := f.svc.Connect(context.Background(), "notepad", ConnectRequest{}); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("unknown client: %v", err)
	}
}

func TestDisconnectAfterManualRemovalStillRevokes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.svc.Connect(ctx, "windsurf", ConnectRequest{}); err != nil {
		t.Fatal(err)
	}
	path := windsurf.UserPath(f.svc.env)
	writeFile(t, path, []byte("{}\n"))
	st, _ := f.svc.Get(ctx, "windsurf")
	if st.Connected || len(st.Connections) != 1 || st.Connections[0].EntryPresent {
		t.Fatalf("status after manual removal: %+v", st)
	}
	d, err := f.svc.Disconnect(ctx, "windsurf", DisconnectRequest{})
	if err != nil || d.Removed || !d.TokenRevoked || f.tokens.live() != 0 {
		t.Fatalf("%+v %v", d, err)
	}
}

func TestUnreadableFileIsNotTouched(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for id, content := range map[string]string{"cursor": `{"mcpServers": {`, "codex": "[mcp_servers\nx = ", "claude-code": `[1, 2]`} {
		c, _ := Lookup(id)
		path := c.UserPath(f.svc.env)
		writeFile(t, path, []byte(content))
		_, err := f.svc.Connect(ctx, id, ConnectRequest{})
		if backend.ErrorCode(err) != backend.EINVALID || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v", id, err)
		}
		if got, _ := readFile(t, path); string(got) != content || f.tokens.live() != 0 {
			t.Errorf("%s: file changed or token left", id)
		}
	}
	// A servers key that is not an object.
	path := gemini.UserPath(f.svc.env)
	writeFile(t, path, []byte(`{"mcpServers": ["x"]}`))
	if _, err := f.svc.Connect(ctx, "gemini", ConnectRequest{}); backend.ErrorCode(err) != backend.ECONFLICT || f.tokens.live() != 0 {
		t.Errorf("servers as a list: %v (tokens %d)", err, f.tokens.live())
	}
	// Codex: an entry written inline cannot be replaced textually.
	path = codex.UserPath(f.svc.env)
	writeFile(t, path, []byte("mcp_servers = { patchbay = { url = \"http://x\" } }\n"))
	if _, err := f.svc.Connect(ctx, "codex", ConnectRequest{Overwrite: true}); backend.ErrorCode(err) != backend.ECONFLICT {
		t.Errorf("inline TOML entry: %v", err)
	}
}

func TestSymlinkedConfigStaysALink(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	real := filepath.Join(t.TempDir(), "dotfiles", "zed.json")
	writeFile(t, real, []byte("{}\n"))
	os.Chmod(real, 0o640)
	link := zed.UserPath(f.svc.env)
	os.MkdirAll(filepath.Dir(link), 0o700)
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Connect(ctx, "zed", ConnectRequest{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the symbolic link was replaced by a file")
	}
	b, _ := os.ReadFile(real)
	if !strings.Contains(string(b), "context_servers") {
		t.Fatalf("the link's target was not written: %s", b)
	}
	if st, _ := os.Stat(real); st.Mode().Perm() != 0o640 {
		t.Fatalf("mode changed to %v", st.Mode().Perm())
	}
}

func TestSnippet(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s, err := f.svc.Snippet(ctx, "claude-code", SnippetRequest{Conversation: "work"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Command != `claude mcp add --transport http --scope user --header 'Authorization: Bearer <PATCHBAY_TOKEN>' patchbay-work http://127.0.0.1:47821/mcp/work` {
		t.Errorf("command: %s", s.Command)
	}
	if !strings.Contains(s.Snippet, `"type": "http"`) || s.Token != "" || f.tokens.live() != 0 {
		t.Errorf("snippet: %+v", s)
	}
	// The project scope names the project's file and the client's own
	// project option; a client without one refuses it.
	s, err = f.svc.Snippet(ctx, "claude-code", SnippetRequest{Scope: ScopeProject})
	if err != nil || s.ConfigPath != ".mcp.json" || !strings.Contains(s.Command, "--scope project") {
		t.Errorf("project snippet: %+v %v", s, err)
	}
	if _, err := f.svc.Snippet(ctx, "windsurf", SnippetRequest{Scope: ScopeProject}); backend.ErrorCode(err) != backend.EINVALID {
		t.Errorf("windsurf has no project scope: %v", err)
	}
	if _, err := f.svc.Snippet(ctx, "cursor", SnippetRequest{Scope: "global"}); backend.ErrorCode(err) != backend.EINVALID {
		t.Errorf("unknown scope: %v", err)
	}
	s, err = f.svc.Snippet(ctx, "codex", SnippetRequest{IssueToken: true})
	if err != nil || s.Token == "" || !strings.Contains(s.Snippet, s.Token) || s.Command != "" || f.tokens.live() != 1 {
		t.Fatalf("codex snippet with a token: %+v %v", s, err)
	}
	s, err = f.svc.Snippet(ctx, "claude-desktop", SnippetRequest{})
	if err != nil || !strings.Contains(s.Snippet, `"command": "/opt/Patch Bay/bin/patchbay"`) || !strings.Contains(s.Snippet, `"args": ["stdio"]`) {
		t.Fatalf("claude desktop snippet: %+v %v", s, err)
	}
	f.svc.env.GOOS = "windows"
	s, _ = f.svc.Snippet(ctx, "gemini", SnippetRequest{})
	// cmd.exe on Windows: inside quotes < and > are literal, and a caret
	// there would reach gemini.
	if s.Command != `gemini mcp add --scope user --transport http --header "Authorization: Bearer <PATCHBAY_TOKEN>" patchbay http://127.0.0.1:47821/mcp` ||
		s.Commands[ShellCmd] != s.Command || !strings.Contains(s.Commands[ShellPowerShell], `--header 'Authorization: Bearer <PATCHBAY_TOKEN>'`) {
		t.Errorf("windows command: %s (%q)", s.Command, s.Commands)
	}
}

// Snippets keeps its contract for the conversation view.
func TestSnippetsForConversationView(t *testing.T) {
	m := Snippets("patchbay", "http://127.0.0.1:47821/mcp", "")
	for _, id := range []string{"claude-code", "cursor", "vscode", "windsurf", "codex", "gemini", "zed"} {
		if !strings.Contains(m[id], TokenPlaceholder) {
			t.Errorf("%s: %q", id, m[id])
		}
	}
	if !strings.HasPrefix(m["claude-code"], "claude mcp add --transport http") || !strings.HasPrefix(m["cursor"], "{\n  \"mcpServers\"") {
		t.Errorf("snippets: %v", m)
	}
	if _, ok := m["claude-desktop"]; ok {
		t.Error("stdio clients need the binary path; Snippets is for HTTP clients")
	}
}

func TestListDetectsAndReportsConnections(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	os.MkdirAll(filepath.Join(f.home, ".cursor"), 0o700)
	if _, err := f.svc.Connect(ctx, "cursor", ConnectRequest{}); err != nil {
		t.Fatal(err)
	}
	list, err := f.svc.List(ctx)
	if err != nil || len(list) != len(Catalog()) {
		t.Fatalf("%v %v", list, err)
	}
	for _, st := range list {
		switch st.ID {
		case "cursor":
			if !st.Installed || !st.ConfigExists || !st.Connected || st.Conversation != "default" || !st.CanUndo || st.Method != MethodHTTP {
				t.Errorf("cursor: %+v", st)
			}
		case "claude-desktop":
			if st.Installed || st.ConfigExists || st.Connected || st.Method != MethodStdio {
				t.Errorf("claude desktop: %+v", st)
			}
		}
	}
}

func TestHistoryKeepsTheLastChanges(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for i := 0; i < maxHistory+5; i++ {
		if _, err := f.svc.Connect(ctx, "claude-desktop", ConnectRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	h, _ := f.svc.history(ctx, "claude-desktop")
	if len(h) != maxHistory {
		t.Fatalf("%d changes kept", len(h))
	}
	files, _ := os.ReadDir(f.svc.backups)
	if len(files) != maxHistory { // older backups are deleted with their changes
		t.Fatalf("%d backups kept", len(files))
	}
}

// The token goes into the client's file only: never into Patchbay's
// records, answers or previews.
func TestTokenOnlyInTheClientsFile(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	res, err := f.svc.Connect(ctx, "gemini", ConnectRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var value string
	for _, v := range f.tokens.values {
		value = v
	}
	file, _ := readFile(t, res.ConfigPath)
	if value == "" || !bytes.Contains(file, []byte(value)) {
		t.Fatal("the token is not in the client's file")
	}
	st, err := f.svc.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.svc.Disconnect(ctx, "gemini", DisconnectRequest{})
	if err != nil || !d.Removed {
		t.Fatalf("disconnect: %+v %v", d, err)
	}
	u, err := f.svc.Undo(ctx, "gemini", UndoRequest{})
	if err != nil || !u.Restored || !strings.Contains(u.Diff, backend.TokenHint(value)) {
		t.Fatalf("undo (its diff puts the token back, as a hint): %+v %v", u, err)
	}
	for what, v := range map[string]any{"connect answer": res, "list": st, "disconnect answer": d, "undo answer": u} {
		b, _ := json.Marshal(v)
		if bytes.Contains(b, []byte(value)) {
			t.Errorf("the %s holds the token", what)
		}
	}
	for k, v := range f.kv.m {
		if bytes.Contains(v, []byte(value)) {
			t.Errorf("the record %s holds the token", k)
		}
	}
}

// A file edited between Patchbay's read and its write is left alone, and
// the backup taken for that write does not stay behind.
func TestReplaceFileRefusesAChangedFile(t *testing.T) {
	f := newFixture(t)
	path := cursor.UserPath(f.svc.env)
	read := []byte(`{"theme": "dark"}`)
	edited := []byte(`{"theme": "light"}`)
	for _, afterExists := range []bool{true, false} {
		writeFile(t, path, edited)
		_, err := f.svc.replaceFile(cursor, path, read, true, []byte(`{}`), afterExists)
		if backend.ErrorCode(err) != backend.ECONFLICT {
			t.Fatalf("afterExists=%v: %v", afterExists, err)
		}
		if got, ok := readFile(t, path); !ok || !bytes.Equal(got, edited) {
			t.Fatalf("afterExists=%v: the edited file became %q (exists %v)", afterExists, got, ok)
		}
		if files, _ := os.ReadDir(f.svc.backups); len(files) != 0 {
			t.Fatalf("afterExists=%v: %d backups left for a write that did not happen", afterExists, len(files))
		}
	}
	// A file created since it was read as missing counts as changed too.
	if _, err := f.svc.replaceFile(cursor, path, nil, false, []byte(`{}`), true); backend.ErrorCode(err) != backend.ECONFLICT {
		t.Fatalf("file created in between: %v", err)
	}
	if got, _ := readFile(t, path); !bytes.Equal(got, edited) {
		t.Fatalf("the file created in between became %q", got)
	}
}
