package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/api"
)

func runTools(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "tools", args, map[string]func(context.Context, *Env, []string) error{
		"list": toolsList, "policy": toolsPolicy, "accept": toolsAccept, "refresh": toolsRefresh,
	}, []string{"list", "policy", "accept", "refresh"})
}

func toolsList(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("tools list", "tools list CONNECTOR [--json]")
	jsonOut := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	var tools []*backend.Tool
	if done, err := env.call(ctx, http.MethodGet, "/api/v1/connectors/"+url.PathEscape(fs.Arg(0))+"/tools", nil, &tools, *jsonOut); done {
		return err
	}
	if len(tools) == 0 {
		fmt.Fprintf(env.Stdout, "No tools known yet. Fetch them with: patchbay tools refresh %s\n", fs.Arg(0))
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOOL\tPOLICY\tSTATE\tDESCRIPTION")
	for _, t := range tools {
		state := "ok"
		switch {
		case t.Removed:
			state = "removed upstream"
		case t.Held():
			state = "changed: review with `patchbay tools accept`"
		}
		desc := strings.Join(strings.Fields(t.Description), " ")
		if len([]rune(desc)) > 60 {
			desc = string([]rune(desc)[:59]) + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Policy, state, desc)
	}
	return tw.Flush()
}

func toolsPolicy(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("tools policy", "tools policy CONNECTOR always_allow|needs_approval|disabled [TOOL...]  (no TOOL: all tools)")
	if err := parse(fs, args, 2, -1); err != nil {
		return err
	}
	body := map[string]any{"policy": fs.Arg(1), "tools": fs.Args()[2:]}
	if err := env.do(ctx, http.MethodPut, "/api/v1/connectors/"+url.PathEscape(fs.Arg(0))+"/tools/policy", body, nil); err != nil {
		return err
	}
	what := "all tools"
	if fs.NArg() > 2 {
		what = strings.Join(fs.Args()[2:], ", ")
	}
	fmt.Fprintf(env.Stdout, "Set %s of %s to %s.\n", what, fs.Arg(0), fs.Arg(1))
	return nil
}

func toolsAccept(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("tools accept", "tools accept CONNECTOR TOOL  (accept a changed tool definition after reviewing it)")
	if err := parse(fs, args, 2, 2); err != nil {
		return err
	}
	path := "/api/v1/connectors/" + url.PathEscape(fs.Arg(0)) + "/tools/" + url.PathEscape(fs.Arg(1)) + "/accept"
	if err := env.do(ctx, http.MethodPost, path, nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Accepted the new definition of %s; it can be called again.\n", fs.Arg(1))
	return nil
}

func toolsRefresh(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("tools refresh", "tools refresh CONNECTOR [--json]")
	jsonOut := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	var ch backend.ToolChanges
	if done, err := env.call(ctx, http.MethodPost, "/api/v1/connectors/"+url.PathEscape(fs.Arg(0))+"/tools/refresh", nil, &ch, *jsonOut); done {
		return err
	}
	if ch.Empty() {
		fmt.Fprintln(env.Stdout, "No changes.")
		return nil
	}
	for _, x := range []struct {
		label string
		names []string
	}{{"Added", ch.Added}, {"Removed", ch.Removed}, {"Changed (held until accepted)", ch.Changed}} {
		if len(x.names) > 0 {
			fmt.Fprintf(env.Stdout, "%s: %s\n", x.label, strings.Join(x.names, ", "))
		}
	}
	return nil
}

func runConversation(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "conversation", args, map[string]func(context.Context, *Env, []string) error{
		"list": convList, "show": convShow, "create": convCreate, "rename": convRename, "delete": convDelete,
		"enable":  func(ctx context.Context, env *Env, a []string) error { return convToggle(ctx, env, a, true) },
		"disable": func(ctx context.Context, env *Env, a []string) error { return convToggle(ctx, env, a, false) },
	}, []string{"list", "show", "create", "rename", "delete", "enable", "disable"})
}

func convList(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("conversation list", "conversation list [--json]")
	jsonOut := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	var list []*api.ConversationView
	if done, err := env.call(ctx, http.MethodGet, "/api/v1/conversations", nil, &list, *jsonOut); done {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSLUG\tCONNECTORS\tSESSIONS\tENDPOINT")
	for _, c := range list {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", c.Name, c.Slug, len(c.Connectors), len(c.Sessions), c.MCPURL)
	}
	return tw.Flush()
}

func convShow(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("conversation show", "conversation show CONVERSATION [--json]")
	jsonOut := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	cl, done, err := env.client(ctx)
	if err != nil {
		return err
	}
	defer done()
	var c api.ConversationView
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/conversations/"+url.PathEscape(fs.Arg(0)), nil, &c); err != nil {
		return err
	}
	if *jsonOut {
		return env.printJSON(c)
	}
	fmt.Fprintf(env.Stdout, "Name:       %s\nSlug:       %s\nEndpoint:   %s\n", c.Name, c.Slug, c.MCPURL)
	var conns []*api.ConnectorView
	_ = cl.Do(ctx, http.MethodGet, "/api/v1/connectors", nil, &conns)
	for _, k := range conns {
		mark := " "
		if c.Enabled(k.ID) {
			mark = "✓"
		}
		fmt.Fprintf(env.Stdout, "  [%s] %s (%s)\n", mark, k.Name, k.Slug)
	}
	if len(c.AllowedTools) > 0 {
		fmt.Fprintf(env.Stdout, "Allowed tools: %s\n", strings.Join(c.AllowedTools, ", "))
	}
	for _, s := range c.Sessions {
		fmt.Fprintf(env.Stdout, "Session:    %s %s (%s) since %s\n", s.ClientName, s.ClientVersion, s.TokenLabel, s.Since.Local().Format("15:04:05"))
	}
	return nil
}

func convCreate(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("conversation create", "conversation create NAME [--connector C]... [--allow-tool T]... [--json]")
	var connectors, tools multi
	fs.Var(&connectors, "connector", "enable this connector (ID, slug or name; repeatable)")
	fs.Var(&tools, "allow-tool", "restrict to this tool, as clients see it (<slug>_<tool>; repeatable)")
	slug := fs.String("slug", "", "slug of the endpoint path /mcp/<slug> (derived from the name by default)")
	jsonOut := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	body := map[string]any{"name": fs.Arg(0), "slug": *slug, "connector_ids": []string(connectors), "allowed_tools": []string(tools)}
	var c api.ConversationView
	if done, err := env.call(ctx, http.MethodPost, "/api/v1/conversations", body, &c, *jsonOut); done {
		return err
	}
	fmt.Fprintf(env.Stdout, "Created conversation %q at %s\n", c.Name, c.MCPURL)
	return nil
}

func convRename(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("conversation rename", "conversation rename CONVERSATION NEW-NAME")
	if err := parse(fs, args, 2, 2); err != nil {
		return err
	}
	cl, done, err := env.client(ctx)
	if err != nil {
		return err
	}
	defer done()
	var c api.ConversationView
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/conversations/"+url.PathEscape(fs.Arg(0)), nil, &c); err != nil {
		return err
	}
	body := map[string]any{"name": fs.Arg(1), "slug": c.Slug, "connectors": c.Connectors, "allowed_tools": c.AllowedTools}
	if err := cl.Do(ctx, http.MethodPut, "/api/v1/conversations/"+url.PathEscape(c.ID), body, &c); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Renamed to %q (endpoint unchanged: %s).\n", c.Name, c.MCPURL)
	return nil
}

func convDelete(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("conversation delete", "conversation delete CONVERSATION")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	if err := env.do(ctx, http.MethodDelete, "/api/v1/conversations/"+url.PathEscape(fs.Arg(0)), nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Deleted conversation %q.\n", fs.Arg(0))
	return nil
}

func convToggle(ctx context.Context, env *Env, args []string, enabled bool) error {
	verb := map[bool]string{true: "enable", false: "disable"}[enabled]
	fs := env.newFlags("conversation "+verb, "conversation "+verb+" CONVERSATION CONNECTOR")
	if err := parse(fs, args, 2, 2); err != nil {
		return err
	}
	path := "/api/v1/conversations/" + url.PathEscape(fs.Arg(0)) + "/connectors/" + url.PathEscape(fs.Arg(1))
	if err := env.do(ctx, http.MethodPut, path, map[string]bool{"enabled": enabled}, nil); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%sd %s in %s; connected clients were told.\n", strings.ToUpper(verb[:1])+verb[1:], fs.Arg(1), fs.Arg(0))
	return nil
}
