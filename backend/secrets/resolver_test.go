package secrets

import (
	"strings"
	"testing"

	"github.com/patchbay/patchbay/backend"
)

func TestResolverReadsKeychainReferences(t *testing.T) {
	k := newTestKeychain(t, 0)
	v := canary()
	if err := k.Set(t.Context(), "connector/1/api_key", v); err != nil {
		t.Fatal(err)
	}
	r := NewResolver(k)
	got, err := r.Resolve(t.Context(), &backend.Secret{Source: backend.SecretKeychain, Key: "connector/1/api_key"})
	if err != nil || got != v {
		t.Fatalf("Resolve = %q, %v; want the keychain value", got, err)
	}
}

func TestResolverReadsEnvReferences(t *testing.T) {
	v := canary()
	env := map[string]string{"PATCHBAY_TEST_TOKEN": v}
	r := &Resolver{Store: NewMemory(), LookupEnv: func(name string) (string, bool) {
		val, ok := env[name]
		return val, ok
	}}
	in := backend.Secret{Value: "${PATCHBAY_TEST_TOKEN}"}
	in.NormalizeInput()
	got, err := r.Resolve(t.Context(), &in)
	if err != nil || got != v {
		t.Fatalf("Resolve = %q, %v; want the variable's value", got, err)
	}

	_, err = r.Resolve(t.Context(), &backend.Secret{Source: backend.SecretEnv, Env: "PATCHBAY_TEST_UNSET"})
	e := wantError(t, err, backend.EUNAVAILABLE, "secret_env_missing", v)
	if !strings.Contains(e.Message, "PATCHBAY_TEST_UNSET") || !strings.Contains(e.SuggestedFix, "PATCHBAY_TEST_UNSET") {
		t.Fatalf("error %q / %q does not name the variable", e.Message, e.SuggestedFix)
	}
}

func TestResolverUsesTheProcessEnvironmentByDefault(t *testing.T) {
	v := canary()
	t.Setenv("PATCHBAY_TEST_PROCESS_TOKEN", v)
	got, err := NewResolver(NewMemory()).Resolve(t.Context(), &backend.Secret{Source: backend.SecretEnv, Env: "PATCHBAY_TEST_PROCESS_TOKEN"})
	if err != nil || got != v {
		t.Fatalf("Resolve = %q, %v; want the variable's value", got, err)
	}
}
