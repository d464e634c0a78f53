package backend_test

import (
	"encoding/base32"
	"regexp"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/backend"
)

func TestNewTokenValue(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := backend.NewTokenValue()
		if !strings.HasPrefix(tok, backend.TokenPrefix) {
			t.Fatalf("token %q lacks the prefix %q", tok, backend.TokenPrefix)
		}
		body := strings.TrimPrefix(tok, backend.TokenPrefix)
		// Each character is one base32 digit: 5 bits.
		if strings.Trim(body, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Fatalf("token body %q is not base32", body)
		}
		if bits := len(body) * 5; bits < 256 {
			t.Fatalf("token carries %d random bits, want at least 256", bits)
		}
		if _, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(body[:48]); err != nil {
			t.Fatalf("token body does not decode as base32: %v", err)
		}
		if seen[tok] {
			t.Fatal("NewTokenValue repeated a token")
		}
		seen[tok] = true
	}
}

func TestHashToken(t *testing.T) {
	tok := backend.NewTokenValue()
	h := backend.HashToken(tok)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(h) {
		t.Errorf("HashToken = %q, want 64 hex digits", h)
	}
	if strings.Contains(h, strings.TrimPrefix(tok, backend.TokenPrefix)[:8]) {
		t.Error("the hash contains the token")
	}
	if backend.HashToken(tok) != h {
		t.Error("HashToken is not deterministic")
	}
	if backend.HashToken(backend.NewTokenValue()) == h || backend.HashToken(tok+"x") == h {
		t.Error("different tokens hash alike")
	}
}

func TestTokenHint(t *testing.T) {
	tok := backend.NewTokenValue()
	hint := backend.TokenHint(tok)
	body := strings.TrimPrefix(tok, backend.TokenPrefix)
	if hint != backend.TokenPrefix+body[:6]+"…" {
		t.Errorf("TokenHint = %q, want the prefix, 6 characters and an ellipsis", hint)
	}
	// The hint shows at most 30 of the token's bits; the rest stays hidden.
	if shown := len(strings.TrimSuffix(strings.TrimPrefix(hint, backend.TokenPrefix), "…")); shown*4 > len(body) {
		t.Errorf("hint shows %d of %d characters", shown, len(body))
	}
	if strings.Contains(hint, body[6:12]) {
		t.Error("hint reveals characters past the first six")
	}
	if got := backend.TokenHint("pbt_abc"); got != "pbt_abc…" {
		t.Errorf("TokenHint(short) = %q", got)
	}
	if got := backend.TokenHint("abcdefghij"); got != "pbt_abcdef…" {
		t.Errorf("TokenHint(no prefix) = %q", got)
	}
}

func TestNewID(t *testing.T) {
	re := regexp.MustCompile(`^c_[a-z2-7]{16}$`)
	a, b := backend.NewID("c"), backend.NewID("c")
	if !re.MatchString(a) || !re.MatchString(b) {
		t.Errorf("NewID = %q, %q; want c_ and 16 lower-case base32 characters", a, b)
	}
	if a == b {
		t.Error("NewID repeated itself")
	}
}
