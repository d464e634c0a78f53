// Package upstream is Patchbay's client side: it keeps one live MCP client
// session per connector that is in use and lets the gateway call tools
// through it.
//
// A session is opened lazily, the first time something needs the connector
// (a call, a tool refresh), and shared by every conversation. Transport
// "auto" tries Streamable HTTP first and falls back to the legacy HTTP+SSE
// transport when the server is not a Streamable HTTP endpoint; the transport
// that worked is remembered in the store so the next connection does not
// probe again. go-sdk negotiates the protocol era (2026-07-28 stateless, or
// the initialize handshake of 2025-11-25 and older) by itself.
//
// Every HTTP request of every transport goes through one RoundTripper
// (authTransport) that adds the User-Agent, custom headers, the API key (in
// a header or in the query string — go-sdk's SSE client rebuilds message
// URLs from the server's endpoint event and would otherwise drop it) and
// OAuth tokens. The same RoundTripper watches the replies, which is how
// failures are explained in plain words (wrong URL, TLS, 401/403, timeouts,
// DNS, server errors) and how a lost upstream session is noticed.
//
// Secrets are resolved when a connection is made and live only in memory;
// every error text and log line that could carry one goes through a
// redactor first.
//
// Dropped connections, expired upstream sessions and restarted servers are
// recovered by reconnecting with capped exponential backoff; in-flight calls
// fail with a clear error instead of hanging. Tools are listed with
// pagination, their schemas normalised (NormalizeInputSchema), and merged
// with the stored ones through backend.MergeTools on every connect and every
// tools/list_changed notification.
package upstream
