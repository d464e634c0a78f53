// Package events is Patchbay's in-process event bus. Services publish what
// changed; the API streams events to browsers (server-sent events), the
// window forwards them as Wails events, and internal components (gateway,
// upstream) react to them.
//
// Two kinds of receiver, for two needs: listeners are called synchronously
// and see every event, for internal components whose state must not drift;
// subscribers get a buffered channel and miss events when they fall behind,
// so a stalled browser tab can never slow a tool call.
package events

import (
	"sync"

	"github.com/patchbay/patchbay/backend"
)

// Hub fans events out to listeners and subscribers. The zero value is not
// usable; call New.
type Hub struct {
	mu        sync.RWMutex
	listeners []func(backend.Event)
	subs      map[*Subscription]struct{}
}

// New returns an empty hub.
func New() *Hub { return &Hub{subs: map[*Subscription]struct{}{}} }

// Subscription is a subscriber's channel of events.
type Subscription struct {
	C       <-chan backend.Event
	c       chan backend.Event
	hub     *Hub
	mu      sync.Mutex
	dropped int
}

// Listen registers fn to be called for every event, synchronously, in the
// publisher's goroutine. fn must be quick and must not publish.
func (h *Hub) Listen(fn func(backend.Event)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.listeners = append(h.listeners, fn)
}

// Subscribe returns a subscription with a buffer of size events.
func (h *Hub) Subscribe(size int) *Subscription {
	if size <= 0 {
		size = 256
	}
	c := make(chan backend.Event, size)
	s := &Subscription{C: c, c: c, hub: h}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Close ends the subscription and closes its channel.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if _, ok := s.hub.subs[s]; ok {
		delete(s.hub.subs, s)
		close(s.c)
	}
}

// Dropped returns how many events the subscriber missed by falling behind.
func (s *Subscription) Dropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Publish implements backend.Publisher: listeners first, then subscribers,
// never blocking on a subscriber.
func (h *Hub) Publish(e backend.Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, fn := range h.listeners {
		fn(e)
	}
	for s := range h.subs {
		select {
		case s.c <- e:
		default:
			s.mu.Lock()
			s.dropped++
			s.mu.Unlock()
		}
	}
}
