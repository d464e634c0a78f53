package oauth

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/patchbay/patchbay/backend"
)

// loginHint names the connector the way the CLI accepts it.
func loginHint(c *backend.Connector) string {
	if c.Slug != "" {
		return c.Slug
	}
	return fmt.Sprintf("%q", c.Name)
}

// signInFix tells the person how to sign in again.
func signInFix(c *backend.Connector) string {
	return fmt.Sprintf("Sign in again: press Sign in on the connector's page, or run `patchbay connector login %s`.", loginHint(c))
}

func errNotSignedIn(c *backend.Connector) *backend.Error {
	return backend.Errorf(backend.EUNAUTHORIZED, "Patchbay is not signed in to %q.", c.Name).
		WithSlug("oauth_sign_in_required").
		WithFix(fmt.Sprintf("Sign in: press Sign in on the connector's page, or run `patchbay connector login %s`.", loginHint(c)))
}

func errSignInExpired(c *backend.Connector, why string) *backend.Error {
	return backend.Errorf(backend.EUNAUTHORIZED, "The sign-in to %q has expired or was revoked (%s).", c.Name, why).
		WithSlug("oauth_sign_in_expired").WithFix(signInFix(c))
}

func errStepUp(c *backend.Connector, scopes []string, opened bool) *backend.Error {
	fix := signInFix(c)
	if opened {
		fix = "Patchbay opened your browser to grant them: approve there, then try again. " + fix
	}
	what := ""
	if len(scopes) > 0 {
		what = " (scope " + strings.Join(scopes, " ") + ")"
	}
	return backend.Errorf(backend.EUNAUTHORIZED, "%q needs more permissions for this request%s.", c.Name, what).
		WithSlug("oauth_insufficient_scope").WithFix(fix)
}

func errNotOAuth(c *backend.Connector) *backend.Error {
	return backend.Errorf(backend.EINVALID, "%q does not use OAuth (its authentication is %s).", c.Name, c.Auth.Type).
		WithSlug("oauth_not_configured").
		WithFix("Set the connector's authentication to OAuth first.")
}

func errUnsaved() *backend.Error {
	return backend.Errorf(backend.EINVALID, "Sign-in needs a saved connector.").
		WithSlug("oauth_unsaved").WithFix("Save the connector, then sign in.")
}

func errDiscovery(c *backend.Connector, cause string) *backend.Error {
	return backend.Errorf(backend.EUNAVAILABLE, "Cannot find how to sign in to %q: %s.", c.Name, strings.TrimSuffix(cause, ".")).
		WithSlug("oauth_discovery_failed").
		WithFix("Check the connector's URL. If its provider cannot be discovered, enter the provider's issuer URL and use Discover, or set the authorization and token endpoints and a client ID by hand.")
}

func errNoRegistration(c *backend.Connector, redirectURI string) *backend.Error {
	return backend.Errorf(backend.EUNAVAILABLE, "The provider of %q does not let Patchbay register itself (it has no dynamic client registration).", c.Name).
		WithSlug("oauth_registration_unsupported").
		WithFix(fmt.Sprintf("Register an application with the provider, using the redirect URI %s, and enter its client ID (and secret, if it has one) in the connector's OAuth settings.", redirectURI))
}

func errPortBusy(ports []int) *backend.Error {
	what := "port " + joinInts(ports) + " is"
	if len(ports) > 1 {
		what = "ports " + joinInts(ports) + " are"
	}
	return backend.Errorf(backend.ECONFLICT, "Cannot receive the sign-in: redirect %s in use by another program.", what).
		WithSlug("oauth_port_busy").
		WithFix("Close the program using it and try again, or add another redirect port in the connector's OAuth settings (and register http://127.0.0.1:PORT/callback for it with the provider).")
}

func errTimeout(c *backend.Connector, d time.Duration, redirectURI string) *backend.Error {
	return backend.Errorf(backend.ETIMEOUT, "Sign-in to %q timed out after %s: the browser did not come back to Patchbay.", c.Name, d.Round(time.Second)).
		WithSlug("oauth_timeout").
		WithFix(fmt.Sprintf("Try again and finish signing in within the time. If the provider complained about the redirect URI, register %s with it.", redirectURI))
}

func errCancelled(c *backend.Connector) *backend.Error {
	return backend.Errorf(backend.EUNAVAILABLE, "The sign-in to %q was cancelled (Patchbay is stopping, or the connector was changed or signed out).", c.Name).
		WithSlug("oauth_cancelled").WithFix("Start the sign-in again.")
}

func errRejected(slug, format string, args ...any) *backend.Error {
	return backend.Errorf(backend.EFORBIDDEN, format, args...).WithSlug(slug).
		WithFix("Start the sign-in again from Patchbay. If this keeps happening, another program may be answering on the redirect address.")
}

// cleanText makes text from a server (an error_description) safe to show:
// printable, one line, bounded.
func cleanText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// describeOAuthError renders an OAuth error code and description.
func describeOAuthError(code, desc string) string {
	code, desc = cleanText(code), cleanText(desc)
	switch {
	case code == "" && desc == "":
		return "no reason given"
	case desc == "":
		return code
	case code == "":
		return desc
	}
	return code + ": " + desc
}
