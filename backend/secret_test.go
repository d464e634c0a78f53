package backend_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/backend"
)

func TestSecretNeverRevealsValue(t *testing.T) {
	secrets := []backend.Secret{
		{Value: canary},
		{Source: backend.SecretKeychain, Key: "acct", Value: canary},
		{Source: backend.SecretEnv, Env: "X", Value: canary},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"}
	for _, s := range secrets {
		for _, verb := range verbs {
			for _, v := range []any{s, &s, struct{ S backend.Secret }{s}, struct{ S *backend.Secret }{&s}} {
				out := fmt.Sprintf(verb, v)
				if strings.Contains(out, canary) || strings.Contains(strings.ToLower(out), fmt.Sprintf("%x", canary)) {
					t.Errorf("fmt %s of %T reveals the value: %s", verb, v, out)
				}
			}
		}
		if strings.Contains(s.String(), canary) || strings.Contains(s.GoString(), canary) {
			t.Errorf("String/GoString reveal the value: %s %s", s.String(), s.GoString())
		}
		r := s.Redacted()
		if r.Value != "" {
			t.Errorf("Redacted().Value = %q", r.Value)
		}
		if r.Source != s.Source || r.Key != s.Key || r.Env != s.Env {
			t.Errorf("Redacted() = %+v lost the reference of %+v", *r, s)
		}
		if b, _ := json.Marshal(r); strings.Contains(string(b), canary) {
			t.Errorf("redacted JSON reveals the value: %s", b)
		}
		if s.Value != canary {
			t.Error("Redacted() changed the original")
		}
	}
	if (*backend.Secret)(nil).Redacted() != nil {
		t.Error("nil.Redacted() != nil")
	}
}

func TestSecretString(t *testing.T) {
	tests := []struct {
		s          backend.Secret
		str, gostr string
	}{
		{backend.Secret{Value: canary}, "[secret]", "backend.Secret{[secret]}"},
		{backend.Secret{Source: backend.SecretKeychain, Key: "acct"}, "[keychain]", "backend.Secret{[keychain]}"},
		{backend.Secret{Source: backend.SecretEnv, Env: "API_KEY"}, "${API_KEY}", "backend.Secret{${API_KEY}}"},
		{backend.Secret{}, "", "backend.Secret{}"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.str {
			t.Errorf("String() = %q, want %q", got, tt.str)
		}
		if got := fmt.Sprintf("%#v", tt.s); got != tt.gostr {
			t.Errorf("%%#v = %q, want %q", got, tt.gostr)
		}
	}
}

func TestSecretIsZeroIsSet(t *testing.T) {
	tests := []struct {
		s    *backend.Secret
		zero bool
	}{
		{nil, true},
		{&backend.Secret{}, true},
		{&backend.Secret{Value: "v"}, false},
		{&backend.Secret{Source: backend.SecretKeychain}, false},
		{&backend.Secret{Key: "k"}, false},
		{&backend.Secret{Env: "E"}, false},
	}
	for _, tt := range tests {
		if got := tt.s.IsZero(); got != tt.zero {
			t.Errorf("%+v.IsZero() = %v, want %v", tt.s, got, tt.zero)
		}
		if got := tt.s.IsSet(); got != !tt.zero {
			t.Errorf("%+v.IsSet() = %v, want %v", tt.s, got, !tt.zero)
		}
	}
}

func TestParseEnvRef(t *testing.T) {
	tests := []struct {
		in   string
		name string
		ok   bool
	}{
		{"${API_KEY}", "API_KEY", true},
		{"  ${_x1}  ", "_x1", true},
		{"${a}", "a", true},
		{"$API_KEY", "", false},
		{"${}", "", false},
		{"${1ABC}", "", false},
		{"${API-KEY}", "", false},
		{"${API KEY}", "", false},
		{"prefix ${API_KEY}", "", false},
		{"${API_KEY} suffix", "", false},
		{"${A}${B}", "", false},
		{"{API_KEY}", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		name, ok := backend.ParseEnvRef(tt.in)
		if name != tt.name || ok != tt.ok {
			t.Errorf("ParseEnvRef(%q) = %q, %v; want %q, %v", tt.in, name, ok, tt.name, tt.ok)
		}
	}
}

func TestSecretNormalizeInput(t *testing.T) {
	tests := []struct {
		in, want backend.Secret
	}{
		// ${NAME} is a reference, whatever else the input said.
		{backend.Secret{Value: "${TOKEN}"}, backend.Secret{Source: backend.SecretEnv, Env: "TOKEN"}},
		{backend.Secret{Source: backend.SecretKeychain, Key: "old", Value: " ${TOKEN} "}, backend.Secret{Source: backend.SecretEnv, Env: "TOKEN"}},
		// Anything else is a real value and is left alone.
		{backend.Secret{Value: canary}, backend.Secret{Value: canary}},
		{backend.Secret{Value: "$TOKEN"}, backend.Secret{Value: "$TOKEN"}},
		{backend.Secret{Value: "${1BAD}"}, backend.Secret{Value: "${1BAD}"}},
		// No value: "keep what is saved", untouched.
		{backend.Secret{Source: backend.SecretKeychain, Key: "k"}, backend.Secret{Source: backend.SecretKeychain, Key: "k"}},
	}
	for _, tt := range tests {
		s := tt.in
		s.NormalizeInput()
		if s != tt.want {
			t.Errorf("NormalizeInput(%+v) = %+v, want %+v", tt.in, s, tt.want)
		}
	}
	var nilSecret *backend.Secret
	nilSecret.NormalizeInput() // must not panic
}

// mapStore is a SecretStore over a map, for the logic of ResolveSecret only.
type mapStore map[string]string

func (m mapStore) Get(_ context.Context, key string) (string, error) {
	v, ok := m[key]
	if !ok {
		return "", backend.Errorf(backend.ENOTFOUND, "No secret %s.", key)
	}
	return v, nil
}
func (m mapStore) Set(_ context.Context, key, value string) error { m[key] = value; return nil }
func (m mapStore) Delete(_ context.Context, key string) error     { delete(m, key); return nil }

func TestResolveSecret(t *testing.T) {
	ctx := context.Background()
	store := mapStore{"acct": canary + "-keychain"}
	getenv := func(name string) (string, bool) {
		if name == "SET" {
			return canary + "-env", true
		}
		return "", false
	}
	tests := []struct {
		name string
		s    *backend.Secret
		want string
		code string
	}{
		{"nil", nil, "", ""},
		{"zero", &backend.Secret{}, "", ""},
		{"value on input", &backend.Secret{Value: canary}, canary, ""},
		{"keychain", &backend.Secret{Source: backend.SecretKeychain, Key: "acct"}, canary + "-keychain", ""},
		{"keychain missing", &backend.Secret{Source: backend.SecretKeychain, Key: "gone"}, "", backend.ENOTFOUND},
		{"env", &backend.Secret{Source: backend.SecretEnv, Env: "SET"}, canary + "-env", ""},
		{"env missing", &backend.Secret{Source: backend.SecretEnv, Env: "UNSET"}, "", backend.EUNAVAILABLE},
		{"unknown source", &backend.Secret{Source: "vault", Key: "x"}, "", backend.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := backend.ResolveSecret(ctx, store, getenv, tt.s)
			if got != tt.want || backend.ErrorCode(err) != tt.code {
				t.Fatalf("ResolveSecret = %q, %v; want %q with code %q", got, err, tt.want, tt.code)
			}
		})
	}
	_, err := backend.ResolveSecret(ctx, store, getenv, &backend.Secret{Source: backend.SecretEnv, Env: "UNSET"})
	var e *backend.Error
	if !errors.As(err, &e) || e.Slug != "secret_env_missing" || !strings.Contains(e.Message, "UNSET is not set") ||
		!strings.Contains(e.SuggestedFix, "Set UNSET") {
		t.Errorf("missing env error = %#v, want slug secret_env_missing naming UNSET with a fix", err)
	}
}
