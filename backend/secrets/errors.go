package secrets

import (
	"errors"
	"fmt"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/zalando/go-keyring"
)

// Slugs of the errors this package returns, so that callers and the UI can
// tell the failures apart without parsing messages.
const (
	SlugUnavailable = "keychain_unavailable" // no keychain reachable at all
	SlugLocked      = "keychain_locked"      // the keychain is there but locked
	SlugTimeout     = "keychain_timeout"     // the keychain did not answer in time
	SlugNotFound    = "secret_not_found"     // nothing stored under the key
	SlugCorrupt     = "secret_corrupt"       // a split value cannot be put back together
	SlugTooLarge    = "secret_too_large"     // the keychain refused an entry as too big
	SlugInvalidKey  = "secret_key_invalid"   // the key itself is not usable
)

// fixEnvRef is the way out that works whatever is wrong with the keychain.
const fixEnvRef = "give secrets as ${ENV_VAR} references"

// IsUnavailable reports whether err means the keychain cannot be used right
// now: none is reachable, it is locked, or it did not answer in time. Callers
// such as `serve` use it to report the problem instead of failing obscurely.
func IsUnavailable(err error) bool {
	var e *backend.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Slug {
	case SlugUnavailable, SlugLocked, SlugTimeout:
		return true
	}
	return false
}

// NewUnavailableError returns the error a Keychain gives when there is no
// Secret Service on the session bus. Tests of other packages can return it
// from a Memory hook to simulate a machine without a keychain.
func NewUnavailableError() *backend.Error {
	return noSecretService(nil)
}

func noSecretService(cause error) *backend.Error {
	return backend.Errorf(backend.EUNAVAILABLE, "No Secret Service on the session bus, so the keychain cannot be used.").
		WithSlug(SlugUnavailable).
		WithFix("Install and unlock gnome-keyring (or KWallet with its Secret Service), or " + fixEnvRef + ".").
		WithCause(cause)
}

func noSessionBus(cause error) *backend.Error {
	return backend.Errorf(backend.EUNAVAILABLE, "No D-Bus session bus is reachable, so the keychain (Secret Service) cannot be used.").
		WithSlug(SlugUnavailable).
		WithFix("Run Patchbay in a desktop session with gnome-keyring (or KWallet with its Secret Service) unlocked, or " + fixEnvRef + ".").
		WithCause(cause)
}

func locked(cause error) *backend.Error {
	return backend.Errorf(backend.EUNAVAILABLE, "The keychain is locked.").
		WithSlug(SlugLocked).
		WithFix("Unlock your keychain (on Linux: gnome-keyring or KWallet; on macOS: Keychain Access) and try again, or " + fixEnvRef + ".").
		WithCause(cause)
}

// timedOut reports a call that did not finish within budget; budget 0 means
// unknown.
func timedOut(budget time.Duration, cause error) *backend.Error {
	msg := "The keychain did not answer in time."
	if budget > 0 {
		msg = fmt.Sprintf("The keychain did not answer within %s.", budget.Round(time.Millisecond))
	}
	return backend.Errorf(backend.ETIMEOUT, "%s It may be locked or waiting for a password prompt.", msg).
		WithSlug(SlugTimeout).
		WithFix("Unlock your keychain (on Linux: gnome-keyring / KWallet) and try again.").
		WithCause(cause)
}

func notFound(key string) *backend.Error {
	return backend.Errorf(backend.ENOTFOUND, "No secret is stored in the keychain under %q.", key).
		WithSlug(SlugNotFound).
		WithFix("Enter the secret again.").
		WithCause(keyring.ErrNotFound)
}

func corrupt(key, why string) *backend.Error {
	return backend.Errorf(backend.EINTERNAL, "The secret stored under %q cannot be read back: %s.", key, why).
		WithSlug(SlugCorrupt).
		WithFix("Enter the secret again; Patchbay will store it afresh.")
}

func tooLarge(size int) *backend.Error {
	return backend.Errorf(backend.EINVALID, "The keychain refused a %d-byte entry as too large.", size).
		WithSlug(SlugTooLarge).
		WithFix("Patchbay splits large secrets to fit; this keychain's limit is lower than expected. Please report it, and meanwhile " + fixEnvRef + ".").
		WithCause(keyring.ErrSetDataTooBig)
}

// mapError turns an error from go-keyring into a *backend.Error that says
// what happened and what to do. Messages are fixed texts: a keychain error
// never quotes the value being stored, and the cause is kept only in Err.
func mapError(key string, err error) error {
	var e *backend.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e):
		return err
	case errors.Is(err, keyring.ErrNotFound):
		return notFound(key)
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return backend.Errorf(backend.EUNAVAILABLE, "This system has no keychain Patchbay can use.").
			WithSlug(SlugUnavailable).
			WithFix("Give secrets as ${ENV_VAR} references.").
			WithCause(err)
	}
	if e := classifyPlatform(err); e != nil {
		return e
	}
	return backend.Errorf(backend.EUNAVAILABLE, "The keychain could not be used.").
		WithSlug(SlugUnavailable).
		WithFix("Check that your keychain is installed and unlocked, or " + fixEnvRef + ".").
		WithCause(err)
}
