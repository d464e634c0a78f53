package clients

import (
	"strings"

	"github.com/patchbay/patchbay/backend"
)

// Connection methods.
const (
	// MethodHTTP points the client at the endpoint URL with a bearer token
	// in a header.
	MethodHTTP = "http"
	// MethodStdio makes the client launch `patchbay stdio`, for clients
	// that only start local servers.
	MethodStdio = "stdio"
)

// Configuration file formats.
const (
	FormatJSON  = "json"  // strict JSON: nothing but JSON is written
	FormatJSONC = "jsonc" // JSON with comments and trailing commas
	FormatTOML  = "toml"
)

// Scopes of a connection.
const (
	ScopeUser    = "user"
	ScopeProject = "project"
)

// Client describes one desktop AI client: where its configuration lives on
// each OS, how an MCP server entry looks in it, and how to detect it.
type Client struct {
	ID   string
	Name string
	// Method is MethodHTTP or MethodStdio.
	Method string
	// Format of the configuration file.
	Format string
	// Container is the key of the table of servers ("mcpServers",
	// "servers", "context_servers", "mcp_servers").
	Container string
	// UserPath returns the user-scope configuration file.
	UserPath func(e *Env) string
	// ProjectPath returns the project-scope file in dir; nil when the
	// client has no project scope.
	ProjectPath func(e *Env, dir string) string
	// Installed reports whether the client seems to be installed.
	Installed func(e *Env) bool
	// Entry builds the server entry.
	Entry func(t Target) Object
	// Command returns the client's own command line that adds the server
	// (one argv); nil when the client has none.
	Command func(t Target, scope string) []string
	// Notes are shown next to the client: how it connects, caveats.
	Notes string
	// AfterConnect says what to do once the file is written.
	AfterConnect string
	// PreferCommand makes the client's command line its main snippet (CLI
	// tools), rather than the configuration file.
	PreferCommand bool
}

// Target is what a client entry points at.
type Target struct {
	// Name of the entry ("patchbay" or "patchbay-<conversation>").
	Name string
	// URL of the conversation's endpoint and Token for its header (HTTP).
	URL, Token string
	// Command and Args launch the stdio bridge (stdio); Env is extra
	// environment for it.
	Command string
	Args    []string
	Env     Object
}

func (t Target) bearer() string { return "Bearer " + t.Token }

func (t Target) headers() Object { return Object{{"Authorization", t.bearer()}} }

// typedHTTPEntry is the entry of clients that name the transport (Claude
// Code, VS Code), and of `code --add-mcp` after the name.
func typedHTTPEntry(t Target) Object {
	return Object{{"type", "http"}, {"url", t.URL}, {"headers", t.headers()}}
}

// Catalog returns every supported client, in the order the UI shows them.
func Catalog() []*Client {
	return []*Client{claudeDesktop, claudeCode, cursor, vscode, windsurf, codex, gemini, zed}
}

// Lookup returns the client with id, or an ENOTFOUND error that lists the
// known ones.
func Lookup(id string) (*Client, error) {
	var ids []string
	for _, c := range Catalog() {
		if strings.EqualFold(c.ID, id) {
			return c, nil
		}
		ids = append(ids, c.ID)
	}
	return nil, backend.Errorf(backend.ENOTFOUND, "Patchbay does not know a client called %q.", id).
		WithSlug("unknown_client").
		WithFix("Use one of: " + strings.Join(ids, ", ") + ".")
}

// SupportsProject reports whether the client has a project scope.
func (c *Client) SupportsProject() bool { return c.ProjectPath != nil }

var claudeDesktop = &Client{
	ID: "claude-desktop", Name: "Claude Desktop", Method: MethodStdio, Format: FormatJSON, Container: "mcpServers",
	UserPath: func(e *Env) string {
		if e.GOOS == "windows" {
			// The Microsoft Store (MSIX) build keeps its roaming data in a
			// virtualised folder; write where that build reads.
			if e.Glob != nil {
				if m, _ := e.Glob(e.Join(e.localAppData(), "Packages", "Claude_*", "LocalCache", "Roaming", "Claude")); len(m) == 1 {
					return e.Join(m[0], "claude_desktop_config.json")
				}
			}
		}
		return e.Join(e.appSupport("Claude"), "claude_desktop_config.json")
	},
	Installed: func(e *Env) bool {
		return e.macApp("Claude") || e.winProgram("AnthropicClaude", "claude.exe") ||
			e.exists(e.Join(e.localAppData(), "AnthropicClaude")) || e.onPath("claude-desktop") ||
			e.exists(e.appSupport("Claude"))
	},
	Entry: func(t Target) Object {
		o := Object{{"command", t.Command}, {"args", t.Args}}
		if len(t.Env) > 0 {
			o = append(o, Field{"env", t.Env})
		}
		return o
	},
	Notes:        "Claude Desktop only launches local (stdio) servers from its config file, so it runs `patchbay stdio`, which forwards to the running Patchbay.",
	AfterConnect: "Quit Claude Desktop completely and open it again.",
}

var claudeCode = &Client{
	ID: "claude-code", Name: "Claude Code", Method: MethodHTTP, Format: FormatJSON, Container: "mcpServers",
	UserPath: func(e *Env) string {
		if d := e.getenv("CLAUDE_CONFIG_DIR"); d != "" {
			return e.Join(d, ".claude.json")
		}
		return e.Join(e.Home, ".claude.json")
	},
	ProjectPath: func(e *Env, dir string) string { return e.Join(dir, ".mcp.json") },
	Installed: func(e *Env) bool {
		return e.onPath("claude") || e.anyExists(e.Join(e.Home, ".claude"), e.Join(e.Home, ".claude.json"))
	},
	Entry: typedHTTPEntry,
	Command: func(t Target, scope string) []string {
		// Options go before the name: after it, claude reads the rest as the
		// server's own arguments in some versions.
		return []string{"claude", "mcp", "add", "--transport", "http", "--scope", scope, "--header", "Authorization: " + t.bearer(), t.Name, t.URL}
	},
	Notes:         "Claude Code rewrites ~/.claude.json while it runs: quit it before connecting, or use its command line. A project-scope .mcp.json holds the token: keep it out of version control.",
	AfterConnect:  "Start a new Claude Code session; /mcp lists the servers it reached.",
	PreferCommand: true,
}

var cursor = &Client{
	ID: "cursor", Name: "Cursor", Method: MethodHTTP, Format: FormatJSONC, Container: "mcpServers",
	UserPath:    func(e *Env) string { return e.Join(e.Home, ".cursor", "mcp.json") },
	ProjectPath: func(e *Env, dir string) string { return e.Join(dir, ".cursor", "mcp.json") },
	Installed: func(e *Env) bool {
		return e.macApp("Cursor") || e.winProgram("cursor", "Cursor.exe") || e.onPath("cursor") ||
			e.exists(e.Join(e.Home, ".cursor"))
	},
	Entry:        func(t Target) Object { return Object{{"url", t.URL}, {"headers", t.headers()}} },
	Notes:        "Cursor connects over HTTP with the token in a header.",
	AfterConnect: "Cursor picks up mcp.json by itself; if the server does not appear, open Settings → MCP and refresh.",
}

var vscode = &Client{
	ID: "vscode", Name: "VS Code", Method: MethodHTTP, Format: FormatJSONC, Container: "servers",
	UserPath:    func(e *Env) string { return e.Join(e.appSupport("Code"), "User", "mcp.json") },
	ProjectPath: func(e *Env, dir string) string { return e.Join(dir, ".vscode", "mcp.json") },
	Installed: func(e *Env) bool {
		return e.macApp("Visual Studio Code") || e.winProgram("Microsoft VS Code", "Code.exe") || e.onPath("code") ||
			e.exists(e.Join(e.appSupport("Code"), "User"))
	},
	Entry: typedHTTPEntry,
	Command: func(t Target, scope string) []string {
		if scope != ScopeUser {
			return nil
		}
		spec := append(Object{{"name", t.Name}}, typedHTTPEntry(t)...)
		return []string{"code", "--add-mcp", string(renderJSONCompact(spec))}
	},
	Notes:        "VS Code's agent mode (GitHub Copilot) connects over HTTP with the token in a header.",
	AfterConnect: "VS Code reads mcp.json at once; start the server from the MCP view (or the Start link above its entry).",
}

var windsurf = &Client{
	ID: "windsurf", Name: "Windsurf", Method: MethodHTTP, Format: FormatJSONC, Container: "mcpServers",
	UserPath: func(e *Env) string { return e.Join(e.Home, ".codeium", "windsurf", "mcp_config.json") },
	Installed: func(e *Env) bool {
		return e.macApp("Windsurf") || e.winProgram("Windsurf", "Windsurf.exe") || e.onPath("windsurf") ||
			e.exists(e.Join(e.Home, ".codeium", "windsurf"))
	},
	Entry:        func(t Target) Object { return Object{{"serverUrl", t.URL}, {"headers", t.headers()}} },
	Notes:        "Windsurf connects over HTTP (serverUrl) with the token in a header.",
	AfterConnect: "In Windsurf, open Cascade → MCP servers and press Refresh.",
}

var codex = &Client{
	ID: "codex", Name: "Codex CLI", Method: MethodHTTP, Format: FormatTOML, Container: "mcp_servers",
	UserPath: func(e *Env) string {
		if d := e.getenv("CODEX_HOME"); d != "" {
			return e.Join(d, "config.toml")
		}
		return e.Join(e.Home, ".codex", "config.toml")
	},
	ProjectPath: func(e *Env, dir string) string { return e.Join(dir, ".codex", "config.toml") },
	Installed:   func(e *Env) bool { return e.onPath("codex") || e.exists(e.Join(e.Home, ".codex")) },
	Entry: func(t Target) Object {
		return Object{{"url", t.URL}, {"http_headers", t.headers()}}
	},
	Notes:        "Codex CLI connects over Streamable HTTP with the token in http_headers; a project's .codex/config.toml is read only once you trust the project.",
	AfterConnect: "Start Codex again; /mcp lists the servers it reached.",
}

var gemini = &Client{
	ID: "gemini", Name: "Gemini CLI", Method: MethodHTTP, Format: FormatJSONC, Container: "mcpServers",
	UserPath:    func(e *Env) string { return e.Join(e.Home, ".gemini", "settings.json") },
	ProjectPath: func(e *Env, dir string) string { return e.Join(dir, ".gemini", "settings.json") },
	Installed:   func(e *Env) bool { return e.onPath("gemini") || e.exists(e.Join(e.Home, ".gemini")) },
	Entry: func(t Target) Object {
		return Object{{"httpUrl", t.URL}, {"headers", t.headers()}}
	},
	Command: func(t Target, scope string) []string {
		return []string{"gemini", "mcp", "add", "--scope", scope, "--transport", "http", "--header", "Authorization: " + t.bearer(), t.Name, t.URL}
	},
	Notes:         "Gemini CLI connects over Streamable HTTP (httpUrl) with the token in a header.",
	AfterConnect:  "Start Gemini CLI again; /mcp lists the servers it reached.",
	PreferCommand: true,
}

var zed = &Client{
	ID: "zed", Name: "Zed", Method: MethodHTTP, Format: FormatJSONC, Container: "context_servers",
	UserPath: func(e *Env) string {
		if e.GOOS == "windows" {
			return e.Join(e.appData(), "Zed", "settings.json")
		}
		// Zed uses ~/.config/zed on macOS too.
		return e.Join(e.configHome(), "zed", "settings.json")
	},
	Installed: func(e *Env) bool {
		return e.macApp("Zed") || e.winProgram("Zed", "Zed.exe") || e.onPath("zed", "zeditor") ||
			e.exists(e.Join(e.configHome(), "zed"))
	},
	Entry:        func(t Target) Object { return Object{{"url", t.URL}, {"headers", t.headers()}} },
	Notes:        "Zed connects over HTTP with the token in a header (context_servers in settings.json).",
	AfterConnect: "Zed reloads settings.json by itself; the server shows in the Agent Panel's settings.",
}
