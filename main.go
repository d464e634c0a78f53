// Command patchbay is the Patchbay desktop app, its headless server, its
// stdio bridge and its command line, in one binary.
//
//	patchbay                 the desktop app (or, without a display, the headless server)
//	patchbay serve           the headless server: MCP endpoint, admin API and web UI on loopback
//	patchbay stdio           an MCP server on stdin/stdout forwarding to the running Patchbay
//	patchbay connector …     manage connectors (and the rest: run `patchbay help`)
//
// main chooses the mode and wires the pieces; everything else lives in app/
// and backend/.
package main

import (
	"context"
	"embed"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"golang.org/x/term"

	"github.com/patchbay/patchbay/app"
	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/api"
	"github.com/patchbay/patchbay/backend/cli"
	"github.com/patchbay/patchbay/backend/secrets"
)

//go:embed all:frontend/dist
var assets embed.FS

//go:embed build/appicon.png
var appIcon []byte

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	frontend := app.FrontendFS(assets, "frontend/dist")

	env := cli.OSEnv(term.IsTerminal, term.ReadPassword)
	env.Version = version
	env.Connect = func(ctx context.Context) (*api.Client, func(), error) {
		return app.Connect(ctx, app.ConnectOptions{Version: version})
	}
	env.Extra = map[string]cli.Command{
		"serve": {Summary: "run the headless server (MCP endpoint, admin API and web UI on loopback)", Run: func(ctx context.Context, env *cli.Env, args []string) error {
			return serve(ctx, env, args, frontend)
		}},
		"admin-token": {Summary: "print the admin token (to sign in to the web UI by hand)", Run: printAdminToken},
		"stdio":       {Summary: "serve MCP on stdin/stdout, forwarding to the running Patchbay (for clients that launch local servers)", Run: runStdio},
	}

	args := os.Args[1:]
	if len(args) == 0 {
		if app.HasWindow && hasDisplay() {
			err := app.RunWindow(ctx, app.Options{Version: version, Frontend: frontend, Icon: appIcon, Logger: app.NewLogger()}, frontend)
			exit(env, err)
		}
		fmt.Fprintln(os.Stderr, "No display available (or headless build): starting the headless server.")
		args = []string{"serve"}
	}
	os.Exit(cli.Run(ctx, env, args))
}

func serve(ctx context.Context, env *cli.Env, args []string, frontend fs.FS) error {
	flags := flag.NewFlagSet("serve", flag.ContinueOnError)
	flags.SetOutput(env.Stderr)
	addr := flags.String("addr", "", "listen address host:port (default 127.0.0.1 and the port in settings, 47821)")
	allow := flags.Bool("allow-non-loopback", false, "allow a non-loopback address (other machines could reach your connectors)")
	open := flags.Bool("open", false, "open the web UI in the browser once ready")
	if err := flags.Parse(args); err != nil {
		return err
	}
	return app.Serve(ctx, app.ServeOptions{
		Options:     app.Options{Version: version, Frontend: frontend, Logger: app.NewLogger()},
		Listen:      app.ListenOptions{Addr: *addr, AllowNonLoopback: *allow},
		OpenBrowser: *open,
		Out:         env.Stdout,
	})
}

func runStdio(ctx context.Context, env *cli.Env, args []string) error {
	flags := flag.NewFlagSet("stdio", flag.ContinueOnError)
	flags.SetOutput(env.Stderr)
	conv := flags.String("conversation", "", "the conversation to serve (its slug; default: the default conversation, /mcp)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	return app.RunStdio(ctx, app.StdioOptions{Version: version, Conversation: *conv, Stdin: env.Stdin, Stdout: env.Stdout, Stderr: env.Stderr})
}

func printAdminToken(ctx context.Context, env *cli.Env, args []string) error {
	t, err := app.ReadAdminToken(ctx, secrets.NewKeychain(nil))
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		return backend.Errorf(backend.ENOTFOUND, "No admin token yet.").WithFix("Start Patchbay once (`patchbay serve`); it creates one.")
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, t)
	return nil
}

// tuneGC makes the garbage collector run less often than Go's default
// (GOGC=400 instead of 100) unless GOGC is set. Every MCP message go-sdk
// decodes allocates a 32 KiB buffer, so a proxied tool call allocates about
// 2 MB that is garbage at once; with the default, collection dominates the
// CPU time of a call and doubles the latency the MCP endpoint adds. The
// live heap is small, so the price is a few megabytes under load; idle
// memory does not change. See BENCHMARKS.md.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// hasDisplay reports whether a window can be shown: always on macOS and
// Windows, and on Linux when an X11 or Wayland display is set.
func hasDisplay() bool {
	if runtime.GOOS != "linux" && runtime.GOOS != "freebsd" {
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

func exit(env *cli.Env, err error) {
	if err != nil {
		cli.PrintError(env, err)
		os.Exit(cli.ExitError)
	}
	os.Exit(cli.ExitOK)
}
