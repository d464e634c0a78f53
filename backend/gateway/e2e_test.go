package gateway_test

// End-to-end: a running Patchbay (app.Core on a loopback port, real store,
// real upstream sessions) in front of @modelcontextprotocol/server-everything
// from npm, used by the TypeScript SDK's client — nothing on the client
// side is go-sdk. Everything is configured through the admin API, as the
// UI and the CLI do.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/app/apptest"
	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/api"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
	"github.com/patchbay/patchbay/backend/secrets"
)

type instance struct {
	*apptest.Instance
	t *testing.T
}

func startInstance(t *testing.T) *instance {
	return &instance{Instance: apptest.Start(t, apptest.Options{Secrets: secrets.NewMemory()}), t: t}
}

func (in *instance) do(method, path string, body, out any) {
	in.t.Helper()
	if err := in.API.Do(ctx, method, path, body, out); err != nil {
		in.t.Fatalf("%s %s: %v", method, path, err)
	}
}

func (in *instance) issueToken(label string) (string, string) {
	var tok api.IssuedToken
	in.do(http.MethodPost, "/api/v1/tokens", map[string]string{"label": label}, &tok)
	return tok.Token, tok.ID
}

func (in *instance) addConnector(c map[string]any) string {
	var out backend.Connector
	in.do(http.MethodPost, "/api/v1/connectors", c, &out)
	in.do(http.MethodPost, "/api/v1/connectors/"+out.ID+"/tools/refresh", nil, nil)
	return out.ID
}

func (in *instance) policy(connector, tool, policy string) {
	path := "/api/v1/connectors/" + connector + "/tools/policy"
	if tool != "" {
		path = "/api/v1/connectors/" + connector + "/tools/" + url.PathEscape(tool) + "/policy"
	}
	in.do(http.MethodPut, path, map[string]string{"policy": policy}, nil)
}

// approval waits for the next pending approval, through the API.
func (in *instance) approval() backend.Approval {
	in.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var list []backend.Approval
		in.do(http.MethodGet, "/api/v1/approvals", nil, &list)
		if len(list) > 0 {
			return list[0]
		}
	}
	in.t.Fatal("no pending approval within 15s")
	return backend.Approval{}
}

func (in *instance) activity(q string) []backend.ActivityEntry {
	var all []backend.ActivityEntry
	before := ""
	for {
		var page backend.ActivityPage
		in.do(http.MethodGet, "/api/v1/activity?limit=1000&"+q+before, nil, &page)
		for _, e := range page.Entries {
			all = append(all, *e)
		}
		if page.Next == 0 {
			return all
		}
		before = fmt.Sprintf("&before=%d", page.Next)
	}
}

func connectTS(t *testing.T, url, token string) *testpeer.TSClient {
	c := testpeer.StartTSClient(t)
	m := c.Do(map[string]any{"op": "connect", "url": url, "headers": map[string]string{"Authorization": "Bearer " + token}})
	var server struct{ Name string }
	json.Unmarshal(m["server"], &server)
	if server.Name != "patchbay" {
		t.Fatalf("connected to %s", m["server"])
	}
	return c
}

func hasPrefixAll(names []string, prefix string) bool {
	for _, n := range names {
		if !strings.HasPrefix(n, prefix) {
			return false
		}
	}
	return len(names) > 0
}

func TestEndToEndWithTypeScriptClientAndServerEverything(t *testing.T) {
	const canary = "canary-e2e-5e8c0d1fa7"
	everything := testpeer.Everything(t, "streamableHttp")
	everythingSSE := testpeer.Everything(t, "sse")
	in := startInstance(t)

	// Two connectors: the HTTP one carries a secret header (the canary).
	evID := in.addConnector(map[string]any{"name": "Everything", "slug": "everything", "url": everything.URL, "transport": "streamable-http",
		"auth": map[string]any{"type": "none"}, "headers": []map[string]any{{"name": "X-Team-Token", "secret": map[string]string{"value": canary}}}})
	sseID := in.addConnector(map[string]any{"name": "Everything SSE", "slug": "old", "url": everythingSSE.URL, "transport": "sse", "auth": map[string]any{"type": "none"}})
	in.policy("everything", "", backend.PolicyAlwaysAllow)
	in.policy("old", "", backend.PolicyAlwaysAllow)
	// Default: Everything only. Research: Everything SSE only.
	in.do(http.MethodPut, "/api/v1/conversations/default/connectors/"+sseID, map[string]bool{"enabled": false}, nil)
	var research api.ConversationView
	in.do(http.MethodPost, "/api/v1/conversations", map[string]any{"name": "Research", "connector_ids": []string{"old"}}, &research)
	if research.MCPURL != in.Base+"/mcp/research" || !strings.Contains(research.Commands["cursor"], "/mcp/research") {
		t.Fatalf("conversation view: %s %v", research.MCPURL, research.Commands)
	}

	token, _ := in.issueToken("Cursor on this machine")
	def := connectTS(t, in.Base+"/mcp", token)
	res := connectTS(t, in.Base+"/mcp/research", token)

	t.Run("list and call on two conversations", func(t *testing.T) {
		names := def.ToolNames()
		if !hasPrefixAll(names, "everything_") || !slices.Contains(names, "everything_echo") || !slices.Contains(names, "everything_get-sum") {
			t.Fatalf("default tools: %v", names)
		}
		if r, e := def.Call("everything_echo", map[string]any{"message": "hello"}); e != "" || r.Text() != "Echo: hello" {
			t.Fatalf("echo on default: %+v %s", r, e)
		}
		if r, e := def.Call("everything_get-sum", map[string]any{"a": 2, "b": 40}); e != "" || !strings.Contains(r.Text(), "42") {
			t.Fatalf("get-sum on default: %+v %s", r, e)
		}
		rnames := res.ToolNames()
		if !hasPrefixAll(rnames, "old_") || !slices.Contains(rnames, "old_echo") {
			t.Fatalf("research tools: %v", rnames)
		}
		if r, e := res.Call("old_echo", map[string]any{"message": "from research"}); e != "" || r.Text() != "Echo: from research" {
			t.Fatalf("echo on research: %+v %s", r, e)
		}
		if _, e := res.Call("everything_echo", map[string]any{"message": "x"}); e == "" {
			t.Fatal("a tool of another conversation was callable")
		}
	})

	t.Run("toggling a connector notifies live sessions", func(t *testing.T) {
		in.do(http.MethodPut, "/api/v1/conversations/research/connectors/everything", map[string]bool{"enabled": true}, nil)
		res.WaitEvent("tools_list_changed")
		names := res.ToolNames()
		if !slices.Contains(names, "everything_echo") || !slices.Contains(names, "old_echo") {
			t.Fatalf("after enabling: %v", names)
		}
		if r, _ := res.Call("everything_echo", map[string]any{"message": "now here"}); r.Text() != "Echo: now here" {
			t.Fatalf("call after enabling: %+v", r)
		}
		in.do(http.MethodPut, "/api/v1/conversations/research/connectors/everything", map[string]bool{"enabled": false}, nil)
		res.WaitEvent("tools_list_changed")
		if names := res.ToolNames(); slices.Contains(names, "everything_echo") {
			t.Fatalf("after disabling: %v", names)
		}
		var sessions []backend.LiveSession
		in.do(http.MethodGet, "/api/v1/conversations/research/sessions", nil, &sessions)
		if len(sessions) != 1 || sessions[0].ClientName != "ts-sdk-e2e" || sessions[0].TokenLabel != "Cursor on this machine" || sessions[0].LastCall.IsZero() {
			t.Fatalf("research sessions: %+v", sessions)
		}
	})

	t.Run("approvals through the API", func(t *testing.T) {
		in.policy("everything", "echo", backend.PolicyNeedsApproval)
		pending := def.Send(map[string]any{"op": "call", "name": "everything_echo", "arguments": map[string]any{"message": "may I? " + canary}})
		a := in.approval()
		if a.ExposedName != "everything_echo" || strings.Contains(string(a.Arguments), canary) {
			t.Fatalf("approval: %+v", a)
		}
		select {
		case <-pending:
			t.Fatal("the call returned before the approval")
		default:
		}
		in.do(http.MethodPost, "/api/v1/approvals/"+a.ID, map[string]string{"decision": "allow_once"}, nil)
		if r, e := def.CallAnswer(pending); e != "" || r.Text() != "Echo: may I? "+canary {
			t.Fatalf("approved call: %+v %s", r, e)
		}

		pending = def.Send(map[string]any{"op": "call", "name": "everything_echo", "arguments": map[string]any{"message": "no"}})
		a = in.approval()
		in.do(http.MethodPost, "/api/v1/approvals/"+a.ID, map[string]string{"decision": "deny"}, nil)
		if r, _ := def.CallAnswer(pending); !r.IsError || !strings.Contains(r.Text(), "declined") {
			t.Fatalf("denied call: %+v", r)
		}

		in.do(http.MethodPut, "/api/v1/settings", map[string]any{"approval_timeout_seconds": 5}, nil)
		r, _ := def.Call("everything_echo", map[string]any{"message": "nobody answers"})
		if !r.IsError || !strings.Contains(r.Text(), "declined by the user") {
			t.Fatalf("timed-out call: %+v", r)
		}
	})

	t.Run("disabled and held tools fail 1000 times", func(t *testing.T) {
		in.policy("everything", "get-sum", backend.PolicyDisabled)
		// Hold get-env as if its definition had changed upstream.
		err := in.Core.DB.UpdateTool(ctx, evID, "get-env", func(tl *backend.Tool) error {
			p := tl.ToolDef
			p.Description = "changed upstream"
			tl.Pending, tl.PendingAt = &p, time.Now()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		in.Core.Events.Publish(backend.NewEvent(backend.EventToolsChanged, map[string]string{"connector_id": evID}))
		def.WaitEvent("tools_list_changed")
		names := def.ToolNames()
		if slices.Contains(names, "everything_get-sum") || slices.Contains(names, "everything_get-env") {
			t.Fatalf("disabled or held tool listed: %v", names)
		}
		try := []string{"everything_get-sum", "get-sum", "everything_get-env", "get-env", "old_get-sum", "Everything_get-sum"}
		for i := 0; i < 1000; i++ {
			name := try[i%len(try)]
			r, e := def.Call(name, map[string]any{"a": 1, "b": 2})
			if e == "" && !r.IsError {
				t.Fatalf("attempt %d: %s was called: %+v", i, name, r)
			}
		}
	})

	t.Run("activity log", func(t *testing.T) {
		got := map[string]int{}
		for _, e := range in.activity("") {
			got[e.Outcome]++
			raw, _ := json.Marshal(e)
			if strings.Contains(string(raw), canary) {
				t.Fatalf("the canary reached the activity log: %s", raw)
			}
		}
		if got["blocked"] != 1001 || got["denied"] != 1 || got["timed_out"] != 1 || got["ok"] != 5 {
			t.Fatalf("outcomes: %v", got)
		}
		approved := in.activity("outcome=ok&q=may+I")
		if len(approved) != 1 || approved[0].Approval != "allow_once" || !strings.Contains(string(approved[0].Arguments), "[REDACTED]") ||
			approved[0].TokenLabel != "Cursor on this machine" || approved[0].ConnectorID != evID {
			t.Fatalf("approved entry: %+v", approved)
		}
		if e := in.activity("tool=everything_get-env"); len(e) < 100 || !strings.Contains(e[0].Error, "review") {
			t.Fatalf("held entries: %d %+v", len(e), e[:min(1, len(e))])
		}
	})

	t.Run("refusals", func(t *testing.T) {
		revoked, revokedID := in.issueToken("soon revoked")
		in.do(http.MethodDelete, "/api/v1/tokens/"+revokedID, nil, nil)
		for _, c := range []struct {
			name, token, origin, host string
			want                      int
		}{
			{"no token", "", "", "", 401},
			{"revoked token", revoked, "", "", 401},
			{"evil origin", token, "https://evil.example", "", 403},
			{"evil host", token, "", "evil.example", 403},
		} {
			req, _ := http.NewRequest(http.MethodPost, in.Base+"/mcp", strings.NewReader(initBody))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			if c.origin != "" {
				req.Header.Set("Origin", c.origin)
			}
			if c.host != "" {
				req.Host = c.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.want)
			}
			if c.want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: WWW-Authenticate %q", c.name, resp.Header.Get("WWW-Authenticate"))
			}
		}
	})
}
