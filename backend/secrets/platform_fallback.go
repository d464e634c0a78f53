//go:build !darwin && !windows && !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

// Platforms where go-keyring has no backend: every call fails with
// keyring.ErrUnsupportedPlatform, which mapError reports.

package secrets

import "github.com/patchbay/patchbay/backend"

const defaultChunkSize = backend.MaxSecretBytes

func classifyPlatform(error) *backend.Error { return nil }

func preflight() error { return nil }
