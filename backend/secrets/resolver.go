package secrets

import (
	"context"
	"os"

	"github.com/patchbay/patchbay/backend"
)

// Resolver turns Secret references into values at the moment of use:
// keychain references through Store, ${ENV_VAR} references through the
// process environment.
type Resolver struct {
	Store backend.SecretStore
	// LookupEnv reads an environment variable; nil means os.LookupEnv.
	// Tests set it to avoid touching the real environment.
	LookupEnv func(name string) (string, bool)
}

var _ backend.SecretResolver = (*Resolver)(nil)

// NewResolver returns a Resolver that reads the keychain through store and
// the process environment.
func NewResolver(store backend.SecretStore) *Resolver {
	return &Resolver{Store: store}
}

// Resolve returns the value s refers to. An unset environment variable is an
// EUNAVAILABLE *backend.Error that names the variable.
func (r *Resolver) Resolve(ctx context.Context, s *backend.Secret) (string, error) {
	lookup := r.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	return backend.ResolveSecret(ctx, r.Store, lookup, s)
}
