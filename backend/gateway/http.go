package gateway

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/loopback"
)

// newEraVersion is the first protocol version served statelessly.
const newEraVersion = "2026-07-28"

type callerKey struct{}

// caller is who a request comes from and where it goes, set once the
// request passed the checks.
type caller struct {
	token *backend.ClientToken
	cs    *convServer
}

// ServeHTTP serves /mcp and /mcp/<slug>.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.handler.ServeHTTP(w, r) }

func (g *Gateway) routes() http.Handler {
	// auth.RequireBearerToken is the only way to hand go-sdk the TokenInfo
	// that binds a session to its token and path; the token was checked
	// already, so the verifier just reads the result.
	verify := func(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
		c, _ := ctx.Value(callerKey{}).(*caller)
		if c == nil {
			return nil, auth.ErrInvalidToken
		}
		return &auth.TokenInfo{
			// go-sdk refuses a session used with another UserID, so this
			// binds each session to its token and its conversation path.
			UserID: c.token.ID + "|" + c.cs.id + "|" + c.cs.slug(),
			Extra:  map[string]any{"token_id": c.token.ID, "token_label": c.token.Label},
		}, nil
	}
	bound := auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})
	stateful := bound(http.HandlerFunc(g.serveStateful))
	stateless := bound(g.stateless)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slug, ok := conversationSlug(r.URL.Path)
		if !ok {
			g.writeError(w, backend.Errorf(backend.ENOTFOUND, "No MCP endpoint at %s.", r.URL.Path).
				WithSlug("no_endpoint").WithFix("Use /mcp for the default conversation or /mcp/<slug> for another."))
			return
		}
		if !loopback.HostAllowed(r.Host) {
			g.writeError(w, backend.Errorf(backend.EFORBIDDEN, "Requests for the host %q are refused.", r.Host).
				WithSlug("bad_host").
				WithFix("Connect to http://127.0.0.1 or http://localhost with Patchbay's port; other names are refused to stop DNS-rebinding attacks."))
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !loopback.SameOrigin(o, r.Host) {
			g.writeError(w, backend.Errorf(backend.EFORBIDDEN, "Requests from the web origin %q are refused.", o).
				WithSlug("bad_origin").
				WithFix("Web pages may not use Patchbay's MCP endpoint; connect from a desktop client instead."))
			return
		}
		tok, err := g.tokens.authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			g.log.Error("reading client tokens failed", "err", err)
			g.writeError(w, backend.Errorf(backend.EUNAVAILABLE, "Patchbay cannot check tokens right now.").WithFix("Try again in a moment."))
			return
		}
		if tok == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="patchbay"`)
			msg := "This MCP endpoint needs a client token."
			if r.Header.Get("Authorization") != "" {
				msg = "The client token is not valid (it may have been revoked)."
			}
			g.writeError(w, backend.Errorf(backend.EUNAUTHORIZED, "%s", msg).
				WithSlug("client_token_required").
				WithFix("Create a token in Patchbay (or run `patchbay token create \"My client\"`) and send it as `Authorization: Bearer <token>`; the setup commands in Patchbay include it."))
			return
		}
		g.ensureFresh()
		cs := g.conversation(slug)
		if cs == nil {
			g.writeError(w, backend.Errorf(backend.ENOTFOUND, "No conversation %q.", slug).
				WithSlug("conversation_not_found").
				WithFix("See the conversations and their URLs with `patchbay conversation list`."))
			return
		}
		if r.Method != http.MethodGet {
			if !g.enter() {
				g.writeError(w, backend.Errorf(backend.EUNAVAILABLE, "Patchbay is shutting down.").
					WithSlug("shutting_down").WithFix("Reconnect once Patchbay is running again."))
				return
			}
			defer g.leave()
		}
		g.tokens.touch(tok.ID)
		r = r.WithContext(context.WithValue(r.Context(), callerKey{}, &caller{token: tok, cs: cs}))
		if isNewEra(r) {
			stateless.ServeHTTP(w, r)
		} else {
			stateful.ServeHTTP(w, r)
		}
	})
}

// serveStateful passes a request to the stateful handler, keeping track of
// open GET streams so that a listening client is never taken for idle.
// (Every request and notification a session POSTs is noted by the
// server's middleware, sessionTracker.seen.)
func (g *Gateway) serveStateful(w http.ResponseWriter, r *http.Request) {
	if id := r.Header.Get("Mcp-Session-Id"); id != "" && r.Method == http.MethodGet {
		defer g.sessions.stream(id)()
	}
	g.stateful.ServeHTTP(w, r)
}

// isNewEra reports whether a request is of protocol 2026-07-28 or later.
// Such requests carry the version in the Mcp-Protocol-Version header (go-sdk
// checks it against the body); a request without it is served statefully,
// and a new-era body that lacks the header gets the stateful handler's
// answer listing the versions it speaks.
func isNewEra(r *http.Request) bool {
	return r.Header.Get("Mcp-Protocol-Version") >= newEraVersion
}

// conversationSlug maps /mcp to the default conversation and /mcp/<slug>
// to slug.
func conversationSlug(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/mcp")
	if !ok {
		return "", false
	}
	rest = strings.Trim(rest, "/")
	switch {
	case rest == "":
		return backend.DefaultConversationSlug, true
	case strings.Contains(rest, "/") || path[len("/mcp")] != '/':
		return "", false
	}
	return rest, true
}

// serverFor is go-sdk's getServer: the conversation the request was routed
// to by the checks above.
func (g *Gateway) serverFor(r *http.Request) *mcp.Server {
	if c, _ := r.Context().Value(callerKey{}).(*caller); c != nil {
		return c.cs.srv
	}
	return nil
}

func (g *Gateway) writeError(w http.ResponseWriter, e *backend.Error) {
	id := strings.ToLower(rand.Text()[:12])
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Request-Id", id)
	w.WriteHeader(backend.HTTPStatus(e.Code))
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(e.Body(id))
}
