package registry

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/patchbay/patchbay/backend"
)

// ListConnectors returns every connector (secrets as references only).
func (r *Registry) ListConnectors(ctx context.Context) ([]*backend.Connector, error) {
	return r.store.ListConnectors(ctx)
}

// GetConnector returns the connector with the given ID, slug or name.
func (r *Registry) GetConnector(ctx context.Context, ref string) (*backend.Connector, error) {
	return r.store.FindConnector(ctx, ref)
}

// CreateConnector validates in, stores its secret values in the keychain and
// saves the connector with references only. The new connector is enabled in
// the default conversation. On any failure nothing is saved and secrets
// already written are removed again.
func (r *Registry) CreateConnector(ctx context.Context, in *backend.Connector) (*backend.Connector, error) {
	c := in.Clone()
	c.ID = backend.NewID("c")
	c.DetectedTransport = ""
	c.Normalize()
	if err := r.validateConnector(ctx, c, nil); err != nil {
		return nil, err
	}
	c.CreatedAt = r.now().UTC()
	c.UpdatedAt = c.CreatedAt
	if err := r.save(ctx, c); err != nil {
		return nil, err
	}
	if def, err := r.store.FindConversation(ctx, backend.DefaultConversationSlug); err == nil {
		def.Connectors = append(def.Connectors, c.ID)
		def.UpdatedAt = c.CreatedAt
		if err := r.store.PutConversation(ctx, def); err != nil {
			slog.Warn("enable new connector in the default conversation", "connector", c.Name, "err", err)
		} else {
			r.publish(backend.EventConversationChanged, map[string]string{"id": def.ID})
		}
	}
	r.publish(backend.EventConnectorChanged, map[string]string{"id": c.ID, "change": "created"})
	return c, nil
}

// UpdateConnector replaces the connector's configuration with in. Secret
// fields that carry a Source and no Value keep the saved secret; new values
// go to new keychain entries, and old entries are deleted only once the
// connector is saved, so a failure loses nothing.
func (r *Registry) UpdateConnector(ctx context.Context, ref string, in *backend.Connector) (*backend.Connector, error) {
	old, err := r.store.FindConnector(ctx, ref)
	if err != nil {
		return nil, err
	}
	c := in.Clone()
	c.ID = old.ID
	c.CreatedAt = old.CreatedAt
	c.DetectedTransport = old.DetectedTransport
	c.Normalize()
	if c.URL != old.URL || c.Transport != old.Transport {
		c.DetectedTransport = ""
	}
	if err := r.validateConnector(ctx, c, old); err != nil {
		return nil, err
	}
	c.UpdatedAt = r.now().UTC()
	if err := r.save(ctx, c); err != nil {
		return nil, err
	}
	// Delete keychain entries no longer referenced.
	inUse := keychainKeys(c)
	var stale []string
	for _, k := range keychainKeys(old) {
		if !slices.Contains(inUse, k) {
			stale = append(stale, k)
		}
	}
	r.deleteSecretKeys(ctx, stale)
	if old.Auth.Type == backend.AuthOAuth && (c.Auth.Type != backend.AuthOAuth || c.URL != old.URL) {
		// Tokens were issued for the old server or auth; keeping them would
		// send them where they do not belong.
		r.deleteOAuthState(ctx, c.ID)
	}
	r.publish(backend.EventConnectorChanged, map[string]string{"id": c.ID, "change": "updated"})
	return c, nil
}

// DeleteConnector removes the connector, its tools, its place in every
// conversation, its secrets and its OAuth state.
func (r *Registry) DeleteConnector(ctx context.Context, ref string) error {
	c, err := r.store.FindConnector(ctx, ref)
	if err != nil {
		return err
	}
	if err := r.store.DeleteConnector(ctx, c.ID); err != nil {
		return err
	}
	r.deleteSecretKeys(ctx, keychainKeys(c))
	r.deleteOAuthState(ctx, c.ID)
	r.publish(backend.EventConnectorChanged, map[string]string{"id": c.ID, "change": "deleted"})
	r.publish(backend.EventConversationChanged, map[string]string{"connector_removed": c.ID})
	return nil
}

func (r *Registry) deleteOAuthState(ctx context.Context, id string) {
	var keys []string
	for _, k := range backend.OAuthSecretKinds {
		keys = append(keys, backend.OAuthSecretKey(id, k))
	}
	r.deleteSecretKeys(ctx, keys)
	if err := r.store.DeleteKV(ctx, "oauth", id+"/"); err != nil {
		slog.Warn("delete OAuth metadata", "connector", id, "err", err)
	}
}

// validateConnector runs the field rules and the rules that need the other
// connectors (unique name and slug) and the saved connector (secrets to keep).
func (r *Registry) validateConnector(ctx context.Context, c, old *backend.Connector) error {
	var p backend.Problems
	if err := c.Validate(); err != nil {
		var be *backend.Error
		if !errors.As(err, &be) {
			return err
		}
		p = append(p, be.Fields...)
	}
	all, err := r.store.ListConnectors(ctx)
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.ID == c.ID {
			continue
		}
		if strings.EqualFold(o.Name, c.Name) {
			p.Add("name", "another connector is already called %q", o.Name)
		}
		if o.Slug == c.Slug && c.Slug != "" {
			p.Add("slug", "%q is already used by the connector %q; choose another slug", c.Slug, o.Name)
		}
	}
	keepSecrets(c, old, &p)
	if err := p.Err("connector"); err != nil {
		var be *backend.Error
		errors.As(err, &be)
		be.Message = strings.Replace(be.Message, "The connector has", fmt.Sprintf("The connector %q has", c.Name), 1)
		return be
	}
	return nil
}

// secretField maps a secret label back to the field it came from, for
// error messages.
func secretField(label string) string {
	switch {
	case label == "api-key":
		return "auth.api_key.value"
	case label == "oauth-client-secret":
		return "auth.oauth.client_secret"
	default:
		return "headers[" + strings.TrimPrefix(label, "header/") + "].secret"
	}
}

// keepSecrets resolves the secret fields of c that carry no value: an
// environment reference stays one, and a keychain reference is pointed at
// the saved connector's entry under the same label — never at a key named
// by the input, so that a request cannot aim a connector (or a connection
// test) at another connector's secret. A keychain reference with nothing
// saved to keep is a problem.
func keepSecrets(c, old *backend.Connector, p *backend.Problems) {
	var saved map[string]*backend.Secret
	if old != nil {
		saved = old.Secrets()
	}
	for label, s := range c.Secrets() {
		switch {
		case s.Value != "":
		case s.Source == backend.SecretEnv:
			*s = backend.Secret{Source: backend.SecretEnv, Env: s.Env}
		case s.Source == backend.SecretKeychain:
			if prev := saved[label]; prev != nil && prev.Source == backend.SecretKeychain {
				*s = backend.Secret{Source: backend.SecretKeychain, Key: prev.Key}
			} else {
				p.Add(secretField(label), "has no saved value to keep; enter the value")
			}
		}
	}
}

// UnsavedConnector prepares in for a connection test that saves nothing
// (the form's Test button): normalized and validated like a save, kept
// secrets pointing at the saved connector's entries, new values left in
// place for this test only. Uniqueness is not checked: a test does not
// claim the name.
func (r *Registry) UnsavedConnector(ctx context.Context, in *backend.Connector) (*backend.Connector, error) {
	c := in.Clone()
	var old *backend.Connector
	if c.ID != "" {
		var err error
		if old, err = r.store.GetConnector(ctx, c.ID); err != nil {
			return nil, err
		}
	}
	c.Normalize()
	var p backend.Problems
	if err := c.Validate(); err != nil {
		var be *backend.Error
		if !errors.As(err, &be) {
			return nil, err
		}
		p = append(p, be.Fields...)
	}
	keepSecrets(c, old, &p)
	if err := p.Err("connector"); err != nil {
		return nil, err
	}
	return c, nil
}

// save moves c's secret values to fresh keychain entries and saves the
// connector; if saving fails it removes the entries it wrote, so nothing
// is left behind.
func (r *Registry) save(ctx context.Context, c *backend.Connector) error {
	var written []string
	fail := func(err error) error {
		r.deleteSecretKeys(ctx, written)
		return err
	}
	for label, s := range c.Secrets() {
		if s.Value == "" {
			continue // a reference, resolved by keepSecrets
		}
		key := backend.SecretKey(c.ID, label, strings.ToLower(rand.Text()[:8]))
		if err := r.secrets.Set(ctx, key, s.Value); err != nil {
			return fail(secretWriteError(c.Name, err))
		}
		written = append(written, key)
		*s = backend.Secret{Source: backend.SecretKeychain, Key: key}
	}
	if err := r.store.PutConnector(ctx, c); err != nil {
		return fail(err)
	}
	return nil
}

// keychainKeys returns the keychain entries c refers to.
func keychainKeys(c *backend.Connector) []string {
	var keys []string
	for _, s := range c.Secrets() {
		if s.Source == backend.SecretKeychain {
			keys = append(keys, s.Key)
		}
	}
	return keys
}

func secretWriteError(name string, err error) error {
	var be *backend.Error
	if errors.As(err, &be) {
		return &backend.Error{
			Code: be.Code, Slug: be.Slug, Err: err,
			Message:      fmt.Sprintf("Could not save the secrets of %q in the keychain: %s Nothing was saved.", name, strings.TrimSuffix(be.Message, ".")+"."),
			SuggestedFix: be.SuggestedFix,
		}
	}
	return fmt.Errorf("store secrets of %q: %w", name, err)
}

// deleteSecretKeys removes keychain entries, logging (not failing on)
// errors: the configuration change has happened; a leftover entry is
// harmless and is reported for the person to clean up.
func (r *Registry) deleteSecretKeys(ctx context.Context, keys []string) {
	for _, k := range keys {
		if err := r.secrets.Delete(ctx, k); err != nil {
			slog.Warn("could not delete a secret from the keychain", "key", k, "err", backend.ErrorMessage(err))
		}
	}
}
