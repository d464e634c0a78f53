package oauth_test

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/api"
	"github.com/patchbay/patchbay/backend/cli"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
	"github.com/patchbay/patchbay/backend/oauth"
)

// The CLI and the admin API: `patchbay connector login` starts the sign-in
// through the API, prints the redirect URI and the URL, follows the
// progress events to the end; the sign-in state, the redirect preview,
// discover and logout answer as documented; a refused sign-in is an error
// with a fix. No token or client secret appears in the CLI's output, the
// logs or the data directory.
func TestCLIAndAPI(t *testing.T) {
	ev := testpeer.Everything(t, "streamableHttp")
	as := testpeer.StartOAuth(t, testpeer.OAuthOptions{Upstream: ev.URL})
	open, _ := testpeer.HeadlessBrowser()
	logs := &logBuffer{}
	p := openPatchbay(t, t.TempDir(), keychain(t), logs, options{opener: open})
	c := p.add("Command line", as.URL, nil)
	client := api.NewInProcessClient(p.api.InProcessHandler())
	var stdout, stderr bytes.Buffer
	env := &cli.Env{
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Version: "test",
		Connect: func(context.Context) (*api.Client, func(), error) { return client, func() {}, nil },
	}
	run := func(args ...string) int {
		stdout.Reset()
		stderr.Reset()
		return cli.Run(context.Background(), env, args)
	}
	var allOut strings.Builder
	record := func() { allOut.WriteString(stdout.String() + stderr.String()) }

	sub := p.hub.Subscribe(64)
	defer sub.Close()
	if code := run("connector", "login", c.Slug); code != 0 {
		t.Fatalf("login exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	record()
	out := stdout.String()
	for _, want := range []string{"Opening your browser", "If it does not open, visit:\n  " + as.Issuer + "/auth?", "Redirect URI: http://127.0.0.1:", "Signed in to \"Command line\"."} {
		if !strings.Contains(out, want) {
			t.Errorf("login output lacks %q:\n%s", want, out)
		}
	}
	for _, step := range []string{oauth.StepWaiting, oauth.StepExchanging, oauth.StepDone} {
		waitProgress(t, sub, c.ID, step)
	}
	p.echo(c, "signed in by the CLI")
	secrets := p.secretsOf(c)

	var st oauth.Status
	if err := client.Do(context.Background(), http.MethodGet, "/api/v1/connectors/"+c.Slug+"/oauth", nil, &st); err != nil {
		t.Fatal(err)
	}
	if !st.SignedIn || !st.HasRefreshToken || st.ExpiresAt.IsZero() || st.Registration != "dynamic" || st.Issuer != as.Issuer ||
		st.Flow == nil || st.Flow.State != oauth.StepDone || !strings.HasPrefix(st.RedirectURI.RedirectURI, "http://127.0.0.1:") {
		t.Errorf("sign-in state = %+v (flow %+v)", st, st.Flow)
	}
	var preview oauth.RedirectPreview
	port := freePort(t)
	if err := client.Do(context.Background(), http.MethodGet, "/api/v1/oauth/redirect-uri?ports="+strconv.Itoa(port), nil, &preview); err != nil ||
		preview.RedirectURI != "http://127.0.0.1:"+strconv.Itoa(port)+"/callback" || !preview.Available {
		t.Errorf("redirect preview = %+v, %v", preview, err)
	}
	if err := client.Do(context.Background(), http.MethodGet, "/api/v1/oauth/redirect-uri?ports=0", nil, &preview); backend.ErrorCode(err) != backend.EINVALID {
		t.Errorf("bad port: %v", err)
	}

	if code := run("connector", "discover", as.Issuer); code != 0 || !strings.Contains(stdout.String(), "Token endpoint:         "+as.Issuer+"/token") {
		t.Errorf("discover exit %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	record()

	if code := run("connector", "logout", c.Slug); code != 0 || !strings.Contains(stdout.String(), "the provider revoked the tokens") {
		t.Errorf("logout exit %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	record()

	as.DenyNext()
	if code := run("connector", "login", c.Slug); code != 1 || !strings.Contains(stderr.String(), "Error: The provider did not sign Patchbay in") ||
		!strings.Contains(stderr.String(), "Fix: ") {
		t.Errorf("refused login exit %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	record()

	plain, err := p.reg.CreateConnector(context.Background(), &backend.Connector{Name: "No OAuth", URL: ev.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Do(context.Background(), http.MethodPost, "/api/v1/connectors/"+plain.ID+"/login", nil, nil); slugOf(err) != "oauth_not_configured" {
		t.Errorf("login to a connector without OAuth: %v", err)
	}
	assertNoSecrets(t, p.dir, secrets, map[string]string{"log": logs.String(), "CLI output": allOut.String()})
}
