//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package secrets

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/patchbay/patchbay/backend"
	"github.com/zalando/go-keyring"
)

// The errors go-keyring and godbus give on Linux, as seen from the real
// Secret Service and D-Bus (the subprocess tests reproduce the common ones
// for real), each become a *backend.Error that names cause and fix.
func TestSecretServiceErrorsAreMapped(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cause      error
		code, slug string
		message    string
	}{
		{"no secret service", dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown", Body: []any{"The name org.freedesktop.secrets was not provided by any .service files"}},
			backend.EUNAVAILABLE, SlugUnavailable, "No Secret Service on the session bus"},
		{"activation failed", dbus.Error{Name: "org.freedesktop.DBus.Error.Spawn.ChildExited"},
			backend.EUNAVAILABLE, SlugUnavailable, "No Secret Service on the session bus"},
		{"dead socket", &net.OpError{Op: "dial", Net: "unix", Err: errors.New("connect: no such file or directory")},
			backend.EUNAVAILABLE, SlugUnavailable, "No D-Bus session bus"},
		{"bus auth", errors.New("dbus: authentication failed"),
			backend.EUNAVAILABLE, SlugUnavailable, "No D-Bus session bus"},
		{"locked item", dbus.Error{Name: "org.freedesktop.Secret.Error.IsLocked"},
			backend.EUNAVAILABLE, SlugLocked, "The keychain is locked."},
		{"prompt dismissed", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"),
			backend.EUNAVAILABLE, SlugLocked, "The keychain is locked."},
		{"no collection", dbus.Error{Name: "org.freedesktop.Secret.Error.NoSuchObject"},
			backend.EUNAVAILABLE, SlugUnavailable, "no default collection"},
		{"no reply", dbus.Error{Name: "org.freedesktop.DBus.Error.NoReply"},
			backend.ETIMEOUT, SlugTimeout, "did not answer"},
		{"too big", keyring.ErrSetDataTooBig,
			backend.EINVALID, SlugTooLarge, "-byte entry"},
		{"unknown", errors.New("something else"),
			backend.EUNAVAILABLE, SlugUnavailable, "could not be used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeKeyring()
			f.err = tc.cause
			if tc.cause == keyring.ErrSetDataTooBig {
				f.err, f.setErr = nil, tc.cause
			}
			k := fakeKeychain(f, DefaultTimeout)
			secret := canary()
			err := k.Set(t.Context(), "key", secret)
			e := wantError(t, err, tc.code, tc.slug, secret)
			if !strings.Contains(e.Message, tc.message) || e.SuggestedFix == "" {
				t.Fatalf("error = %q / fix %q; want %q and a fix", e.Message, e.SuggestedFix, tc.message)
			}
			if tc.code == backend.EUNAVAILABLE && !strings.Contains(e.SuggestedFix, "${ENV_VAR}") {
				t.Fatalf("fix %q does not offer ${ENV_VAR} references", e.SuggestedFix)
			}
			if !inChain(err, tc.cause) {
				t.Fatal("the cause is not kept in the error chain")
			}
		})
	}
}

func TestNoSessionBusIsRefusedBeforeCallingTheKeychain(t *testing.T) {
	none := func(string) bool { return false }
	env := func(v string) func(string) string { return func(string) string { return v } }
	if err := checkSessionBus(env("unix:path=/run/bus"), 1000, none); err != nil {
		t.Fatalf("address set: %v", err)
	}
	if err := checkSessionBus(env(""), 1000, func(p string) bool { return p == "/run/user/1000/bus" }); err != nil {
		t.Fatalf("/run/user/1000/bus exists: %v", err)
	}
	for _, addr := range []string{"", "autolaunch:"} {
		err := checkSessionBus(env(addr), 1000, none)
		e := wantError(t, err, backend.EUNAVAILABLE, SlugUnavailable, "")
		if !strings.Contains(e.Message, "No D-Bus session bus") {
			t.Fatalf("message %q", e.Message)
		}
	}

	f := newFakeKeyring()
	k := fakeKeychain(f, DefaultTimeout)
	k.preflight = func() error { return checkSessionBus(env(""), 1000, none) }
	_, err := k.Get(t.Context(), "key")
	wantError(t, err, backend.EUNAVAILABLE, SlugUnavailable, "")
	if f.entered.Load() != 0 {
		t.Fatal("the keychain was called although no session bus is configured")
	}
}

// inChain reports whether cause is in err's chain; dbus.Error is not
// comparable, so errors.Is cannot tell.
func inChain(err, cause error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if err.Error() == cause.Error() {
			return true
		}
	}
	return false
}
