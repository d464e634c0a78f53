package events_test

import (
	"testing"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/events"
)

func TestListenersSeeEverythingSubscribersNeverBlock(t *testing.T) {
	h := events.New()
	var heard int
	h.Listen(func(backend.Event) { heard++ })
	slow := h.Subscribe(2)
	fast := h.Subscribe(100)
	for i := 0; i < 10; i++ {
		h.Publish(backend.NewEvent(backend.EventActivity, i))
	}
	if heard != 10 {
		t.Fatalf("listener heard %d events, want 10", heard)
	}
	if len(fast.C) != 10 {
		t.Fatalf("fast subscriber has %d events, want 10", len(fast.C))
	}
	if len(slow.C) != 2 || slow.Dropped() != 8 {
		t.Fatalf("slow subscriber: %d buffered, %d dropped; want 2 and 8", len(slow.C), slow.Dropped())
	}
	slow.Close()
	slow.Close() // idempotent
	h.Publish(backend.NewEvent(backend.EventActivity, 11))
	for range slow.C { // closed channel drains and ends
	}
	if len(fast.C) != 11 {
		t.Fatalf("fast subscriber has %d events after close of another, want 11", len(fast.C))
	}
}
