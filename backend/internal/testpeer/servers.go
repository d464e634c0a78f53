package testpeer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Transports of an in-process server.
const (
	StreamableHTTP = "streamable-http"
	SSE            = "sse"
)

// ServerOptions configure an in-process go-sdk MCP server.
type ServerOptions struct {
	// Transport is StreamableHTTP (the default) or SSE.
	Transport string
	// Legacy makes a Streamable HTTP server stateful and limits it to
	// protocol 2025-11-25 and older (the initialize handshake). Otherwise it
	// is stateless and serves 2026-07-28. SSE servers are always legacy.
	Legacy bool
	// APIKey, when set, is required on every request: in the query
	// parameter KeyQuery when that is set, else in header KeyHeader
	// (default "X-API-Key") as KeyPrefix+APIKey. Requests without it get 401.
	APIKey, KeyHeader, KeyPrefix, KeyQuery string
}

// Request is what the server saw of one HTTP request.
type Request struct {
	Method     string
	Path       string
	Query      url.Values
	Header     http.Header
	Authorized bool
}

// Server is an in-process MCP server on a loopback port.
type Server struct {
	// MCP is the go-sdk server; tests add, change and remove tools on it.
	MCP *mcp.Server
	// URL is the endpoint: /mcp (Streamable HTTP) or /sse (SSE).
	URL string

	addr string
	t    testing.TB
	opts ServerOptions

	mu       sync.Mutex
	requests []Request
	http     *http.Server
	handler  atomic.Pointer[http.Handler] // swapped to forget sessions
}

// NewServer starts an in-process MCP server with the tools echo, add, slow
// and fail (see addDefaultTools); it stops when the test ends.
func NewServer(t testing.TB, opts ServerOptions) *Server {
	t.Helper()
	if opts.Transport == "" {
		opts.Transport = StreamableHTTP
	}
	if opts.KeyHeader == "" {
		opts.KeyHeader = "X-API-Key"
	}
	sopts := &mcp.ServerOptions{}
	if opts.Legacy {
		sopts.SupportedProtocolVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}
	}
	s := &Server{MCP: mcp.NewServer(&mcp.Implementation{Name: "testpeer", Version: "1.0.0"}, sopts), t: t, opts: opts}
	addDefaultTools(s.MCP)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	path := "/mcp"
	if opts.Transport == SSE {
		path = "/sse"
	}
	s.URL = "http://" + s.addr + path
	s.serve(l)
	t.Cleanup(s.Stop)
	return s
}

// Requests returns the requests seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Stop closes the listener and every connection, like a server going away.
func (s *Server) Stop() {
	s.mu.Lock()
	h := s.http
	s.http = nil
	s.mu.Unlock()
	if h != nil {
		_ = h.Close()
	}
}

// SetAPIKey changes the key the server requires (a key revoked or rotated
// while clients are connected).
func (s *Server) SetAPIKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.APIKey = key
}

// ExpireSessions makes the server forget every session (as when sessions
// time out) while it keeps running.
func (s *Server) ExpireSessions() {
	h := s.newHandler()
	s.handler.Store(&h)
}

// Restart stops the server and starts it again on the same address with
// fresh handlers, so upstream sessions from before are unknown to it (as
// after a real restart).
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	var l net.Listener
	var err error
	for i := 0; i < 100; i++ {
		if l, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("testpeer: restarting on %s: %v", s.addr, err)
	}
	s.serve(l)
}

func (s *Server) newHandler() http.Handler {
	getServer := func(*http.Request) *mcp.Server { return s.MCP }
	if s.opts.Transport == SSE {
		return mcp.NewSSEHandler(getServer, nil)
	}
	return mcp.NewStreamableHTTPHandler(getServer, &mcp.StreamableHTTPOptions{Stateless: !s.opts.Legacy})
}

func (s *Server) serve(l net.Listener) {
	s.ExpireSessions()
	current := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*s.handler.Load()).ServeHTTP(w, r) })
	srv := &http.Server{Handler: s.authorize(current), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.http = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

// authorize records each request and enforces the API key.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		key := s.opts.APIKey
		s.mu.Unlock()
		ok := true
		if key != "" {
			if s.opts.KeyQuery != "" {
				ok = r.URL.Query().Get(s.opts.KeyQuery) == key
			} else {
				ok = r.Header.Get(s.opts.KeyHeader) == s.opts.KeyPrefix+key
			}
		}
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Authorized: ok})
		s.mu.Unlock()
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="testpeer"`)
			http.Error(w, "invalid or missing API key", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// EchoArgs is the echo tool's input (tests that replace echo need it).
type EchoArgs struct {
	Message string `json:"message"`
}

// The other tools' inputs and outputs.
type (
	addArgs struct {
		A float64 `json:"a"`
		B float64 `json:"b"`
	}
	addResult struct {
		Sum float64 `json:"sum"`
	}
	slowArgs struct {
		// Seconds to wait; the tool sends a progress notification each 100ms.
		Seconds float64 `json:"seconds"`
	}
)

// addDefaultTools adds echo (text back), add (structured content), slow
// (waits, reporting progress, until done or cancelled) and fail (an isError
// result).
func addDefaultTools(srv *mcp.Server) {
	mcp.AddTool(srv, &mcp.Tool{Name: "echo", Description: "Echoes the message back."},
		func(_ context.Context, _ *mcp.CallToolRequest, in EchoArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "Echo: " + in.Message}}}, nil, nil
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "add", Description: "Adds two numbers.", Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true}},
		func(_ context.Context, _ *mcp.CallToolRequest, in addArgs) (*mcp.CallToolResult, addResult, error) {
			return nil, addResult{Sum: in.A + in.B}, nil
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "slow", Description: "Waits, reporting progress."},
		func(ctx context.Context, req *mcp.CallToolRequest, in slowArgs) (*mcp.CallToolResult, any, error) {
			end := time.Now().Add(time.Duration(in.Seconds * float64(time.Second)))
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for i := 0; time.Now().Before(end); i++ {
				if token := req.Params.GetProgressToken(); token != nil {
					_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Progress: float64(i), Message: "waiting"})
				}
				select {
				case <-ctx.Done():
					return nil, nil, ctx.Err()
				case <-tick.C:
				}
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done"}}}, nil, nil
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "fail", Description: "Always fails."},
		func(context.Context, *mcp.CallToolRequest, any) (*mcp.CallToolResult, any, error) {
			return nil, nil, errors.New("this tool always fails")
		})
}

// String describes the server for test names.
func (o ServerOptions) String() string {
	era := "2026-07-28"
	if o.Legacy || o.Transport == SSE {
		era = "legacy"
	}
	return fmt.Sprintf("%s/%s", o.Transport, era)
}

// SilentListener accepts TCP connections on a loopback port and never
// answers (a hung server); it returns host:port. Everything closes when
// the test ends.
func SilentListener(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}
