package gateway_test

import (
	"net"
	"slices"
	"testing"
	"time"

	"github.com/patchbay/patchbay/backend"
)

// Connectors that were never listed are listed on the first tools/list, in
// parallel; one that does not answer delays the list by ColdListWait at
// most, and its tools arrive later with list_changed.
func TestFirstListWaitsBrieflyForNewConnectors(t *testing.T) {
	h := newHarness(t, harnessOptions{coldWait: 2 * time.Second})
	// A server that accepts connections and never answers.
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 64)
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	defer func() {
		hang.Close()
		<-accepted
		close(conns)
		for c := range conns {
			c.Close()
		}
	}()
	for _, c := range []*backend.Connector{
		{Name: "Fresh", Slug: "fresh", URL: newPeer(t).URL},
		{Name: "Hanging", Slug: "hanging", URL: "http://" + hang.Addr().String() + "/mcp"},
	} {
		c.Transport, c.Auth = backend.TransportStreamableHTTP, backend.Auth{Type: backend.AuthNone}
		if _, err := h.reg.CreateConnector(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	c := h.connect("/mcp", newEra)
	start := time.Now()
	got := c.names(t)
	took := time.Since(start)
	if !slices.Equal(got, []string{"fresh_add", "fresh_echo", "fresh_fail", "fresh_slow"}) {
		t.Fatalf("tools = %v", got)
	}
	if took > 6*time.Second {
		t.Fatalf("the first list took %s with a hanging connector", took)
	}
	// The second list does not wait for the hanging connector again.
	start = time.Now()
	c.names(t)
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Fatalf("second list took %s", d)
	}
}
