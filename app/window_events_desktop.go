//go:build desktop && !headless

package app

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	goruntime "runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/patchbay/patchbay/backend"
	wruntime "github.com/wailsapp/wails/v2/pkg/runtime"
)

// Wails event names shared with frontend/src/lib/native.ts.
const (
	// wailsEvent carries every backend hub event to the UI, as the
	// backend.Event it is: the asset server answers a request only once it
	// ends on Windows, so the UI cannot use /api/v1/events in the window.
	wailsEvent = "patchbay:event"
	// wailsAttention is sent by the UI when it gains or loses focus or
	// visibility: {"focused","visible"}.
	wailsAttention = "patchbay:attention"
)

// forwardEvents sends hub events to the UI and raises notifications for
// approval requests the person cannot see. It returns the stop function.
func (w *window) forwardEvents(ctx context.Context) func() {
	sub := w.core.Events.Subscribe(1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range sub.C {
			wruntime.EventsEmit(ctx, wailsEvent, e)
			switch e.Type {
			case backend.EventActivity:
				w.mu.Lock()
				w.lastCall = time.Now()
				w.mu.Unlock()
			case backend.EventApprovalRequested:
				var a backend.Approval
				if backend.DecodeEvent(e, &a) == nil && !w.personSees() {
					w.notify.approval(&a)
				}
			case backend.EventApprovalResolved:
				var d struct {
					ID string `json:"id"`
				}
				if backend.DecodeEvent(e, &d) == nil {
					w.notify.resolved(d.ID)
				}
			}
		}
	}()
	return func() {
		sub.Close()
		<-done
	}
}

// attention is what the UI last said about itself.
type attention struct {
	Focused bool `json:"focused"`
	Visible bool `json:"visible"`
}

func (w *window) listenAttention(ctx context.Context) {
	wruntime.EventsOn(ctx, wailsAttention, func(data ...interface{}) {
		if len(data) == 0 {
			return
		}
		b, err := json.Marshal(data[0])
		if err != nil {
			return
		}
		var a attention
		if json.Unmarshal(b, &a) != nil {
			return
		}
		w.mu.Lock()
		w.attention = a
		w.mu.Unlock()
	})
}

// personSees reports whether the window is shown, visible and focused: then
// the in-window prompt is enough and no notification is raised.
func (w *window) personSees() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.hidden && w.attention.Focused && w.attention.Visible
}

// notifier raises native notifications when the platform allows; without
// a notification service (a Linux session with no daemon) it logs once and
// stays quiet: the in-window prompt still works.
type notifier struct {
	ctx     context.Context
	log     *slog.Logger
	enabled bool

	mu   sync.Mutex
	sent map[string]bool
}

func newNotifier(ctx context.Context, log *slog.Logger, show func()) *notifier {
	n := &notifier{ctx: ctx, log: log, sent: map[string]bool{}}
	if err := wruntime.InitializeNotifications(ctx); err != nil {
		log.Info("native notifications are not available; approval requests show in the window only", "err", err)
		return n
	}
	if !wruntime.IsNotificationAvailable(ctx) {
		log.Info("native notifications are not available; approval requests show in the window only")
		return n
	}
	if ok, err := wruntime.RequestNotificationAuthorization(ctx); err != nil || !ok {
		log.Info("notifications were not allowed; approval requests show in the window only", "err", err)
		return n
	}
	n.enabled = true
	// Clicking a notification (or its default action) brings the window up,
	// where the prompt is waiting.
	wruntime.OnNotificationResponse(ctx, func(wruntime.NotificationResult) { show() })
	return n
}

func (n *notifier) approval(a *backend.Approval) {
	if n == nil || !n.enabled {
		return
	}
	tool := a.Title
	if tool == "" {
		tool = a.Tool
	}
	who := a.ClientName
	if who == "" {
		who = "A client"
	}
	id := "approval-" + a.ID
	err := wruntime.SendNotification(n.ctx, wruntime.NotificationOptions{
		ID:    id,
		Title: "Approval needed",
		Body: notificationText(fmt.Sprintf("%s wants to call %s on %s. Click to answer.",
			clip(who, 60), clip(tool, 80), clip(a.Connector, 60))),
	})
	if err != nil {
		n.log.Info("could not show a notification", "err", err)
		return
	}
	n.mu.Lock()
	n.sent[a.ID] = true
	n.mu.Unlock()
}

// resolved withdraws the notification of an answered or expired request.
func (n *notifier) resolved(id string) {
	if n == nil || !n.enabled {
		return
	}
	n.mu.Lock()
	sent := n.sent[id]
	delete(n.sent, id)
	n.mu.Unlock()
	if sent {
		_ = wruntime.RemoveNotification(n.ctx, "approval-"+id)
	}
}

func (n *notifier) close() {
	if n != nil && n.enabled {
		wruntime.CleanupNotifications(n.ctx)
	}
}

// notificationText makes untrusted text (tool and client names) safe for a
// notification body: Linux notification servers interpret a little HTML
// (links, images), so it is escaped there.
func notificationText(s string) string {
	if goruntime.GOOS == "linux" || goruntime.GOOS == "freebsd" {
		return html.EscapeString(s)
	}
	return s
}

// clip shortens s to n runes, with an ellipsis, and drops line breaks.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
