package upstream

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
)

// A server that expires sessions answers 404 for ours; the next call must
// not notice (the request was refused, not run, so it is retried on a new
// session).
func TestExpiredSessionIsRecoveredTransparently(t *testing.T) {
	for _, so := range []testpeer.ServerOptions{{Transport: testpeer.StreamableHTTP, Legacy: true}, {Transport: testpeer.SSE}} {
		t.Run(so.String(), func(t *testing.T) { testExpiredSession(t, so) })
	}
}

func testExpiredSession(t *testing.T, so testpeer.ServerOptions) {
	srv := testpeer.NewServer(t, so)
	h := newHarness(t, Options{KeepAlive: -1}, connector("c1", srv.URL, backend.TransportAuto))
	mustEcho(t, h, "c1", "one")
	first := h.Status("c1").ConnectedAt
	srv.ExpireSessions()
	mustEcho(t, h, "c1", "two") // after the server forgot the session
	if st := h.Status("c1"); st.State != backend.StateConnected || !st.ConnectedAt.After(first) {
		t.Errorf("status = %+v, want a new connection", st)
	}
}

// A tool listing on a session the server forgot says so (not "no MCP
// endpoint at this URL", which the server's 404 alone would suggest), and
// the next listing runs on a new session.
func TestListingOnExpiredSessionIsExplained(t *testing.T) {
	for _, so := range []testpeer.ServerOptions{{Transport: testpeer.StreamableHTTP, Legacy: true}, {Transport: testpeer.SSE}} {
		t.Run(so.String(), func(t *testing.T) {
			srv := testpeer.NewServer(t, so)
			h := newHarness(t, Options{KeepAlive: -1}, connector("c1", srv.URL, backend.TransportAuto))
			ctx := context.Background()
			// Connect by a call; the connect's own listing is then the only
			// one before the server forgets the session.
			mustEcho(t, h, "c1", "one")
			eventually(t, 10*time.Second, "the first listing", func() bool { return h.Status("c1").ToolCount == 4 })
			srv.ExpireSessions()
			_, err := h.RefreshTools(ctx, "c1")
			var be *backend.Error
			if !errors.As(err, &be) || be.Slug != "upstream_session_lost" || !strings.Contains(be.Message, "no longer knows Patchbay's session") {
				t.Fatalf("listing on an expired session: err = %v", err)
			}
			if _, err := h.RefreshTools(ctx, "c1"); err != nil {
				t.Fatalf("listing after the session was rebuilt: %v", err)
			}
		})
	}
}

// After a restart the live session is rebuilt without any call: for SSE
// because the event stream ends, for 2026-07-28 because the
// subscriptions/listen stream ends. Change notifications work again after.
func TestRestartedServerIsRecoveredWithoutCalls(t *testing.T) {
	for _, so := range []testpeer.ServerOptions{{Transport: testpeer.StreamableHTTP}, {Transport: testpeer.SSE}} {
		t.Run(so.String(), func(t *testing.T) {
			srv := testpeer.NewServer(t, so)
			h := newHarness(t, Options{}, connector("c1", srv.URL, backend.TransportAuto))
			ctx := context.Background()
			if _, err := h.RefreshTools(ctx, "c1"); err != nil {
				t.Fatal(err)
			}
			first := h.Status("c1").ConnectedAt
			srv.Restart()
			eventually(t, 10*time.Second, "a new connection", func() bool {
				st := h.Status("c1")
				return st.State == backend.StateConnected && st.ConnectedAt.After(first)
			})
			drainSignals(h.changed)
			srv.MCP.RemoveTools("slow")
			waitChange(t, h, func(ch toolsChangedEvent) bool { return slices.Equal(ch.Removed, []string{"slow"}) })
		})
	}
}

// With the server down, a call fails fast with a clear error; once the
// server is back, the connector recovers by itself.
func TestServerDownThenBack(t *testing.T) {
	for _, so := range []testpeer.ServerOptions{{Transport: testpeer.StreamableHTTP}, {Transport: testpeer.StreamableHTTP, Legacy: true}, {Transport: testpeer.SSE}} {
		t.Run(so.String(), func(t *testing.T) {
			srv := testpeer.NewServer(t, so)
			c := connector("c1", srv.URL, backend.TransportAuto)
			c.CallTimeoutSeconds = 5
			h := newHarness(t, Options{}, c)
			ctx := context.Background()
			mustEcho(t, h, "c1", "up")
			srv.Stop()
			start := time.Now()
			_, err := h.Call(ctx, "c1", "echo", args(t, map[string]any{"message": "down"}), nil)
			noCanary(t, err)
			if err == nil || time.Since(start) > 5*time.Second {
				t.Fatalf("call with the server down: err = %v after %s", err, time.Since(start))
			}
			if backend.ErrorCode(err) != backend.EUNAVAILABLE || !strings.Contains(err.Error(), `"Test c1"`) {
				t.Errorf("error = %v (code %s), want unavailable naming the connector", err, backend.ErrorCode(err))
			}
			eventually(t, 10*time.Second, "status error", func() bool {
				st := h.Status("c1")
				return st.LastError != "" && !st.LastErrorAt.IsZero()
			})
			// The server is down: the status must not show the lost
			// session's details as if they were current.
			if st := h.Status("c1"); st.State == backend.StateConnected || st.Transport != "" || st.ProtocolVersion != "" || !st.ConnectedAt.IsZero() {
				t.Errorf("status with the server down = %+v", st)
			}

			srv.Restart()
			eventually(t, 10*time.Second, "reconnected without a call", func() bool {
				return h.Status("c1").State == backend.StateConnected
			})
			mustEcho(t, h, "c1", "back") // after recovery
		})
	}
}

// An in-flight call fails with a clear error when the connection breaks
// under it, instead of hanging.
func TestInFlightCallFailsWhenConnectionDrops(t *testing.T) {
	srv := testpeer.NewServer(t, testpeer.ServerOptions{Transport: testpeer.SSE})
	h := newHarness(t, Options{}, connector("c1", srv.URL, backend.TransportAuto))
	progress := make(chan struct{}, 100)
	errc := make(chan error, 1)
	go func() {
		_, err := h.Call(context.Background(), "c1", "slow", args(t, map[string]any{"seconds": 30}),
			func(*mcp.ProgressNotificationParams) { progress <- struct{}{} })
		errc <- err
	}()
	<-progress
	srv.Stop()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "lost") {
			t.Fatalf("in-flight call error = %v, want a lost connection", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the in-flight call hung after the connection dropped")
	}
}

func TestReconnectAndForget(t *testing.T) {
	srv := testpeer.NewServer(t, testpeer.ServerOptions{})
	h := newHarness(t, Options{}, connector("c1", srv.URL, backend.TransportAuto))
	ctx := context.Background()
	if err := h.Reconnect(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if st := h.Status("c1"); st.State != backend.StateConnected {
		t.Fatalf("status after Reconnect = %+v", st)
	}

	// The connector is edited: the next use sees the new settings.
	h.store.put(connector("c1", srv.URL, backend.TransportSSE)) // wrong for this server
	h.Forget("c1")
	if st := h.Status("c1"); st.State != backend.StateIdle {
		t.Fatalf("status after Forget = %+v", st)
	}
	_, err := h.Call(ctx, "c1", "echo", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "no MCP endpoint") {
		t.Fatalf("call after the edit: %v", err)
	}

	h.Forget("c1")
	if _, err := h.Call(ctx, "missing", "echo", nil, nil); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("unknown connector: %v", err)
	}
	h.Close()
	if _, err := h.Call(ctx, "c1", "echo", nil, nil); backend.ErrorCode(err) != backend.EUNAVAILABLE {
		t.Fatalf("call after Close: %v", err)
	}
}
