package gateway

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/patchbay/patchbay/backend"
)

// Approvals holds the calls waiting for a person. It implements
// backend.ApprovalService for the API and the CLI; the gateway's call path
// asks it and waits for the answer, a timeout or the client giving up.
// Pending approvals live in memory only: a call cannot outlive the process
// that holds its client's connection.
type Approvals struct {
	pub backend.Publisher
	now func() time.Time
	// setPolicy makes "allow always" stick (the registry's SetToolPolicy).
	setPolicy func(ctx context.Context, connectorID, tool string) error

	mu      sync.Mutex
	pending map[string]*pendingApproval
}

type pendingApproval struct {
	a      backend.Approval
	answer chan string // buffered: the first decision wins
}

func newApprovals(pub backend.Publisher, now func() time.Time, setPolicy func(ctx context.Context, connectorID, tool string) error) *Approvals {
	return &Approvals{pub: pub, now: now, setPolicy: setPolicy, pending: map[string]*pendingApproval{}}
}

var _ backend.ApprovalService = (*Approvals)(nil)

// ask registers a and waits for a decision. It returns the decision:
// allow_once, allow_always or deny from a person, timeout when nobody
// answered within timeout, or cancelled when ctx ended first (the client
// gave up); in every case the approval is no longer pending afterwards.
// ready, when not nil, is called once the approval is listed.
func (b *Approvals) ask(ctx context.Context, a *backend.Approval, timeout time.Duration, ready func(id string)) string {
	a.ID = backend.NewID("a")
	a.CreatedAt = b.now().UTC()
	a.ExpiresAt = a.CreatedAt.Add(timeout)
	p := &pendingApproval{a: *a, answer: make(chan string, 1)}
	b.mu.Lock()
	b.pending[a.ID] = p
	b.mu.Unlock()
	b.pub.Publish(backend.NewEvent(backend.EventApprovalRequested, a))
	if ready != nil {
		ready(a.ID)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var d string
	select {
	case d = <-p.answer:
		return d // decide removed it and published
	case <-timer.C:
		d = backend.DecisionTimeout
	case <-ctx.Done():
		d = backend.DecisionCancelled
	}
	if !b.remove(a.ID) {
		// A person answered at the same moment: their answer counts.
		return <-p.answer
	}
	b.pub.Publish(backend.NewEvent(backend.EventApprovalResolved, map[string]string{"id": a.ID, "decision": d}))
	return d
}

func (b *Approvals) remove(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.pending[id]; !ok {
		return false
	}
	delete(b.pending, id)
	return true
}

// ListApprovals returns the pending approvals, oldest first.
func (b *Approvals) ListApprovals(ctx context.Context) ([]*backend.Approval, error) {
	b.mu.Lock()
	out := make([]*backend.Approval, 0, len(b.pending))
	for _, p := range b.pending {
		a := p.a
		out = append(out, &a)
	}
	b.mu.Unlock()
	slices.SortFunc(out, func(x, y *backend.Approval) int { return x.CreatedAt.Compare(y.CreatedAt) })
	return out, ctx.Err()
}

// DecideApproval answers a pending approval. "allow_always" also sets the
// tool's policy to always allow, and answers the other calls of the same
// tool that are waiting.
func (b *Approvals) DecideApproval(ctx context.Context, id, decision string) error {
	if !backend.ValidDecision(decision) {
		var p backend.Problems
		p.Add("decision", "must be allow_once, allow_always or deny (got %q)", decision)
		return p.Err("request")
	}
	b.mu.Lock()
	p, ok := b.pending[id]
	var same []*pendingApproval
	if ok {
		delete(b.pending, id)
		if decision == backend.DecisionAllowAlways {
			for oid, o := range b.pending {
				if o.a.ConnectorID == p.a.ConnectorID && o.a.Tool == p.a.Tool {
					delete(b.pending, oid)
					same = append(same, o)
				}
			}
		}
	}
	b.mu.Unlock()
	if !ok {
		return backend.Errorf(backend.ENOTFOUND, "No pending approval %q.", id).
			WithSlug("approval_not_found").
			WithFix("It was answered already, timed out, or the client stopped waiting; see `patchbay approvals list`.")
	}
	var err error
	if decision == backend.DecisionAllowAlways && b.setPolicy != nil {
		// Before the call proceeds, so that the next call does not ask.
		err = b.setPolicy(ctx, p.a.ConnectorID, p.a.Tool)
	}
	for _, q := range append([]*pendingApproval{p}, same...) {
		q.answer <- decision
		b.pub.Publish(backend.NewEvent(backend.EventApprovalResolved, map[string]string{"id": q.a.ID, "decision": decision}))
	}
	return err
}
