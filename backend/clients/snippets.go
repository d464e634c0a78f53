// Package clients sets up desktop AI clients (Claude Desktop, Claude Code,
// Cursor, VS Code, Windsurf, …) to use Patchbay's endpoint.
package clients

import (
	"encoding/json"
	"strings"
)

// TokenPlaceholder stands for a client token in snippets built without one.
const TokenPlaceholder = "<PATCHBAY_TOKEN>"

// Snippets returns ready-to-paste setup for the main clients: a command line
// where the client has one, else the JSON to put in its configuration file.
// name is the server name the client will show ("patchbay" or
// "patchbay-<conversation>"); token may be empty for a placeholder.
func Snippets(name, url, token string) map[string]string {
	if token == "" {
		token = TokenPlaceholder
	}
	auth := "Bearer " + token
	headers := map[string]string{"Authorization": auth}
	js := func(v any) string {
		b, _ := json.MarshalIndent(v, "", "  ")
		return string(b)
	}
	return map[string]string{
		"claude-code": "claude mcp add --transport http " + shellQuote(name) + " " + shellQuote(url) +
			" --header " + shellQuote("Authorization: "+auth),
		"cursor": js(map[string]any{"mcpServers": map[string]any{
			name: map[string]any{"url": url, "headers": headers},
		}}),
		"vscode": js(map[string]any{"servers": map[string]any{
			name: map[string]any{"type": "http", "url": url, "headers": headers},
		}}),
		"windsurf": js(map[string]any{"mcpServers": map[string]any{
			name: map[string]any{"serverUrl": url, "headers": headers},
		}}),
	}
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@=", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
