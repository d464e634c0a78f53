package gateway_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
)

func TestActivityRecordsEveryCallWithSecretsRedacted(t *testing.T) {
	const canary = "canary-secret-93ad01c7e2"
	const bearer = "Bearer abcdefghijklmnop1234567890"
	h := newHarness(t, harnessOptions{})
	p := testpeer.NewServer(t, testpeer.ServerOptions{APIKey: canary})
	c, err := h.reg.CreateConnector(ctx, &backend.Connector{Name: "Keyed", Slug: "keyed", URL: p.URL, Transport: backend.TransportStreamableHTTP,
		Auth: backend.Auth{Type: backend.AuthAPIKey, APIKey: &backend.APIKeyAuth{In: "header", Name: "X-API-Key", Value: &backend.Secret{Value: canary}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.up.RefreshTools(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.reg.SetToolPolicy(ctx, "keyed", nil, backend.PolicyAlwaysAllow); err != nil {
		t.Fatal(err)
	}
	if err := h.reg.SetToolPolicy(ctx, "keyed", []string{"add"}, backend.PolicyDisabled); err != nil {
		t.Fatal(err)
	}
	cl := h.connect("/mcp", newEra)
	msg := "key " + canary + " and " + bearer + ` and {"password": "hunter2hunter2"}`
	res := cl.call(t, "keyed_echo", map[string]any{"message": msg})
	if !strings.Contains(text(res), canary) {
		t.Fatalf("the client's own result is not redacted: %q", text(res))
	}
	cl.call(t, "keyed_fail", map[string]any{})
	cl.call(t, "keyed_add", map[string]any{"a": 1, "b": 1})
	cl.cs.CallTool(ctx, toolParams("nope", nil))

	entries := h.activity(backend.ActivityFilter{})
	if len(entries) != 4 {
		t.Fatalf("%d entries", len(entries))
	}
	byOutcome := map[string]*backend.ActivityEntry{}
	for _, e := range entries {
		byOutcome[e.Outcome] = e
		raw, _ := json.Marshal(e)
		if strings.Contains(string(raw), canary) || strings.Contains(string(raw), "abcdefghijklmnop1234567890") || strings.Contains(string(raw), "hunter2hunter2") {
			t.Fatalf("a secret reached the activity log: %s", raw)
		}
	}
	ok := byOutcome[backend.OutcomeOK]
	if ok == nil || ok.ExposedName != "keyed_echo" || ok.Tool != "echo" || ok.Connector != "Keyed" || ok.ConnectorID != c.ID ||
		ok.Conversation != "default" || ok.TokenLabel != "test client" || ok.ClientName != "gotest-"+newEra || ok.SessionID == "" ||
		ok.ResultSize == 0 || ok.DurationMS <= 0 {
		t.Fatalf("ok entry = %+v", ok)
	}
	if !strings.Contains(string(ok.Arguments), "[REDACTED]") || !strings.Contains(string(ok.Result), "[REDACTED]") {
		t.Fatalf("redaction markers missing: %s / %s", ok.Arguments, ok.Result)
	}
	if e := byOutcome[backend.OutcomeToolError]; e == nil || e.ExposedName != "keyed_fail" {
		t.Fatalf("tool error entry = %+v", e)
	}
	if e := byOutcome[backend.OutcomeBlocked]; e == nil {
		t.Fatalf("no blocked entry: %v", entries)
	}
	if n := len(h.activity(backend.ActivityFilter{Outcome: backend.OutcomeBlocked})); n != 2 {
		t.Fatalf("%d blocked entries (disabled add, unknown nope)", n)
	}
	// Filters work on what the gateway wrote.
	if n := len(h.activity(backend.ActivityFilter{Tool: "keyed_echo", Conversation: "default", ConnectorID: c.ID})); n != 1 {
		t.Fatalf("filtered: %d", n)
	}
}

func TestUpstreamDownKeepsToolsListedAndFailsCallsClearly(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	p := newPeer(t)
	h.addPeer("Flaky Server", "flaky", p.URL, backend.PolicyAlwaysAllow)
	c := h.connect("/mcp", newEra)
	p.Stop()
	if got := c.names(t); len(got) != 4 {
		t.Fatalf("tools of a down connector: %v", got)
	}
	start := time.Now()
	res := c.call(t, "flaky_echo", map[string]any{"message": "x"})
	if !res.IsError || !strings.Contains(text(res), "Flaky Server") {
		t.Fatalf("call to a down connector: %q", text(res))
	}
	if time.Since(start) > 20*time.Second {
		t.Fatal("the failed call hung")
	}
	if n := len(h.activity(backend.ActivityFilter{Outcome: backend.OutcomeError})); n != 1 {
		t.Fatalf("%d error entries", n)
	}
}

// Progress flows from the upstream to the client, and a client's
// cancellation reaches the upstream (a 2025-11-25 upstream, which is told
// with notifications/cancelled; a 2026-07-28 one sees its request end).
func TestProgressAndCancellationPassThrough(t *testing.T) {
	// The peer first, so that it stops after the harness closed its
	// upstream session (cleanups run in reverse).
	p := testpeer.NewServer(t, testpeer.ServerOptions{Legacy: true})
	h := newHarness(t, harnessOptions{})
	stopped := make(chan struct{}, 4)
	mcp.AddTool(p.MCP, &mcp.Tool{Name: "wait", Description: "Waits until cancelled."},
		func(ctx context.Context, req *mcp.CallToolRequest, _ any) (*mcp.CallToolResult, any, error) {
			req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: req.Params.GetProgressToken(), Progress: 1, Message: "started"})
			select {
			case <-ctx.Done():
				stopped <- struct{}{}
				return nil, nil, ctx.Err()
			case <-time.After(30 * time.Second):
				return nil, nil, nil
			}
		})
	h.addPeer("Peer", "peer", p.URL, backend.PolicyAlwaysAllow)
	for _, era := range []string{newEra, legacyEra} {
		t.Run(era, func(t *testing.T) {
			c := h.connect("/mcp", era)
			params := &mcp.CallToolParams{Name: "peer_slow", Arguments: map[string]any{"seconds": 0.25}}
			params.SetProgressToken("tok-" + era)
			res, err := c.cs.CallTool(ctx, params)
			if err != nil || text(res) != "done" {
				t.Fatalf("slow: %v %v", res, err)
			}
			select {
			case pr := <-c.prog:
				if pr.ProgressToken != "tok-"+era || pr.Message != "waiting" {
					t.Fatalf("progress = %+v", pr)
				}
			default:
				t.Fatal("no progress notification reached the client")
			}

			cctx, cancel := context.WithCancel(ctx)
			params = &mcp.CallToolParams{Name: "peer_wait", Arguments: map[string]any{}}
			params.SetProgressToken("cancel-me")
			done := make(chan error, 1)
			go func() {
				_, err := c.cs.CallTool(cctx, params)
				done <- err
			}()
			for pr := range c.prog {
				if pr.ProgressToken == "cancel-me" {
					break // running upstream
				}
			}
			cancel()
			if err := <-done; err == nil {
				t.Fatal("cancelled call returned a result")
			}
			select {
			case <-stopped:
			case <-time.After(10 * time.Second):
				t.Fatal("the upstream did not see the cancellation")
			}
		})
	}
	waitFor(t, "cancelled calls in the log", func() bool {
		return len(h.activity(backend.ActivityFilter{Outcome: backend.OutcomeCancelled})) == 2
	})
}

func TestHugeResultsAreCappedWithANote(t *testing.T) {
	h := newHarness(t, harnessOptions{maxResult: 1000})
	h.addPeer("Peer", "peer", newPeer(t).URL, backend.PolicyAlwaysAllow)
	c := h.connect("/mcp", newEra)
	big := strings.Repeat("x", 5000)
	res := c.call(t, "peer_echo", map[string]any{"message": big})
	got := text(res)
	if len(got) > 1400 || !strings.Contains(got, "[Patchbay: this result was 4.9 KiB") {
		t.Fatalf("capped result (%d bytes): %.200q…", len(got), got)
	}
	e := h.activity(backend.ActivityFilter{})[0]
	if e.ResultSize < 5000 || e.ResultTruncated {
		t.Fatalf("logged size %d truncated %v", e.ResultSize, e.ResultTruncated)
	}
}

// Tokens saved by an OAuth sign-in are redacted from the next call on: the
// sign-in's progress events make the gateway read the secrets again, well
// before its periodic re-read.
func TestOAuthTokensFromASignInAreRedactedAtOnce(t *testing.T) {
	const canary = "opaque-oauth-canary-7c41d09e2b"
	h := newHarness(t, harnessOptions{})
	h.addPeer("Peer", "peer", newPeer(t).URL, backend.PolicyAlwaysAllow)
	oa, err := h.reg.CreateConnector(ctx, &backend.Connector{Name: "Signed In", Slug: "signed", URL: "https://mcp.example.com/mcp", Auth: backend.Auth{Type: backend.AuthOAuth}})
	if err != nil {
		t.Fatal(err)
	}
	c := h.connect("/mcp", newEra)
	c.call(t, "peer_echo", map[string]any{"message": "before the sign-in"})
	h.gw.FlushActivity() // the secrets are read, with no token yet

	// What the OAuth layer does when a sign-in completes.
	if err := h.mem.Set(ctx, backend.OAuthSecretKey(oa.ID, "token"), `{"access_token":"`+canary+`","token_type":"Bearer"}`); err != nil {
		t.Fatal(err)
	}
	h.hub.Publish(backend.NewEvent(backend.EventOAuthProgress, map[string]string{"connector_id": oa.ID, "step": "done"}))

	c.call(t, "peer_echo", map[string]any{"message": "the token is " + canary})
	for _, e := range h.activity(backend.ActivityFilter{}) {
		if raw, _ := json.Marshal(e); strings.Contains(string(raw), canary) {
			t.Fatalf("a fresh OAuth token reached the activity log: %s", raw)
		}
	}
	if n := len(h.activity(backend.ActivityFilter{Text: "[REDACTED]"})); n != 1 {
		t.Fatalf("%d redacted entries, want 1", n)
	}
}
