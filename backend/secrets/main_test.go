package secrets

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/zalando/go-keyring"
)

// harnessHint says how to give the tests the Secret Service they need.
const harnessHint = "run under .ci/with-keyring (make test does this); needs gnome-keyring, dbus, libsecret-tools"

func TestMain(m *testing.M) {
	// The test binary doubles as a helper process for tests that need an
	// environment of their own (a dead or empty session bus, a locked
	// keyring): go-keyring's D-Bus connection is process-wide.
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	os.Exit(m.Run())
}

// needPrivateKeyring fails the test unless it runs inside .ci/with-keyring,
// so that the tests never write to a developer's real keyring.
func needPrivateKeyring(t *testing.T) {
	t.Helper()
	if os.Getenv("PATCHBAY_PRIVATE_KEYRING") != "1" {
		t.Fatalf("this test needs a private Secret Service: %s", harnessHint)
	}
}

// newTestKeychain returns a Keychain on the private Secret Service under a
// service name unique to this test, and removes its entries afterwards.
func newTestKeychain(t *testing.T, chunkSize int) *Keychain {
	t.Helper()
	needPrivateKeyring(t)
	svc := uniqueService()
	k := NewKeychain(&Options{Service: svc, ChunkSize: chunkSize})
	if err := k.Check(t.Context()); err != nil {
		t.Fatalf("the Secret Service is not usable: %v\n%s", err, harnessHint)
	}
	t.Cleanup(func() {
		if err := keyring.DeleteAll(svc); err != nil {
			t.Errorf("cleaning up service %s: %v", svc, err)
		}
	})
	return k
}

func uniqueService() string { return "patchbay-test-" + strings.ToLower(rand.Text()[:12]) }

// canary returns a recognisable value that must never show up in errors.
func canary() string { return "CANARY-" + rand.Text() }

// secretTool reads an entry with libsecret's secret-tool, independently of
// go-keyring, to prove that a value really is in the OS keychain.
func secretTool(t *testing.T, service, user string) (string, bool) {
	t.Helper()
	if _, err := exec.LookPath("secret-tool"); err != nil {
		t.Fatalf("secret-tool not found: %s", harnessHint)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "secret-tool", "lookup", "service", service, "username", user).Output()
	var xe *exec.ExitError
	if errors.As(err, &xe) && xe.ExitCode() == 1 && len(out) == 0 {
		return "", false
	}
	if err != nil {
		t.Fatalf("secret-tool lookup %s %s: %v", service, user, err)
	}
	return string(out), true
}

// wantError checks err's code and slug and that it does not reveal secret.
func wantError(t *testing.T, err error, code, slug, secret string) *backend.Error {
	t.Helper()
	var e *backend.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want a *backend.Error %s/%s", err, err, code, slug)
	}
	if e.Code != code || e.Slug != slug {
		t.Fatalf("got %s/%s (%q), want %s/%s", e.Code, e.Slug, e.Message, code, slug)
	}
	if secret != "" {
		noSecretIn(t, err, secret)
	}
	return e
}

// noSecretIn fails if secret appears in err's text or in any of its causes.
func noSecretIn(t *testing.T, err error, secret string) {
	t.Helper()
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), secret) {
			t.Fatalf("error text reveals the secret: %q", e.Error())
		}
	}
}
