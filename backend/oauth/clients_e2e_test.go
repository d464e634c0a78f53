package oauth_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitExpired waits until c's access token has expired.
func (p *patchbay) waitExpired(c *backend.Connector) {
	p.t.Helper()
	s, _ := p.tokens(c)["expiry"].(string)
	exp, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.t.Fatalf("token expiry %q: %v", s, err)
	}
	time.Sleep(time.Until(exp) + 100*time.Millisecond)
}

// Servers without dynamic registration: a pre-registered public client
// found by discovery, and confidential clients authenticating with the
// secret in the POST body (with endpoints filled in by Discover, as the
// form's Discover button does) and with HTTP Basic. Each method is used for
// the code exchange and for the refresh, and the exact redirect ports the
// clients were registered with are honoured.
func TestPreregisteredClients(t *testing.T) {
	ev := testpeer.Everything(t, "streamableHttp")
	ports := []int{freePort(t), freePort(t), freePort(t)}
	const postSecret, basicSecret = "post-secret-0c5b1e", "basic-secret-9d27fa"
	as := testpeer.StartOAuth(t, testpeer.OAuthOptions{
		Upstream: ev.URL, AccessTokenTTL: 4 * time.Second, NoRegistration: true,
		Clients: []testpeer.OAuthClient{
			{ID: "conf-post", Secret: postSecret, AuthMethod: backend.TokenAuthPost, RedirectURIs: []string{fmt.Sprintf("http://127.0.0.1:%d/callback", ports[0])}},
			{ID: "conf-basic", Secret: basicSecret, AuthMethod: backend.TokenAuthBasic, RedirectURIs: []string{fmt.Sprintf("http://127.0.0.1:%d/callback", ports[1])}},
			{ID: "public", AuthMethod: backend.TokenAuthNone, RedirectURIs: []string{fmt.Sprintf("http://127.0.0.1:%d/callback", ports[2])}},
		},
	})
	open, visits := testpeer.HeadlessBrowser()
	logs := &logBuffer{}
	p := openPatchbay(t, t.TempDir(), keychain(t), logs, options{opener: open})

	ep, err := p.om.Discover(context.Background(), as.Issuer)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if ep.AuthorizationURL != as.Issuer+"/auth" || ep.TokenURL != as.Issuer+"/token" || ep.RevocationURL == "" || !ep.PKCE {
		t.Fatalf("Discover = %+v", ep)
	}

	cases := []struct {
		name        string
		o           *backend.OAuthAuth
		basic, body bool // whether token requests carry the secret each way
	}{
		{"post body", &backend.OAuthAuth{ClientID: "conf-post", ClientSecret: &backend.Secret{Value: postSecret},
			TokenAuthMethod: backend.TokenAuthPost, RedirectPorts: []int{ports[0]}, Issuer: ep.Issuer, Scopes: []string{"mcp:tools"},
			AuthorizationURL: ep.AuthorizationURL, TokenURL: ep.TokenURL, RevocationURL: ep.RevocationURL}, false, true},
		{"basic", &backend.OAuthAuth{ClientID: "conf-basic", ClientSecret: &backend.Secret{Value: basicSecret},
			TokenAuthMethod: backend.TokenAuthBasic, RedirectPorts: []int{ports[1]}}, true, false},
		{"public", &backend.OAuthAuth{ClientID: "public", RedirectPorts: []int{ports[2]}}, false, false},
	}
	var all []string
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := p.with(t)
			before := as.Stats()
			c := p.add("Pre "+tc.name, as.URL, tc.o)
			p.mustLogin(c)
			if v := <-visits; v.Status != 200 {
				t.Fatalf("browser landed on %d %q", v.Status, v.Body)
			}
			p.echo(c, "first")
			p.waitExpired(c)
			p.echo(c, "after expiry")
			after := as.Stats()
			// The code exchange and every refresh (at least one) carry the
			// secret the client's way, and only that way.
			n := after.Refreshes() - before.Refreshes()
			if n < 1 {
				t.Errorf("no refresh")
			}
			want := map[bool]int{true: 1 + n, false: 0}
			if got := after.BasicAuth - before.BasicAuth; got != want[tc.basic] {
				t.Errorf("%d token requests with HTTP Basic, want %d", got, want[tc.basic])
			}
			if got := after.BodySecret - before.BodySecret; got != want[tc.body] {
				t.Errorf("%d token requests with the secret in the body, want %d", got, want[tc.body])
			}
			if after.Registrations != 0 || after.RefreshWithoutResource != 0 {
				t.Errorf("server saw %+v", after)
			}
			all = append(all, p.secretsOf(c)...)
		})
	}
	all = append(all, postSecret, basicSecret)
	assertNoSecrets(t, p.dir, all, map[string]string{"log": logs.String()})
}
