package secrets

import "github.com/patchbay/patchbay/backend"

// defaultChunkSize: Windows Credential Manager stores at most 2,560 bytes per
// credential blob (go-keyring refuses more); the header that replaces a split
// value is far smaller.
const defaultChunkSize = 2560

func classifyPlatform(error) *backend.Error { return nil }

func preflight() error { return nil }
