package registry

import (
	"context"
	"fmt"
	"strings"

	"github.com/patchbay/patchbay/backend"
)

// ListTools returns the stored tools of a connector.
func (r *Registry) ListTools(ctx context.Context, connectorRef string) ([]*backend.Tool, error) {
	c, err := r.store.FindConnector(ctx, connectorRef)
	if err != nil {
		return nil, err
	}
	return r.store.ListTools(ctx, c.ID)
}

// SetToolPolicy sets the policy of the named tools of a connector (all of
// them when tools is empty).
func (r *Registry) SetToolPolicy(ctx context.Context, connectorRef string, tools []string, policy string) error {
	if !backend.ValidPolicy(policy) {
		var p backend.Problems
		p.Add("policy", "must be one of %s (got %q)", strings.Join(backend.Policies, ", "), policy)
		return p.Err("request")
	}
	c, err := r.store.FindConnector(ctx, connectorRef)
	if err != nil {
		return err
	}
	if len(tools) == 0 {
		all, err := r.store.ListTools(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, t := range all {
			tools = append(tools, t.Name)
		}
	}
	for _, name := range tools {
		err := r.store.UpdateTool(ctx, c.ID, name, func(t *backend.Tool) error {
			t.Policy = policy
			return nil
		})
		if err != nil {
			return fmt.Errorf("set policy of %s/%s: %w", c.Slug, name, err)
		}
	}
	r.publish(backend.EventToolsChanged, map[string]any{"connector_id": c.ID, "policy": policy, "tools": tools})
	return nil
}

// AcceptToolChange accepts the pending definition of a held tool.
func (r *Registry) AcceptToolChange(ctx context.Context, connectorRef, tool string) error {
	c, err := r.store.FindConnector(ctx, connectorRef)
	if err != nil {
		return err
	}
	err = r.store.UpdateTool(ctx, c.ID, tool, func(t *backend.Tool) error {
		if !t.Held() {
			return backend.Errorf(backend.EINVALID, "The tool %q has no change waiting for review.", tool).WithSlug("no_pending_change")
		}
		t.Accept()
		return nil
	})
	if err != nil {
		return err
	}
	r.publish(backend.EventToolsChanged, map[string]any{"connector_id": c.ID, "accepted": []string{tool}})
	return nil
}
