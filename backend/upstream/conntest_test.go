package upstream

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
)

// unsaved returns a connector as the form sends it: no ID, secret values inline.
func unsaved(url, transport string) *backend.Connector {
	c := connector("", url, transport)
	c.Headers[1].Secret = &backend.Secret{Value: canary + "-inline"}
	return c
}

func TestConnectionTestPasses(t *testing.T) {
	for _, ec := range eraCases {
		t.Run(ec.opts.String(), func(t *testing.T) {
			srv := testpeer.NewServer(t, ec.opts)
			h := newHarness(t, Options{})
			var seen []backend.TestStep
			tr := h.Test(context.Background(), unsaved(srv.URL, backend.TransportAuto), func(s backend.TestStep) { seen = append(seen, s) })
			if !tr.OK {
				t.Fatalf("test failed: %+v", tr.Steps)
			}
			var ids []string
			for _, s := range tr.Steps {
				ids = append(ids, s.ID)
				want := backend.StepOK
				if s.ID == "tls" {
					want = backend.StepSkipped
				}
				if s.Status != want || s.Title == "" {
					t.Errorf("step %+v, want %s", s, want)
				}
			}
			if got := strings.Join(ids, ","); got != "resolve,connect,tls,http,transport,handshake,auth,tools" {
				t.Errorf("steps = %s", got)
			}
			if d := step(t, tr, "handshake").Detail; !strings.Contains(d, ec.protocol) || !strings.Contains(d, "testpeer") {
				t.Errorf("handshake detail = %q, want protocol %s and the server name", d, ec.protocol)
			}
			if d := step(t, tr, "tools").Detail; d != "4 tools" {
				t.Errorf("tools detail = %q", d)
			}
			if d := step(t, tr, "transport").Detail; !strings.Contains(d, map[string]string{"sse": "SSE", "streamable-http": "Streamable HTTP"}[ec.opts.Transport]) {
				t.Errorf("transport detail = %q", d)
			}
			if len(seen) != 2*len(tr.Steps)-1 { // every step but the skipped TLS one is reported running first
				t.Errorf("%d step reports for %d steps", len(seen), len(tr.Steps))
			}
			h.Manager.mu.Lock()
			live := len(h.conns)
			h.Manager.mu.Unlock()
			if live != 0 {
				t.Errorf("a test must not create live state: %d connectors", live)
			}
		})
	}
}

func TestConnectionTestExplainsFailures(t *testing.T) {
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body>Welcome</body></html>"))
	}))
	t.Cleanup(html.Close)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database is on fire", http.StatusInternalServerError)
	}))
	t.Cleanup(broken.Close)
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	refused := func() string {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		return addr
	}()

	cases := []struct {
		name, url, step, errPart, fixPart string
	}{
		{"bad url", "ftp://example.com/x", "resolve", "not a valid", "full URL"},
		{"dns", "http://no-such-host.invalid/mcp", "resolve", "could not be found", "typos"},
		{"refused", "http://" + refused + "/mcp", "connect", "connection refused", "port"},
		{"tls", tlsSrv.URL + "/mcp", "tls", "not trusted", "certificate authority"},
		{"silent", "http://" + testpeer.SilentListener(t) + "/mcp", "http", "did not answer within", "running"},
		{"404", notFound.URL + "/wrong", "transport", "no MCP endpoint", "/mcp"},
		{"html", html.URL + "/", "transport", "text/html", "MCP endpoint"},
		{"500", broken.URL + "/mcp", "http", "database is on fire", "server's side"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{ConnectTimeout: 2 * time.Second})
			tr := h.Test(context.Background(), unsaved(tc.url, backend.TransportAuto), nil)
			if tr.OK {
				t.Fatalf("test passed: %+v", tr.Steps)
			}
			s := step(t, tr, tc.step)
			if s.Status != backend.StepFailed || !strings.Contains(s.Error, tc.errPart) || !strings.Contains(s.Fix, tc.fixPart) {
				t.Fatalf("step %s = %+v, want failed with %q / fix %q; all: %+v", tc.step, s, tc.errPart, tc.fixPart, tr.Steps)
			}
			failed := false
			for _, st := range tr.Steps {
				if failed && st.Status != backend.StepSkipped {
					t.Errorf("step %s after the failure is %s, want skipped", st.ID, st.Status)
				}
				if st.Status == backend.StepFailed {
					failed = true
				}
			}
		})
	}
}
