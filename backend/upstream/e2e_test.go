package upstream

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
	"go.uber.org/goleak"
)

// End to end against the reference server from npm, in both of its HTTP
// modes, with every transport setting that applies to each.
func TestEverythingEndToEnd(t *testing.T) {
	cases := map[string][]string{
		"streamableHttp": {backend.TransportAuto, backend.TransportStreamableHTTP},
		"sse":            {backend.TransportAuto, backend.TransportSSE},
	}
	for _, mode := range []string{"streamableHttp", "sse"} {
		t.Run(mode, func(t *testing.T) {
			peer := testpeer.Everything(t, mode)
			for _, transport := range cases[mode] {
				t.Run(transport, func(t *testing.T) {
					c := connector("e1", peer.URL, transport)
					h := newHarness(t, Options{}, c)
					ctx := context.Background()

					tr := h.Test(ctx, c, nil)
					for _, s := range tr.Steps {
						want := backend.StepOK
						if s.ID == "tls" {
							want = backend.StepSkipped // plain http on loopback
						}
						if s.Status != want {
							t.Errorf("step %s: %+v", s.ID, s)
						}
					}
					if !tr.OK || len(tr.Steps) != 8 {
						t.Fatalf("connection test: %+v", tr.Steps)
					}

					ch, err := h.RefreshTools(ctx, "e1")
					if err != nil {
						t.Fatalf("RefreshTools: %v", err)
					}
					for _, name := range []string{"echo", "get-sum", "trigger-long-running-operation"} {
						if !slices.Contains(ch.Added, name) {
							t.Errorf("tool %s not listed: %v", name, ch.Added)
						}
					}

					mustEcho(t, h, "e1", "hello from Patchbay")
					res, err := h.Call(ctx, "e1", "get-sum", args(t, map[string]any{"a": 19, "b": 23}), nil)
					if err != nil {
						t.Fatalf("get-sum: %v", err)
					}
					if got := resultText(t, res); !strings.Contains(got, "is 42") {
						t.Errorf("get-sum = %q", got)
					}

					st := h.Status("e1")
					wantTransport := map[string]string{"streamableHttp": backend.TransportStreamableHTTP, "sse": backend.TransportSSE}[mode]
					if st.State != backend.StateConnected || st.Transport != wantTransport || st.ProtocolVersion == "" || st.ToolCount < 10 {
						t.Errorf("status = %+v", st)
					}
				})
			}
		})
	}
}

// Killing the server mid-session: the in-flight call and the next call
// fail with a clear error within the call timeout; after a restart calls
// succeed again within 10 seconds with nothing done; when the Manager is
// closed no goroutine is left behind.
func TestEverythingKillAndRestart(t *testing.T) {
	for _, mode := range []string{"streamableHttp", "sse"} {
		t.Run(mode, func(t *testing.T) {
			peer := testpeer.Everything(t, mode)
			baseline := goleak.IgnoreCurrent()

			const callTimeout = 5 * time.Second
			c := connector("e1", peer.URL, backend.TransportAuto)
			c.CallTimeoutSeconds = int(callTimeout / time.Second)
			h := newHarness(t, Options{KeepAlive: time.Second, BackoffInitial: 100 * time.Millisecond, BackoffMax: time.Second}, c)
			ctx := context.Background()
			mustEcho(t, h, "e1", "before")

			// A long call is running when the server dies.
			progress := make(chan struct{}, 100)
			inflight := make(chan error, 1)
			go func() {
				_, err := h.Call(ctx, "e1", "trigger-long-running-operation", args(t, map[string]any{"duration": 60, "steps": 120}),
					func(*mcp.ProgressNotificationParams) { progress <- struct{}{} })
				inflight <- err
			}()
			select {
			case <-progress:
			case <-time.After(20 * time.Second):
				t.Fatal("no progress from the long-running operation")
			}
			peer.Stop()
			killed := time.Now()

			_, err := h.Call(ctx, "e1", "echo", args(t, map[string]any{"message": "while down"}), nil)
			noCanary(t, err)
			if err == nil {
				t.Fatal("a call with the server killed succeeded")
			}
			t.Logf("call after the kill (%s): %v", time.Since(killed).Round(time.Millisecond), err)
			if d := time.Since(killed); d > callTimeout {
				t.Errorf("the call after the kill took %s, more than the call timeout", d)
			}
			if backend.ErrorCode(err) != backend.EUNAVAILABLE || !strings.Contains(err.Error(), `"Test e1"`) {
				t.Errorf("error after the kill = %v (code %s), want unavailable naming the connector", err, backend.ErrorCode(err))
			}
			select {
			case err := <-inflight:
				t.Logf("in-flight call (%s after the kill): %v", time.Since(killed).Round(time.Millisecond), err)
				noCanary(t, err)
				if err == nil {
					t.Error("the in-flight call succeeded with the server killed")
				}
			case <-time.After(callTimeout + 5*time.Second):
				t.Fatal("the in-flight call hung after the kill")
			}

			peer.Start()
			restarted := time.Now()
			eventually(t, 10*time.Second, "reconnection after the restart", func() bool {
				return h.Status("e1").State == backend.StateConnected
			})
			res, err := h.Call(ctx, "e1", "get-sum", args(t, map[string]any{"a": 1, "b": 2}), nil)
			if err != nil || !strings.Contains(resultText(t, res), "is 3") {
				t.Fatalf("call after the restart: %v", err)
			}
			t.Logf("calls succeed again %s after the restart", time.Since(restarted).Round(time.Millisecond))
			if d := time.Since(restarted); d > 10*time.Second {
				t.Errorf("calls succeeded again only after %s", d)
			}

			h.Close()
			checkNoLeaks(t, baseline)
		})
	}
}

// checkNoLeaks fails when goroutines started after baseline are still
// running after a generous settling time.
func checkNoLeaks(t *testing.T, baseline goleak.Option) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		// The test peer's process waiter lives as long as the peer.
		if err = goleak.Find(baseline, goleak.IgnoreAnyFunction("github.com/patchbay/patchbay/backend/internal/testpeer.(*Peer).Start.func1")); err == nil {
			return
		}
	}
	t.Fatal(fmt.Sprint("goroutines left behind after Close: ", err))
}
