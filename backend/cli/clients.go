package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/clients"
)

func runClients(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "clients", args, map[string]func(context.Context, *Env, []string) error{
		"list": clientsList, "connect": clientsConnect, "disconnect": clientsDisconnect,
		"undo": clientsUndo, "snippet": clientsSnippet,
	}, []string{"list", "connect", "disconnect", "undo", "snippet"})
}

func clientsList(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("clients list", "clients list [--json]")
	jsonOut := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	var list []clients.Status
	if done, err := env.call(ctx, http.MethodGet, "/api/v1/clients", nil, &list, *jsonOut); done {
		return err
	}
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "-"
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tNAME\tDETECTED\tCONNECTED\tCONVERSATION\tMETHOD\tCONFIG FILE")
	for _, c := range list {
		conv := c.Conversation
		if conv == "" {
			conv = "-"
		}
		config := c.ConfigPath
		if !c.ConfigExists {
			config += " (not created yet)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, yes(c.Installed), yes(c.Connected), conv, c.Method, config)
		for _, x := range c.Connections {
			if x.Scope == clients.ScopeProject {
				fmt.Fprintf(tw, "\t  project\t\t%s\t%s\t\t%s\n", yes(x.EntryPresent), x.Conversation, x.ConfigPath)
			}
		}
	}
	return tw.Flush()
}

// scopeFlags are the flags that pick the user or a project file.
type scopeFlags struct{ scope, project string }

func (f *scopeFlags) register(fs interface {
	StringVar(*string, string, string, string)
}) {
	fs.StringVar(&f.scope, "scope", "", "user (the default) or project")
	fs.StringVar(&f.project, "project", "", "the project folder, for the project scope (default: the current folder with --scope project)")
}

func (f *scopeFlags) resolve() (scope, dir string, err error) {
	scope, dir = f.scope, f.project
	if scope == clients.ScopeProject && dir == "" {
		dir = "."
	}
	if dir != "" {
		if dir, err = filepath.Abs(dir); err != nil {
			return "", "", err
		}
	}
	return scope, dir, nil
}

func clientsConnect(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("clients connect", "clients connect CLIENT [--conversation SLUG] [--dry-run] [--overwrite] [--scope user|project] [--project DIR]")
	conv := fs.String("conversation", "", "the conversation to connect to (default: the default conversation)")
	dry := fs.Bool("dry-run", false, "show the change without writing it")
	overwrite := fs.Bool("overwrite", false, "replace an entry of the same name that Patchbay did not write")
	jsonOut := fs.Bool("json", false, "print JSON")
	var sf scopeFlags
	sf.register(fs)
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	scope, dir, err := sf.resolve()
	if err != nil {
		return err
	}
	req := clients.ConnectRequest{Conversation: *conv, DryRun: *dry, Overwrite: *overwrite, Scope: scope, ProjectDir: dir}
	res, err := postConfirmed(ctx, env, "/api/v1/clients/"+url.PathEscape(fs.Arg(0))+"/connect", &req, *dry,
		func() { req.Overwrite = true }, "Run again with --overwrite to replace that entry.",
		func(r *clients.ConnectResult) (bool, string, string) { return r.NeedsConfirmation, r.Diff, r.Message })
	if err != nil {
		return err
	}
	if *jsonOut {
		return env.printJSON(res)
	}
	fmt.Fprint(env.Stdout, res.Diff)
	if res.BackupPath != "" {
		fmt.Fprintf(env.Stderr, "Backup: %s\n", res.BackupPath)
	}
	fmt.Fprintln(env.Stderr, res.Message)
	return nil
}

func clientsDisconnect(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("clients disconnect", "clients disconnect CLIENT [--scope user|project] [--project DIR] [--dry-run]")
	dry := fs.Bool("dry-run", false, "show the change without writing it")
	jsonOut := fs.Bool("json", false, "print JSON")
	var sf scopeFlags
	sf.register(fs)
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	scope, dir, err := sf.resolve()
	if err != nil {
		return err
	}
	var res clients.DisconnectResult
	req := clients.DisconnectRequest{Scope: scope, ProjectDir: dir, DryRun: *dry}
	if done, err := env.call(ctx, http.MethodPost, "/api/v1/clients/"+url.PathEscape(fs.Arg(0))+"/disconnect", req, &res, *jsonOut); done {
		return err
	}
	fmt.Fprint(env.Stdout, res.Diff)
	if res.BackupPath != "" {
		fmt.Fprintf(env.Stderr, "Backup: %s\n", res.BackupPath)
	}
	fmt.Fprintln(env.Stderr, res.Message)
	return nil
}

func clientsUndo(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("clients undo", "clients undo CLIENT [--force] [--dry-run]")
	force := fs.Bool("force", false, "undo even if the file changed since Patchbay wrote it")
	dry := fs.Bool("dry-run", false, "show what undo would restore")
	jsonOut := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	req := clients.UndoRequest{Force: *force, DryRun: *dry}
	res, err := postConfirmed(ctx, env, "/api/v1/clients/"+url.PathEscape(fs.Arg(0))+"/undo", &req, *dry,
		func() { req.Force = true }, "Run again with --force to undo anyway.",
		func(r *clients.UndoResult) (bool, string, string) { return r.NeedsConfirmation, r.Diff, r.Message })
	if err != nil {
		return err
	}
	if *jsonOut {
		return env.printJSON(res)
	}
	fmt.Fprint(env.Stdout, res.Diff)
	fmt.Fprintln(env.Stderr, res.Message)
	return nil
}

// postConfirmed posts req to path. When the answer says the change needs
// the person's confirmation (an entry Patchbay did not write, a file edited
// since), it shows the diff and asks; on yes it applies confirm to req and
// posts again, on no (or without a terminal) it stops with fix.
func postConfirmed[R any](ctx context.Context, env *Env, path string, req any, dry bool, confirm func(), fix string,
	needs func(*R) (needed bool, diff, message string)) (*R, error) {
	cl, done, err := env.client(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	res := new(R)
	if err := cl.Do(ctx, http.MethodPost, path, req, res); err != nil {
		return nil, err
	}
	needed, diff, msg := needs(res)
	if !needed || dry {
		return res, nil
	}
	fmt.Fprint(env.Stdout, diff)
	if !env.confirm(msg) {
		return nil, backend.Errorf(backend.ECONFLICT, "%s", msg).WithSlug("needs_confirmation").
			WithFix("Nothing was changed. " + fix)
	}
	confirm()
	res = new(R)
	if err := cl.Do(ctx, http.MethodPost, path, req, res); err != nil {
		return nil, err
	}
	return res, nil
}

func clientsSnippet(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("clients snippet", "clients snippet CLIENT [--conversation SLUG] [--scope user|project] [--issue-token]")
	conv := fs.String("conversation", "", "the conversation (default: the default conversation)")
	scope := fs.String("scope", "", "user (the default) or project, for the command line")
	issue := fs.Bool("issue-token", false, "put a new client token in the snippet instead of a placeholder")
	jsonOut := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	var res clients.SnippetResult
	req := clients.SnippetRequest{Conversation: *conv, Scope: *scope, IssueToken: *issue}
	if done, err := env.call(ctx, http.MethodPost, "/api/v1/clients/"+url.PathEscape(fs.Arg(0))+"/snippet", req, &res, *jsonOut); done {
		return err
	}
	where := res.ConfigPath
	if *scope == clients.ScopeProject {
		where += " in your project folder"
	}
	fmt.Fprintf(env.Stderr, "Add this to %s (%s):\n", where, res.Format)
	fmt.Fprint(env.Stdout, res.Snippet)
	if res.Command != "" {
		fmt.Fprintln(env.Stderr, "\nOr run:")
		fmt.Fprintln(env.Stdout, res.Command)
	}
	if strings.Contains(res.Snippet, clients.TokenPlaceholder) {
		fmt.Fprintf(env.Stderr, "\nReplace %s with a client token (`patchbay token create LABEL`, or run again with --issue-token).\n", clients.TokenPlaceholder)
	}
	return nil
}
