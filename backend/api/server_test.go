package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/api"
	"github.com/patchbay/patchbay/backend/events"
	"github.com/patchbay/patchbay/backend/registry"
	"github.com/patchbay/patchbay/backend/secrets"
	"github.com/patchbay/patchbay/backend/store"
)

const adminToken = "pba_test_admin_token_0123456789"

type fixture struct {
	srv *api.Server
	ts  *httptest.Server
	hub *events.Hub
	mem *secrets.Memory
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := store.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	hub := events.New()
	mem := secrets.NewMemory()
	reg := registry.New(registry.Options{Store: db, Secrets: mem, Publisher: hub})
	f := &fixture{hub: hub, mem: mem}
	f.srv = api.New(api.Options{
		Services: api.Services{Connectors: reg, Tools: reg, Conversations: reg, Tokens: reg, Settings: reg, Activity: db},
		Events:   hub, AdminToken: adminToken, Version: "test",
		BaseURL: func() string { return f.ts.URL },
	})
	f.ts = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.ts.Close)
	return f
}

func (f *fixture) do(t *testing.T, method, path, body string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, f.ts.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	if h, ok := hdr["Host"]; ok {
		req.Host = h
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func errorOf(t *testing.T, b []byte) api.ErrorDetail {
	t.Helper()
	var eb api.ErrorBody
	if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Message == "" {
		t.Fatalf("not an error body: %s", b)
	}
	return eb.Error
}

func TestAdminTokenRequired(t *testing.T) {
	f := newFixture(t)
	for name, auth := range map[string]string{"missing": "", "wrong": "Bearer nope"} {
		resp, b := f.do(t, "GET", "/api/v1/connectors", "", map[string]string{"Authorization": auth})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s token: status %d", name, resp.StatusCode)
		}
		if !strings.Contains(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s token: no WWW-Authenticate header", name)
		}
		e := errorOf(t, b)
		if e.Code != backend.EUNAUTHORIZED || e.Status != 401 || e.RequestID == "" || e.SuggestedFix == "" {
			t.Errorf("%s token: error = %+v", name, e)
		}
	}
	if resp, _ := f.do(t, "GET", "/api/v1/health", "", map[string]string{"Authorization": ""}); resp.StatusCode != 200 {
		t.Fatalf("health needs no token, got %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, "GET", "/api/v1/connectors", "", nil); resp.StatusCode != 200 {
		t.Fatalf("right token refused: %d", resp.StatusCode)
	}
}

func TestForeignOriginAndHostRefused(t *testing.T) {
	f := newFixture(t)
	resp, b := f.do(t, "GET", "/api/v1/connectors", "", map[string]string{"Origin": "https://evil.example"})
	if resp.StatusCode != http.StatusForbidden || errorOf(t, b).Slug != "bad_origin" {
		t.Fatalf("foreign origin: %d %s", resp.StatusCode, b)
	}
	resp, b = f.do(t, "GET", "/api/v1/connectors", "", map[string]string{"Host": "evil.example"})
	if resp.StatusCode != http.StatusForbidden || errorOf(t, b).Slug != "bad_host" {
		t.Fatalf("foreign host: %d %s", resp.StatusCode, b)
	}
	u, _ := url.Parse(f.ts.URL)
	if resp, _ := f.do(t, "GET", "/api/v1/connectors", "", map[string]string{"Origin": "http://" + u.Host}); resp.StatusCode != 200 {
		t.Fatalf("own origin refused: %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, "GET", "/api/v1/connectors", "", map[string]string{"Host": "localhost:" + u.Port()}); resp.StatusCode != 200 {
		t.Fatalf("localhost host refused: %d", resp.StatusCode)
	}
}

func TestInProcessHandlerNeedsNoToken(t *testing.T) {
	f := newFixture(t)
	cl := api.NewInProcessClient(f.srv.InProcessHandler())
	var list []api.ConnectorView
	if err := cl.Do(context.Background(), "GET", "/api/v1/connectors", nil, &list); err != nil {
		t.Fatal(err)
	}
}

func TestValidationErrorShape(t *testing.T) {
	f := newFixture(t)
	body := `{"name":"","url":"http://example.com/mcp","transport":"pigeon","headers":[{"name":"Bad Header","value":"x"}]}`
	resp, b := f.do(t, "POST", "/api/v1/connectors", body, nil)
	if resp.StatusCode != 400 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	e := errorOf(t, b)
	fields := map[string]bool{}
	for _, fe := range e.Errors {
		fields[fe.Field] = true
	}
	for _, want := range []string{"name", "url", "transport", "headers[0].name"} {
		if !fields[want] {
			t.Errorf("no error for %s in %+v", want, e.Errors)
		}
	}
	if e.Code != backend.EINVALID || e.Slug != "validation_failed" || e.SuggestedFix == "" {
		t.Errorf("error = %+v", e)
	}
}

func TestBadJSONBodies(t *testing.T) {
	f := newFixture(t)
	for name, c := range map[string]struct{ body, want string }{
		"syntax":        {`{"name":`, "not valid JSON"},
		"unknown field": {`{"name":"x","url":"https://a.example/mcp","colour":"red"}`, "colour"},
		"wrong type":    {`{"name":42}`, "must be a string"},
		"empty":         {``, "empty"},
		"trailing":      {`{"name":"x"} {}`, "after the JSON"},
	} {
		resp, b := f.do(t, "POST", "/api/v1/connectors", c.body, map[string]string{"Content-Type": "application/json"})
		if resp.StatusCode != 400 || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: %d %s (want %q)", name, resp.StatusCode, b, c.want)
		}
	}
}

func TestConnectorRoundTripHidesSecrets(t *testing.T) {
	f := newFixture(t)
	const canary = "canary-api-4f2a"
	body := `{"name":"Docs","url":"https://docs.example/mcp","auth":{"type":"api-key","api_key":{"in":"query","name":"key","value":{"value":"` + canary + `"}}}}`
	resp, b := f.do(t, "POST", "/api/v1/connectors", body, nil)
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	if strings.Contains(string(b), canary) {
		t.Fatal("create answer contains the secret")
	}
	var v api.ConnectorView
	json.Unmarshal(b, &v)
	if v.Status.State != backend.StateIdle || v.Auth.APIKey.Value.Source != backend.SecretKeychain {
		t.Fatalf("view = %+v", v)
	}
	for _, p := range []string{"/api/v1/connectors", "/api/v1/connectors/docs", "/api/v1/connectors/" + v.ID} {
		if _, b := f.do(t, "GET", p, "", nil); strings.Contains(string(b), canary) {
			t.Fatalf("%s leaks the secret", p)
		}
	}
	// Sending the view back keeps the secret.
	v.Description = "edited"
	out, _ := json.Marshal(v.Connector)
	resp, b = f.do(t, "PUT", "/api/v1/connectors/docs", string(out), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("update: %d %s", resp.StatusCode, b)
	}
	if got, _ := f.mem.Get(context.Background(), v.Auth.APIKey.Value.Key); got != canary {
		t.Fatalf("secret after round trip = %q", got)
	}
	if resp, _ := f.do(t, "DELETE", "/api/v1/connectors/docs", "", nil); resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp, b := f.do(t, "GET", "/api/v1/connectors/docs", "", nil); resp.StatusCode != 404 || errorOf(t, b).Code != backend.ENOTFOUND {
		t.Fatalf("after delete: %d %s", resp.StatusCode, b)
	}
}

func TestConversationCreateReturnsURLAndCommands(t *testing.T) {
	f := newFixture(t)
	f.do(t, "POST", "/api/v1/connectors", `{"name":"Alpha","url":"https://a.example/mcp"}`, nil)
	resp, b := f.do(t, "POST", "/api/v1/conversations", `{"name":"Research","connector_ids":["alpha"]}`, nil)
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var v api.ConversationView
	json.Unmarshal(b, &v)
	if v.ID == "" || v.Name != "Research" || v.MCPURL != f.ts.URL+"/mcp/research" {
		t.Fatalf("view = %+v", v)
	}
	for _, client := range []string{"cursor", "claude-code", "windsurf", "vscode"} {
		if !strings.Contains(v.Commands[client], v.MCPURL) {
			t.Errorf("%s command lacks the URL: %q", client, v.Commands[client])
		}
	}
	resp, b = f.do(t, "POST", "/api/v1/conversations", `{"name":"Research","connector_ids":["ghost"]}`, nil)
	e := errorOf(t, b)
	if resp.StatusCode != 400 || e.SuggestedFix == "" || len(e.Errors) != 2 {
		t.Fatalf("bad create: %d %+v", resp.StatusCode, e)
	}
}

func TestLoginLinkIsOneTimeAndSetsSecureCookie(t *testing.T) {
	f := newFixture(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	link := f.srv.NewLoginLink()
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, r := range []*http.Response{resp, resp.Request.Response} {
		if r == nil {
			continue
		}
		for _, ck := range r.Cookies() {
			if ck.Name == "patchbay_session" {
				cookie = ck
			}
		}
	}
	if cookie == nil || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie = %+v", cookie)
	}
	// The cookie (not a bearer token) now authorises API calls.
	req, _ := http.NewRequest("GET", f.ts.URL+"/api/v1/connectors", nil)
	req.AddCookie(cookie)
	r2, _ := http.DefaultClient.Do(req)
	r2.Body.Close()
	if r2.StatusCode != 200 {
		t.Fatalf("cookie not accepted: %d", r2.StatusCode)
	}
	// The link works once.
	r3, _ := http.Get(link)
	r3.Body.Close()
	if r3.StatusCode != http.StatusUnauthorized {
		t.Fatalf("second use of the link: %d", r3.StatusCode)
	}
}

func TestEventsStream(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl := &api.Client{BaseURL: f.ts.URL, Token: adminToken}
	got := make(chan backend.Event, 64)
	go cl.Events(ctx, func(e backend.Event) { got <- e })
	// The subscription attaches asynchronously: publish until one arrives.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case e := <-got:
			if e.Type != backend.EventConnectorChanged || !strings.Contains(string(e.Data), `"x1"`) {
				t.Fatalf("event = %s %s", e.Type, e.Data)
			}
			return
		case <-tick.C:
			f.hub.Publish(backend.NewEvent(backend.EventConnectorChanged, map[string]string{"id": "x1"}))
		case <-ctx.Done():
			t.Fatal("no event arrived on the stream")
		}
	}
}

func TestUnknownRouteAndUnavailableService(t *testing.T) {
	f := newFixture(t)
	resp, b := f.do(t, "GET", "/api/v1/nope", "", nil)
	if resp.StatusCode != 404 || errorOf(t, b).Slug != "no_route" {
		t.Fatalf("unknown route: %d %s", resp.StatusCode, b)
	}
	f.do(t, "POST", "/api/v1/connectors", `{"name":"Alpha","url":"https://a.example/mcp"}`, nil)
	resp, b = f.do(t, "POST", "/api/v1/connectors/alpha/test", "", nil)
	if resp.StatusCode != 503 || !strings.Contains(errorOf(t, b).SuggestedFix, "patchbay serve") {
		t.Fatalf("test without upstream: %d %s", resp.StatusCode, b)
	}
}

func TestHugeBodyRefusedWithoutSavingAnything(t *testing.T) {
	f := newFixture(t)
	body := `{"name":"Big","url":"https://a.example/mcp","description":"` + strings.Repeat("x", 2<<20) + `"}`
	resp, b := f.do(t, "POST", "/api/v1/connectors", body, nil)
	if resp.StatusCode != 400 || errorOf(t, b).Slug != "body_too_large" {
		t.Fatalf("huge body: %d %.200s", resp.StatusCode, b)
	}
	if _, b := f.do(t, "GET", "/api/v1/connectors", "", nil); strings.TrimSpace(string(b)) != "[]" {
		t.Fatalf("something was saved: %s", b)
	}
}
