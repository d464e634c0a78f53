package upstream

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/backend"
)

// captureRT records the request it is given and answers 200.
type captureRT struct{ got *http.Request }

func (c *captureRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.got = r
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

func TestAuthTransportDecoratesEveryRequest(t *testing.T) {
	key := canary + "-key"
	cases := []struct {
		name  string
		auth  backend.APIKeyAuth
		check func(t *testing.T, r *http.Request)
	}{
		{"query", backend.APIKeyAuth{In: backend.APIKeyInQuery, Name: "api_key"}, func(t *testing.T, r *http.Request) {
			// The session parameter of an SSE message URL is kept, the key added.
			if q := r.URL.Query(); q.Get("api_key") != key || q.Get("sessionid") != "s1" {
				t.Errorf("query = %v", q)
			}
		}},
		{"header", backend.APIKeyAuth{In: backend.APIKeyInHeader, Name: "Authorization", Prefix: "Bearer "}, func(t *testing.T, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+key {
				t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.auth
			c := &backend.Connector{Name: "x", Auth: backend.Auth{Type: backend.AuthAPIKey, APIKey: &a}}
			base := &captureRT{}
			rt := &authTransport{
				base: base, connector: c, userAgent: "Patchbay/1.2.3", red: newRedactor(key), log: slog.New(slog.DiscardHandler), obs: newHTTPLog(),
				creds: credentials{apiKey: key, headers: []headerValue{
					{"X-Team", "blue"}, {"Content-Type", "text/plain"}, {"Mcp-Session-Id", "hijack"},
				}},
			}
			req, _ := http.NewRequest("POST", "http://h/message?sessionid=s1", strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Mcp-Session-Id", "real")
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			r := base.got
			tc.check(t, r)
			if r.Header.Get("User-Agent") != "Patchbay/1.2.3" || r.Header.Get("X-Team") != "blue" {
				t.Errorf("headers = %v", r.Header)
			}
			if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Mcp-Session-Id") != "real" {
				t.Errorf("a custom header replaced a protocol header: %v", r.Header)
			}
			if req.URL.RawQuery != "sessionid=s1" || req.Header.Get("User-Agent") != "" {
				t.Error("the caller's request was modified")
			}
		})
	}
}

// constOAuth hands out one token.
type constOAuth string

func (c constOAuth) Token(context.Context, *backend.Connector) (string, error) { return string(c), nil }
func (c constOAuth) Unauthorized(context.Context, *backend.Connector, string) (string, error) {
	return string(c), nil
}

// BenchmarkRoundTrip is the per-request cost of the auth transport with an
// OAuth token, a secret header and logging at the default level.
func BenchmarkRoundTrip(b *testing.B) {
	red := newRedactor(canary + "-header")
	c := &backend.Connector{Name: "x", Auth: backend.Auth{Type: backend.AuthOAuth}}
	rt := &authTransport{
		base: &captureRT{}, connector: c, userAgent: "Patchbay/1", red: red, obs: newHTTPLog(),
		log:   newRedactLogger(slog.New(slog.NewTextHandler(io.Discard, nil)), red),
		oauth: constOAuth(canary + "-token"), creds: credentials{headers: []headerValue{{"X-Secret", canary + "-header"}}},
		transport: backend.TransportStreamableHTTP, life: context.Background(),
	}
	req, _ := http.NewRequest("POST", "http://h/mcp", nil)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}
