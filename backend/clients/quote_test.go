package clients

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

var trickyArgs = []string{
	`C:\Program Files\Patchbay\patchbay.exe`,
	`/Applications/Patch Bay.app/Contents/MacOS/patchbay`,
	`C:\path with trailing slash\`,
	`C:\no-spaces\patchbay.exe`,
	`{"name":"patchbay","type":"http","url":"http://127.0.0.1:47821/mcp","headers":{"Authorization":"Bearer <PATCHBAY_TOKEN>"}}`,
	`Authorization: Bearer pbt_abc`,
	`it's "quoted" \" and \\"`,
	``,
	`plain`,
}

// splitWindows splits a command line the way CommandLineToArgvW and the
// Microsoft C runtime do (the 2008+ rules), to check quoteWindows.
func splitWindows(line string) []string {
	var args []string
	var cur strings.Builder
	inQuotes, have := false, false
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == '\\':
			n := 0
			for i < len(line) && line[i] == '\\' {
				n++
				i++
			}
			if i < len(line) && line[i] == '"' {
				cur.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					cur.WriteByte('"')
					i++
				}
			} else {
				cur.WriteString(strings.Repeat(`\`, n))
			}
			have = true
			continue
		case c == '"':
			if inQuotes && i+1 < len(line) && line[i+1] == '"' {
				cur.WriteByte('"')
				i += 2
				continue
			}
			inQuotes = !inQuotes
			have = true
		case (c == ' ' || c == '\t') && !inQuotes:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
		i++
	}
	if have {
		args = append(args, cur.String())
	}
	return args
}

// cmdUnescape does what cmd.exe does to a line before the program sees
// it: carets outside (cmd's idea of) quotes escape the next character.
func cmdUnescape(line string) string {
	var b strings.Builder
	quoted := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '"':
			quoted = !quoted
		case c == '^' && !quoted && i+1 < len(line):
			i++
			c = line[i]
		case !quoted && strings.IndexByte("&|<>", c) >= 0:
			panic("cmd would treat " + string(c) + " as an operator in: " + line)
		}
		b.WriteByte(c)
	}
	return b.String()
}

func TestQuoteWindowsRoundTrips(t *testing.T) {
	line := CommandLine(ShellCmd, trickyArgs)
	got := splitWindows(cmdUnescape(line))
	if len(got) != len(trickyArgs) {
		t.Fatalf("%s\nsplits into %d args: %q", line, len(got), got)
	}
	for i := range got {
		if got[i] != trickyArgs[i] {
			t.Errorf("arg %d: %q, want %q", i, got[i], trickyArgs[i])
		}
	}
	if q := quoteWindows(`C:\Program Files\Patchbay\patchbay.exe`); q != `"C:\Program Files\Patchbay\patchbay.exe"` {
		t.Errorf("program path: %s", q)
	}
	if q := quoteWindows(`C:\path with trailing slash\`); q != `"C:\path with trailing slash\\"` {
		t.Errorf("trailing backslash: %s", q)
	}
	if q := quoteWindows(`C:\no-spaces\patchbay.exe`); q != `C:\no-spaces\patchbay.exe` {
		t.Errorf("needless quotes: %s", q)
	}
}

// The POSIX form is checked by a real shell.
func TestQuotePOSIXWithSh(t *testing.T) {
	line := CommandLine(ShellPOSIX, append([]string{"printf", `%s\0`}, trickyArgs...))
	out, err := exec.Command("sh", "-c", line).Output()
	if err != nil {
		t.Fatalf("sh -c %s: %v", line, err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(got) != len(trickyArgs) {
		t.Fatalf("%d args back: %q", len(got), got)
	}
	for i := range got {
		if got[i] != trickyArgs[i] {
			t.Errorf("arg %d: %q, want %q", i, got[i], trickyArgs[i])
		}
	}
}

func TestQuotePowerShell(t *testing.T) {
	for in, want := range map[string]string{
		`C:\Program Files\Patchbay\patchbay.exe`: `'C:\Program Files\Patchbay\patchbay.exe'`,
		`C:\tools\patchbay.exe`:                  `C:\tools\patchbay.exe`,
		`it's`:                                   `'it''s'`,
		`$env:HOME`:                              `'$env:HOME'`,
		``:                                       `''`,
	} {
		if got := quotePowerShell(in); got != want {
			t.Errorf("quotePowerShell(%q) = %s, want %s", in, got, want)
		}
	}
	line := CommandLine(ShellPowerShell, []string{`C:\Program Files\Patchbay\patchbay.exe`, "stdio"})
	if line != `& 'C:\Program Files\Patchbay\patchbay.exe' stdio` {
		t.Errorf("PowerShell line: %s", line)
	}
}

func TestClientCommandLines(t *testing.T) {
	tg := Target{Name: "patchbay-work", URL: "http://127.0.0.1:47821/mcp/work", Token: "pbt_abc"}
	got := CommandLine(ShellPOSIX, claudeCode.Command(tg, ScopeUser))
	want := `claude mcp add --transport http --scope user --header 'Authorization: Bearer pbt_abc' patchbay-work http://127.0.0.1:47821/mcp/work`
	if got != want {
		t.Errorf("claude:\n%s\nwant\n%s", got, want)
	}
	win := CommandLine(ShellCmd, claudeCode.Command(tg, ScopeProject))
	if !strings.Contains(win, `--header "Authorization: Bearer pbt_abc" patchbay-work`) || !strings.Contains(win, "--scope project") {
		t.Errorf("claude on Windows: %s", win)
	}
	code := splitWindows(cmdUnescape(CommandLine(ShellCmd, vscode.Command(tg, ScopeUser))))
	if len(code) != 3 || code[1] != "--add-mcp" || !bytes.Contains([]byte(code[2]), []byte(`"headers":{"Authorization":"Bearer pbt_abc"}`)) {
		t.Errorf("code --add-mcp on Windows: %q", code)
	}
	placeholder := tg
	placeholder.Token = TokenPlaceholder
	if arg := vscode.Command(placeholder, ScopeUser)[2]; arg != `{"name":"patchbay-work","type":"http","url":"http://127.0.0.1:47821/mcp/work","headers":{"Authorization":"Bearer <PATCHBAY_TOKEN>"}}` {
		t.Errorf("code --add-mcp argument: %s", arg)
	}
	if vscode.Command(tg, ScopeProject) != nil {
		t.Error("code --add-mcp has no project scope")
	}
	g := CommandLine(ShellPOSIX, gemini.Command(tg, ScopeUser))
	if g != `gemini mcp add --scope user --transport http --header 'Authorization: Bearer pbt_abc' patchbay-work http://127.0.0.1:47821/mcp/work` {
		t.Errorf("gemini: %s", g)
	}
}
