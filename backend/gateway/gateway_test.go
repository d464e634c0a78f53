package gateway_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/backend"
)

func TestListAndCallBothEras(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	p := newPeer(t)
	h.addPeer("Peer One", "peer", p.URL, backend.PolicyAlwaysAllow)
	for _, era := range []string{newEra, legacyEra} {
		t.Run(era, func(t *testing.T) {
			c := h.connect("/mcp", era)
			got := c.names(t)
			want := []string{"peer_add", "peer_echo", "peer_fail", "peer_slow"}
			if !slices.Equal(got, want) {
				t.Fatalf("tools = %v, want %v", got, want)
			}
			res := c.call(t, "peer_echo", map[string]any{"message": "hi"})
			if res.IsError || text(res) != "Echo: hi" {
				t.Fatalf("echo: %+v %q", res, text(res))
			}
			res = c.call(t, "peer_add", map[string]any{"a": 2, "b": 3})
			if sc, _ := res.StructuredContent.(map[string]any); sc["sum"] != 5.0 {
				t.Fatalf("add structured = %#v", res.StructuredContent)
			}
			res = c.call(t, "peer_fail", map[string]any{})
			if !res.IsError || !strings.Contains(text(res), "always fails") {
				t.Fatalf("fail: %+v", res)
			}
		})
	}
}

func TestConversationsAndToggleDeliverListChanged(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	a := h.addPeer("Alpha", "alpha", newPeer(t).URL, backend.PolicyAlwaysAllow)
	b := h.addPeer("Beta", "beta", newPeer(t).URL, backend.PolicyAlwaysAllow)
	if _, err := h.reg.CreateConversation(ctx, &backend.Conversation{Name: "Research", Connectors: []string{b.ID}}); err != nil {
		t.Fatal(err)
	}
	for _, era := range []string{newEra, legacyEra} {
		t.Run(era, func(t *testing.T) {
			def := h.connect("/mcp", era)
			res := h.connect("/mcp/research", era)
			if got := res.names(t); !slices.Equal(got, []string{"beta_add", "beta_echo", "beta_fail", "beta_slow"}) {
				t.Fatalf("research tools = %v", got)
			}
			if got := def.names(t); len(got) != 8 {
				t.Fatalf("default tools = %v", got)
			}
			// A tool of a connector not in the conversation cannot be called there.
			if _, err := res.cs.CallTool(ctx, toolParams("alpha_echo", map[string]any{"message": "x"})); err == nil {
				t.Fatal("alpha_echo callable in research")
			}

			// Toggle Alpha into research: only research's clients are told.
			if _, err := h.reg.SetConnectorEnabled(ctx, "research", a.ID, true); err != nil {
				t.Fatal(err)
			}
			res.waitChanged(t)
			if got := res.names(t); len(got) != 8 || !slices.Contains(got, "alpha_echo") {
				t.Fatalf("after enabling alpha: %v", got)
			}
			if r := res.call(t, "alpha_echo", map[string]any{"message": "now"}); text(r) != "Echo: now" {
				t.Fatalf("alpha_echo in research: %q", text(r))
			}
			if _, err := h.reg.SetConnectorEnabled(ctx, "research", a.ID, false); err != nil {
				t.Fatal(err)
			}
			res.waitChanged(t)
			if got := res.names(t); len(got) != 4 {
				t.Fatalf("after disabling alpha: %v", got)
			}
			select {
			case <-def.changed:
				t.Fatal("the default conversation's client was told about research's change")
			default:
			}
		})
	}
}
