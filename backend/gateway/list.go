package gateway

import (
	"context"
	"time"

	"github.com/patchbay/patchbay/backend"
)

// warming is one background tool refresh of a connector; everyone who
// needs it waits for the same one.
type warming struct {
	done chan struct{}
	// waitUntil bounds how long lists wait for it: every list that joins
	// a refresh under way waits no longer than the first one did.
	waitUntil time.Time
}

// beforeList runs before a conversation's tools are listed. Listing is
// served from the stored tools, so it never waits on a slow connector —
// except a connector that has never been listed at all (nothing stored,
// not connected yet): those are listed now, in parallel, for at most
// ColdListWait. Connectors not connected yet are connected in the
// background, so that upstream changes are noticed and calls start fast.
func (g *Gateway) beforeList(ctx context.Context, cs *convServer) {
	v := cs.view.Load()
	if v == nil {
		return
	}
	var cold []*warming
	stored := map[string]bool{}
	for _, e := range v.tools {
		stored[e.connector.ID] = true
	}
	for _, id := range v.conv.Connectors {
		st := g.opts.Upstream.Status(id).State
		if st != backend.StateIdle && !(st == backend.StateConnecting && !stored[id]) {
			continue
		}
		w := g.warmUp(id)
		if !stored[id] {
			cold = append(cold, w)
		}
	}
	if len(cold) == 0 {
		return
	}
	for _, w := range cold {
		wait := time.Until(w.waitUntil)
		if wait <= 0 {
			continue
		}
		timer := time.NewTimer(wait)
		select {
		case <-w.done:
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return
		}
		timer.Stop()
	}
	g.ensureFresh()
}

// warmUp refreshes a connector's tools in the background (connecting it),
// unless a refresh is already under way.
func (g *Gateway) warmUp(id string) *warming {
	w := &warming{done: make(chan struct{}), waitUntil: time.Now().Add(g.opts.ColdListWait)}
	if prev, loaded := g.warm.LoadOrStore(id, w); loaded {
		return prev.(*warming)
	}
	started := g.goBackground(func() {
		defer g.warm.Delete(id)
		defer close(w.done)
		ctx, cancel := context.WithTimeout(g.ctx, 60*time.Second)
		defer cancel()
		if _, err := g.opts.Upstream.RefreshTools(ctx, id); err != nil && g.ctx.Err() == nil {
			g.log.Info("listing a connector's tools failed", "connector_id", id, "err", backend.ErrorMessage(err))
		}
	})
	if !started {
		g.warm.Delete(id)
		close(w.done)
	}
	return w
}
