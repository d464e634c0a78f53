package backend

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// Secret sources.
const (
	SecretKeychain = "keychain" // the value lives in the OS keychain under Key
	SecretEnv      = "env"      // the value is read from the environment variable Env at use
)

// Secret is a field that holds a secret value: an API key, a secret header
// value, an OAuth client secret.
//
// At rest and in every output (API, CLI, logs) a Secret says only where the
// value lives: the keychain account (Key) or an environment variable (Env).
// Value is set only on input, on its way to the keychain; the registry clears
// it before anything is persisted, and the store refuses to persist a Secret
// that still carries one.
//
// On input, a Value of the form ${NAME} is not a secret at all but a
// reference to the environment variable NAME, resolved at use and never
// stored. A Secret with a Source and no Value means "keep what is saved".
type Secret struct {
	Source string `json:"source,omitempty"`
	Key    string `json:"key,omitempty"`
	Env    string `json:"env,omitempty"`
	Value  string `json:"value,omitempty"`
}

// IsZero reports whether s holds nothing: no value and no reference.
func (s *Secret) IsZero() bool {
	return s == nil || (s.Source == "" && s.Value == "" && s.Key == "" && s.Env == "")
}

// IsSet reports whether s refers to a value or carries one.
func (s *Secret) IsSet() bool { return !s.IsZero() }

// Redacted returns a copy of s without its Value, safe to show or persist.
func (s *Secret) Redacted() *Secret {
	if s == nil {
		return nil
	}
	c := *s
	c.Value = ""
	return &c
}

// String never reveals the value, so a Secret printed by accident leaks nothing.
func (s Secret) String() string {
	switch {
	case s.Value != "":
		return "[secret]"
	case s.Source == SecretEnv:
		return "${" + s.Env + "}"
	case s.Source == SecretKeychain:
		return "[keychain]"
	default:
		return ""
	}
}

// GoString keeps %#v from revealing the value.
func (s Secret) GoString() string { return "backend.Secret{" + s.String() + "}" }

var envRefRe = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// ParseEnvRef reports whether v is an environment reference of the form
// ${NAME} and returns NAME.
func ParseEnvRef(v string) (string, bool) {
	m := envRefRe.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return "", false
	}
	return m[1], true
}

// NormalizeInput turns an input Value of the form ${NAME} into an env
// reference, so that it is never sent to the keychain.
func (s *Secret) NormalizeInput() {
	if s == nil || s.Value == "" {
		return
	}
	if name, ok := ParseEnvRef(s.Value); ok {
		*s = Secret{Source: SecretEnv, Env: name}
	}
}

// validate checks a secret field on input; required says whether a value or
// reference must be present.
func (s *Secret) validate(p *Problems, field string, required bool) {
	if s.IsZero() {
		if required {
			p.Add(field, "is required")
		}
		return
	}
	if strings.ContainsAny(s.Value, "\r\n\x00") {
		p.Add(field, "must not contain line breaks or NUL characters")
	}
	if len(s.Value) > MaxSecretBytes {
		p.Add(field, "is %d bytes; the limit is %d", len(s.Value), MaxSecretBytes)
	}
	switch s.Source {
	case "", SecretKeychain:
	case SecretEnv:
		if s.Value == "" && !envNameRe.MatchString(s.Env) {
			p.Add(field, "environment variable name %q is not valid (letters, digits and _, not starting with a digit)", s.Env)
		}
	default:
		p.Add(field, "source %q is not one of keychain, env", s.Source)
	}
	if s.Value == "" && s.Source == "" {
		p.Add(field, "is required")
	}
}

var envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// MaxSecretBytes bounds one secret value. OAuth token sets are the largest
// secrets Patchbay keeps; 64 KiB leaves ample room while refusing nonsense.
const MaxSecretBytes = 64 << 10

// SecretStore keeps secret values in the OS keychain. Implementations time
// out instead of hanging on a locked keychain and report a missing keychain
// as an EUNAVAILABLE *Error that says how to fix it.
type SecretStore interface {
	// Get returns the value stored under key, or an ENOTFOUND *Error.
	Get(ctx context.Context, key string) (string, error)
	// Set stores value under key, replacing any previous value.
	Set(ctx context.Context, key, value string) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// SecretResolver resolves Secret references to values at the moment of use.
type SecretResolver interface {
	Resolve(ctx context.Context, s *Secret) (string, error)
}

// ResolveSecret resolves s using the keychain for keychain references and the
// environment (through getenv) for env references.
func ResolveSecret(ctx context.Context, store SecretStore, getenv func(string) (string, bool), s *Secret) (string, error) {
	switch {
	case s.IsZero():
		return "", nil
	case s.Value != "":
		return s.Value, nil
	case s.Source == SecretEnv:
		v, ok := getenv(s.Env)
		if !ok {
			return "", Errorf(EUNAVAILABLE, "The environment variable %s is not set.", s.Env).
				WithSlug("secret_env_missing").
				WithFix(fmt.Sprintf("Set %s in the environment Patchbay runs in, or store the value in the keychain instead.", s.Env))
		}
		return v, nil
	case s.Source == SecretKeychain:
		return store.Get(ctx, s.Key)
	default:
		return "", Errorf(EINTERNAL, "Unknown secret source %q.", s.Source)
	}
}

// SecretKey returns the keychain account of a connector's secret. The
// version makes every write a new entry, so a failed update never destroys
// the value that is still in use.
func SecretKey(connectorID, label, version string) string {
	return "connector/" + connectorID + "/" + label + "/" + version
}

// OAuthSecretKey returns the keychain account of a connector's OAuth state
// (tokens, dynamically registered client). These are written by the OAuth
// layer and deleted with the connector.
func OAuthSecretKey(connectorID, what string) string {
	return "connector/" + connectorID + "/oauth/" + what
}

// OAuthSecretKinds are the OAuth entries a connector may have.
var OAuthSecretKinds = []string{"token", "client"}

// AdminTokenKey is the keychain account of the admin API token.
const AdminTokenKey = "admin-token"
