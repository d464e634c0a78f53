package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
)

// eraCases are the in-process servers of both protocol eras and both
// transports, with the protocol version each must negotiate.
var eraCases = []struct {
	opts     testpeer.ServerOptions
	protocol string
}{
	{testpeer.ServerOptions{Transport: testpeer.StreamableHTTP}, "2026-07-28"},
	{testpeer.ServerOptions{Transport: testpeer.StreamableHTTP, Legacy: true}, "2025-11-25"},
	{testpeer.ServerOptions{Transport: testpeer.SSE}, "2025-11-25"},
}

func TestBothErasBothTransports(t *testing.T) {
	for _, ec := range eraCases {
		for _, transport := range []string{backend.TransportAuto, ec.opts.Transport} {
			t.Run(ec.opts.String()+"/"+transport, func(t *testing.T) {
				srv := testpeer.NewServer(t, ec.opts)
				h := newHarness(t, Options{}, connector("c1", srv.URL, transport))
				ctx := context.Background()

				ch, err := h.RefreshTools(ctx, "c1")
				if err != nil {
					t.Fatalf("RefreshTools: %v", err)
				}
				if len(ch.Added) != 4 {
					t.Fatalf("added %v, want the 4 tools", ch.Added)
				}
				mustEcho(t, h, "c1", "hi")
				res, err := h.Call(ctx, "c1", "add", args(t, map[string]any{"a": 2, "b": 3}), nil)
				if err != nil {
					t.Fatalf("Call add: %v", err)
				}
				b, _ := json.Marshal(res.StructuredContent)
				if string(b) != `{"sum":5}` {
					t.Errorf("add structured content = %s", b)
				}

				st := h.Status("c1")
				if st.State != backend.StateConnected || st.ProtocolVersion != ec.protocol ||
					st.Transport != ec.opts.Transport || st.ServerName != "testpeer" || st.ToolCount != 4 {
					t.Errorf("status = %+v, want connected, protocol %s, transport %s, 4 tools", st, ec.protocol, ec.opts.Transport)
				}
				if transport == backend.TransportAuto && h.store.detected("c1") != ec.opts.Transport {
					t.Errorf("detected transport stored = %q, want %q", h.store.detected("c1"), ec.opts.Transport)
				}
				for _, r := range srv.Requests() {
					if got := r.Header.Get("User-Agent"); got != "Patchbay/test" {
						t.Fatalf("%s %s: User-Agent %q", r.Method, r.Path, got)
					}
					if r.Header.Get("X-Plain") != "plain-value" || r.Header.Get("X-Secret") != canary+"-header" {
						t.Fatalf("%s %s: custom headers missing: %v", r.Method, r.Path, r.Header)
					}
				}
			})
		}
	}
}

func TestAPIKeyInHeaderAndQuery(t *testing.T) {
	key := canary + "-api"
	cases := []struct {
		name string
		srv  testpeer.ServerOptions
		auth backend.APIKeyAuth
	}{
		{"bearer", testpeer.ServerOptions{APIKey: key, KeyHeader: "Authorization", KeyPrefix: "Bearer "},
			backend.APIKeyAuth{In: backend.APIKeyInHeader, Name: "Authorization", Prefix: "Bearer "}},
		{"x-api-key", testpeer.ServerOptions{APIKey: key, KeyHeader: "X-API-Key"},
			backend.APIKeyAuth{In: backend.APIKeyInHeader, Name: "X-API-Key"}},
		{"query", testpeer.ServerOptions{APIKey: key, KeyQuery: "api_key"},
			backend.APIKeyAuth{In: backend.APIKeyInQuery, Name: "api_key"}},
	}
	for _, tc := range cases {
		for _, transport := range []string{testpeer.StreamableHTTP, testpeer.SSE} {
			t.Run(tc.name+"/"+transport, func(t *testing.T) {
				so := tc.srv
				so.Transport = transport
				srv := testpeer.NewServer(t, so)
				c := connector("c1", srv.URL, backend.TransportAuto)
				a := tc.auth
				a.Value = &backend.Secret{Source: backend.SecretKeychain, Key: "key/api"}
				c.Auth = backend.Auth{Type: backend.AuthAPIKey, APIKey: &a}
				h := newHarness(t, Options{}, c)

				mustEcho(t, h, "c1", "k")
				posts := 0
				for _, r := range srv.Requests() {
					if !r.Authorized {
						t.Errorf("%s %s?%s was not authorized", r.Method, r.Path, r.Query.Encode())
					}
					if r.Method == "POST" {
						posts++
					}
				}
				if posts == 0 {
					t.Fatal("no POST reached the server")
				}

				// Requests are logged at debug level, URLs included, so the
				// canary check at the end of the test is meaningful.
				if !strings.Contains(h.logs.String(), "upstream request") {
					t.Error("requests were not logged")
				}

				// The same connector tested through the form: all steps pass.
				tr := h.Test(context.Background(), c, nil)
				if !tr.OK {
					t.Fatalf("connection test failed: %+v", tr.Steps)
				}
			})
		}
	}
}

func TestWrongAPIKeyIsExplained(t *testing.T) {
	for _, transport := range []string{testpeer.StreamableHTTP, testpeer.SSE} {
		for _, in := range []string{backend.APIKeyInHeader, backend.APIKeyInQuery} {
			t.Run(transport+"/"+in, func(t *testing.T) {
				so := testpeer.ServerOptions{Transport: transport, APIKey: "the-right-key", KeyHeader: "X-API-Key"}
				if in == backend.APIKeyInQuery {
					so.KeyQuery = "api_key"
				}
				srv := testpeer.NewServer(t, so)
				c := connector("c1", srv.URL, backend.TransportAuto)
				c.Auth = backend.Auth{Type: backend.AuthAPIKey, APIKey: &backend.APIKeyAuth{
					In: in, Name: map[string]string{backend.APIKeyInHeader: "X-API-Key", backend.APIKeyInQuery: "api_key"}[in],
					Value: &backend.Secret{Source: backend.SecretKeychain, Key: "key/api"}}}
				h := newHarness(t, Options{}, c)

				var running []string
				tr := h.Test(context.Background(), c, func(st backend.TestStep) {
					if st.Status == backend.StepRunning {
						running = append(running, st.ID)
					}
				})
				if tr.OK {
					t.Fatal("test passed with a wrong key")
				}
				auth := step(t, tr, "auth")
				if auth.Status != backend.StepFailed || !strings.Contains(auth.Error, "401") ||
					!strings.Contains(auth.Fix, "Check the API key") {
					t.Errorf("auth step = %+v", auth)
				}
				if step(t, tr, "tools").Status != backend.StepSkipped {
					t.Errorf("tools step after a failed auth: %+v", step(t, tr, "tools"))
				}
				if len(running) == 0 || running[0] != "resolve" {
					t.Errorf("running steps reported: %v", running)
				}
				b, _ := json.Marshal(tr)
				if strings.Contains(string(b), canary) {
					t.Fatalf("canary in test result: %s", b)
				}

				_, err := h.Call(context.Background(), "c1", "echo", args(t, map[string]any{"message": "k"}), nil)
				noCanary(t, err)
				if backend.ErrorCode(err) != backend.EUNAUTHORIZED {
					t.Fatalf("Call error = %v (code %s), want unauthorized", err, backend.ErrorCode(err))
				}
				st := h.Status("c1")
				if st.State != backend.StateNeedsAttention || !strings.Contains(st.LastError, "refused the credentials") || st.LastErrorAt.IsZero() {
					t.Errorf("status = %+v, want needs-attention with the reason", st)
				}
			})
		}
	}
}

func step(t *testing.T, tr backend.TestResult, id string) backend.TestStep {
	t.Helper()
	for _, s := range tr.Steps {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no step %q in %+v", id, tr.Steps)
	return backend.TestStep{}
}

func TestCallPassesResultsThrough(t *testing.T) {
	srv := testpeer.NewServer(t, testpeer.ServerOptions{})
	h := newHarness(t, Options{}, connector("c1", srv.URL, backend.TransportAuto))
	ctx := context.Background()

	res, err := h.Call(ctx, "c1", "fail", nil, nil)
	if err != nil {
		t.Fatalf("an isError result must come back as a result: %v", err)
	}
	if !res.IsError || !strings.Contains(resultText(t, res), "always fails") {
		t.Errorf("fail result = %+v", res)
	}

	_, err = h.Call(ctx, "c1", "no-such-tool", nil, nil)
	var rpcErr *jsonrpc.Error
	if err == nil || !errors.As(err, &rpcErr) {
		t.Fatalf("unknown tool: err = %v, want a JSON-RPC error in the chain", err)
	}
	if h.Status("c1").State != backend.StateConnected {
		t.Errorf("a JSON-RPC error must not break the session: %+v", h.Status("c1"))
	}

	if _, err := h.Call(ctx, "c1", "echo", json.RawMessage(`[1]`), nil); backend.ErrorCode(err) != backend.EINVALID {
		t.Errorf("non-object arguments: err = %v", err)
	}
}

func TestProgressAndCancellation(t *testing.T) {
	for _, ec := range eraCases {
		t.Run(ec.opts.String(), func(t *testing.T) {
			srv := testpeer.NewServer(t, ec.opts)
			h := newHarness(t, Options{}, connector("c1", srv.URL, backend.TransportAuto))
			progress := make(chan *mcp.ProgressNotificationParams, 100)
			res, err := h.Call(context.Background(), "c1", "slow", args(t, map[string]any{"seconds": 0.35}),
				func(p *mcp.ProgressNotificationParams) { progress <- p })
			if err != nil {
				t.Fatalf("Call slow: %v", err)
			}
			if resultText(t, res) != "done" {
				t.Errorf("slow = %q", resultText(t, res))
			}
			if len(progress) == 0 {
				t.Error("no progress notification reached the callback")
			}

			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				<-progress // the call is running upstream
				cancel()
			}()
			start := time.Now()
			_, err = h.Call(ctx, "c1", "slow", args(t, map[string]any{"seconds": 30}), func(p *mcp.ProgressNotificationParams) { progress <- p })
			if err == nil || !errors.Is(err, context.Canceled) || time.Since(start) > 10*time.Second {
				t.Fatalf("cancelled call: err = %v after %s", err, time.Since(start))
			}
		})
	}
}

func TestCallTimeout(t *testing.T) {
	srv := testpeer.NewServer(t, testpeer.ServerOptions{})
	c := connector("c1", srv.URL, backend.TransportAuto)
	c.CallTimeoutSeconds = 1
	h := newHarness(t, Options{}, c)
	start := time.Now()
	_, err := h.Call(context.Background(), "c1", "slow", args(t, map[string]any{"seconds": 30}), nil)
	if backend.ErrorCode(err) != backend.ETIMEOUT || !strings.Contains(err.Error(), "within 1s") {
		t.Fatalf("err = %v, want a timeout naming 1s", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the call took %s despite a 1s timeout", d)
	}
	mustEcho(t, h, "c1", "after") // a timed-out call must not break the session
}

func TestConnectTimeout(t *testing.T) {
	// A server that accepts connections and never answers.
	addr := testpeer.SilentListener(t)
	h := newHarness(t, Options{ConnectTimeout: 300 * time.Millisecond}, connector("c1", "http://"+addr+"/mcp", backend.TransportStreamableHTTP))
	start := time.Now()
	_, err := h.Call(context.Background(), "c1", "echo", nil, nil)
	noCanary(t, err)
	if backend.ErrorCode(err) != backend.ETIMEOUT {
		t.Fatalf("err = %v (code %s), want timeout", err, backend.ErrorCode(err))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("connect took %s with a 300ms timeout", d)
	}
	// Connecting again when the backoff is already over; the reason stays.
	st := h.Status("c1")
	if (st.State != backend.StateError && st.State != backend.StateConnecting) || !strings.Contains(st.LastError, "did not answer within 300ms") {
		t.Errorf("status = %+v, want error (or retrying) with the reason", st)
	}
}

func TestOAuthWithoutOAuthLayerNeedsSignIn(t *testing.T) {
	srv := testpeer.NewServer(t, testpeer.ServerOptions{})
	c := connector("c1", srv.URL, backend.TransportAuto)
	c.Auth = backend.Auth{Type: backend.AuthOAuth, OAuth: &backend.OAuthAuth{}}
	h := newHarness(t, Options{}, c)
	_, err := h.Call(context.Background(), "c1", "echo", nil, nil)
	if backend.ErrorCode(err) != backend.EUNAUTHORIZED {
		t.Fatalf("err = %v", err)
	}
	if st := h.Status("c1"); st.State != backend.StateNeedsSignIn {
		t.Errorf("status = %+v, want needs-sign-in", st)
	}
	if len(srv.Requests()) != 0 {
		t.Errorf("requests were sent without a token: %d", len(srv.Requests()))
	}
}

// fakeOAuth hands out a stale token first and a good one when told about
// the 401.
type fakeOAuth struct {
	stale, good   string
	unauthorized  int
	lastChallenge string
}

func (f *fakeOAuth) Token(context.Context, *backend.Connector) (string, error) {
	if f.unauthorized > 0 {
		return f.good, nil
	}
	return f.stale, nil
}

func (f *fakeOAuth) Unauthorized(_ context.Context, _ *backend.Connector, www string) (string, error) {
	f.unauthorized++
	f.lastChallenge = www
	return f.good, nil
}

func TestOAuthTokensOnBothTransports(t *testing.T) {
	for _, transport := range []string{testpeer.StreamableHTTP, testpeer.SSE} {
		t.Run(transport, func(t *testing.T) {
			srv := testpeer.NewServer(t, testpeer.ServerOptions{Transport: transport, APIKey: canary + "-good", KeyHeader: "Authorization", KeyPrefix: "Bearer "})
			c := connector("c1", srv.URL, backend.TransportAuto)
			c.Auth = backend.Auth{Type: backend.AuthOAuth, OAuth: &backend.OAuthAuth{}}
			oa := &fakeOAuth{stale: canary + "-stale", good: canary + "-good"}
			h := newHarness(t, Options{OAuth: oa}, c)
			mustEcho(t, h, "c1", "o")
			if oa.unauthorized != 1 || !strings.Contains(oa.lastChallenge, "Bearer") {
				t.Errorf("unauthorized calls %d, challenge %q", oa.unauthorized, oa.lastChallenge)
			}
		})
	}
}

// A key revoked while the session is live: the next call says so and the
// connector needs attention (no retry loop against a server that refuses).
func TestKeyRevokedMidSession(t *testing.T) {
	for _, ec := range eraCases {
		t.Run(ec.opts.String(), func(t *testing.T) {
			so := ec.opts
			so.APIKey, so.KeyHeader = canary+"-api", "X-API-Key"
			srv := testpeer.NewServer(t, so)
			c := connector("c1", srv.URL, backend.TransportAuto)
			c.Auth = backend.Auth{Type: backend.AuthAPIKey, APIKey: &backend.APIKeyAuth{In: backend.APIKeyInHeader, Name: "X-API-Key",
				Value: &backend.Secret{Source: backend.SecretKeychain, Key: "key/api"}}}
			h := newHarness(t, Options{}, c)
			ctx := context.Background()
			mustEcho(t, h, "c1", "a")
			srv.SetAPIKey("rotated")
			_, err := h.Call(ctx, "c1", "echo", args(t, map[string]any{"message": "b"}), nil)
			noCanary(t, err)
			if backend.ErrorCode(err) != backend.EUNAUTHORIZED || !strings.Contains(err.Error(), "refused the credentials") {
				t.Fatalf("err = %v (code %s)", err, backend.ErrorCode(err))
			}
			if st := h.Status("c1"); st.State != backend.StateNeedsAttention {
				t.Errorf("status = %+v, want needs-attention", st)
			}
		})
	}
}

// An HTTP 500 for one call is reported with the server's text, and the
// session stays up.
func TestServerErrorOnCallKeepsSession(t *testing.T) {
	url := rawToolsServer(t, `[{"name":"t","inputSchema":{"type":"object"}}]`)
	h := newHarness(t, Options{}, connector("c1", url, backend.TransportStreamableHTTP))
	_, err := h.Call(context.Background(), "c1", "t", nil, nil)
	if backend.ErrorCode(err) != backend.EUNAVAILABLE || !strings.Contains(err.Error(), "upstream database is down") ||
		!strings.Contains(err.Error(), "server's side") {
		t.Fatalf("err = %v", err)
	}
	if st := h.Status("c1"); st.State != backend.StateConnected {
		t.Errorf("status = %+v, want still connected", st)
	}
}
