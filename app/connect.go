package app

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/api"
	"github.com/patchbay/patchbay/backend/secrets"
	"github.com/patchbay/patchbay/backend/store"
)

// ConnectOptions configure Connect.
type ConnectOptions struct {
	Dir     string
	Version string
	// Secrets overrides the OS keychain (tests).
	Secrets backend.SecretStore
}

// Connect returns an admin API client for the CLI: the running instance's
// API when one answers, else an in-process backend on the same data
// directory. release frees what Connect opened.
func Connect(ctx context.Context, o ConnectOptions) (cl *api.Client, release func(), err error) {
	dir, err := dataDir(o.Dir)
	if err != nil {
		return nil, nil, err
	}
	sec := o.Secrets
	if sec == nil {
		sec = secrets.NewKeychain(nil)
	}
	inst, cl, err := running(ctx, dir, sec)
	if err != nil {
		return nil, nil, err
	}
	if inst != nil {
		hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := cl.Do(hctx, http.MethodGet, "/api/v1/health", nil, nil); err == nil {
			return cl, func() {}, nil
		}
		return nil, nil, backend.Errorf(backend.EUNAVAILABLE, "Patchbay is running (pid %d) but its API does not answer at %s.", inst.PID, inst.URL()).
			WithSlug("instance_unreachable").
			WithFix("Wait a moment and try again; if it stays stuck, quit that Patchbay and start it again.")
	}
	// Only errors are worth showing from a one-command backend; the CLI
	// prints the outcome itself.
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	core, err := Open(ctx, Options{Dir: dir, Version: o.Version, Secrets: sec, Logger: quiet})
	if err != nil {
		return nil, nil, err
	}
	return api.NewInProcessClient(core.API.InProcessHandler()), func() { core.Close() }, nil
}

// running returns the instance recorded in dir and an admin API client
// for it, when its process is alive; inst is nil when none runs.
func running(ctx context.Context, dir string, sec backend.SecretStore) (inst *Instance, cl *api.Client, err error) {
	inst = ReadInstance(dir)
	if inst == nil || !processAlive(inst.PID) {
		return nil, nil, nil
	}
	tok, err := ReadAdminToken(ctx, sec)
	if err != nil {
		return nil, nil, err
	}
	return inst, &api.Client{BaseURL: inst.URL(), Token: tok, HTTP: &http.Client{}}, nil
}

// ReadAdminToken returns the admin token a client of the running instance
// needs: PATCHBAY_ADMIN_TOKEN when set, else the keychain's.
func ReadAdminToken(ctx context.Context, sec backend.SecretStore) (string, error) {
	if t := strings.TrimSpace(os.Getenv("PATCHBAY_ADMIN_TOKEN")); t != "" {
		return t, nil
	}
	t, err := sec.Get(ctx, backend.AdminTokenKey)
	if err != nil {
		return "", adminTokenError(err)
	}
	return t, nil
}

// dataDir returns dir, or the default data directory when dir is empty.
func dataDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return store.DefaultDir()
}
