package clients

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

func winEnv() *Env {
	return &Env{GOOS: "windows", Home: `C:\Users\Ann Lee`, AppData: `C:\Users\Ann Lee\AppData\Roaming`, LocalAppData: `C:\Users\Ann Lee\AppData\Local`}
}

func TestConfigPathsPerOS(t *testing.T) {
	linux := &Env{GOOS: "linux", Home: "/home/ann"}
	xdg := &Env{GOOS: "linux", Home: "/home/ann", Getenv: func(k string) string {
		return map[string]string{"XDG_CONFIG_HOME": "/home/ann/.xdg", "CODEX_HOME": "/srv/codex", "CLAUDE_CONFIG_DIR": "/home/ann/.claude-alt"}[k]
	}}
	mac := &Env{GOOS: "darwin", Home: "/Users/ann"}
	win := winEnv()
	want := map[string][4]string{ // linux, linux with env overrides, macOS, Windows
		"claude-desktop": {"/home/ann/.config/Claude/claude_desktop_config.json", "/home/ann/.xdg/Claude/claude_desktop_config.json",
			"/Users/ann/Library/Application Support/Claude/claude_desktop_config.json", `C:\Users\Ann Lee\AppData\Roaming\Claude\claude_desktop_config.json`},
		"claude-code": {"/home/ann/.claude.json", "/home/ann/.claude-alt/.claude.json", "/Users/ann/.claude.json", `C:\Users\Ann Lee\.claude.json`},
		"cursor":      {"/home/ann/.cursor/mcp.json", "/home/ann/.cursor/mcp.json", "/Users/ann/.cursor/mcp.json", `C:\Users\Ann Lee\.cursor\mcp.json`},
		"vscode": {"/home/ann/.config/Code/User/mcp.json", "/home/ann/.xdg/Code/User/mcp.json",
			"/Users/ann/Library/Application Support/Code/User/mcp.json", `C:\Users\Ann Lee\AppData\Roaming\Code\User\mcp.json`},
		"windsurf": {"/home/ann/.codeium/windsurf/mcp_config.json", "/home/ann/.codeium/windsurf/mcp_config.json",
			"/Users/ann/.codeium/windsurf/mcp_config.json", `C:\Users\Ann Lee\.codeium\windsurf\mcp_config.json`},
		"codex":  {"/home/ann/.codex/config.toml", "/srv/codex/config.toml", "/Users/ann/.codex/config.toml", `C:\Users\Ann Lee\.codex\config.toml`},
		"gemini": {"/home/ann/.gemini/settings.json", "/home/ann/.gemini/settings.json", "/Users/ann/.gemini/settings.json", `C:\Users\Ann Lee\.gemini\settings.json`},
		"zed":    {"/home/ann/.config/zed/settings.json", "/home/ann/.xdg/zed/settings.json", "/Users/ann/.config/zed/settings.json", `C:\Users\Ann Lee\AppData\Roaming\Zed\settings.json`},
	}
	if len(want) != len(Catalog()) {
		t.Fatalf("test covers %d clients, catalog has %d", len(want), len(Catalog()))
	}
	for _, c := range Catalog() {
		for i, e := range []*Env{linux, xdg, mac, win} {
			if got := c.UserPath(e); got != want[c.ID][i] {
				t.Errorf("%s on %s (#%d): %s, want %s", c.ID, e.GOOS, i, got, want[c.ID][i])
			}
		}
	}
	project := map[string]string{
		"claude-code": `D:\work\my app\.mcp.json`, "cursor": `D:\work\my app\.cursor\mcp.json`,
		"vscode": `D:\work\my app\.vscode\mcp.json`, "codex": `D:\work\my app\.codex\config.toml`,
		"gemini": `D:\work\my app\.gemini\settings.json`,
	}
	for _, c := range Catalog() {
		if c.SupportsProject() != (project[c.ID] != "") {
			t.Errorf("%s: project scope %v", c.ID, c.SupportsProject())
			continue
		}
		if c.SupportsProject() {
			if got := c.ProjectPath(win, `D:\work\my app\`); got != project[c.ID] {
				t.Errorf("%s project: %s, want %s", c.ID, got, project[c.ID])
			}
			if got := c.ProjectPath(linux, "/src/my app"); !strings.HasPrefix(got, "/src/my app/.") {
				t.Errorf("%s project on linux: %s", c.ID, got)
			}
		}
	}
}

func TestClaudeDesktopMicrosoftStoreBuild(t *testing.T) {
	e := winEnv()
	pkg := `C:\Users\Ann Lee\AppData\Local\Packages\Claude_pzs8sxrjxfjjc\LocalCache\Roaming\Claude`
	e.Glob = func(p string) ([]string, error) {
		if p == `C:\Users\Ann Lee\AppData\Local\Packages\Claude_*\LocalCache\Roaming\Claude` {
			return []string{pkg}, nil
		}
		return nil, nil
	}
	if got := claudeDesktop.UserPath(e); got != pkg+`\claude_desktop_config.json` {
		t.Fatalf("MSIX path: %s", got)
	}
}

func TestDetection(t *testing.T) {
	present := map[string]bool{}
	e := &Env{GOOS: "darwin", Home: "/Users/ann", Exists: func(p string) bool { return present[p] },
		LookPath: func(n string) (string, error) {
			if n == "codex" {
				return "/usr/local/bin/codex", nil
			}
			return "", exec.ErrNotFound
		}}
	present["/Applications/Cursor.app"] = true
	present["/Users/ann/Applications/Claude.app"] = true
	present["/Users/ann/.gemini"] = true
	got := map[string]bool{}
	for _, c := range Catalog() {
		got[c.ID] = c.Installed(e)
	}
	want := map[string]bool{"cursor": true, "claude-desktop": true, "gemini": true, "codex": true}
	for id, ok := range got {
		if ok != want[id] {
			t.Errorf("%s installed = %v", id, ok)
		}
	}
	w := winEnv()
	w.Exists = func(p string) bool { return p == `C:\Users\Ann Lee\AppData\Local\Programs\Microsoft VS Code\Code.exe` }
	if !vscode.Installed(w) || cursor.Installed(w) {
		t.Error("VS Code on Windows not detected by its per-user install")
	}
	w.Exists = nil
	w.LookPath = func(n string) (string, error) {
		if n == "claude.exe" {
			return `C:\tools\claude.exe`, nil
		}
		return "", exec.ErrNotFound
	}
	if !claudeCode.Installed(w) {
		t.Error("claude.exe on PATH not detected")
	}
}

// A Windows binary path in a stdio entry survives JSON and TOML encoding
// exactly.
func TestWindowsBinaryPathInEntries(t *testing.T) {
	bin := `C:\Program Files\Patchbay\patchbay.exe`
	tg := Target{Command: bin, Args: []string{"stdio", "--conversation", "my-work"}}
	var got struct {
		MCPServers map[string]struct {
			Command string
			Args    []string
		} `json:"mcpServers"`
	}
	js := configSnippet(claudeDesktop, "patchbay", claudeDesktop.Entry(tg))
	if !strings.Contains(js, `"C:\\Program Files\\Patchbay\\patchbay.exe"`) {
		t.Fatalf("JSON does not escape the backslashes:\n%s", js)
	}
	if err := json.Unmarshal([]byte(js), &got); err != nil || got.MCPServers["patchbay"].Command != bin {
		t.Fatalf("JSON round trip: %+v %v", got, err)
	}
	var tm map[string]map[string]map[string]any
	tt := renderTOMLTable("mcp_servers", "patchbay", Object{{"command", bin}, {"args", tg.Args}}, "\n")
	if err := toml.Unmarshal([]byte(tt), &tm); err != nil || tm["mcp_servers"]["patchbay"]["command"] != bin {
		t.Fatalf("TOML round trip of %s: %v %v", tt, tm, err)
	}
}

func TestJoinWindows(t *testing.T) {
	e := winEnv()
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{`C:\`, "Users"}, `C:\Users`},
		{[]string{`C:`, "x", "y.json"}, `C:\x\y.json`},
		{[]string{`D:\work\my app\`, ".cursor", "mcp.json"}, `D:\work\my app\.cursor\mcp.json`},
		{[]string{`\\server\share\proj`, ".mcp.json"}, `\\server\share\proj\.mcp.json`},
		{[]string{`C:/Users/ann`, "a/b"}, `C:\Users\ann\a\b`},
	} {
		if got := e.Join(c.in...); got != c.want {
			t.Errorf("Join(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	for p, abs := range map[string]bool{`C:\x`: true, `C:/x`: true, `\\srv\s`: true, `x\y`: false, `C:x`: false, `/x`: false} {
		if e.IsAbs(p) != abs {
			t.Errorf("IsAbs(%s) = %v", p, !abs)
		}
	}
}
