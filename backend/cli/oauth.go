package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/api"
	"github.com/patchbay/patchbay/backend/oauth"
)

func init() {
	connectorSubs["login"] = connectorLogin
	connectorSubs["logout"] = connectorLogout
	connectorSubs["discover"] = connectorDiscover
	connectorOrder = append(connectorOrder, "login", "logout", "discover")
}

// connectorLogin signs a connector in: the running instance (or the
// in-process backend) opens the browser and waits for the provider to send
// it back; this command follows the progress events until the end.
func connectorLogin(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("connector login", "connector login CONNECTOR [--timeout 6m]")
	timeout := fs.Duration("timeout", 6*time.Minute, "how long to wait for the sign-in to finish")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	cl, done, err := env.client(ctx)
	if err != nil {
		return err
	}
	defer done()
	ref := url.PathEscape(fs.Arg(0))
	var c api.ConnectorView
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/connectors/"+ref, nil, &c); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	evDone := make(chan struct{})
	defer func() {
		cancel()
		<-evDone
	}()

	// Follow the events before starting, so that a quick sign-in's end is
	// not missed; the status is polled as well in case the stream drops.
	progress := make(chan oauth.ProgressEvent, 16)
	go func() {
		defer close(evDone)
		_ = cl.Events(ctx, func(e backend.Event) {
			var p oauth.ProgressEvent
			if e.Type != backend.EventOAuthProgress || backend.DecodeEvent(e, &p) != nil || p.ConnectorID != c.ID {
				return
			}
			select {
			case progress <- p:
			default:
			}
		})
	}()
	started := time.Now().Add(-time.Second)
	var st api.LoginStarted
	if err := cl.Do(ctx, http.MethodPost, "/api/v1/connectors/"+url.PathEscape(c.ID)+"/login", nil, &st); err != nil {
		return err
	}
	w := env.Stdout
	if st.Joined {
		fmt.Fprintf(w, "A sign-in to %q is already under way; waiting for it to finish.\n", c.Name)
	} else {
		fmt.Fprintf(w, "Opening your browser to sign in to %q.\n", c.Name)
	}
	fmt.Fprintf(w, "If it does not open, visit:\n  %s\n", st.AuthorizationURL)
	fmt.Fprintf(w, "Redirect URI: %s\n", st.RedirectURI)

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case p := <-progress:
			switch p.Step {
			case oauth.StepDone:
				fmt.Fprintf(w, "Signed in to %q.\n", c.Name)
				return nil
			case oauth.StepFailed:
				return &backend.Error{Code: p.Code, Slug: p.Slug, Message: p.Message, SuggestedFix: p.Fix}
			case oauth.StepWaiting:
				if strings.HasPrefix(p.Message, "Could not open a browser") {
					fmt.Fprintln(env.Stderr, p.Message)
				}
			}
		case <-tick.C:
			var s oauth.Status
			if err := cl.Do(ctx, http.MethodGet, "/api/v1/connectors/"+url.PathEscape(c.ID)+"/oauth", nil, &s); err != nil {
				continue
			}
			if f := s.Flow; f != nil && f.EndedAt.After(started) {
				if f.State == oauth.StepDone {
					fmt.Fprintf(w, "Signed in to %q.\n", c.Name)
					return nil
				}
				return &backend.Error{Code: f.Code, Slug: f.Slug, Message: f.Message, SuggestedFix: f.Fix}
			}
		case <-ctx.Done():
			return backend.Errorf(backend.ETIMEOUT, "Stopped waiting for the sign-in to %q after %s.", c.Name, *timeout).
				WithSlug("oauth_timeout").WithFix("Run the command again and finish signing in in the browser.")
		}
	}
}

func connectorLogout(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("connector logout", "connector logout CONNECTOR [--json]")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	var res oauth.LogoutResult
	if done, err := env.call(ctx, http.MethodPost, "/api/v1/connectors/"+url.PathEscape(fs.Arg(0))+"/logout", nil, &res, *jsonOut); done {
		return err
	}
	name := fs.Arg(0)
	switch {
	case !res.WasSignedIn:
		fmt.Fprintf(env.Stdout, "%s was not signed in.\n", name)
	case res.Revoked:
		fmt.Fprintf(env.Stdout, "Signed out of %s: the provider revoked the tokens and they were deleted from the keychain.\n", name)
	case res.RevokeError != "":
		fmt.Fprintf(env.Stdout, "Signed out of %s: the tokens were deleted from the keychain, but %s.\n", name, res.RevokeError)
	default:
		fmt.Fprintf(env.Stdout, "Signed out of %s: the tokens were deleted from the keychain (the provider offers no revocation).\n", name)
	}
	return nil
}

func connectorDiscover(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlags("connector discover", "connector discover ISSUER_URL [--json]  (the endpoints to enter with --oauth-auth-url and friends)")
	jsonOut := fs.Bool("json", false, "print the endpoints as JSON")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	var ep oauth.Endpoints
	if done, err := env.call(ctx, http.MethodPost, "/api/v1/oauth/discover", map[string]string{"issuer": fs.Arg(0)}, &ep, *jsonOut); done {
		return err
	}
	w := env.Stdout
	fmt.Fprintf(w, "Issuer:                 %s\n", ep.Issuer)
	fmt.Fprintf(w, "Authorization endpoint: %s\n", ep.AuthorizationURL)
	fmt.Fprintf(w, "Token endpoint:         %s\n", ep.TokenURL)
	fmt.Fprintf(w, "Revocation endpoint:    %s\n", orText(ep.RevocationURL, "(none)"))
	fmt.Fprintf(w, "Registration endpoint:  %s\n", orText(ep.RegistrationURL, "(none: enter a client ID)"))
	fmt.Fprintf(w, "Token auth methods:     %s\n", orText(strings.Join(ep.TokenAuthMethods, " "), "(not stated)"))
	fmt.Fprintf(w, "PKCE (S256):            %s\n", map[bool]string{true: "supported", false: "not advertised"}[ep.PKCE])
	if len(ep.ScopesSupported) > 0 {
		fmt.Fprintf(w, "Scopes:                 %s\n", strings.Join(ep.ScopesSupported, " "))
	}
	return nil
}
