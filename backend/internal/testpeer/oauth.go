package testpeer

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// OAuthClient is a client registered in advance with the authorization
// server (for tests of pre-registered clients).
type OAuthClient struct {
	ID     string `json:"id"`
	Secret string `json:"secret,omitempty"`
	// AuthMethod is none, client_secret_post or client_secret_basic.
	AuthMethod   string   `json:"authMethod"`
	RedirectURIs []string `json:"redirectURIs"`
}

// OAuthOptions configure an OAuth test environment.
type OAuthOptions struct {
	// Upstream is the MCP server behind the resource server (any URL on
	// it; only its origin is used).
	Upstream string
	// ResourcePath is the MCP endpoint's path: "/mcp" (default) or "/sse".
	ResourcePath string
	// AccessTokenTTL is the lifetime of access tokens (default 1h, at
	// least 1s).
	AccessTokenTTL time.Duration
	Clients        []OAuthClient
	// StepUpTool, when set, needs the scope mcp:admin: calling it with a
	// token without that scope is answered 403 insufficient_scope.
	StepUpTool string
	// NoRegistration turns dynamic client registration off.
	NoRegistration bool
}

// OAuthServer is a running oidc-provider authorization server with an MCP
// resource server in front of an upstream MCP server (node/oauth-server.mjs).
type OAuthServer struct {
	// Issuer is the authorization server's issuer URL.
	Issuer string
	// URL is the protected MCP endpoint: what a connector is given.
	URL string
	// Origin is the resource server's origin.
	Origin string

	t testing.TB
}

// OAuthStats are the authorization and resource servers' counters.
type OAuthStats struct {
	Registrations                 int            `json:"registrations"`
	Grants                        map[string]int `json:"grants"`
	RefreshWithoutResource        int            `json:"refresh_without_resource"`
	BasicAuth                     int            `json:"basic_auth"`
	BodySecret                    int            `json:"body_secret"`
	Revocations                   int            `json:"revocations"`
	AuthorizationsWithoutResource int            `json:"authorizations_without_resource"`
	AuthorizationsWithoutPKCE     int            `json:"authorizations_without_pkce"`
	// RejectedTokens counts MCP requests refused for their access token.
	RejectedTokens int `json:"rejected_tokens"`
}

// Refreshes is the number of successful refresh-token grants.
func (s OAuthStats) Refreshes() int { return s.Grants["refresh_token"] }

// StartOAuth starts the environment on free loopback ports and stops it
// when the test ends.
func StartOAuth(t testing.TB, opts OAuthOptions) *OAuthServer {
	t.Helper()
	node, _ := requireNode(t, "oidc-provider/package.json")
	script := filepath.Join(NodeDir(), "oauth-server.mjs")
	up, err := url.Parse(opts.Upstream)
	if err != nil || up.Host == "" {
		t.Fatalf("testpeer: bad upstream URL %q", opts.Upstream)
	}
	if opts.ResourcePath == "" {
		opts.ResourcePath = "/mcp"
	}
	ttl := int(opts.AccessTokenTTL / time.Second)
	if opts.AccessTokenTTL == 0 {
		ttl = 3600
	}
	ttl = max(ttl, 1)
	issuerPort, rsPort := freePort(t), freePort(t)
	cfg, _ := json.Marshal(map[string]any{
		"issuerPort": issuerPort, "rsPort": rsPort, "upstream": up.Scheme + "://" + up.Host,
		"resourcePath": opts.ResourcePath, "accessTTL": ttl, "clients": opts.Clients,
		"stepUpTool": opts.StepUpTool, "registration": !opts.NoRegistration,
	})
	startNode(t, "oauth-server", node, []string{script}, []string{"PATCHBAY_OAUTH_CONFIG=" + string(cfg)}, issuerPort, rsPort)
	s := &OAuthServer{
		Issuer: fmt.Sprintf("http://127.0.0.1:%d", issuerPort),
		Origin: fmt.Sprintf("http://127.0.0.1:%d", rsPort),
		t:      t,
	}
	s.URL = s.Origin + opts.ResourcePath
	return s
}

// startNode runs node with args (and env added to this process's) in
// NodeDir, waits until every port accepts connections and kills it when
// the test ends; its output goes to a file whose end is shown when the
// test failed.
func startNode(t testing.TB, name, node string, args, env []string, ports ...int) {
	t.Helper()
	logf, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = NodeDir()
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			if b, err := os.ReadFile(logf.Name()); err == nil {
				t.Logf("%s output:\n%s", name, tail(b, 4000))
			}
		}
		logf.Close()
	})
	waitListening(t, done, logf.Name(), name, ports...)
}

// waitListening waits until every port accepts connections, failing the
// test when the process exits first or 30 seconds pass.
func waitListening(t testing.TB, exited <-chan struct{}, logName, what string, ports ...int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, port := range ports {
		for {
			c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-exited:
				b, _ := os.ReadFile(logName)
				t.Fatalf("%s exited while starting:\n%s", what, tail(b, 4000))
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not accept connections on port %d within 30s", what, port)
			}
		}
	}
}

// Stats returns the servers' counters.
func (s *OAuthServer) Stats() OAuthStats {
	s.t.Helper()
	var st OAuthStats
	resp, err := http.Get(s.Origin + "/test/stats")
	if err != nil {
		s.t.Fatalf("oauth stats: %v", err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		s.t.Fatalf("oauth stats: %v", err)
	}
	return st
}

// RevokeAll revokes every grant, with its access and refresh tokens, as a
// person revoking the app's access at the provider would.
func (s *OAuthServer) RevokeAll() { s.post("/test/revoke") }

// DenyNext makes the next sign-in end with access_denied.
func (s *OAuthServer) DenyNext() { s.post("/test/deny") }

func (s *OAuthServer) post(path string) {
	s.t.Helper()
	resp, err := http.Post(s.Origin+path, "application/json", nil)
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("POST %s: %s", path, resp.Status)
	}
}

// TSOAuthExample starts the TypeScript SDK's example server with --oauth
// (simpleStreamableHttp.js and its demo authorization server) and returns
// its MCP endpoint, http://localhost:PORT/mcp: the example names itself
// "localhost", and the resource in its metadata must match the URL used.
func TSOAuthExample(t testing.TB) string {
	t.Helper()
	node, script := requireNode(t, "@modelcontextprotocol/sdk/dist/esm/examples/server/simpleStreamableHttp.js")
	mcpPort, authPort := freePort(t), freePort(t)
	startNode(t, "ts-oauth-example", node, []string{script, "--oauth"},
		[]string{"MCP_PORT=" + strconv.Itoa(mcpPort), "MCP_AUTH_PORT=" + strconv.Itoa(authPort)}, mcpPort, authPort)
	return fmt.Sprintf("http://localhost:%d/mcp", mcpPort)
}

// BrowserVisit is what a headless browser saw at the end of a sign-in.
type BrowserVisit struct {
	// Status and Body are those of the last page (Patchbay's own page on
	// its redirect listener when the provider sent the browser back).
	Status int
	Body   string
	// Err is set when a request failed.
	Err error
}

// HeadlessBrowser returns an opener for oauth.Options.Opener that "opens"
// a URL like a browser whose person signs in at once: it follows every
// redirect with a cookie jar (the test authorization servers log in and
// consent by themselves) until it lands on a page. It returns at once; each
// visit's outcome is sent on the channel.
func HeadlessBrowser() (open func(string) error, visits <-chan BrowserVisit) {
	ch := make(chan BrowserVisit, 16)
	return func(u string) error {
		go func() { ch <- Visit(u) }()
		return nil
	}, ch
}

// Visit follows u and its redirects with a fresh cookie jar and returns the
// last page.
func Visit(u string) BrowserVisit {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 60 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) > 20 {
			return fmt.Errorf("too many redirects")
		}
		return nil
	}}
	resp, err := hc.Get(u)
	if err != nil {
		return BrowserVisit{Err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return BrowserVisit{Status: resp.StatusCode, Body: strings.TrimSpace(string(b))}
}
