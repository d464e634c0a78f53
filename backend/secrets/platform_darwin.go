package secrets

import (
	"errors"
	"os/exec"

	"github.com/patchbay/patchbay/backend"
)

// defaultChunkSize: go-keyring hands the value to `security -i` as one
// command line of at most 4,096 bytes, after base64 (4/3 larger) plus an
// 18-byte prefix, next to the service and account names. 2,048 raw bytes
// become 2,750 and leave about 1,300 bytes for the names, far more than
// Patchbay's keys need.
const defaultChunkSize = 2048

// classifyPlatform: the `security` tool reports failures only as exit codes;
// the usual cause is a locked login keychain that may not prompt.
func classifyPlatform(err error) *backend.Error {
	var xe *exec.ExitError
	if errors.As(err, &xe) {
		return backend.Errorf(backend.EUNAVAILABLE, "The macOS keychain refused the request.").
			WithSlug(SlugUnavailable).
			WithFix("Unlock your login keychain in Keychain Access and try again, or " + fixEnvRef + ".").
			WithCause(err)
	}
	return nil
}

func preflight() error { return nil }
