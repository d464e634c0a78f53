package oauth_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
)

// From a bare URL: before signing in, calls fail with a sign-in message;
// the sign-in discovers the resource and authorization server, registers
// dynamically, authorizes with PKCE and the resource indicator, and then
// tools are listed and called — over Streamable HTTP and over SSE (whose
// go-sdk transport has no OAuth hook). A second sign-in reuses the
// registration.
func TestSignInFromBareURL(t *testing.T) {
	for _, mode := range []string{"streamableHttp", "sse"} {
		t.Run(mode, func(t *testing.T) {
			ev := testpeer.Everything(t, mode)
			path := map[string]string{"streamableHttp": "/mcp", "sse": "/sse"}[mode]
			as := testpeer.StartOAuth(t, testpeer.OAuthOptions{Upstream: ev.URL, ResourcePath: path})
			open, visits := testpeer.HeadlessBrowser()
			logs := &logBuffer{}
			p := openPatchbay(t, t.TempDir(), keychain(t), logs, options{opener: open})
			c := p.add("Notes "+mode, as.URL, nil)

			_, err := p.call(c, "echo", map[string]any{"message": "x"})
			var be *backend.Error
			if !errors.As(err, &be) || be.Code != backend.EUNAUTHORIZED || !strings.Contains(be.SuggestedFix, "patchbay connector login "+c.Slug) {
				t.Fatalf("call before sign-in: %#v", err)
			}
			p.waitState(c, backend.StateNeedsSignIn)

			p.mustLogin(c)
			if v := <-visits; v.Status != 200 || !strings.Contains(v.Body, "Signed in to") {
				t.Errorf("browser landed on %d %q", v.Status, v.Body)
			}
			ch, err := p.up.RefreshTools(context.Background(), c.ID)
			if err != nil {
				t.Fatalf("RefreshTools: %v", err)
			}
			if !slices.Contains(ch.Added, "echo") || !slices.Contains(ch.Added, "get-sum") {
				t.Errorf("tools: %v", ch.Added)
			}
			p.echo(c, "hello through OAuth")
			if got, err := p.call(c, "get-sum", map[string]any{"a": 40, "b": 2}); err != nil || !strings.Contains(got, "42") {
				t.Errorf("get-sum = %q, %v", got, err)
			}

			st := as.Stats()
			if st.Registrations != 1 || st.AuthorizationsWithoutResource != 0 || st.AuthorizationsWithoutPKCE != 0 || st.Grants["authorization_code"] != 1 {
				t.Errorf("server saw %+v", st)
			}
			tok := p.tokens(c)
			if tok["refresh_token"] == "" || tok["refresh_token"] == nil {
				t.Errorf("no refresh token was requested or kept")
			}

			// A second sign-in reuses the registration.
			p.mustLogin(c)
			<-visits
			if st := as.Stats(); st.Registrations != 1 || st.Grants["authorization_code"] != 2 {
				t.Errorf("after a second sign-in: %+v", st)
			}
			p.echo(c, "again")
			assertNoSecrets(t, p.dir, p.secretsOf(c), map[string]string{"log": logs.String()})
		})
	}
}
