package gateway

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// redactor removes secrets from what the activity log and approval prompts
// show: every stored secret value Patchbay knows (connector API keys,
// secret headers, OAuth tokens, resolved environment references), and
// common credential shapes a model may have put in arguments or a server
// in a result (Bearer tokens, JWTs, PEM private keys, well-known API key
// formats, "password": … fields).
type redactor struct {
	mu     sync.RWMutex
	values []string // longest first, each also in its JSON-escaped form
}

const redactedText = "[REDACTED]"

// minSecretLen keeps a short value from redacting every occurrence of,
// say, "1234" in every log entry; real keys are far longer.
const minSecretLen = 6

// patterns are credential shapes, redacted wherever they appear.
// Each pattern has a cheap literal test (hint), so that text with none of
// them — most text — skips the regular expression.
var patterns = []struct {
	re   *regexp.Regexp
	repl string
	hint func(string) bool
}{
	// PEM private keys, possibly inside a JSON string (newlines as \n).
	{regexp.MustCompile(`-----BEGIN[A-Z ]*PRIVATE KEY-----[A-Za-z0-9+/=\\\s:,.-]*`), "[REDACTED PRIVATE KEY]", has("PRIVATE KEY")},
	// JWTs.
	{regexp.MustCompile(`eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*`), redactedText, has("eyJ")},
	// Bearer credentials in header-like text.
	{regexp.MustCompile(`(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]{8,}=*`), "${1}" + redactedText, hasFold("bearer")},
	// Well-known API key formats.
	{regexp.MustCompile(`\b(?:sk-[A-Za-z0-9_-]{16,}|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,}|npm_[A-Za-z0-9]{36}|pb[at]_[A-Za-z0-9]{20,})`), redactedText, has("sk-", "sk_", "rk_", "pk_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "xapp-", "AKIA", "ASIA", "AIza", "glpat-", "npm_", "pba_", "pbt_")},
	// JSON fields whose name says they hold a credential.
	{regexp.MustCompile(`(?i)(\\"(?:password|passwd|passphrase|secret|client_secret|api[_-]?key|x-api-key|access[_-]?token|refresh[_-]?token|id[_-]?token|auth[_-]?token|private[_-]?key|authorization|cookie)\\"\s*:\s*)\\"(?:[^"\\]|\\[^"])*\\"`), `${1}\"` + redactedText + `\"`, credentialKey},
	// The same fields inside JSON that is itself inside a JSON string.
	{regexp.MustCompile(`(?i)("(?:password|passwd|passphrase|secret|client_secret|api[_-]?key|x-api-key|access[_-]?token|refresh[_-]?token|id[_-]?token|auth[_-]?token|private[_-]?key|authorization|cookie)"\s*:\s*)"(?:[^"\\]|\\.)*"`), `${1}"` + redactedText + `"`, credentialKey},
}

// setValues replaces the known secret values.
func (r *redactor) setValues(values []string) {
	var out []string
	for _, v := range values {
		if len(v) < minSecretLen {
			continue
		}
		out = append(out, v)
		if b, err := json.Marshal(v); err == nil {
			if esc := string(b[1 : len(b)-1]); esc != v {
				out = append(out, esc)
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	out = slices.Compact(out)
	r.mu.Lock()
	r.values = out
	r.mu.Unlock()
}

// String returns s with secrets replaced.
func (r *redactor) String(s string) string {
	r.mu.RLock()
	for _, v := range r.values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, redactedText)
		}
	}
	r.mu.RUnlock()
	for _, p := range patterns {
		if p.hint(s) {
			s = p.re.ReplaceAllString(s, p.repl)
		}
	}
	return s
}

// JSON returns raw with secrets replaced. The result is valid JSON: when a
// replacement would break it (a secret spanning structure, which no real
// secret does), the redacted text is returned as one JSON string.
func (r *redactor) JSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	s := r.String(string(raw))
	if s == string(raw) {
		return raw
	}
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s)
	return b
}

// has returns a hint: s contains any of subs.
func has(subs ...string) func(string) bool {
	return func(s string) bool {
		for _, sub := range subs {
			if strings.Contains(s, sub) {
				return true
			}
		}
		return false
	}
}

// credentialKey hints at a JSON field named like a credential.
func credentialKey(s string) bool {
	l := strings.ToLower(s)
	for _, k := range []string{"pass", "secret", "key", "token", "authorization", "cookie"} {
		if strings.Contains(l, k) {
			return true
		}
	}
	return false
}

// hasFold returns a hint: s contains sub in any case.
func hasFold(sub string) func(string) bool {
	return func(s string) bool { return strings.Contains(strings.ToLower(s), sub) }
}
