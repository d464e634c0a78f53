package stdio_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/app/apptest"
	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
	"github.com/patchbay/patchbay/backend/secrets"
	"github.com/patchbay/patchbay/backend/stdio"
)

var ctx = context.Background()

// instance is a running Patchbay (app.Core on a loopback port) with one
// connector, "peer", enabled in the default conversation.
type instance struct {
	*apptest.Instance
	peer string // connector ID
}

func startInstance(t *testing.T) *instance {
	t.Helper()
	in := apptest.Start(t, apptest.Options{Secrets: secrets.NewMemory()})
	c := in.AddPeer(t, testpeer.NewServer(t, testpeer.ServerOptions{}).URL)
	return &instance{Instance: in, peer: c.ID}
}

// bridge runs stdio.Serve on pipes and connects a go-sdk client to it, as a
// desktop client launching `patchbay stdio` would.
func bridge(t *testing.T, in *instance, path string, token func(context.Context, bool) (string, error)) (*mcp.ClientSession, chan struct{}) {
	t.Helper()
	cr, bw := io.Pipe() // bridge → client
	br, cw := io.Pipe() // client → bridge
	done := make(chan error, 1)
	go func() {
		done <- stdio.Serve(ctx, stdio.Options{URL: in.Base + path, Token: token, In: br, Out: bw, Version: "test"})
		bw.Close()
	}()
	changed := make(chan struct{}, 8)
	client := mcp.NewClient(&mcp.Implementation{Name: "Claude", Version: "9.9"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
	})
	cs, err := client.Connect(ctx, &mcp.IOTransport{Reader: cr, Writer: cw}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs.Close()
		cw.Close()
		if err := <-done; err != nil {
			t.Errorf("bridge: %v", err)
		}
	})
	return cs, changed
}

func names(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tl := range res.Tools {
		out = append(out, tl.Name)
	}
	return out
}

func text(r *mcp.CallToolResult) string {
	s := ""
	for _, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			s += tc.Text
		}
	}
	return s
}

func staticToken(tok string) func(context.Context, bool) (string, error) {
	return func(context.Context, bool) (string, error) { return tok, nil }
}

func TestBridgeListsCallsAndFollowsChanges(t *testing.T) {
	in := startInstance(t)
	tok, _, err := in.Core.Registry.IssueToken(ctx, "bridge", "")
	if err != nil {
		t.Fatal(err)
	}
	cs, changed := bridge(t, in, "/mcp", staticToken(tok))
	if got := names(t, cs); !slices.Equal(got, []string{"peer_add", "peer_echo", "peer_fail", "peer_slow"}) {
		t.Fatalf("tools = %v", got)
	}
	params := &mcp.CallToolParams{Name: "peer_slow", Arguments: map[string]any{"seconds": 0.25}}
	params.SetProgressToken(7)
	res, err := cs.CallTool(ctx, params)
	if err != nil || text(res) != "done" {
		t.Fatalf("slow through the bridge: %v %v", res, err)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "peer_echo", Arguments: map[string]any{"message": "via stdio"}})
	if err != nil || text(res) != "Echo: via stdio" {
		t.Fatalf("echo through the bridge: %v %v", res, err)
	}
	// Patchbay is the gate: an unknown name is refused there, and logged.
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{}}); err == nil {
		t.Fatal("a raw name was called through the bridge")
	}

	// A connector toggled in Patchbay reaches the stdio client.
	if _, err := in.Core.Registry.SetConnectorEnabled(ctx, "default", in.peer, false); err != nil {
		t.Fatal(err)
	}
	waitChanged(t, changed)
	waitFor(t, "the tools to go", func() bool { return len(names(t, cs)) == 0 })
	if _, err := in.Core.Registry.SetConnectorEnabled(ctx, "default", in.peer, true); err != nil {
		t.Fatal(err)
	}
	waitChanged(t, changed)
	waitFor(t, "the tools to come back", func() bool { return len(names(t, cs)) == 4 })

	var page backend.ActivityPage
	if err := in.API.Do(ctx, http.MethodGet, "/api/v1/activity?tool=peer_echo", nil, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 || page.Entries[0].ClientName != "Claude via patchbay stdio" || page.Entries[0].TokenLabel != "bridge" {
		t.Fatalf("activity: %+v", page.Entries)
	}
}

// A refused token is replaced once through the token source.
func TestBridgeAsksForANewTokenWhenRefused(t *testing.T) {
	in := startInstance(t)
	good, _, err := in.Core.Registry.IssueToken(ctx, "bridge", "")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var asked []bool
	cs, _ := bridge(t, in, "/mcp", func(_ context.Context, fresh bool) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, fresh)
		if fresh {
			return good, nil
		}
		return "pbt_revokedlongago", nil
	})
	if got := names(t, cs); len(got) != 4 {
		t.Fatalf("tools = %v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(asked, []bool{false, true}) {
		t.Fatalf("token requests: %v", asked)
	}
}

// Without Patchbay, a call says so instead of hanging.
func TestBridgeExplainsWhenPatchbayIsGone(t *testing.T) {
	// Nothing listens on port 1; the token is never looked at.
	gone := &instance{Instance: &apptest.Instance{Base: "http://127.0.0.1:1"}}
	cs, _ := bridge(t, gone, "/mcp", staticToken("pbt_neverchecked"))
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "peer_echo", Arguments: map[string]any{}})
	if err != nil || !res.IsError || !strings.Contains(text(res), "Patchbay is not answering") {
		t.Fatalf("call without Patchbay: %v %v", res, err)
	}
}

func waitChanged(t *testing.T, ch chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no tools/list_changed through the bridge within 10s")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
