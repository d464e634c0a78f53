package registry

import (
	"context"

	"github.com/patchbay/patchbay/backend"
)

// GetSettings returns the current settings.
func (r *Registry) GetSettings(ctx context.Context) (*backend.Settings, error) {
	s := r.store.Settings()
	return &s, ctx.Err()
}

// UpdateSettings validates and saves settings. A new port takes effect at
// the next start.
func (r *Registry) UpdateSettings(ctx context.Context, s *backend.Settings) (*backend.Settings, error) {
	if err := r.store.PutSettings(ctx, s); err != nil {
		return nil, err
	}
	out := r.store.Settings()
	r.publish(backend.EventSettingsChanged, out)
	return &out, nil
}
