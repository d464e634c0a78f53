package oauth

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/secrets"
)

func TestTokenFreshness(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		life, at time.Duration
		want     bool
	}{
		{time.Hour, 59 * time.Minute, true}, // 60s left: more than the 30s margin
		{time.Hour, 59*time.Minute + 31*time.Second, false},
		{3 * time.Second, 2 * time.Second, true}, // short-lived: margin is a fifth (600ms)
		{3 * time.Second, 2500 * time.Millisecond, false},
		{0, 0, true}, // no expiry: fresh until the server says otherwise
	}
	for _, c := range cases {
		ts := &tokenSet{ObtainedAt: t0}
		if c.life > 0 {
			ts.Expiry = t0.Add(c.life)
		}
		if got := ts.fresh(t0.Add(c.at)); got != c.want {
			t.Errorf("lifetime %s, at %s: fresh = %v, want %v", c.life, c.at, got, c.want)
		}
	}
}

func TestRequestScopes(t *testing.T) {
	md := &metadata{ChallengeScopes: []string{"mcp:tools"}, ResourceScopes: []string{"a", "b"}, ASScopes: []string{"openid", "offline_access"}}
	if got := requestScopes(&backend.OAuthAuth{}, md); !reflect.DeepEqual(got, []string{"mcp:tools", "offline_access"}) {
		t.Errorf("challenge first: %v", got)
	}
	if got := requestScopes(&backend.OAuthAuth{Scopes: []string{"mine"}}, md); !reflect.DeepEqual(got, []string{"mine", "offline_access"}) {
		t.Errorf("the person's scopes win: %v", got)
	}
	md2 := &metadata{ResourceScopes: []string{"a"}, StepUpScopes: []string{"a", "admin"}}
	if got := requestScopes(&backend.OAuthAuth{}, md2); !reflect.DeepEqual(got, []string{"a", "admin"}) {
		t.Errorf("resource scopes plus step-up, no offline_access when not offered: %v", got)
	}
}

func TestParseChallenge(t *testing.T) {
	ci := parseChallenge(`Bearer resource_metadata="https://x.example/.well-known/oauth-protected-resource/mcp", error="insufficient_scope", scope="files:read files:write"`)
	if ci.resourceMetadata != "https://x.example/.well-known/oauth-protected-resource/mcp" || ci.err != "insufficient_scope" ||
		!reflect.DeepEqual(ci.scopes, []string{"files:read", "files:write"}) {
		t.Errorf("parsed %+v", ci)
	}
	if ci := parseChallenge(`Basic realm="x"`); ci.err != "" || ci.scopes != nil {
		t.Errorf("Basic challenge: %+v", ci)
	}
	if ci := parseChallenge(`"broken`); ci.resourceMetadata != "" {
		t.Errorf("broken header: %+v", ci)
	}
}

func TestCheckEndpoint(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://auth.example.com/token": true,
		"http://127.0.0.1:9000/token":    true,
		"http://localhost/token":         true,
		"http://auth.example.com/token":  false,
		"ftp://auth.example.com/token":   false,
		"javascript:alert(1)":            false,
	} {
		if err := checkEndpoint("token endpoint", raw); (err == nil) != ok {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

func TestMetadataURLs(t *testing.T) {
	got := asMetadataURLs("https://auth.example.com/tenant/1")
	want := []string{
		"https://auth.example.com/.well-known/oauth-authorization-server/tenant/1",
		"https://auth.example.com/.well-known/openid-configuration/tenant/1",
		"https://auth.example.com/tenant/1/.well-known/openid-configuration",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("with a path: %v", got)
	}
	if got := asMetadataURLs("https://auth.example.com/"); len(got) != 2 || !strings.HasSuffix(got[1], "/.well-known/openid-configuration") {
		t.Errorf("root: %v", got)
	}
}

func TestTokenErrorsThatNeedSignIn(t *testing.T) {
	for _, e := range []*tokenError{{Code: "invalid_grant"}, {Code: "invalid_client", Status: 401}, {Status: 400}} {
		if !e.dead() {
			t.Errorf("%+v should need a sign-in", e)
		}
	}
	for _, e := range []*tokenError{{Status: 503}, {Cause: os.ErrDeadlineExceeded}, {Code: "temporarily_unavailable", Status: 400}} {
		if e.dead() {
			t.Errorf("%+v is not the end of the sign-in", e)
		}
	}
}

// $BROWSER: commands separated by colons, tried in turn; %s is replaced by
// the URL, else it is appended.
func TestOpenWithBrowserEnv(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := openWithBrowserEnv("no-such-browser-7e1 %s:touch", a); err != nil {
		t.Fatal(err)
	}
	if err := openWithBrowserEnv("touch %s", b); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{a, b} {
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, err := os.Stat(f); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s was not opened", f)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := openWithBrowserEnv("no-such-browser-7e1:also-missing-2b9", "x"); err == nil || !strings.Contains(err.Error(), "no-such-browser-7e1") {
		t.Errorf("no browser at all: %v", err)
	}
}

func TestPreviewRedirect(t *testing.T) {
	if p := PreviewRedirect(nil); !p.AnyPort || p.RedirectURI != "http://127.0.0.1/callback" {
		t.Errorf("no ports: %+v", p)
	}
	if p := PreviewRedirect([]int{8765}); p.Port != 8765 || p.RedirectURI != "http://127.0.0.1:8765/callback" {
		t.Errorf("one port: %+v", p)
	}
}

func TestFingerprintFollowsSettings(t *testing.T) {
	c := &backend.Connector{URL: "https://x.example/mcp", Auth: backend.Auth{Type: backend.AuthOAuth}}
	a := fingerprint(c)
	c.Auth.OAuth = &backend.OAuthAuth{Scopes: []string{"more"}, RedirectPorts: []int{1}}
	if fingerprint(c) != a {
		t.Error("scopes and ports do not invalidate tokens")
	}
	c.Auth.OAuth.ClientID = "other"
	if fingerprint(c) == a {
		t.Error("another client must not reuse the tokens")
	}
}

// Tokens and metadata are stored with the fingerprint of the settings they
// were issued under: a fingerprint that changed form would sign everyone
// out on upgrade.
func TestFingerprintIsStable(t *testing.T) {
	c := &backend.Connector{URL: "https://mcp.example.com/mcp", Auth: backend.Auth{Type: backend.AuthOAuth, OAuth: &backend.OAuthAuth{
		ClientID: "cli", Issuer: "https://as.example.com", AuthorizationURL: "https://as.example.com/auth", TokenURL: "https://as.example.com/token"}}}
	if got := fingerprint(c); got != "b1c6f5ac451a3d32" {
		t.Errorf("fingerprint = %s", got)
	}
	if got := fingerprint(&backend.Connector{URL: "https://x.example/mcp"}); got != "42913d1137beb0a2" {
		t.Errorf("fingerprint without OAuth settings = %s", got)
	}
}

// Token reads the keychain once; after that the tokens come from memory
// until they change (or the connector does, and is forgotten).
func TestTokenReadsKeychainOnce(t *testing.T) {
	ctx := context.Background()
	kc := secrets.NewMemory()
	c := &backend.Connector{ID: "c_1", Name: "x", URL: "https://mcp.example.com/mcp", Auth: backend.Auth{Type: backend.AuthOAuth}}
	m := New(Options{Secrets: kc})
	ts := &tokenSet{AccessToken: "at", Expiry: time.Now().Add(time.Hour), ObtainedAt: time.Now(), Config: fingerprint(c)}
	if err := m.saveSecretJSON(ctx, tokenKey(c.ID), ts); err != nil {
		t.Fatal(err)
	}
	var gets atomic.Int32
	kc.SetHook(func(_ context.Context, op, _ string) error {
		if op == secrets.OpGet {
			gets.Add(1)
		}
		return nil
	})
	for range 3 {
		if tok, err := m.Token(ctx, c); err != nil || tok != "at" {
			t.Fatalf("Token = %q, %v", tok, err)
		}
	}
	if n := gets.Load(); n != 1 {
		t.Errorf("%d keychain reads for 3 calls, want 1", n)
	}
	m.Forget(c.ID)
	if _, err := m.Token(ctx, c); err != nil {
		t.Fatal(err)
	}
	if n := gets.Load(); n != 2 {
		t.Errorf("%d keychain reads after Forget, want 2", n)
	}
}

// Token runs before every request an OAuth connector's session makes: with
// a valid token in memory it must cost next to nothing (no keychain read).
func BenchmarkToken(b *testing.B) {
	ctx := context.Background()
	kc := secrets.NewMemory()
	c := &backend.Connector{ID: "c_1", Name: "x", URL: "https://mcp.example.com/mcp", Auth: backend.Auth{Type: backend.AuthOAuth}}
	m := New(Options{Secrets: kc})
	ts := &tokenSet{AccessToken: "at", Expiry: time.Now().Add(time.Hour), ObtainedAt: time.Now(), Config: fingerprint(c)}
	if err := m.saveSecretJSON(ctx, tokenKey(c.ID), ts); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Token(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}
