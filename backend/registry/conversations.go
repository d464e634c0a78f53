package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/patchbay/patchbay/backend"
)

// ListConversations returns every conversation, the default first.
func (r *Registry) ListConversations(ctx context.Context) ([]*backend.Conversation, error) {
	return r.store.ListConversations(ctx)
}

// GetConversation returns a conversation by ID, slug or name.
func (r *Registry) GetConversation(ctx context.Context, ref string) (*backend.Conversation, error) {
	return r.store.FindConversation(ctx, ref)
}

// CreateConversation validates and saves a new conversation. Connector
// references may be IDs, slugs or names; they are stored as IDs.
func (r *Registry) CreateConversation(ctx context.Context, in *backend.Conversation) (*backend.Conversation, error) {
	c := &backend.Conversation{
		ID: backend.NewID("v"), Name: in.Name, Slug: in.Slug,
		Connectors: slices.Clone(in.Connectors), AllowedTools: slices.Clone(in.AllowedTools),
	}
	c.Normalize()
	if err := r.validateConversation(ctx, c); err != nil {
		return nil, err
	}
	c.CreatedAt = r.now().UTC()
	c.UpdatedAt = c.CreatedAt
	if err := r.store.PutConversation(ctx, c); err != nil {
		return nil, err
	}
	r.publish(backend.EventConversationChanged, map[string]string{"id": c.ID, "change": "created"})
	return c, nil
}

// UpdateConversation replaces the name, slug, connectors and allowed tools of
// a conversation. The default conversation keeps its slug (its path is /mcp).
func (r *Registry) UpdateConversation(ctx context.Context, ref string, in *backend.Conversation) (*backend.Conversation, error) {
	old, err := r.store.FindConversation(ctx, ref)
	if err != nil {
		return nil, err
	}
	c := &backend.Conversation{
		ID: old.ID, Name: in.Name, Slug: in.Slug, CreatedAt: old.CreatedAt,
		Connectors: slices.Clone(in.Connectors), AllowedTools: slices.Clone(in.AllowedTools),
	}
	if old.IsDefault() {
		if c.Slug != "" && c.Slug != old.Slug {
			var p backend.Problems
			p.Add("slug", "the default conversation is always served at /mcp; its slug cannot change")
			return nil, p.Err("conversation")
		}
		c.Slug = old.Slug
	}
	c.Normalize()
	if err := r.validateConversation(ctx, c); err != nil {
		return nil, err
	}
	c.UpdatedAt = r.now().UTC()
	if err := r.store.PutConversation(ctx, c); err != nil {
		return nil, err
	}
	r.publish(backend.EventConversationChanged, map[string]string{"id": c.ID, "change": "updated", "old_slug": old.Slug})
	return c, nil
}

// DeleteConversation removes a conversation (not the default one).
func (r *Registry) DeleteConversation(ctx context.Context, ref string) error {
	c, err := r.store.FindConversation(ctx, ref)
	if err != nil {
		return err
	}
	if err := r.store.DeleteConversation(ctx, c.ID); err != nil {
		return err
	}
	r.publish(backend.EventConversationChanged, map[string]string{"id": c.ID, "change": "deleted", "old_slug": c.Slug})
	return nil
}

// SetConnectorEnabled enables or disables one connector in a conversation.
func (r *Registry) SetConnectorEnabled(ctx context.Context, conversationRef, connectorRef string, enabled bool) (*backend.Conversation, error) {
	c, err := r.store.FindConversation(ctx, conversationRef)
	if err != nil {
		return nil, err
	}
	conn, err := r.store.FindConnector(ctx, connectorRef)
	if err != nil {
		return nil, err
	}
	if c.Enabled(conn.ID) == enabled {
		return c, nil
	}
	if enabled {
		c.Connectors = append(c.Connectors, conn.ID)
	} else {
		c.Connectors = slices.DeleteFunc(c.Connectors, func(id string) bool { return id == conn.ID })
	}
	c.UpdatedAt = r.now().UTC()
	if err := r.store.PutConversation(ctx, c); err != nil {
		return nil, err
	}
	r.publish(backend.EventConversationChanged, map[string]string{"id": c.ID, "change": "updated"})
	return c, nil
}

// validateConversation checks the fields, resolves connector references to
// IDs and checks that the slug is free.
func (r *Registry) validateConversation(ctx context.Context, c *backend.Conversation) error {
	var p backend.Problems
	if err := c.Validate(); err != nil {
		var be *backend.Error
		if !errors.As(err, &be) {
			return err
		}
		p = append(p, be.Fields...)
	}
	for i, ref := range c.Connectors {
		conn, err := r.store.FindConnector(ctx, ref)
		if backend.ErrorCode(err) == backend.ENOTFOUND {
			p.Add(fmt.Sprintf("connectors[%d]", i), "no connector %q; use the ID, slug or name of an existing connector", ref)
			continue
		} else if err != nil {
			return err
		}
		c.Connectors[i] = conn.ID
	}
	if c.Slug != backend.DefaultConversationSlug || c.ID != "" {
		all, err := r.store.ListConversations(ctx)
		if err != nil {
			return err
		}
		for _, o := range all {
			if o.ID != c.ID && o.Slug == c.Slug {
				p.Add("slug", "%q is already used by the conversation %q; choose another name or slug", c.Slug, o.Name)
			}
		}
	}
	if c.Slug == "api" || c.Slug == "sse" || c.Slug == "message" {
		p.Add("slug", "%q is reserved; choose another", c.Slug)
	}
	return p.Err("conversation")
}
