package backend

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// ClientToken is a bearer token issued to one desktop client. Only its hash
// is stored; the token itself is shown once, when it is issued.
type ClientToken struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	// Client names the kind of client it was issued for ("cursor",
	// "claude-desktop"), when it was issued by client setup.
	Client string `json:"client,omitempty"`
	// Hint is the first characters of the token, to help a person tell
	// tokens apart; it is not enough to guess the rest.
	Hint       string    `json:"hint"`
	Hash       string    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// TokenPrefix starts every client token, so that a leaked one is easy to
// recognise (and to redact).
const TokenPrefix = "pbt_"

// NewTokenValue returns a fresh token: TokenPrefix and 256 random bits.
func NewTokenValue() string {
	return TokenPrefix + rand.Text() + rand.Text()[:26]
}

// HashToken returns the stored form of a token. Tokens carry 256 random
// bits, so a plain SHA-256 is enough: there is nothing to brute-force.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TokenHint returns the part of a token shown in lists.
func TokenHint(token string) string {
	t := strings.TrimPrefix(token, TokenPrefix)
	if len(t) > 6 {
		t = t[:6]
	}
	return TokenPrefix + t + "…"
}

// NewID returns a random identifier with the given prefix ("c" for
// connectors, "v" for conversations, …).
func NewID(prefix string) string {
	return prefix + "_" + strings.ToLower(rand.Text()[:16])
}
