package oauth_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
	"github.com/patchbay/patchbay/backend/oauth"
	"github.com/patchbay/patchbay/backend/upstream"
)

var (
	_ upstream.OAuth         = (*oauth.Manager)(nil)
	_ upstream.OAuthRejected = (*oauth.Manager)(nil)
)

// forged is an opener that, instead of signing in, sends the browser back
// to Patchbay with a forged answer built from the authorization URL.
func forged(t *testing.T, host string, query func(state, issuer string) url.Values, pages chan<- testpeer.BrowserVisit) func(string) error {
	return func(authURL string) error {
		u, err := url.Parse(authURL)
		if err != nil {
			return err
		}
		q := u.Query()
		redirect, err := url.Parse(q.Get("redirect_uri"))
		if err != nil {
			return err
		}
		issuer := u.Scheme + "://" + u.Host
		redirect.RawQuery = query(q.Get("state"), issuer).Encode()
		go func() {
			req, _ := http.NewRequest(http.MethodGet, redirect.String(), nil)
			if host != "" {
				req.Host = host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				pages <- testpeer.BrowserVisit{Err: err}
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			pages <- testpeer.BrowserVisit{Status: resp.StatusCode, Body: string(b)}
		}()
		return nil
	}
}

// Answers that did not come from the sign-in Patchbay started are
// rejected with a clear error, on the browser's page too: a wrong state, a
// missing code, an RFC 9207 iss of another server, no iss from a server
// that promised one, and a redirect to another host name. The provider
// refusing (access_denied) is reported as such. None leaves tokens behind,
// and a proper sign-in works afterwards.
func TestSignInAnswersAreChecked(t *testing.T) {
	ev := testpeer.Everything(t, "streamableHttp")
	as := testpeer.StartOAuth(t, testpeer.OAuthOptions{Upstream: ev.URL})
	kc := keychain(t)
	dir := t.TempDir()
	cases := []struct {
		name, host, slug, page string
		query                  func(state, issuer string) url.Values
	}{
		{"wrong state", "", "oauth_state_mismatch", "state does not match", func(_, iss string) url.Values {
			return url.Values{"code": {"c0de"}, "state": {"forged-state"}, "iss": {iss}}
		}},
		{"missing code", "", "oauth_no_code", "without an authorization code", func(state, iss string) url.Values {
			return url.Values{"state": {state}, "iss": {iss}}
		}},
		{"iss mismatch", "", "oauth_issuer_mismatch", "https://evil.example", func(state, _ string) url.Values {
			return url.Values{"code": {"c0de"}, "state": {state}, "iss": {"https://evil.example"}}
		}},
		{"iss missing", "", "oauth_issuer_missing", "does not say which provider", func(state, _ string) url.Values {
			return url.Values{"code": {"c0de"}, "state": {state}}
		}},
		{"other host", "patchbay.evil.example", "oauth_wrong_host", "patchbay.evil.example", func(state, iss string) url.Values {
			return url.Values{"code": {"c0de"}, "state": {state}, "iss": {iss}}
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pages := make(chan testpeer.BrowserVisit, 1)
			p := openPatchbay(t, dir, kc, &logBuffer{}, options{opener: forged(t, tc.host, tc.query, pages)})
			defer p.close()
			c := p.add("Checked "+string(rune('a'+i)), as.URL, nil)
			err := p.login(c)
			var be *backend.Error
			if !errors.As(err, &be) || be.Slug != tc.slug {
				t.Fatalf("sign-in error = %v, want slug %s", err, tc.slug)
			}
			v := <-pages
			if v.Status != http.StatusBadRequest || !strings.Contains(v.Body, "Sign-in failed") || !strings.Contains(v.Body, tc.page) {
				t.Errorf("page: %d %s", v.Status, v.Body)
			}
			if p.tokens(c) != nil {
				t.Error("tokens were saved")
			}
			st, _ := p.om.Status(context.Background(), c)
			if st.SignedIn || st.Flow == nil || st.Flow.State != oauth.StepFailed || st.Flow.Slug != tc.slug {
				t.Errorf("status = %+v (flow %+v)", st, st.Flow)
			}
		})
	}

	t.Run("provider refuses", func(t *testing.T) {
		open, visits := testpeer.HeadlessBrowser()
		p := openPatchbay(t, dir, kc, &logBuffer{}, options{opener: open})
		defer p.close()
		c := p.add("Refused", as.URL, nil)
		as.DenyNext()
		err := p.login(c)
		if slugOf(err) != "oauth_denied" || !strings.Contains(err.Error(), "access_denied") {
			t.Fatalf("sign-in error = %v", err)
		}
		if v := <-visits; v.Status != http.StatusBadRequest || !strings.Contains(v.Body, "access_denied") {
			t.Errorf("page: %d %s", v.Status, v.Body)
		}
		p.mustLogin(c)
		<-visits
		p.echo(c, "after all")
	})

	// PKCE turned off is honoured (no code_challenge is sent); this
	// provider requires PKCE, and its refusal is shown as its own words.
	t.Run("PKCE off", func(t *testing.T) {
		open, visits := testpeer.HeadlessBrowser()
		p := openPatchbay(t, dir, kc, &logBuffer{}, options{opener: open})
		defer p.close()
		c := p.add("No PKCE", as.URL, &backend.OAuthAuth{DisablePKCE: true})
		before := as.Stats().AuthorizationsWithoutPKCE
		err := p.login(c)
		if slugOf(err) != "oauth_denied" || !strings.Contains(err.Error(), "PKCE") {
			t.Fatalf("sign-in error = %v", err)
		}
		<-visits
		if n := as.Stats().AuthorizationsWithoutPKCE - before; n != 1 {
			t.Errorf("the provider saw %d authorization requests without PKCE, want 1", n)
		}
	})
}

// The redirect listener: a busy configured port is a clear error; a
// sign-in nobody finishes times out with a clear message; two sign-ins to
// the same connector at once share one flow (one browser, one URL); a
// second answer to a finished sign-in is turned away.
func TestSignInFlowLifecycle(t *testing.T) {
	ev := testpeer.Everything(t, "streamableHttp")
	as := testpeer.StartOAuth(t, testpeer.OAuthOptions{Upstream: ev.URL})
	kc := keychain(t)
	dir := t.TempDir()

	t.Run("busy port", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		port := l.Addr().(*net.TCPAddr).Port
		p := openPatchbay(t, dir, kc, &logBuffer{}, options{opener: failOpener(t)})
		defer p.close()
		c := p.add("Busy", as.URL, &backend.OAuthAuth{RedirectPorts: []int{port}})
		err = p.login(c)
		var be *backend.Error
		if !errors.As(err, &be) || be.Code != backend.ECONFLICT || be.Slug != "oauth_port_busy" || !strings.Contains(be.Message, "in use") {
			t.Fatalf("sign-in error = %#v", err)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		p := openPatchbay(t, dir, kc, &logBuffer{}, options{opener: func(string) error { return nil }, timeout: 500 * time.Millisecond})
		defer p.close()
		c := p.add("Slow person", as.URL, nil)
		err := p.login(c)
		var be *backend.Error
		if !errors.As(err, &be) || be.Code != backend.ETIMEOUT || !strings.Contains(be.Message, "timed out") || !strings.Contains(be.SuggestedFix, "http://127.0.0.1:") {
			t.Fatalf("sign-in error = %#v", err)
		}
	})

	t.Run("shared flow", func(t *testing.T) {
		var mu sync.Mutex
		var opened []string
		release := make(chan struct{})
		visited := make(chan testpeer.BrowserVisit, 2)
		opener := func(u string) error {
			mu.Lock()
			opened = append(opened, u)
			mu.Unlock()
			go func() {
				<-release
				visited <- testpeer.Visit(u)
			}()
			return nil
		}
		p := openPatchbay(t, dir, kc, &logBuffer{}, options{opener: opener})
		defer p.close()
		c := p.add("Shared", as.URL, nil)
		type result struct {
			f      *oauth.Flow
			joined bool
			err    error
		}
		results := make(chan result, 2)
		for range 2 {
			go func() {
				f, joined, err := p.om.Login(context.Background(), c)
				results <- result{f, joined, err}
			}()
		}
		a, b := <-results, <-results
		if a.err != nil || b.err != nil {
			t.Fatalf("Login: %v, %v", a.err, b.err)
		}
		if a.f != b.f || a.joined == b.joined || a.f.Status().AuthorizationURL == "" {
			t.Errorf("two flows: %p joined=%v, %p joined=%v", a.f, a.joined, b.f, b.joined)
		}
		close(release)
		if err := a.f.Wait(context.Background()); err != nil {
			t.Fatalf("sign-in: %v", err)
		}
		mu.Lock()
		n := len(opened)
		mu.Unlock()
		if n != 1 {
			t.Errorf("the browser was opened %d times", n)
		}
		if v := <-visited; v.Status != http.StatusOK {
			t.Errorf("page: %d %s", v.Status, v.Body)
		}
		// The listener is gone: replaying the answer reaches nothing.
		if v := testpeer.Visit(a.f.Status().RedirectURI + "?code=x&state=y"); v.Err == nil {
			t.Errorf("the redirect listener still answers after the sign-in: %d", v.Status)
		}
		p.echo(c, "shared")
	})
}
