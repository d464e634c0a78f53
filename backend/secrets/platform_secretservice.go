//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

// The build constraint matches go-keyring's Secret Service backend.

package secrets

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/godbus/dbus/v5"
	"github.com/patchbay/patchbay/backend"
)

// defaultChunkSize: the Secret Service has no size limit of its own (D-Bus
// messages may reach 128 MiB) and go-keyring notes only that very large
// values (>100 KiB) are slow. 64 KiB equals backend.MaxSecretBytes, so every
// secret Patchbay accepts stays one entry: one D-Bus round trip, and readable
// whole with `secret-tool lookup`.
const defaultChunkSize = backend.MaxSecretBytes

// classifyPlatform recognises the ways the Secret Service fails over D-Bus.
func classifyPlatform(err error) *backend.Error {
	var de dbus.Error
	if errors.As(err, &de) {
		switch {
		case de.Name == "org.freedesktop.DBus.Error.ServiceUnknown",
			de.Name == "org.freedesktop.DBus.Error.NameHasNoOwner",
			strings.HasPrefix(de.Name, "org.freedesktop.DBus.Error.Spawn."):
			return noSecretService(err)
		case de.Name == "org.freedesktop.Secret.Error.IsLocked":
			return locked(err)
		case de.Name == "org.freedesktop.Secret.Error.NoSuchObject":
			return backend.Errorf(backend.EUNAVAILABLE, "The keychain has no default collection to store secrets in.").
				WithSlug(SlugUnavailable).
				WithFix("Create a default keyring and unlock it (for example in Passwords and Keys), or " + fixEnvRef + ".").
				WithCause(err)
		case de.Name == "org.freedesktop.DBus.Error.NoReply", de.Name == "org.freedesktop.DBus.Error.Timeout":
			return timedOut(0, err)
		}
		return nil
	}
	// go-keyring's own text when an unlock prompt was dismissed or could not
	// be shown (for example a locked collection on a machine without a display).
	if strings.HasPrefix(err.Error(), "failed to unlock correct collection") {
		return locked(err)
	}
	var ne *net.OpError
	var ee *exec.Error
	var xe *exec.ExitError
	if errors.As(err, &ne) || errors.As(err, &ee) || errors.As(err, &xe) ||
		errors.Is(err, dbus.ErrClosed) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ENOENT) || strings.HasPrefix(err.Error(), "dbus: ") {
		return noSessionBus(err)
	}
	return nil
}

// preflight refuses early when no session bus is configured. Left alone,
// godbus would then run dbus-launch, which starts a stray bus daemon that in
// turn auto-starts a locked gnome-keyring: the app would hang on an invisible
// prompt and leave both processes behind.
func preflight() error {
	return checkSessionBus(os.Getenv, os.Getuid(), func(p string) bool {
		_, err := os.Stat(p)
		return err == nil
	})
}

// checkSessionBus mirrors how godbus finds the session bus without launching
// one: $DBUS_SESSION_BUS_ADDRESS, then /run/user/<uid>/bus or dbus-session.
func checkSessionBus(getenv func(string) string, uid int, exists func(string) bool) error {
	if a := getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return nil
	}
	dir := fmt.Sprintf("/run/user/%d", uid)
	if exists(dir+"/bus") || exists(dir+"/dbus-session") {
		return nil
	}
	return noSessionBus(fmt.Errorf("DBUS_SESSION_BUS_ADDRESS is not set and %s/bus does not exist", dir))
}
