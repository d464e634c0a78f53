package oauth_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/events"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
	"github.com/patchbay/patchbay/backend/oauth"
)

// Signing out revokes the tokens at the provider's revocation endpoint
// and deletes them; the connector then needs a sign-in. The registration
// is kept.
func TestLogoutRevokes(t *testing.T) {
	ev := testpeer.Everything(t, "streamableHttp")
	as := testpeer.StartOAuth(t, testpeer.OAuthOptions{Upstream: ev.URL})
	open, _ := testpeer.HeadlessBrowser()
	p := openPatchbay(t, t.TempDir(), keychain(t), &logBuffer{}, options{opener: open})
	c := p.add("Leaving", as.URL, nil)
	p.mustLogin(c)
	p.echo(c, "before")
	res, err := p.om.Logout(context.Background(), c)
	if err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if !res.WasSignedIn || !res.Revoked || res.RevokeError != "" {
		t.Errorf("Logout = %+v", res)
	}
	if as.Stats().Revocations == 0 {
		t.Error("the provider revoked nothing")
	}
	if p.tokens(c) != nil || p.registeredClient(c) == nil {
		t.Error("tokens left behind, or the registration was dropped")
	}
	if _, err := p.call(c, "echo", map[string]any{"message": "after"}); slugOf(err) != "upstream_needs_sign_in" {
		t.Errorf("call after sign-out: %v", err)
	}
	st, err := p.om.Status(context.Background(), c)
	if err != nil || st.SignedIn || st.Registration != "dynamic" {
		t.Errorf("status = %+v, %v", st, err)
	}
}

// An insufficient_scope answer starts a step-up sign-in for the scopes
// the server asked for (plus those granted), and after it the call works.
func TestStepUpOnInsufficientScope(t *testing.T) {
	ev := testpeer.Everything(t, "streamableHttp")
	as := testpeer.StartOAuth(t, testpeer.OAuthOptions{Upstream: ev.URL, StepUpTool: "get-env"})
	open, visits := testpeer.HeadlessBrowser()
	p := openPatchbay(t, t.TempDir(), keychain(t), &logBuffer{}, options{opener: open})
	c := p.add("Stepping", as.URL, nil)
	p.mustLogin(c)
	<-visits
	if scopes := strings.Fields(p.tokens(c)["scope"].(string)); slices.Contains(scopes, "mcp:admin") {
		t.Fatalf("granted too much at first: %v", scopes)
	}
	sub := p.hub.Subscribe(64)
	defer sub.Close()

	_, err := p.call(c, "get-env", nil)
	var be *backend.Error
	if !errors.As(err, &be) || !strings.Contains(be.Message, "needs more permissions") || !strings.Contains(be.Message, "mcp:admin") {
		t.Fatalf("call needing more scope: %#v", err)
	}
	if v := <-visits; v.Status != 200 {
		t.Fatalf("step-up page: %d %s", v.Status, v.Body)
	}
	waitProgress(t, sub, c.ID, "done")
	if scopes := strings.Fields(p.tokens(c)["scope"].(string)); !slices.Contains(scopes, "mcp:admin") || !slices.Contains(scopes, "mcp:tools") {
		t.Errorf("scopes after step-up: %v", scopes)
	}
	if _, err := p.call(c, "get-env", nil); err != nil {
		t.Errorf("call after step-up: %v", err)
	}
}

// waitProgress waits for an oauth.progress event of the connector.
func waitProgress(t *testing.T, sub *events.Subscription, id, step string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-sub.C:
			var d oauth.ProgressEvent
			if e.Type == backend.EventOAuthProgress && backend.DecodeEvent(e, &d) == nil && d.ConnectorID == id && d.Step == step {
				return
			}
		case <-timeout:
			t.Fatalf("no %s event for %s", step, id)
		}
	}
}

// The default opener honours $BROWSER: here a small node program that
// behaves like a browser whose person signs in at once.
func TestDefaultOpenerHonoursBROWSER(t *testing.T) {
	ev := testpeer.Everything(t, "streamableHttp")
	as := testpeer.StartOAuth(t, testpeer.OAuthOptions{Upstream: ev.URL})
	logFile := filepath.Join(t.TempDir(), "browser.log")
	t.Setenv("BROWSER", "no-such-browser-3f1c %s:node "+filepath.Join(testpeer.NodeDir(), "headless-browser.mjs")+" %s")
	t.Setenv("PATCHBAY_BROWSER_LOG", logFile)
	p := openPatchbay(t, t.TempDir(), keychain(t), &logBuffer{}, options{})
	c := p.add("Browsed", as.URL, nil)
	p.mustLogin(c)
	p.echo(c, "via $BROWSER")
	var page struct {
		URL    string
		Status int
		Body   string
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, err := os.Open(logFile)
		if err == nil {
			sc := bufio.NewScanner(f)
			if sc.Scan() {
				_ = json.Unmarshal(sc.Bytes(), &page)
			}
			f.Close()
		}
		if page.Status != 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if page.Status != 200 || !strings.HasPrefix(page.URL, "http://127.0.0.1:") || !strings.Contains(page.Body, "Signed in") {
		t.Errorf("the browser ended on %+v", page)
	}
}

// The TypeScript SDK's example server with --oauth (its demo authorization
// server) works end to end.
func TestTypeScriptSDKOAuthExample(t *testing.T) {
	url := testpeer.TSOAuthExample(t)
	open, visits := testpeer.HeadlessBrowser()
	p := openPatchbay(t, t.TempDir(), keychain(t), &logBuffer{}, options{opener: open})
	c := p.add("TypeScript example", url, nil)
	p.mustLogin(c)
	if v := <-visits; v.Status != 200 {
		t.Fatalf("page: %d %s", v.Status, v.Body)
	}
	ch, err := p.up.RefreshTools(context.Background(), c.ID)
	if err != nil {
		t.Fatalf("RefreshTools: %v", err)
	}
	if !slices.Contains(ch.Added, "greet") {
		t.Errorf("tools: %v", ch.Added)
	}
	got, err := p.call(c, "greet", map[string]any{"name": "Patchbay"})
	if err != nil || !strings.Contains(got, "Patchbay") {
		t.Errorf("greet = %q, %v", got, err)
	}
}
