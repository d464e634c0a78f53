package backend_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/backend"
)

// fullConnector has every secret field and every slice set, with canary
// values that must not leak.
func fullConnector() *backend.Connector {
	return &backend.Connector{
		ID: "c_1", Name: "Full", Slug: "full", URL: "https://example.com/mcp", Transport: backend.TransportAuto,
		Auth: backend.Auth{
			Type: backend.AuthAPIKey,
			APIKey: &backend.APIKeyAuth{
				In: backend.APIKeyInHeader, Name: "Authorization", Prefix: "Bearer ",
				Value: &backend.Secret{Source: backend.SecretKeychain, Key: "acct/api-key", Value: canary + "-apikey"},
			},
			OAuth: &backend.OAuthAuth{
				ClientID:      "cid",
				ClientSecret:  &backend.Secret{Source: backend.SecretKeychain, Key: "acct/client-secret", Value: canary + "-client"},
				Scopes:        []string{"read", "write"},
				RedirectPorts: []int{8080, 8081},
			},
		},
		Headers: []backend.Header{
			{Name: "X-Team", Value: "core"},
			{Name: "X-Token", Secret: &backend.Secret{Value: canary + "-header"}},
			{Name: "X-Env", Secret: &backend.Secret{Source: backend.SecretEnv, Env: "TEAM_TOKEN"}},
		},
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func TestConnectorSecrets(t *testing.T) {
	c := fullConnector()
	got := c.Secrets()
	want := map[string]*backend.Secret{
		"api-key":             c.Auth.APIKey.Value,
		"oauth-client-secret": c.Auth.OAuth.ClientSecret,
		"header/x-token":      c.Headers[1].Secret,
		"header/x-env":        c.Headers[2].Secret,
	}
	if len(got) != len(want) {
		t.Fatalf("Secrets() has %d entries, want %d: %v", len(got), len(want), got)
	}
	for label, p := range want {
		if got[label] != p {
			t.Errorf("Secrets()[%q] does not point at the connector's own field", label)
		}
	}
	if n := len((&backend.Connector{}).Secrets()); n != 0 {
		t.Errorf("connector without secrets has %d secrets", n)
	}
}

func TestConnectorRedacted(t *testing.T) {
	c := fullConnector()
	r := c.Redacted()
	if r.HasSecretValues() {
		t.Fatal("Redacted() still carries secret values")
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), canary) {
		t.Fatalf("redacted JSON reveals a secret: %s", b)
	}
	// References survive, so the UI can say where each secret lives.
	if r.Auth.APIKey.Value.Key != "acct/api-key" || r.Auth.OAuth.ClientSecret.Key != "acct/client-secret" ||
		r.Headers[2].Secret.Env != "TEAM_TOKEN" || r.Headers[2].Secret.Source != backend.SecretEnv {
		t.Errorf("Redacted() lost secret references: %s", b)
	}
	// The original keeps its values.
	if c.Auth.APIKey.Value.Value != canary+"-apikey" || c.Auth.OAuth.ClientSecret.Value != canary+"-client" ||
		c.Headers[1].Secret.Value != canary+"-header" {
		t.Error("Redacted() cleared the original's secret values")
	}
	if (*backend.Connector)(nil).Redacted() != nil {
		t.Error("nil.Redacted() != nil")
	}
}

// Two headers with the same name are invalid, but Redacted is what makes an
// invalid input safe to echo back; it must clear both.
func TestConnectorRedactedDuplicateHeaderNames(t *testing.T) {
	c := &backend.Connector{Headers: []backend.Header{
		{Name: "X-Token", Secret: &backend.Secret{Value: canary + "-1"}},
		{Name: "X-Token", Secret: &backend.Secret{Value: canary + "-2"}},
		{Secret: &backend.Secret{Value: canary + "-3"}},
		{Secret: &backend.Secret{Value: canary + "-4"}},
	}}
	if !c.HasSecretValues() {
		t.Fatal("HasSecretValues() = false with four secret values")
	}
	r := c.Redacted()
	if b, _ := json.Marshal(r); strings.Contains(string(b), canary) {
		t.Fatalf("Redacted() kept a secret value: %s", b)
	}
	if r.HasSecretValues() {
		t.Error("HasSecretValues() = true after Redacted()")
	}
	// HasSecretValues must see the second of two same-named headers too.
	c2 := &backend.Connector{Headers: []backend.Header{
		{Name: "X-Token", Secret: &backend.Secret{Source: backend.SecretKeychain, Key: "k"}},
		{Name: "X-Token", Secret: &backend.Secret{Value: canary}},
	}}
	if !c2.HasSecretValues() {
		t.Error("HasSecretValues() missed the value of a second same-named header")
	}
	// And Normalize must turn ${ENV} into a reference in both.
	c3 := &backend.Connector{Headers: []backend.Header{
		{Name: "X-Token", Secret: &backend.Secret{Value: "${A}"}},
		{Name: "X-Token", Secret: &backend.Secret{Value: "${B}"}},
	}}
	c3.Normalize()
	for i, h := range c3.Headers {
		if h.Secret.Source != backend.SecretEnv || h.Secret.Value != "" {
			t.Errorf("headers[%d].secret = %+v, want an env reference", i, *h.Secret)
		}
	}
}

func TestConnectorClone(t *testing.T) {
	c := fullConnector()
	orig := fullConnector()
	cl := c.Clone()
	if !reflect.DeepEqual(cl, c) {
		t.Fatalf("Clone() differs from the original:\n%+v\n%+v", cl, c)
	}
	// Mutate everything reachable from the clone.
	cl.Name = "changed"
	cl.Auth.APIKey.Name = "X-Changed"
	cl.Auth.APIKey.Value.Value = "changed"
	cl.Auth.OAuth.ClientID = "changed"
	cl.Auth.OAuth.ClientSecret.Value = "changed"
	cl.Auth.OAuth.Scopes[0] = "changed"
	cl.Auth.OAuth.RedirectPorts[0] = 1
	cl.Headers[0].Value = "changed"
	cl.Headers[1].Secret.Value = "changed"
	cl.Headers[2].Secret.Env = "CHANGED"
	if !reflect.DeepEqual(c, orig) {
		t.Errorf("mutating the clone changed the original:\n got %+v\nwant %+v", c, orig)
	}
	if (*backend.Connector)(nil).Clone() != nil {
		t.Error("nil.Clone() != nil")
	}
	// A connector without auth blocks or headers clones to the same.
	bare := &backend.Connector{Name: "bare"}
	if got := bare.Clone(); !reflect.DeepEqual(got, bare) || got == bare {
		t.Errorf("Clone() of a bare connector = %+v", got)
	}
}

func TestConnectorHasSecretValues(t *testing.T) {
	tests := []struct {
		name string
		c    *backend.Connector
		want bool
	}{
		{"no secrets", &backend.Connector{Name: "x"}, false},
		{"api key value", &backend.Connector{Auth: backend.Auth{APIKey: &backend.APIKeyAuth{Value: &backend.Secret{Value: canary}}}}, true},
		{"api key reference", &backend.Connector{Auth: backend.Auth{APIKey: &backend.APIKeyAuth{Value: &backend.Secret{Source: backend.SecretKeychain, Key: "k"}}}}, false},
		{"client secret value", &backend.Connector{Auth: backend.Auth{OAuth: &backend.OAuthAuth{ClientSecret: &backend.Secret{Value: canary}}}}, true},
		{"client secret env", &backend.Connector{Auth: backend.Auth{OAuth: &backend.OAuthAuth{ClientSecret: &backend.Secret{Source: backend.SecretEnv, Env: "X"}}}}, false},
		{"header secret value", &backend.Connector{Headers: []backend.Header{{Name: "A", Value: "plain"}, {Name: "B", Secret: &backend.Secret{Value: canary}}}}, true},
		{"plain header only", &backend.Connector{Headers: []backend.Header{{Name: "A", Value: "plain"}}}, false},
		{"full", fullConnector(), true},
		{"full redacted", fullConnector().Redacted(), false},
	}
	for _, tt := range tests {
		if got := tt.c.HasSecretValues(); got != tt.want {
			t.Errorf("%s: HasSecretValues() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// Printing a connector by accident, in any common way, leaks no secret.
func TestConnectorPrintingRevealsNoSecret(t *testing.T) {
	c := fullConnector()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{c, *c, c.Auth, *c.Auth.APIKey, *c.Auth.OAuth, c.Headers, c.Headers[1]} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, canary) {
				t.Errorf("fmt %s of %T reveals the secret: %s", verb, v, s)
			}
		}
	}
}

func TestConnectorCallTimeout(t *testing.T) {
	if got := (&backend.Connector{}).CallTimeout(); got != backend.DefaultCallTimeout {
		t.Errorf("zero timeout: CallTimeout() = %v, want %v", got, backend.DefaultCallTimeout)
	}
	if got := (&backend.Connector{CallTimeoutSeconds: -3}).CallTimeout(); got != backend.DefaultCallTimeout {
		t.Errorf("negative timeout: CallTimeout() = %v, want the default", got)
	}
	if got := (&backend.Connector{CallTimeoutSeconds: 90}).CallTimeout(); got != 90*time.Second {
		t.Errorf("CallTimeout() = %v, want 90s", got)
	}
}
