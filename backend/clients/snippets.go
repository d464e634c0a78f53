// Package clients sets up desktop AI clients (Claude Desktop, Claude Code,
// Cursor, VS Code, Windsurf, Codex CLI, Gemini CLI, Zed) to use Patchbay's
// endpoint: the person picks a client and a conversation, and Patchbay
// writes the client's own configuration file.
//
// Hand-written configuration is where people give up: Claude Desktop only
// launches stdio servers, Windows paths and spaces break JSON and command
// lines, and rewriting a JSON file loses its comments. So this package
//
//   - knows each client's file on Linux, macOS and Windows (user scope, and
//     project scope where the client has one), computed from an injectable
//     Env so all three are tested on one machine;
//   - edits JSON/JSONC on hujson's exact syntax tree and TOML as text
//     checked by a parser, so every byte outside Patchbay's entry stays as
//     it was, comments included;
//   - previews each change as a unified diff, backs the file up before
//     writing, and can undo to the exact previous bytes;
//   - issues one client token per connection (revoked on disconnect), or
//     points stdio-only clients at `patchbay stdio` by absolute path;
//   - never replaces an entry of the same name it did not write unless the
//     person confirms.
package clients

import (
	"context"
	"runtime"
)

// TokenPlaceholder stands for a client token in snippets built without one.
const TokenPlaceholder = "<PATCHBAY_TOKEN>"

// Snippets returns ready-to-paste setup for the HTTP clients, keyed by
// client ID: a command line for command-line clients, else the
// configuration to put in the client's file. name is the server name the
// client will show ("patchbay" or "patchbay-<conversation>"); token may be
// empty for a placeholder.
func Snippets(name, url, token string) map[string]string {
	if token == "" {
		token = TokenPlaceholder
	}
	t := Target{Name: name, URL: url, Token: token}
	out := map[string]string{}
	for _, c := range Catalog() {
		if c.Method != MethodHTTP {
			continue
		}
		if c.PreferCommand && c.Command != nil {
			out[c.ID] = CommandLine(ShellPOSIX, c.Command(t, ScopeUser))
			continue
		}
		out[c.ID] = configSnippet(c, name, c.Entry(t))
	}
	return out
}

// configSnippet is a whole configuration file holding just the entry.
func configSnippet(c *Client, name string, entry Object) string {
	if c.Format == FormatTOML {
		return renderTOMLTable(c.Container, name, entry, "\n")
	}
	return string(renderJSON(Object{{c.Container, Object{{name, entry}}}}, "", "  ", "\n")) + "\n"
}

// SnippetRequest asks for manual setup instructions.
type SnippetRequest struct {
	Conversation string `json:"conversation"`
	Scope        string `json:"scope,omitempty"`
	// IssueToken puts a new token (labelled for manual setup) into the
	// snippet instead of a placeholder. Patchbay does not track where it is
	// pasted: revoke it on the Tokens screen.
	IssueToken bool `json:"issue_token,omitempty"`
}

// SnippetResult is what to copy for manual setup.
type SnippetResult struct {
	Client string `json:"client"`
	// Snippet is the configuration to merge into the client's file:
	// ConfigPath, relative to the project's folder for the project scope.
	Snippet string `json:"snippet"`
	// Command is the client's own command line for this OS ("" when it
	// has none); Commands has it for every shell.
	Command    string            `json:"command"`
	Commands   map[string]string `json:"commands,omitempty"`
	ConfigPath string            `json:"config_path"`
	Format     string            `json:"format"`
	Entry      string            `json:"entry"`
	URL        string            `json:"url"`
	Method     string            `json:"method"`
	// Token is set only when one was issued for this snippet.
	Token     string `json:"token,omitempty"`
	TokenHint string `json:"token_hint,omitempty"`
	Notes     string `json:"notes"`
}

// Snippet returns the entry to paste and the client's own command line.
func (s *Service) Snippet(ctx context.Context, id string, req SnippetRequest) (*SnippetResult, error) {
	c, err := Lookup(id)
	if err != nil {
		return nil, err
	}
	scope, err := scopeOf(c, req.Scope, "")
	if err != nil {
		return nil, err
	}
	slug, _, err := s.conversation(ctx, req.Conversation)
	if err != nil {
		return nil, err
	}
	res := &SnippetResult{Client: c.ID, ConfigPath: c.UserPath(s.env), Format: c.Format, Entry: EntryName(slug), Method: c.Method, Notes: c.Notes}
	if scope == ScopeProject {
		res.ConfigPath = c.ProjectPath(s.env, ".") // in whichever project it is for
	}
	token := TokenPlaceholder
	if req.IssueToken && c.Method == MethodHTTP {
		value, tok, err := s.tokens.IssueToken(ctx, s.tokenLabel(c, ScopeUser, "")+" (manual setup)", c.ID)
		if err != nil {
			return nil, err
		}
		token, res.Token, res.TokenHint = value, value, tok.Hint
	}
	t, err := s.target(c, slug, token)
	if err != nil {
		return nil, err
	}
	res.URL = t.URL
	res.Snippet = configSnippet(c, t.Name, c.Entry(t))
	if c.Command != nil {
		if argv := c.Command(t, scope); argv != nil {
			res.Commands = map[string]string{}
			for _, sh := range []string{ShellPOSIX, ShellCmd, ShellPowerShell} {
				res.Commands[sh] = CommandLine(sh, argv)
			}
			res.Command = res.Commands[defaultShell(s.env.GOOS)]
		}
	}
	return res, nil
}

// defaultShell is the shell a command line is shown for on goos.
func defaultShell(goos string) string {
	if goos == "" {
		goos = runtime.GOOS
	}
	if goos == "windows" {
		return ShellCmd
	}
	return ShellPOSIX
}
