package gateway

import (
	"context"
	"sync"
)

// flights are the tool calls in progress, so that they can be cancelled
// when the reason they were allowed goes away: their token is revoked,
// their conversation is deleted or renamed, or Patchbay closes. (go-sdk's
// session Close waits for in-flight calls; a call waiting for a person
// would otherwise hold it for minutes.)
type flights struct {
	mu    sync.Mutex
	calls map[*flight]struct{}
}

type flight struct {
	tokenID string
	cs      *convServer
	cancel  context.CancelFunc
}

// start registers a call and returns its context, which ends when the
// caller's does, when the call is cancelled here, or when stop (or the
// gateway) ends it; call stop when the call is done.
func (f *flights) start(ctx, life context.Context, tokenID string, cs *convServer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	unlink := context.AfterFunc(life, cancel)
	fl := &flight{tokenID: tokenID, cs: cs, cancel: cancel}
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[*flight]struct{}{}
	}
	f.calls[fl] = struct{}{}
	f.mu.Unlock()
	return ctx, func() {
		unlink()
		cancel()
		f.mu.Lock()
		delete(f.calls, fl)
		f.mu.Unlock()
	}
}

// cancel ends the calls that match.
func (f *flights) cancel(match func(*flight) bool) {
	f.mu.Lock()
	var cancels []context.CancelFunc
	for fl := range f.calls {
		if match(fl) {
			cancels = append(cancels, fl.cancel)
		}
	}
	f.mu.Unlock()
	for _, c := range cancels {
		c()
	}
}
