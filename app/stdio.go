package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/secrets"
	"github.com/patchbay/patchbay/backend/stdio"
	"github.com/patchbay/patchbay/backend/store"
)

// StdioOptions configure RunStdio.
type StdioOptions struct {
	// Dir is the data directory; empty means store.DefaultDir().
	Dir     string
	Version string
	// Conversation is the slug of the conversation to serve; empty is the
	// default one.
	Conversation string
	Stdin        io.Reader
	Stdout       io.Writer
	Stderr       io.Writer
	// Secrets overrides the OS keychain (tests).
	Secrets backend.SecretStore
}

// RunStdio runs `patchbay stdio`: an MCP server on stdin/stdout that
// forwards to the running Patchbay, with a client token of its own kept in
// the keychain (issued through the admin API the first time, and again when
// Patchbay refuses it). It never starts a backend of its own: when no
// Patchbay runs, it says so and fails, so the client shows why.
func RunStdio(ctx context.Context, o StdioOptions) error {
	dir, err := dataDir(o.Dir)
	if err != nil {
		return err
	}
	notRunning := backend.Errorf(backend.EUNAVAILABLE, "Patchbay is not running (data directory %s), so the stdio bridge has nothing to connect to.", dir).
		WithSlug("patchbay_not_running").
		WithFix("Start Patchbay (the desktop app, or `patchbay serve`) and restart the client. If Patchbay runs with another data directory, set PATCHBAY_HOME for the bridge too.")
	sec := o.Secrets
	if sec == nil {
		sec = secrets.NewKeychain(nil)
	}
	inst, admin, err := running(ctx, dir, sec)
	if err != nil {
		return err
	}
	if inst == nil {
		return notRunning
	}
	hctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := admin.Do(hctx, http.MethodGet, "/api/v1/health", nil, nil); err != nil {
		return notRunning
	}
	slug := o.Conversation
	if slug == "" {
		slug = backend.DefaultConversationSlug
	}
	var conv backend.Conversation
	if err := admin.Do(hctx, http.MethodGet, "/api/v1/conversations/"+url.PathEscape(slug), nil, &conv); err != nil {
		return err
	}
	defaultDir, _ := store.OSDefaultDir()
	level := slog.LevelWarn
	if os.Getenv("PATCHBAY_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return stdio.Serve(ctx, stdio.Options{
		URL:     inst.URL() + conv.Path(),
		Token:   stdio.KeychainToken(sec, stdio.TokenKey(dir, defaultDir), admin),
		In:      io.NopCloser(o.Stdin),
		Out:     nopWriteCloser{o.Stdout},
		Logger:  slog.New(slog.NewTextHandler(o.Stderr, &slog.HandlerOptions{Level: level})),
		Version: o.Version,
	})
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
