//go:build !desktop || headless

package app

import (
	"context"
	"io/fs"

	"github.com/patchbay/patchbay/backend"
)

// HasWindow reports whether this binary was built with the desktop window.
const HasWindow = false

// RunWindow is unavailable in the headless build.
func RunWindow(ctx context.Context, o Options, frontend fs.FS) error {
	return backend.Errorf(backend.EUNAVAILABLE, "This Patchbay was built without the desktop window (headless build).").
		WithFix("Run `patchbay serve` and open the printed link in a browser, or build the desktop app with `make build`.")
}
