package secrets

import (
	"context"
	"sync/atomic"
)

// gate lets one keychain operation run at a time and bounds how long a
// caller waits for it.
//
// go-keyring calls block and cannot be cancelled (on Linux a call can wait
// forever for an unlock prompt), so each call runs in its own goroutine while
// the caller waits for it or for its deadline. Were every timed-out call left
// running on its own, a locked keychain would collect one stuck goroutine per
// request. Instead a call that outlives its caller keeps the gate's single
// slot until it returns: later callers wait for the slot and time out without
// starting anything, so at most one call is ever stuck.
//
// One slot also keeps the parts of a split value consistent within the
// process: a Get never sees half of a concurrent Set.
type gate struct{ slot chan struct{} }

func newGate() *gate { return &gate{slot: make(chan struct{}, 1)} }

// hold is the slot held by one operation.
type hold struct {
	g    *gate
	ctx  context.Context
	held bool
}

// acquire waits for the slot until ctx is done.
func (g *gate) acquire(ctx context.Context) (*hold, error) {
	select {
	case g.slot <- struct{}{}:
		return &hold{g: g, ctx: ctx, held: true}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// release frees the slot unless a timed-out call took it over.
func (h *hold) release() {
	if h.held {
		h.held = false
		<-h.g.slot
	}
}

// Call states: the first of the caller and the call to change the state
// from running decides who frees the slot.
const (
	running int32 = iota
	finished
	abandoned
)

// do runs fn and returns its error, or ctx's error once ctx is done. After a
// timeout the hold is gone and every further do fails at once.
func (h *hold) do(fn func() error) error {
	if !h.held {
		return context.DeadlineExceeded
	}
	if err := h.ctx.Err(); err != nil {
		return err
	}
	var state atomic.Int32
	done := make(chan error, 1)
	go func() {
		err := fn()
		if !state.CompareAndSwap(running, finished) {
			<-h.g.slot // the caller gave up: the slot was left to us
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-h.ctx.Done():
		if state.CompareAndSwap(running, abandoned) {
			h.held = false
			return h.ctx.Err()
		}
		return <-done // finished just now; use its result
	}
}
