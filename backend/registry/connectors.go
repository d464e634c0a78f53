package registry

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
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
	written, err := r.storeSecrets(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	if err := r.store.PutConnector(ctx, c); err != nil {
		r.deleteSecretKeys(ctx, written)
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
	written, err := r.storeSecrets(ctx, c, old)
	if err != nil {
		return nil, err
	}
	if err := r.store.PutConnector(ctx, c); err != nil {
		r.deleteSecretKeys(ctx, written)
		return nil, err
	}
	// Delete keychain entries no longer referenced.
	inUse := map[string]bool{}
	for _, s := range c.Secrets() {
		if s.Source == backend.SecretKeychain {
			inUse[s.Key] = true
		}
	}
	var stale []string
	for _, s := range old.Secrets() {
		if s.Source == backend.SecretKeychain && !inUse[s.Key] {
			stale = append(stale, s.Key)
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
	var keys []string
	for _, s := range c.Secrets() {
		if s.Source == backend.SecretKeychain {
			keys = append(keys, s.Key)
		}
	}
	r.deleteSecretKeys(ctx, keys)
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
	var oldSecrets map[string]*backend.Secret
	if old != nil {
		oldSecrets = old.Secrets()
	}
	for label, s := range c.Secrets() {
		if s.Value == "" && s.Source == backend.SecretKeychain {
			if prev, ok := oldSecrets[label]; !ok || prev.Source != backend.SecretKeychain {
				p.Add(secretField(label), "has no saved value to keep; enter the value")
			}
		}
	}
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

// storeSecrets moves every secret value of c to the keychain, leaving only
// references. Kept secrets get the saved key (never one from the input, so a
// request cannot point a connector at another's secret). It returns the keys
// it wrote; on failure it removes them itself.
func (r *Registry) storeSecrets(ctx context.Context, c, old *backend.Connector) ([]string, error) {
	var oldSecrets map[string]*backend.Secret
	if old != nil {
		oldSecrets = old.Secrets()
	}
	var written []string
	for label, s := range c.Secrets() {
		switch {
		case s.Value != "":
			key := backend.SecretKey(c.ID, label, strings.ToLower(rand.Text()[:8]))
			if err := r.secrets.Set(ctx, key, s.Value); err != nil {
				r.deleteSecretKeys(ctx, written)
				return nil, secretWriteError(c.Name, err)
			}
			written = append(written, key)
			*s = backend.Secret{Source: backend.SecretKeychain, Key: key}
		case s.Source == backend.SecretEnv:
			*s = backend.Secret{Source: backend.SecretEnv, Env: s.Env}
		case s.Source == backend.SecretKeychain:
			*s = backend.Secret{Source: backend.SecretKeychain, Key: oldSecrets[label].Key}
		}
	}
	return written, nil
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
