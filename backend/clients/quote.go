package clients

import "strings"

// Shells a command line can be written for.
const (
	ShellPOSIX      = "posix"      // sh, bash, zsh (macOS, Linux)
	ShellCmd        = "cmd"        // Windows cmd.exe
	ShellPowerShell = "powershell" // Windows PowerShell 7.3+ and pwsh
)

// CommandLine joins argv into one line for shell, quoting each argument so
// that the program receives it unchanged: paths with spaces, Windows paths
// with backslashes, JSON with quotes.
func CommandLine(shell string, argv []string) string {
	q := quotePOSIX
	switch shell {
	case ShellCmd:
		q = quoteWindows
	case ShellPowerShell:
		q = quotePowerShell
	}
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = q(a)
	}
	line := strings.Join(parts, " ")
	if shell == ShellCmd {
		line = cmdEscape(line)
	}
	if shell == ShellPowerShell && len(argv) > 0 && parts[0] != argv[0] {
		// A quoted program path is a string to PowerShell; & runs it.
		line = "& " + line
	}
	return line
}

// cmdEscape protects cmd.exe's special characters. cmd knows no backslash
// escapes: every " flips its quoting, so an escaped quote inside an
// argument (JSON) leaves the rest of it unquoted to cmd, where & | < > ^
// would act; a caret makes them literal, and cmd removes it.
func cmdEscape(line string) string {
	var b strings.Builder
	quoted := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '"' {
			quoted = !quoted
		} else if !quoted && strings.IndexByte("&|<>^()", c) >= 0 {
			b.WriteByte('^')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// quotePOSIX quotes s for a POSIX shell when it needs quoting.
func quotePOSIX(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@=,+%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// quoteWindows quotes s the way Windows programs split their command line
// (CommandLineToArgvW and the C runtime): double quotes around arguments
// with spaces, tabs or quotes, backslashes doubled only before a quote. The
// result is also safe in cmd.exe for arguments without % or ^.
func quoteWindows(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			slashes++
		case '"':
			// The backslashes written so far must be doubled, and the
			// quote escaped.
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(c)
	}
	// Backslashes before the closing quote must be doubled too.
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}

// quotePowerShell quotes s as a PowerShell single-quoted string when it
// needs quoting (” stands for a quote inside).
func quotePowerShell(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(`-_./:\=`, r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
