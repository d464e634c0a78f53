package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/api"
)

func runToken(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "token", args, map[string]func(context.Context, *Env, []string) error{
		"list": tokenList, "create": tokenCreate, "revoke": tokenRevoke,
	}, []string{"list", "create", "revoke"})
}

func tokenList(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("token list", "token list [--json]")
	jsonOut := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	var list []*backend.ClientToken
	if done, err := env.call(ctx, http.MethodGet, "/api/v1/tokens", nil, &list, *jsonOut); done {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLABEL\tTOKEN\tCREATED\tLAST USED")
	for _, t := range list {
		used := "never"
		if !t.LastUsedAt.IsZero() {
			used = t.LastUsedAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Label, t.Hint, t.CreatedAt.Local().Format(time.DateTime), used)
	}
	return tw.Flush()
}

func tokenCreate(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("token create", "token create LABEL [--json]  (the token is shown once)")
	jsonOut := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	var out api.IssuedToken
	if done, err := env.call(ctx, http.MethodPost, "/api/v1/tokens", map[string]string{"label": fs.Arg(0)}, &out, *jsonOut); done {
		return err
	}
	fmt.Fprintf(env.Stderr, "Created token %s for %q. It is shown only now; give it to the client as\n  Authorization: Bearer <token>\n", out.ID, out.Label)
	fmt.Fprintln(env.Stdout, out.Token)
	return nil
}

func tokenRevoke(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("token revoke", "token revoke ID")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	if err := env.do(ctx, http.MethodDelete, "/api/v1/tokens/"+url.PathEscape(fs.Arg(0)), nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Revoked %s; clients using it are refused from now on.\n", fs.Arg(0))
	return nil
}

func runApprovals(ctx context.Context, env *Env, args []string) error {
	decide := func(decision string) func(context.Context, *Env, []string) error {
		return func(ctx context.Context, env *Env, args []string) error {
			fs := env.newFlags("approvals", "approvals allow|deny ID [--always]")
			always := fs.Bool("always", false, "allow this tool from now on (sets its policy to always_allow)")
			if err := parse(fs, args, 1, 1); err != nil {
				return err
			}
			d := decision
			if d == backend.DecisionAllowOnce && *always {
				d = backend.DecisionAllowAlways
			}
			cl, done, err := env.client(ctx)
			if err != nil {
				return err
			}
			defer done()
			if err := cl.Do(ctx, http.MethodPost, "/api/v1/approvals/"+url.PathEscape(fs.Arg(0)), map[string]string{"decision": d}, nil); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s: %s\n", fs.Arg(0), d)
			return nil
		}
	}
	return subcommand(ctx, env, "approvals", args, map[string]func(context.Context, *Env, []string) error{
		"list": approvalsList, "allow": decide(backend.DecisionAllowOnce), "deny": decide(backend.DecisionDeny),
	}, []string{"list", "allow", "deny"})
}

func approvalsList(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("approvals list", "approvals list [--json]")
	jsonOut := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	var list []*backend.Approval
	if done, err := env.call(ctx, http.MethodGet, "/api/v1/approvals", nil, &list, *jsonOut); done {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(env.Stdout, "No calls are waiting for approval.")
		return nil
	}
	for _, a := range list {
		fmt.Fprintf(env.Stdout, "%s  %s wants to call %s (%s) in %s; expires in %s\n    arguments: %s\n",
			a.ID, orText(a.ClientName, "a client"), a.ExposedName, a.Connector, a.Conversation,
			time.Until(a.ExpiresAt).Round(time.Second), string(a.Arguments))
	}
	fmt.Fprintln(env.Stdout, "Answer with: patchbay approvals allow ID [--always] | patchbay approvals deny ID")
	return nil
}

func runActivity(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("activity", "activity [--follow] [--json] [--connector C] [--tool T] [--outcome O] [--conversation V] [--search TEXT] [--limit N]")
	follow := fs.Bool("follow", false, "keep printing new calls as they happen")
	jsonOut := fs.Bool("json", false, "print JSON (one object per line with --follow)")
	connector := fs.String("connector", "", "only this connector")
	tool := fs.String("tool", "", "only this tool")
	outcome := fs.String("outcome", "", "only this outcome (ok, tool_error, error, denied, timed_out, blocked, cancelled)")
	conv := fs.String("conversation", "", "only this conversation (slug)")
	text := fs.String("search", "", "only calls mentioning this text")
	limit := fs.Int("limit", 20, "how many recent calls to show")
	if err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	cl, done, err := env.client(ctx)
	if err != nil {
		return err
	}
	defer done()
	q := url.Values{}
	for k, v := range map[string]string{"connector": *connector, "tool": *tool, "outcome": *outcome, "conversation": *conv, "q": *text} {
		if v != "" {
			q.Set(k, v)
		}
	}
	q.Set("limit", strconv.Itoa(*limit))
	var page backend.ActivityPage
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/activity?"+q.Encode(), nil, &page); err != nil {
		return err
	}
	if *jsonOut && !*follow {
		return env.printJSON(page)
	}
	// Oldest first on a terminal, like a log.
	for i := len(page.Entries) - 1; i >= 0; i-- {
		env.printEntry(page.Entries[i], *jsonOut)
	}
	if !*follow {
		if len(page.Entries) == 0 {
			fmt.Fprintln(env.Stderr, "No calls recorded yet.")
		}
		return nil
	}
	var last uint64
	if len(page.Entries) > 0 {
		last = page.Entries[0].Seq
	}
	filter := backend.ActivityFilter{Tool: *tool, Outcome: *outcome, Conversation: *conv, Text: *text}
	if *connector != "" {
		// Entries name connectors by ID: resolve the name or slug once.
		var c api.ConnectorView
		if err := cl.Do(ctx, http.MethodGet, "/api/v1/connectors/"+url.PathEscape(*connector), nil, &c); err != nil {
			return err
		}
		filter.ConnectorID = c.ID
	}
	return cl.Events(ctx, func(e backend.Event) {
		if e.Type != backend.EventActivity {
			return
		}
		var entry backend.ActivityEntry
		if json.Unmarshal(e.Data, &entry) != nil || entry.Seq <= last {
			return
		}
		if !filter.Matches(&entry) {
			return
		}
		last = entry.Seq
		env.printEntry(&entry, *jsonOut)
	})
}

func (env *Env) printEntry(e *backend.ActivityEntry, asJSON bool) {
	if asJSON {
		b, _ := json.Marshal(e)
		fmt.Fprintln(env.Stdout, string(b))
		return
	}
	who := orText(e.ClientName, orText(e.TokenLabel, "?"))
	line := fmt.Sprintf("%s  %-9s %-28s %-10s %7.1fms  %s", e.Time.Local().Format("2006-01-02 15:04:05"), e.Outcome, e.ExposedName, e.Conversation, e.DurationMS, who)
	if e.Approval != "" {
		line += "  approval=" + e.Approval
	}
	if e.Error != "" {
		line += "  " + e.Error
	}
	fmt.Fprintln(env.Stdout, line)
}

func runSettings(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("settings", "settings [--json] | settings set KEY=VALUE...")
	jsonOut := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 0, -1); err != nil {
		return err
	}
	cl, done, err := env.client(ctx)
	if err != nil {
		return err
	}
	defer done()
	if fs.NArg() > 0 {
		if fs.Arg(0) != "set" || fs.NArg() < 2 {
			fs.Usage()
			return ErrUsage
		}
		body := map[string]any{}
		for _, kv := range fs.Args()[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return backend.Errorf(backend.EINVALID, "%q is not KEY=VALUE.", kv)
			}
			var val any = v
			if n, err := strconv.Atoi(v); err == nil {
				val = n
			} else if b, err := strconv.ParseBool(v); err == nil {
				val = b
			}
			body[k] = val
		}
		var out backend.Settings
		if err := cl.Do(ctx, http.MethodPut, "/api/v1/settings", body, &out); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, "Settings saved.")
		return nil
	}
	var s map[string]any
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/settings", nil, &s); err != nil {
		return err
	}
	if *jsonOut {
		return env.printJSON(s)
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	fmt.Fprintln(env.Stdout, string(b))
	return nil
}
