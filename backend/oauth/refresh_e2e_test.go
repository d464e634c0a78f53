package oauth_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
)

// failOpener fails the test when a sign-in is started: the case at hand
// must work without one.
func failOpener(t *testing.T) func(string) error {
	return func(string) error {
		t.Error("a sign-in was started; none should be needed")
		return errors.New("no browser in this test")
	}
}

// With access tokens that live five seconds: fifty concurrent calls after
// expiry cause exactly one refresh (with the resource indicator), made
// before any request goes out with the expired token, and all succeed; the
// rotated refresh token is in the keychain, so after a restart, with the
// access token expired again, calls still work without a sign-in — the
// server rotates refresh tokens and rejects a spent one, so only the
// persisted new one can work.
func TestRefreshOnceForManyCallsAndAfterRestart(t *testing.T) {
	ev := testpeer.Everything(t, "streamableHttp")
	as := testpeer.StartOAuth(t, testpeer.OAuthOptions{Upstream: ev.URL, AccessTokenTTL: 5 * time.Second})
	open, _ := testpeer.HeadlessBrowser()
	kc := keychain(t)
	dir := t.TempDir()
	logs := &logBuffer{}
	p := openPatchbay(t, dir, kc, logs, options{opener: open})
	c := p.add("Rotating", as.URL, nil)
	p.mustLogin(c)
	p.echo(c, "warm up")
	refreshToken := p.tokens(c)["refresh_token"]

	p.waitExpired(c)
	stats := as.Stats()
	before := stats.Refreshes()
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := fmt.Sprintf("call %d", i)
			got, err := p.call(c, "echo", map[string]any{"message": msg})
			if err == nil && got != "Echo: "+msg {
				err = fmt.Errorf("echo = %q", got)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent call: %v", err)
		}
	}
	st := as.Stats()
	if n := st.Refreshes() - before; n != 1 {
		t.Errorf("%d refreshes for 50 concurrent calls, want 1", n)
	}
	if st.RefreshWithoutResource != 0 {
		t.Errorf("%d refreshes without the resource parameter", st.RefreshWithoutResource)
	}
	if n := st.RejectedTokens - stats.RejectedTokens; n != 0 {
		t.Errorf("%d requests went out with the expired token instead of a refreshed one", n)
	}
	rotated := p.tokens(c)["refresh_token"]
	if rotated == refreshToken || rotated == nil {
		t.Errorf("the refresh token was not rotated in the keychain")
	}
	secrets := p.secretsOf(c)

	p.close()
	p2 := openPatchbay(t, dir, kc, logs, options{opener: failOpener(t)})
	p2.waitExpired(c)
	before = as.Stats().Refreshes()
	p2.echo(c, "after restart")
	if n := as.Stats().Refreshes() - before; n != 1 {
		t.Errorf("%d refreshes after the restart, want 1", n)
	}
	assertNoSecrets(t, dir, append(secrets, p2.secretsOf(c)...), map[string]string{"log": logs.String()})
}

// A revoked grant (the person revoked access at the provider): the next
// call fails with a message that says to sign in again, the connector is
// shown as needing sign-in, its tokens are gone from the keychain, another
// connector keeps working, and signing in again recovers.
func TestRevokedGrantNeedsSignIn(t *testing.T) {
	ev := testpeer.Everything(t, "streamableHttp")
	as := testpeer.StartOAuth(t, testpeer.OAuthOptions{Upstream: ev.URL})
	other := testpeer.Everything(t, "streamableHttp")
	open, _ := testpeer.HeadlessBrowser()
	p := openPatchbay(t, t.TempDir(), keychain(t), &logBuffer{}, options{opener: open})
	c := p.add("Revocable", as.URL, nil)
	plain, err := p.reg.CreateConnector(t.Context(), &backend.Connector{Name: "Plain", URL: other.URL})
	if err != nil {
		t.Fatal(err)
	}
	p.mustLogin(c)
	p.echo(c, "before")
	p.echo(plain, "before")

	as.RevokeAll()
	_, err = p.call(c, "echo", map[string]any{"message": "after"})
	var be *backend.Error
	if !errors.As(err, &be) || be.Code != backend.EUNAUTHORIZED || !strings.Contains(be.Message, "expired or was revoked") ||
		!strings.Contains(be.SuggestedFix, "patchbay connector login "+c.Slug) {
		t.Fatalf("call after revocation: %#v", err)
	}
	st := p.waitState(c, backend.StateNeedsSignIn)
	if !strings.Contains(st.LastError, "expired or was revoked") || !strings.Contains(st.LastErrorFix, "Sign in") {
		t.Errorf("status = %+v", st)
	}
	if p.tokens(c) != nil {
		t.Error("dead tokens are still in the keychain")
	}
	p.echo(plain, "still works")
	if st := p.up.Status(plain.ID); st.State != backend.StateConnected {
		t.Errorf("the other connector is %+v", st)
	}
	if _, err := p.call(c, "echo", map[string]any{"message": "again"}); slugOf(err) != "upstream_needs_sign_in" {
		t.Errorf("second call: %v", err)
	}

	p.mustLogin(c)
	p.echo(c, "signed in again")
}
