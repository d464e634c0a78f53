package gateway

import (
	"crypto/sha256"
	"encoding/base32"
	"slices"
	"strconv"
	"strings"

	"github.com/patchbay/patchbay/backend"
)

// Tool names as clients see them are "<connector slug>_<tool>". Slugs are
// [a-z0-9-], so the text before the first "_" always names the connector
// and names of different connectors never collide. Within one connector a
// name that is already valid and short enough is kept as is; any other is
// sanitised, shortened and given a short hash of the original, so that two
// upstream names that sanitise alike still differ. Names depend only on the
// slug and the connector's set of tool names, so they are stable across
// restarts; the gateway keeps the reverse map.

const (
	maxToolName = 64
	hashLen     = 6
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// shortHash returns a short, lower-case hash of s.
func shortHash(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return strings.ToLower(b32.EncodeToString(sum[:]))[:n]
}

// exposedNames returns the client-facing name of each of a connector's
// tools (map from upstream name). tools may be in any order.
func exposedNames(slug string, tools []string) map[string]string {
	prefix := slug
	if len(prefix) == 0 || len(prefix) > backend.MaxSlugLen || strings.ContainsRune(prefix, '_') || !backend.ValidToolName(prefix) {
		// Not a valid slug (data from an older version?): keep the prefix
		// unique and valid all the same.
		prefix = "c-" + shortHash(slug, 8)
	}
	budget := maxToolName - len(prefix) - 1
	sorted := slices.Clone(tools)
	slices.Sort(sorted)
	out := make(map[string]string, len(sorted))
	used := make(map[string]bool, len(sorted))
	// Valid names first, so that a sanitised name can never take the name
	// an unaltered tool would have had.
	var altered []string
	for _, t := range sorted {
		if _, dup := out[t]; dup {
			continue
		}
		if len(t) <= budget && backend.ValidToolName(t) {
			name := prefix + "_" + t
			out[t] = name
			used[name] = true
		} else {
			altered = append(altered, t)
		}
	}
	for _, t := range altered {
		if _, dup := out[t]; dup {
			continue
		}
		clean := sanitize(t)
		name := shortened(prefix, clean, shortHash(t, hashLen), budget)
		for n := 1; used[name]; n++ {
			name = shortened(prefix, clean, shortHash(t+"#"+strconv.Itoa(n), hashLen+2), budget)
		}
		out[t] = name
		used[name] = true
	}
	return out
}

// shortened joins prefix, as much of clean as fits and the hash.
func shortened(prefix, clean, hash string, budget int) string {
	room := budget - len(hash) - 1
	if room <= 0 || clean == "" {
		return prefix + "_" + hash
	}
	if len(clean) > room {
		clean = clean[:room]
	}
	return prefix + "_" + clean + "_" + hash
}

// sanitize replaces every character clients do not accept with "_" and
// folds runs of them into one.
func sanitize(s string) string {
	var b strings.Builder
	lastUnderscore := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			c = '_'
		}
		if c == '_' && lastUnderscore {
			continue
		}
		lastUnderscore = c == '_'
		b.WriteByte(c)
	}
	return strings.Trim(b.String(), "_")
}
