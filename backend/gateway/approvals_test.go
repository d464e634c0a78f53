package gateway_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
)

// pending waits for the next approval request on the hub.
func (h *harness) approvalRequests() (<-chan *backend.Approval, func()) {
	sub := h.hub.Subscribe(256)
	ch := make(chan *backend.Approval, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range sub.C {
			if e.Type == backend.EventApprovalRequested {
				var a backend.Approval
				backend.DecodeEvent(e, &a)
				ch <- &a
			}
		}
	}()
	return ch, func() { sub.Close(); <-done }
}

func nextApproval(t *testing.T, ch <-chan *backend.Approval) *backend.Approval {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("no approval requested within 10s")
		return nil
	}
}

type callResult struct {
	res *mcp.CallToolResult
	err error
}

func callAsync(c *client, callCtx context.Context, name string, args any) <-chan callResult {
	out := make(chan callResult, 1)
	go func() {
		res, err := c.cs.CallTool(callCtx, &mcp.CallToolParams{Name: name, Arguments: args})
		out <- callResult{res, err}
	}()
	return out
}

func TestNeedsApprovalWaitsForAPerson(t *testing.T) {
	const secret = "canary-arg-4f1d9b7e"
	h := newHarness(t, harnessOptions{approvalTimeout: 300 * time.Millisecond})
	h.addPeer("Peer", "peer", newPeer(t).URL, backend.PolicyNeedsApproval)
	reqs, stop := h.approvalRequests()
	defer stop()
	approvals := h.gw.Approvals()

	for _, era := range []string{newEra, legacyEra} {
		t.Run(era, func(t *testing.T) {
			c := h.connect("/mcp", era)

			// Allow once: the call blocks until then and returns the upstream result.
			done := callAsync(c, ctx, "peer_echo", map[string]any{"message": "please " + secret})
			a := nextApproval(t, reqs)
			if a.ExposedName != "peer_echo" || a.Tool != "echo" || a.Connector != "Peer" || a.ClientName != "gotest-"+era || a.TokenLabel != "test client" {
				t.Fatalf("approval = %+v", a)
			}
			if strings.Contains(string(a.Arguments), secret) == false {
				// not a stored secret: shown to the person as is
				t.Fatalf("arguments = %s", a.Arguments)
			}
			select {
			case r := <-done:
				t.Fatalf("the call returned before an answer: %+v", r)
			default:
			}
			list, _ := approvals.ListApprovals(ctx)
			if len(list) != 1 || list[0].ID != a.ID {
				t.Fatalf("pending = %+v", list)
			}
			if err := approvals.DecideApproval(ctx, a.ID, backend.DecisionAllowOnce); err != nil {
				t.Fatal(err)
			}
			r := <-done
			if r.err != nil || text(r.res) != "Echo: please "+secret {
				t.Fatalf("allowed call: %+v %v", r.res, r.err)
			}

			// Deny: a tool error that says the user declined.
			done = callAsync(c, ctx, "peer_echo", map[string]any{"message": "no"})
			a = nextApproval(t, reqs)
			approvals.DecideApproval(ctx, a.ID, backend.DecisionDeny)
			r = <-done
			if r.err != nil || !r.res.IsError || !strings.Contains(text(r.res), "declined") {
				t.Fatalf("denied call: %+v %v", r.res, r.err)
			}

			// Nobody answers: declined when the timeout passes.
			r = <-callAsync(c, ctx, "peer_echo", map[string]any{"message": "late"})
			nextApproval(t, reqs)
			if r.err != nil || !r.res.IsError || !strings.Contains(text(r.res), "declined by the user") {
				t.Fatalf("timed-out call: %+v %v", r.res, r.err)
			}
			if list, _ := approvals.ListApprovals(ctx); len(list) != 0 {
				t.Fatalf("approvals left pending: %+v", list)
			}
		})
	}
	got := map[string]int{}
	for _, e := range h.activity(backend.ActivityFilter{}) {
		got[e.Outcome+"/"+e.Approval]++
	}
	want := map[string]int{"ok/allow_once": 2, "denied/deny": 2, "timed_out/timeout": 2}
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("activity outcomes = %v, want %v", got, want)
		}
	}
}

func TestAllowAlwaysSetsThePolicy(t *testing.T) {
	h := newHarness(t, harnessOptions{approvalTimeout: time.Minute})
	h.addPeer("Peer", "peer", newPeer(t).URL, backend.PolicyNeedsApproval)
	reqs, stop := h.approvalRequests()
	defer stop()
	c := h.connect("/mcp", newEra)
	first := callAsync(c, ctx, "peer_echo", map[string]any{"message": "1"})
	second := callAsync(c, ctx, "peer_echo", map[string]any{"message": "2"})
	a := nextApproval(t, reqs)
	nextApproval(t, reqs)
	if err := h.gw.Approvals().DecideApproval(ctx, a.ID, backend.DecisionAllowAlways); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []<-chan callResult{first, second} {
		if r := <-ch; r.err != nil || r.res.IsError {
			t.Fatalf("call after allow always: %+v %v", r.res, r.err)
		}
	}
	tools, err := h.reg.ListTools(ctx, "peer")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(tools, func(tl *backend.Tool) bool { return tl.Name == "echo" })
	if i < 0 || tools[i].Policy != backend.PolicyAlwaysAllow {
		t.Fatalf("echo after allow always: %+v", tools)
	}
	// The next call does not ask.
	if r := c.call(t, "peer_echo", map[string]any{"message": "3"}); text(r) != "Echo: 3" {
		t.Fatalf("third call: %q", text(r))
	}
	if err := h.gw.Approvals().DecideApproval(ctx, a.ID, backend.DecisionDeny); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("deciding twice: %v", err)
	}
}

func TestClientCancellingRemovesThePendingApproval(t *testing.T) {
	h := newHarness(t, harnessOptions{approvalTimeout: time.Minute})
	h.addPeer("Peer", "peer", newPeer(t).URL, backend.PolicyNeedsApproval)
	reqs, stop := h.approvalRequests()
	defer stop()
	for _, era := range []string{newEra, legacyEra} {
		t.Run(era, func(t *testing.T) {
			c := h.connect("/mcp", era)
			cctx, cancel := context.WithCancel(ctx)
			done := callAsync(c, cctx, "peer_echo", map[string]any{"message": "x"})
			nextApproval(t, reqs)
			cancel()
			<-done
			waitFor(t, "the approval to go", func() bool {
				list, _ := h.gw.Approvals().ListApprovals(ctx)
				return len(list) == 0
			})
		})
	}
	waitFor(t, "cancelled entries", func() bool {
		return len(h.activity(backend.ActivityFilter{Outcome: backend.OutcomeCancelled})) == 2
	})
	for _, e := range h.activity(backend.ActivityFilter{Outcome: backend.OutcomeCancelled}) {
		if e.Approval != backend.DecisionCancelled {
			t.Fatalf("entry = %+v", e)
		}
	}
}

// With the setting on, a client that supports elicitation is asked too,
// and its answer counts.
func TestApprovalAskedInTheClient(t *testing.T) {
	h := newHarness(t, harnessOptions{approvalTimeout: time.Minute})
	h.addPeer("Peer", "peer", newPeer(t).URL, backend.PolicyNeedsApproval)
	s := h.db.Settings()
	s.ElicitApprovals = true
	if _, err := h.reg.UpdateSettings(ctx, &s); err != nil {
		t.Fatal(err)
	}
	asked := make(chan string, 4)
	answer := backend.DecisionAllowOnce
	c := h.connectWith("/mcp", legacyEra, h.token, func(r *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		asked <- r.Params.Message
		return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"decision": answer}}, nil
	})
	if r := c.call(t, "peer_echo", map[string]any{"message": "hi"}); text(r) != "Echo: hi" {
		t.Fatalf("call allowed in the client: %q", text(r))
	}
	if msg := <-asked; !strings.Contains(msg, `"echo"`) || !strings.Contains(msg, `"Peer"`) {
		t.Fatalf("question = %q", msg)
	}
	answer = backend.DecisionDeny
	if r := c.call(t, "peer_echo", map[string]any{"message": "hi"}); !r.IsError || !strings.Contains(text(r), "declined") {
		t.Fatalf("call denied in the client: %q", text(r))
	}
}

// A call waiting for a person ends when its token is revoked, its
// conversation is deleted, or Patchbay closes — it does not hold the
// session (or shutdown) for the rest of the timeout.
func TestWaitingCallsEndWhenTheirReasonGoes(t *testing.T) {
	h := newHarness(t, harnessOptions{approvalTimeout: time.Hour})
	h.addPeer("Peer", "peer", newPeer(t).URL, backend.PolicyNeedsApproval)
	if _, err := h.reg.CreateConversation(ctx, &backend.Conversation{Name: "Doomed", Connectors: []string{"peer"}}); err != nil {
		t.Fatal(err)
	}
	reqs, stop := h.approvalRequests()
	defer stop()
	value, tok, err := h.reg.IssueToken(ctx, "to revoke", "")
	if err != nil {
		t.Fatal(err)
	}

	revoked := callAsync(h.connectWith("/mcp", legacyEra, value, nil), ctx, "peer_echo", map[string]any{"message": "1"})
	doomed := callAsync(h.connect("/mcp/doomed", legacyEra), ctx, "peer_echo", map[string]any{"message": "2"})
	closing := callAsync(h.connect("/mcp", newEra), ctx, "peer_echo", map[string]any{"message": "3"})
	for range 3 {
		nextApproval(t, reqs)
	}
	// Each call waits an hour for a person unless its reason going ends it.
	ended := func(what string, ch <-chan callResult) callResult {
		t.Helper()
		select {
		case r := <-ch:
			return r
		case <-time.After(20 * time.Second):
			t.Fatalf("the call still waits after %s", what)
			return callResult{}
		}
	}
	if err := h.reg.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if r := ended("its token was revoked", revoked); r.err == nil && !r.res.IsError {
		t.Fatalf("the call of a revoked token went through: %+v", r.res)
	}
	if err := h.reg.DeleteConversation(ctx, "doomed"); err != nil {
		t.Fatal(err)
	}
	if r := ended("its conversation was deleted", doomed); r.err == nil && !r.res.IsError {
		t.Fatalf("the call of a deleted conversation went through: %+v", r.res)
	}
	closed := make(chan struct{})
	go func() { h.gw.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("Close waited for a call that waits for a person")
	}
	<-closing
	if list, _ := h.gw.Approvals().ListApprovals(ctx); len(list) != 0 {
		t.Fatalf("approvals left: %+v", list)
	}
}
