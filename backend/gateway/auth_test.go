package gateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/backend"
)

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

func (h *harness) post(path, token, body string, hdr map[string]string) *http.Response {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.url(path), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func errorSlug(t *testing.T, resp *http.Response) string {
	t.Helper()
	var b struct {
		Error struct{ Slug, Message, SuggestedFix string }
	}
	data, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatalf("error body %q: %v", data, err)
	}
	return b.Error.Slug
}

func TestRequestsAreRefusedWithoutAValidTokenOrFromOutside(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	revoked, tok, err := h.reg.IssueToken(ctx, "revoked soon", "")
	if err != nil {
		t.Fatal(err)
	}
	if resp := h.post("/mcp", revoked, initBody, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("valid token: %d", resp.StatusCode)
	}
	if err := h.reg.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, token string
		hdr         map[string]string
		status      int
		slug        string
	}{
		{"no token", "", nil, 401, "client_token_required"},
		{"wrong token", "pbt_notarealtoken", nil, 401, "client_token_required"},
		{"revoked token", revoked, nil, 401, "client_token_required"},
		{"admin-looking token", "pba_whatever", nil, 401, "client_token_required"},
		{"evil origin", h.token, map[string]string{"Origin": "https://evil.example"}, 403, "bad_origin"},
		{"null origin", h.token, map[string]string{"Origin": "null"}, 403, "bad_origin"},
		{"evil host", h.token, map[string]string{"Host": "evil.example"}, 403, "bad_host"},
		{"evil host with port", h.token, map[string]string{"Host": "evil.example:47821"}, 403, "bad_host"},
		{"evil host, no token", "", map[string]string{"Host": "evil.example"}, 403, "bad_host"},
	} {
		resp := h.post("/mcp", c.token, initBody, c.hdr)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.status)
			continue
		}
		if c.status == 401 && resp.Header.Get("WWW-Authenticate") != `Bearer realm="patchbay"` {
			t.Errorf("%s: WWW-Authenticate = %q", c.name, resp.Header.Get("WWW-Authenticate"))
		}
		if got := errorSlug(t, resp); got != c.slug {
			t.Errorf("%s: slug %q, want %q", c.name, got, c.slug)
		}
	}
	if resp := h.post("/mcp/nope", h.token, initBody, nil); resp.StatusCode != 404 {
		t.Fatalf("unknown conversation: %d", resp.StatusCode)
	}
	if resp := h.post("/mcp", h.token, initBody, map[string]string{"Origin": h.srv.URL}); resp.StatusCode != 200 {
		t.Fatalf("own origin: %d", resp.StatusCode)
	}
}

// A revoked token stops working at once, also for a client that is
// connected, and its open streams are closed.
func TestRevokedTokenStopsALiveClient(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.addPeer("Peer", "peer", newPeer(t).URL, backend.PolicyAlwaysAllow)
	value, tok, err := h.reg.IssueToken(ctx, "Cursor on this machine", "cursor")
	if err != nil {
		t.Fatal(err)
	}
	for _, era := range []string{newEra, legacyEra} {
		c := h.connectWith("/mcp", era, value, nil)
		c.call(t, "peer_echo", map[string]any{"message": "x"})
		defer func(era string) {
			if _, err := c.cs.CallTool(ctx, toolParams("peer_echo", map[string]any{"message": "y"})); err == nil {
				t.Errorf("%s: call with a revoked token succeeded", era)
			}
		}(era)
	}
	if n := len(h.gw.LiveSessions("default")); n != 2 {
		t.Fatalf("%d live sessions", n)
	}
	if err := h.reg.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "sessions to end", func() bool { return len(h.gw.LiveSessions("default")) == 0 })
}

// A session opened on one conversation path cannot be used on another, nor
// with another token.
func TestSessionIsBoundToItsPathAndToken(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	if _, err := h.reg.CreateConversation(ctx, &backend.Conversation{Name: "Other"}); err != nil {
		t.Fatal(err)
	}
	resp := h.post("/mcp", h.token, initBody, nil)
	sid := resp.Header.Get("Mcp-Session-Id")
	if sid == "" {
		t.Fatal("no session id")
	}
	h.post("/mcp", h.token, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"})
	list := `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	hdr := map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"}
	if r := h.post("/mcp", h.token, list, hdr); r.StatusCode != 200 {
		t.Fatalf("own path: %d", r.StatusCode)
	}
	if r := h.post("/mcp/other", h.token, list, hdr); r.StatusCode == 200 {
		t.Fatal("session used on another conversation path")
	}
	other := h.issue("another client")
	if r := h.post("/mcp", other, list, hdr); r.StatusCode == 200 {
		t.Fatal("session used with another token")
	}
}

func TestLiveSessionsArePerConversation(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.addPeer("Peer", "peer", newPeer(t).URL, backend.PolicyAlwaysAllow)
	if _, err := h.reg.CreateConversation(ctx, &backend.Conversation{Name: "Other", Connectors: []string{"peer"}}); err != nil {
		t.Fatal(err)
	}
	a := h.connect("/mcp", legacyEra)
	b := h.connectWith("/mcp/other", newEra, h.issue("Claude on this machine"), nil)
	a.call(t, "peer_echo", map[string]any{"message": "x"})
	b.call(t, "peer_echo", map[string]any{"message": "x"})
	def, other := h.gw.LiveSessions("default"), h.gw.LiveSessions("other")
	if len(def) != 1 || len(other) != 1 {
		t.Fatalf("default %+v other %+v", def, other)
	}
	d, o := def[0], other[0]
	if d.ClientName != "gotest-"+legacyEra || d.ClientVersion != "1.2.3" || d.TokenLabel != "test client" || d.ProtocolVersion != legacyEra || d.LastCall.IsZero() || d.Since.IsZero() {
		t.Fatalf("legacy session = %+v", d)
	}
	if o.ClientName != "gotest-"+newEra || o.TokenLabel != "Claude on this machine" || o.ProtocolVersion != newEra || o.LastCall.IsZero() {
		t.Fatalf("new-era client = %+v", o)
	}
	a.cs.Close()
	waitFor(t, "the closed session to go", func() bool { return len(h.gw.LiveSessions("default")) == 0 })
}
