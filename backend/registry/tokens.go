package registry

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/patchbay/patchbay/backend"
)

// IssueToken creates a client token and returns its value, which is never
// stored and cannot be shown again.
func (r *Registry) IssueToken(ctx context.Context, label, client string) (string, *backend.ClientToken, error) {
	label = strings.TrimSpace(label)
	var p backend.Problems
	if label == "" {
		p.Add("label", "is required: say which client the token is for, such as \"Cursor on this laptop\"")
	} else if utf8.RuneCountInString(label) > 100 {
		p.Add("label", "is longer than 100 characters")
	}
	if err := p.Err("token"); err != nil {
		return "", nil, err
	}
	value := backend.NewTokenValue()
	t := &backend.ClientToken{
		ID: backend.NewID("t"), Label: label, Client: client,
		Hint: backend.TokenHint(value), Hash: backend.HashToken(value), CreatedAt: r.now().UTC(),
	}
	if err := r.store.PutToken(ctx, t); err != nil {
		return "", nil, err
	}
	r.publish(backend.EventTokensChanged, map[string]string{"id": t.ID, "change": "created"})
	return value, t, nil
}

// ListTokens returns every client token (without hashes in JSON).
func (r *Registry) ListTokens(ctx context.Context) ([]*backend.ClientToken, error) {
	return r.store.ListTokens(ctx)
}

// RevokeToken deletes a token; clients using it are refused at once.
func (r *Registry) RevokeToken(ctx context.Context, id string) error {
	if err := r.store.DeleteToken(ctx, id); err != nil {
		return err
	}
	r.publish(backend.EventTokensChanged, map[string]string{"id": id, "change": "revoked"})
	return nil
}
