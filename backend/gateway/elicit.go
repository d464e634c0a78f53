package gateway

import (
	"context"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
)

// elicitSchema asks for one of the three answers a person can give.
var elicitSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"decision": map[string]any{
			"type":      "string",
			"title":     "Decision",
			"enum":      []string{backend.DecisionAllowOnce, backend.DecisionAllowAlways, backend.DecisionDeny},
			"enumNames": []string{"Allow once", "Always allow this tool", "Deny"},
		},
	},
	"required": []string{"decision"},
}

// elicitor returns, for a client that declared elicitation support, a
// function that also asks the approval question in the client once the
// approval is pending (its answer counts like one given in Patchbay), and a
// function that withdraws the question and waits until it is gone.
//
// Only sessions of the 2025-11-25 era can be asked: a 2026-07-28 client
// would need the multi-round-trip pattern, which a call that waits on a
// person (and may be answered in Patchbay meanwhile) does not fit.
func (g *Gateway) elicitor(ctx context.Context, req *mcp.CallToolRequest, a *backend.Approval) (func(string), func()) {
	ss := req.Session
	caps := req.ClientCapabilities()
	if ss == nil || ss.ID() == "" || caps == nil || caps.Elicitation == nil {
		return nil, func() {}
	}
	ectx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	started := false
	ready := func(id string) {
		started = true
		go func() {
			defer close(done)
			res, err := ss.Elicit(ectx, &mcp.ElicitParams{Message: elicitMessage(a), RequestedSchema: elicitSchema})
			if err != nil || res == nil {
				return // not answered there; Patchbay's own prompt still stands
			}
			decision := ""
			switch res.Action {
			case "accept":
				decision, _ = res.Content["decision"].(string)
			case "decline":
				decision = backend.DecisionDeny
			}
			if backend.ValidDecision(decision) {
				_ = g.approvals.DecideApproval(context.WithoutCancel(ctx), id, decision)
			}
		}()
	}
	return ready, func() {
		cancel()
		if started {
			<-done
		}
	}
}

func elicitMessage(a *backend.Approval) string {
	var b strings.Builder
	who := a.ClientName
	if who == "" {
		who = a.TokenLabel
	}
	fmt.Fprintf(&b, "Patchbay: allow %s to call %q on %q?", orDefault(who, "this client"), a.Tool, a.Connector)
	if len(a.Arguments) > 0 {
		args := string(a.Arguments)
		if len(args) > 2000 {
			args = truncateUTF8(args, 2000) + "…"
		}
		fmt.Fprintf(&b, "\n\nArguments: %s", args)
	}
	return b.String()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
