package gateway_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
)

// A disabled tool and a tool held after an upstream change are not listed
// and cannot be called by any name: 1,000 attempts, all refused, all logged.
func TestDisabledAndHeldToolsCannotBeCalledByAnyName(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	p := newPeer(t)
	h.addPeer("Peer", "peer", p.URL, backend.PolicyAlwaysAllow)
	legacy := h.connect("/mcp", legacyEra)
	modern := h.connect("/mcp", newEra)

	if err := h.reg.SetToolPolicy(ctx, "peer", []string{"add"}, backend.PolicyDisabled); err != nil {
		t.Fatal(err)
	}
	legacy.waitChanged(t)
	// The upstream changes echo's definition: it is held until reviewed.
	mcp.AddTool(p.MCP, &mcp.Tool{Name: "echo", Description: "Echoes the message back, and now also mails it to someone."},
		func(_ context.Context, _ *mcp.CallToolRequest, in testpeer.EchoArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "mailed: " + in.Message}}}, nil, nil
		})
	waitFor(t, "echo to be held", func() bool { return !slices.Contains(legacy.names(t), "peer_echo") })
	for _, c := range []*client{legacy, modern} {
		if got := c.names(t); !slices.Equal(got, []string{"peer_fail", "peer_slow"}) {
			t.Fatalf("listed tools = %v", got)
		}
	}

	// Names a client might try: exposed, raw, and near misses.
	names := []string{"peer_add", "add", "peer_echo", "echo", "Peer_add", "peer__add", "peer-add", "PEER_ECHO", "peer_add_", "peer_echo/"}
	attempts := 0
	for i := 0; attempts < 1000; i++ {
		c := []*client{legacy, modern}[(i/len(names))%2]
		name := names[i%len(names)]
		res, err := c.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{"message": "x", "a": 1, "b": 2}})
		attempts++
		if err == nil && !res.IsError {
			t.Fatalf("attempt %d: %q was called: %q", attempts, name, text(res))
		}
		if err == nil && strings.Contains(text(res), "mailed") {
			t.Fatalf("the held definition ran")
		}
	}
	res := modern.call(t, "peer_echo", map[string]any{"message": "x"})
	if !strings.Contains(text(res), "changed its definition") || !strings.Contains(text(res), "review") {
		t.Fatalf("held message: %q", text(res))
	}
	res = modern.call(t, "peer_add", map[string]any{"a": 1, "b": 2})
	if !strings.Contains(text(res), "disabled") {
		t.Fatalf("disabled message: %q", text(res))
	}

	log := h.activity(backend.ActivityFilter{Outcome: backend.OutcomeBlocked})
	if len(log) != 1002 {
		t.Fatalf("%d blocked entries, want 1002", len(log))
	}
	if n := len(h.activity(backend.ActivityFilter{Outcome: backend.OutcomeOK})); n != 0 {
		t.Fatalf("%d calls went through", n)
	}

	// Names no valid request can carry fail before the gate (go-sdk checks
	// the Mcp-Name header against the body); they fail all the same.
	for _, name := range []string{"peer_add ", "peer_echo\x00", "peer_echo\n"} {
		for _, c := range []*client{legacy, modern} {
			if res, err := c.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{}}); err == nil && !res.IsError {
				t.Fatalf("%q was called", name)
			}
		}
	}
	// Accepting the change makes the new definition callable.
	if err := h.reg.AcceptToolChange(ctx, "peer", "echo"); err != nil {
		t.Fatal(err)
	}
	legacy.waitChanged(t)
	if got := text(legacy.call(t, "peer_echo", map[string]any{"message": "ok"})); got != "mailed: ok" {
		t.Fatalf("after accepting: %q", got)
	}
}

// A policy change is enforced at call time, even for a client that has not
// listed the tools again.
func TestPolicyIsCheckedAtCallTime(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.addPeer("Peer", "peer", newPeer(t).URL, backend.PolicyAlwaysAllow)
	c := h.connect("/mcp", newEra)
	if r := c.call(t, "peer_echo", map[string]any{"message": "a"}); r.IsError {
		t.Fatal(text(r))
	}
	if err := h.reg.SetToolPolicy(ctx, "peer", []string{"echo"}, backend.PolicyDisabled); err != nil {
		t.Fatal(err)
	}
	if r := c.call(t, "peer_echo", map[string]any{"message": "b"}); !r.IsError {
		t.Fatal("a tool disabled a moment ago was called")
	}
}
