package app

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/pkg/browser"
)

// ServeOptions configure Serve.
type ServeOptions struct {
	Options
	Listen ListenOptions
	// OpenBrowser opens the login link in the system browser once ready.
	OpenBrowser bool
	// Out receives the banner (the URLs and the login link).
	Out io.Writer
}

// Serve runs the headless server until ctx is cancelled (Ctrl-C), then
// shuts down cleanly: in-flight requests finish, the activity log is
// flushed and the store is closed.
func Serve(ctx context.Context, o ServeOptions) error {
	o.NeedAdminToken = true
	core, err := Open(ctx, o.Options)
	if err != nil {
		return err
	}
	defer core.Close()
	if o.Listen.AllowNonLoopback {
		core.Log.Warn("listening on a non-loopback address: anyone who can reach it and holds a token can use your connectors")
	}
	l, err := core.Listen(o.Listen)
	if err != nil {
		return err
	}
	fmt.Fprint(o.Out, core.Banner(l))
	if o.OpenBrowser {
		_ = browser.OpenURL(core.API.NewLoginLink())
	}
	select {
	case <-ctx.Done():
	case err := <-l.Done():
		return fmt.Errorf("server stopped: %w", err)
	}
	fmt.Fprintln(o.Out, "Shutting down…")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return l.Shutdown(sctx)
}

// FrontendFS returns the built UI inside an embedded tree, or nil when the
// UI was not built (no index.html).
func FrontendFS(root fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(root, dir)
	if err != nil {
		return nil
	}
	if _, err := fs.Stat(sub, "index.html"); err != nil {
		return nil
	}
	return sub
}

// NewLogger returns the logger for a mode: text on stderr at info level,
// debug when PATCHBAY_DEBUG is set.
func NewLogger() *slog.Logger {
	level := slog.LevelInfo
	if os.Getenv("PATCHBAY_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
