package cli

import (
	"context"
	"flag"
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

// connectorSubs may be extended by other files (login, logout).
var connectorSubs = map[string]func(context.Context, *Env, []string) error{
	"add":    connectorAdd,
	"list":   connectorList,
	"show":   connectorShow,
	"edit":   connectorEdit,
	"remove": connectorRemove,
	"test":   connectorTest,
}

var connectorOrder = []string{"add", "list", "show", "edit", "remove", "test"}

func runConnector(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "connector", args, connectorSubs, connectorOrder)
}

// connectorFlags are the flags of add and edit, one per connector field.
type connectorFlags struct {
	fs                                      *flag.FlagSet
	name, slug, description, icon, url      string
	transport, auth, defaultPolicy          string
	apiKeyHeader, apiKeyQuery, apiKeyPrefix string
	apiKey                                  string
	bearer, noIcon                          bool
	headers, secretHeaders, removeHeaders   multi
	oauthClientID, oauthClientSecret        string
	oauthScopes, oauthIssuer                string
	oauthAuthURL, oauthTokenURL             string
	oauthRevocationURL, oauthTokenAuth      string
	oauthNoPKCE                             bool
	oauthPorts                              multi
	callTimeout                             int
	jsonOut                                 bool
}

func newConnectorFlags(env *Env, name, usage string, edit bool) *connectorFlags {
	f := &connectorFlags{fs: env.newFlags(name, usage)}
	fs := f.fs
	fs.StringVar(&f.name, "name", "", "connector name (1-64 characters, unique)")
	fs.StringVar(&f.slug, "slug", "", "short name used as the tool prefix ([a-z0-9-]; derived from the name by default)")
	fs.StringVar(&f.description, "description", "", "description")
	fs.StringVar(&f.icon, "icon", "", "icon image file (PNG, JPEG, GIF, WebP or SVG, at most 64 KiB)")
	fs.StringVar(&f.url, "url", "", "server URL (https://…, or http:// for this machine)")
	fs.StringVar(&f.transport, "transport", "", "auto, streamable-http or sse (default auto)")
	fs.StringVar(&f.auth, "auth", "", "none, api-key or oauth (inferred from the other flags)")
	fs.StringVar(&f.apiKeyHeader, "api-key-header", "", "send the API key in this header (e.g. X-API-Key or Authorization)")
	fs.StringVar(&f.apiKeyQuery, "api-key-query", "", "send the API key in this query parameter (e.g. api_key)")
	fs.StringVar(&f.apiKeyPrefix, "api-key-prefix", "", "text before the key in the header (e.g. \"Bearer \")")
	fs.BoolVar(&f.bearer, "bearer", false, "send the API key as Authorization: Bearer <key>")
	fs.StringVar(&f.apiKey, "api-key", "", "the API key: - to be asked (or read stdin), or '${ENV_VAR}'")
	fs.Var(&f.headers, "header", "custom header \"Name: value\" (repeatable)")
	fs.Var(&f.secretHeaders, "secret-header", "secret header \"Name\" (value asked or read from stdin) or \"Name: ${ENV_VAR}\" (repeatable)")
	fs.StringVar(&f.oauthClientID, "oauth-client-id", "", "OAuth client ID (empty: dynamic registration)")
	fs.StringVar(&f.oauthClientSecret, "oauth-client-secret", "", "OAuth client secret: - to be asked (or read stdin), or '${ENV_VAR}'")
	fs.StringVar(&f.oauthScopes, "oauth-scopes", "", "OAuth scopes, space-separated")
	fs.StringVar(&f.oauthIssuer, "oauth-issuer", "", "authorization server issuer URL (for discovery)")
	fs.StringVar(&f.oauthAuthURL, "oauth-auth-url", "", "authorization endpoint (set with --oauth-token-url; empty: discovered)")
	fs.StringVar(&f.oauthTokenURL, "oauth-token-url", "", "token endpoint")
	fs.StringVar(&f.oauthRevocationURL, "oauth-revocation-url", "", "revocation endpoint (optional)")
	fs.StringVar(&f.oauthTokenAuth, "oauth-token-auth-method", "", "client_secret_post, client_secret_basic or none")
	fs.BoolVar(&f.oauthNoPKCE, "oauth-no-pkce", false, "turn PKCE off (only for providers that reject it)")
	fs.Var(&f.oauthPorts, "oauth-redirect-port", "loopback port for the OAuth redirect (repeatable or comma-separated)")
	fs.StringVar(&f.defaultPolicy, "default-policy", "", "policy for new tools: always_allow, needs_approval or disabled")
	fs.IntVar(&f.callTimeout, "call-timeout", 0, "per-call timeout in seconds (0: default 60)")
	fs.BoolVar(&f.jsonOut, "json", false, "print the result as JSON")
	if edit {
		fs.Var(&f.removeHeaders, "remove-header", "remove a custom header by name (repeatable)")
		fs.BoolVar(&f.noIcon, "no-icon", false, "remove the icon")
	}
	return f
}

// apply sets the fields named by the flags that were given on c. Secrets
// are read (prompted or from stdin) in a fixed order: API key, secret
// headers in flag order, OAuth client secret.
func (f *connectorFlags) apply(env *Env, c *backend.Connector) error {
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	str := func(name string, dst *string, v string) {
		if set[name] {
			*dst = v
		}
	}
	str("name", &c.Name, f.name)
	str("slug", &c.Slug, f.slug)
	str("description", &c.Description, f.description)
	str("url", &c.URL, f.url)
	str("transport", &c.Transport, f.transport)
	str("default-policy", &c.DefaultPolicy, f.defaultPolicy)
	if set["call-timeout"] {
		c.CallTimeoutSeconds = f.callTimeout
	}
	if set["icon"] {
		icon, err := iconDataURL(f.icon)
		if err != nil {
			return err
		}
		c.Icon = icon
	}
	if f.noIcon {
		c.Icon = ""
	}

	// Authentication: explicit --auth, else inferred from the flags given.
	authType := f.auth
	if authType == "" {
		switch {
		case set["api-key-header"] || set["api-key-query"] || set["bearer"] || set["api-key"]:
			authType = backend.AuthAPIKey
		case anyPrefix(set, "oauth-"):
			authType = backend.AuthOAuth
		}
	}
	if authType != "" && authType != c.Auth.Type {
		c.Auth = backend.Auth{Type: authType}
	}
	switch c.Auth.Type {
	case backend.AuthAPIKey:
		if c.Auth.APIKey == nil {
			c.Auth.APIKey = &backend.APIKeyAuth{In: backend.APIKeyInHeader}
		}
		a := c.Auth.APIKey
		if f.bearer {
			a.In, a.Name, a.Prefix = backend.APIKeyInHeader, "Authorization", "Bearer "
		}
		if set["api-key-header"] {
			a.In, a.Name = backend.APIKeyInHeader, f.apiKeyHeader
		}
		if set["api-key-query"] {
			a.In, a.Name, a.Prefix = backend.APIKeyInQuery, f.apiKeyQuery, ""
		}
		if set["api-key-prefix"] {
			a.Prefix = f.apiKeyPrefix
		}
		if set["api-key"] || a.Value.IsZero() {
			v := f.apiKey
			if !set["api-key"] {
				v = "-"
			}
			s, err := env.readSecretArg("--api-key", v, "API key")
			if err != nil {
				return err
			}
			a.Value = s
		}
	case backend.AuthOAuth:
		if c.Auth.OAuth == nil {
			c.Auth.OAuth = &backend.OAuthAuth{}
		}
		o := c.Auth.OAuth
		str("oauth-client-id", &o.ClientID, f.oauthClientID)
		str("oauth-issuer", &o.Issuer, f.oauthIssuer)
		str("oauth-auth-url", &o.AuthorizationURL, f.oauthAuthURL)
		str("oauth-token-url", &o.TokenURL, f.oauthTokenURL)
		str("oauth-revocation-url", &o.RevocationURL, f.oauthRevocationURL)
		str("oauth-token-auth-method", &o.TokenAuthMethod, f.oauthTokenAuth)
		if set["oauth-scopes"] {
			o.Scopes = strings.Fields(f.oauthScopes)
		}
		if set["oauth-no-pkce"] {
			o.DisablePKCE = f.oauthNoPKCE
		}
		if set["oauth-redirect-port"] {
			o.RedirectPorts = nil
			for _, v := range f.oauthPorts {
				for _, p := range strings.Split(v, ",") {
					n, err := strconv.Atoi(strings.TrimSpace(p))
					if err != nil {
						return backend.Errorf(backend.EINVALID, "--oauth-redirect-port: %q is not a port number.", p)
					}
					o.RedirectPorts = append(o.RedirectPorts, n)
				}
			}
		}
	}

	for _, name := range f.removeHeaders {
		kept := c.Headers[:0]
		found := false
		for _, h := range c.Headers {
			if strings.EqualFold(h.Name, strings.TrimSpace(name)) {
				found = true
				continue
			}
			kept = append(kept, h)
		}
		if !found {
			return backend.Errorf(backend.EINVALID, "--remove-header: the connector has no header %q.", name)
		}
		c.Headers = kept
	}
	for _, h := range f.headers {
		name, value, err := parseHeader(h)
		if err != nil {
			return err
		}
		setHeader(c, backend.Header{Name: name, Value: value})
	}
	for _, h := range f.secretHeaders {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || strings.TrimSpace(value) == "" {
			value = "-"
		}
		s, err := env.readSecretArg("--secret-header", value, "Value of header "+name)
		if err != nil {
			return err
		}
		setHeader(c, backend.Header{Name: name, Secret: s})
	}
	if c.Auth.Type == backend.AuthOAuth && set["oauth-client-secret"] {
		s, err := env.readSecretArg("--oauth-client-secret", f.oauthClientSecret, "OAuth client secret")
		if err != nil {
			return err
		}
		c.Auth.OAuth.ClientSecret = s
	}
	return nil
}

func anyPrefix(set map[string]bool, prefix string) bool {
	for k := range set {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// setHeader replaces the header with the same name (ignoring case) or adds it.
func setHeader(c *backend.Connector, h backend.Header) {
	for i := range c.Headers {
		if strings.EqualFold(c.Headers[i].Name, h.Name) {
			c.Headers[i] = h
			return
		}
	}
	c.Headers = append(c.Headers, h)
}

func connectorAdd(ctx context.Context, env *Env, args []string) error {
	f := newConnectorFlags(env, "connector add", "connector add --name NAME --url URL [flags]", false)
	if err := parse(f.fs, args, 0, 0); err != nil {
		return err
	}
	c := &backend.Connector{}
	if err := f.apply(env, c); err != nil {
		return err
	}
	var out api.ConnectorView
	if done, err := env.call(ctx, http.MethodPost, "/api/v1/connectors", c, &out, f.jsonOut); done {
		return err
	}
	fmt.Fprintf(env.Stdout, "Added connector %q (slug %s, id %s).\n", out.Name, out.Slug, out.ID)
	fmt.Fprintf(env.Stdout, "Check it with: patchbay connector test %s\n", out.Slug)
	return nil
}

func connectorEdit(ctx context.Context, env *Env, args []string) error {
	f := newConnectorFlags(env, "connector edit", "connector edit CONNECTOR [flags]  (only the flags given change)", true)
	if err := parse(f.fs, args, 1, 1); err != nil {
		return err
	}
	cl, done, err := env.client(ctx)
	if err != nil {
		return err
	}
	defer done()
	ref := url.PathEscape(f.fs.Arg(0))
	var cur api.ConnectorView
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/connectors/"+ref, nil, &cur); err != nil {
		return err
	}
	c := cur.Connector
	if err := f.apply(env, c); err != nil {
		return err
	}
	var out api.ConnectorView
	if err := cl.Do(ctx, http.MethodPut, "/api/v1/connectors/"+url.PathEscape(c.ID), c, &out); err != nil {
		return err
	}
	if f.jsonOut {
		return env.printJSON(out)
	}
	fmt.Fprintf(env.Stdout, "Updated connector %q.\n", out.Name)
	return nil
}

func connectorList(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("connector list", "connector list [--json]")
	jsonOut := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	var list []*api.ConnectorView
	if done, err := env.call(ctx, http.MethodGet, "/api/v1/connectors", nil, &list, *jsonOut); done {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(env.Stdout, "No connectors yet. Add one with: patchbay connector add --name NAME --url URL")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSLUG\tSTATUS\tTOOLS\tAUTH\tURL")
	for _, c := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", c.Name, c.Slug, statusText(c.Status), c.Tools.Total, c.Auth.Type, c.URL)
	}
	return tw.Flush()
}

func statusText(s backend.ConnectorStatus) string {
	if s.LastError != "" && s.State != backend.StateConnected {
		msg := s.LastError
		if len(msg) > 60 {
			msg = msg[:57] + "…"
		}
		return s.State + ": " + msg
	}
	return s.State
}

func connectorShow(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("connector show", "connector show CONNECTOR [--json]")
	jsonOut := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	var c api.ConnectorView
	if done, err := env.call(ctx, http.MethodGet, "/api/v1/connectors/"+url.PathEscape(fs.Arg(0)), nil, &c, *jsonOut); done {
		return err
	}
	w := env.Stdout
	fmt.Fprintf(w, "Name:           %s\nSlug:           %s\nID:             %s\n", c.Name, c.Slug, c.ID)
	if c.Description != "" {
		fmt.Fprintf(w, "Description:    %s\n", c.Description)
	}
	fmt.Fprintf(w, "URL:            %s\nTransport:      %s", c.URL, c.Transport)
	if c.DetectedTransport != "" && c.Transport == backend.TransportAuto {
		fmt.Fprintf(w, " (detected: %s)", c.DetectedTransport)
	}
	fmt.Fprintf(w, "\nStatus:         %s\n", statusText(c.Status))
	if c.Status.LastErrorFix != "" && c.Status.State != backend.StateConnected {
		fmt.Fprintf(w, "Fix:            %s\n", c.Status.LastErrorFix)
	}
	fmt.Fprintf(w, "Auth:           %s\n", c.Auth.Type)
	if a := c.Auth.APIKey; a != nil {
		fmt.Fprintf(w, "  API key in:   %s %q", a.In, a.Name)
		if a.Prefix != "" {
			fmt.Fprintf(w, " (prefix %q)", a.Prefix)
		}
		fmt.Fprintf(w, "\n  API key:      %s\n", secretText(a.Value))
	}
	if o := c.Auth.OAuth; o != nil {
		fmt.Fprintf(w, "  Client ID:    %s\n", orText(o.ClientID, "(dynamic registration)"))
		if o.ClientSecret.IsSet() {
			fmt.Fprintf(w, "  Client secret: %s\n", secretText(o.ClientSecret))
		}
		if len(o.Scopes) > 0 {
			fmt.Fprintf(w, "  Scopes:       %s\n", strings.Join(o.Scopes, " "))
		}
		fmt.Fprintf(w, "  Endpoints:    %s\n", orText(strings.TrimSpace(o.AuthorizationURL+" "+o.TokenURL), "(discovered)"))
	}
	for _, h := range c.Headers {
		v := h.Value
		if h.Secret.IsSet() {
			v = secretText(h.Secret)
		}
		fmt.Fprintf(w, "Header:         %s: %s\n", h.Name, v)
	}
	fmt.Fprintf(w, "Default policy: %s\n", orText(c.DefaultPolicy, "read-only tools allowed, others need approval"))
	fmt.Fprintf(w, "Call timeout:   %s\n", c.CallTimeout())
	fmt.Fprintf(w, "Tools:          %d (%d always allowed, %d need approval, %d disabled, %d changed awaiting review)\n",
		c.Tools.Total, c.Tools.AlwaysAllow, c.Tools.NeedsApproval, c.Tools.Disabled, c.Tools.Held)
	return nil
}

// secretText describes where a secret lives, never its value.
func secretText(s *backend.Secret) string {
	switch {
	case s == nil:
		return "(none)"
	case s.Source == backend.SecretEnv:
		return "from the environment variable " + s.Env
	default:
		return "stored in the keychain"
	}
}

func orText(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

func connectorRemove(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("connector remove", "connector remove CONNECTOR [--yes]")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	if !*yes && !env.confirm(fmt.Sprintf("Remove the connector %q, its tools and its secrets?", fs.Arg(0))) {
		if !env.StdinIsTerminal {
			return backend.Errorf(backend.EINVALID, "Not removed: confirmation needed.").WithFix("Add --yes to remove without asking.")
		}
		fmt.Fprintln(env.Stderr, "Not removed.")
		return nil
	}
	if err := env.do(ctx, http.MethodDelete, "/api/v1/connectors/"+url.PathEscape(fs.Arg(0)), nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Removed %q and deleted its secrets from the keychain.\n", fs.Arg(0))
	return nil
}

func connectorTest(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("connector test", "connector test CONNECTOR [--json]")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	cl, done, err := env.client(ctx)
	if err != nil {
		return err
	}
	defer done()
	res, err := cl.Test(ctx, fs.Arg(0), nil, func(st backend.TestStep) {
		if *jsonOut || st.Status == backend.StepRunning {
			return
		}
		printStep(env, st)
	})
	if err != nil {
		return err
	}
	if *jsonOut {
		return env.printJSON(res)
	}
	if !res.OK {
		return backend.Errorf(backend.EUNAVAILABLE, "The connection test failed.").WithSlug("test_failed")
	}
	fmt.Fprintln(env.Stdout, "All steps passed.")
	return nil
}

func printStep(env *Env, st backend.TestStep) {
	mark := map[string]string{backend.StepOK: "✓", backend.StepFailed: "✗", backend.StepSkipped: "–"}[st.Status]
	dur := ""
	if st.Status != backend.StepSkipped {
		dur = fmt.Sprintf(" (%s)", time.Duration(st.DurationMS*float64(time.Millisecond)).Round(time.Millisecond))
	}
	fmt.Fprintf(env.Stdout, "%s %s%s", mark, st.Title, dur)
	if st.Detail != "" {
		fmt.Fprintf(env.Stdout, ": %s", st.Detail)
	}
	fmt.Fprintln(env.Stdout)
	if st.Error != "" {
		fmt.Fprintf(env.Stdout, "    %s\n", st.Error)
	}
	if st.Fix != "" {
		fmt.Fprintf(env.Stdout, "    Fix: %s\n", st.Fix)
	}
}
