// Package api is Patchbay's admin API: JSON over HTTP under /api/v1, plus a
// server-sent event stream of changes, the one-time login link and the
// static web UI.
//
// The UI, the CLI and tests all speak this one API, whatever hosts it: the
// window serves it in-process through Wails' asset server (no TCP, no token:
// the request never leaves the process), and `patchbay serve` and the desktop
// app mount it on the loopback listener, where every request needs the admin
// token (a Bearer header, or the session cookie set by the login link) and
// passes Host and Origin checks that stop DNS-rebinding and cross-site
// requests.
//
// Every error has one shape, so the UI and CLI can show it well:
//
//	{"error":{"message","code","slug","status","request_id","suggested_fix","errors":[{"field","message"}]}}
package api

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/events"
	"github.com/patchbay/patchbay/backend/loopback"
)

// Upstream is what the API needs of the upstream manager.
type Upstream interface {
	Status(id string) backend.ConnectorStatus
	Test(ctx context.Context, c *backend.Connector, onStep func(backend.TestStep)) backend.TestResult
	Reconnect(ctx context.Context, id string) error
	RefreshTools(ctx context.Context, id string) (backend.ToolChanges, error)
}

// Sessions lists the desktop clients connected to the gateway.
type Sessions interface {
	LiveSessions(conversationSlug string) []backend.LiveSession
}

// Services are the backend services behind the API. Any may be nil in a
// build or mode that lacks it; its routes then answer 503 with an
// explanation.
type Services struct {
	Connectors    backend.ConnectorService
	Tools         backend.ToolService
	Conversations backend.ConversationService
	Tokens        backend.TokenService
	Settings      backend.SettingsService
	Activity      backend.ActivityService
	Approvals     backend.ApprovalService
	Upstream      Upstream
	Sessions      Sessions
}

// Options configure a Server.
type Options struct {
	Services
	// Events is the hub streamed to browsers at /api/v1/events.
	Events *events.Hub
	// AdminToken authorises requests that arrive over TCP.
	AdminToken string
	// Version is reported by /api/v1/health.
	Version string
	// Frontend is the built web UI (index.html at its root); nil serves a
	// page saying the UI was not built.
	Frontend fs.FS
	// BaseURL returns the loopback base URL (http://127.0.0.1:PORT) used in
	// conversation URLs and setup snippets.
	BaseURL func() string
	Logger  *slog.Logger
	// ConnectOnSave connects a connector in the background after it is
	// created or edited, so its status and tools appear without asking. The
	// CLI's short-lived in-process server leaves it off.
	ConnectOnSave bool
}

// Server is the admin API handler.
type Server struct {
	opts Options
	mux  *http.ServeMux
	log  *slog.Logger

	mu       sync.Mutex
	codes    map[string]time.Time // one-time login codes → expiry
	sessions map[string]time.Time // browser sessions → expiry
	// extra holds routes added by other packages (OAuth, clients).
	extra []route
}

type route struct {
	pattern string
	h       handlerFunc
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// New returns a Server.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Events == nil {
		o.Events = events.New()
	}
	s := &Server{opts: o, log: o.Logger, codes: map[string]time.Time{}, sessions: map[string]time.Time{}}
	return s
}

// Handle adds a route under /api/v1 served by h, which returns an error to
// be written in the standard shape. It must be called before Handler.
func (s *Server) Handle(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
	s.extra = append(s.extra, route{pattern, h})
}

// Handler returns the handler for the loopback listener: admin token, Host
// and Origin are checked on every API request.
func (s *Server) Handler() http.Handler {
	return s.guard(s.routes(), false)
}

// InProcessHandler returns the handler for the window's asset server.
// Requests reach it only from the app's own WebView, inside the process, so
// no token is needed.
func (s *Server) InProcessHandler() http.Handler {
	return s.guard(s.routes(), true)
}

type ctxKey int

const keyRequestID ctxKey = iota

func (s *Server) routes() http.Handler {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mux != nil {
		return s.mux
	}
	m := http.NewServeMux()
	add := func(pattern string, h handlerFunc) { m.Handle(pattern, s.wrap(h)) }
	add("GET /api/v1/health", s.health)

	add("GET /api/v1/connectors", s.listConnectors)
	add("POST /api/v1/connectors", s.createConnector)
	add("POST /api/v1/connectors/test", s.testUnsaved)
	add("GET /api/v1/connectors/{ref}", s.getConnector)
	add("PUT /api/v1/connectors/{ref}", s.updateConnector)
	add("DELETE /api/v1/connectors/{ref}", s.deleteConnector)
	add("POST /api/v1/connectors/{ref}/test", s.testSaved)
	add("POST /api/v1/connectors/{ref}/reconnect", s.reconnect)
	add("GET /api/v1/connectors/{ref}/tools", s.listTools)
	add("POST /api/v1/connectors/{ref}/tools/refresh", s.refreshTools)
	add("PUT /api/v1/connectors/{ref}/tools/policy", s.setPolicies)
	add("PUT /api/v1/connectors/{ref}/tools/{tool}/policy", s.setPolicy)
	add("POST /api/v1/connectors/{ref}/tools/{tool}/accept", s.acceptTool)

	add("GET /api/v1/conversations", s.listConversations)
	add("POST /api/v1/conversations", s.createConversation)
	add("GET /api/v1/conversations/{ref}", s.getConversation)
	add("PUT /api/v1/conversations/{ref}", s.updateConversation)
	add("DELETE /api/v1/conversations/{ref}", s.deleteConversation)
	add("PUT /api/v1/conversations/{ref}/connectors/{connector}", s.toggleConnector)
	add("GET /api/v1/conversations/{ref}/sessions", s.listSessions)

	add("GET /api/v1/tokens", s.listTokens)
	add("POST /api/v1/tokens", s.issueToken)
	add("DELETE /api/v1/tokens/{id}", s.revokeToken)

	add("GET /api/v1/settings", s.getSettings)
	add("PUT /api/v1/settings", s.putSettings)

	add("GET /api/v1/activity", s.listActivity)
	add("GET /api/v1/activity/{seq}", s.getActivity)

	add("GET /api/v1/approvals", s.listApprovals)
	add("POST /api/v1/approvals/{id}", s.decideApproval)

	add("GET /api/v1/events", s.streamEvents)
	for _, r := range s.extra {
		add(r.pattern, r.h)
	}
	add("/api/", func(w http.ResponseWriter, r *http.Request) error {
		return backend.Errorf(backend.ENOTFOUND, "No API route %s %s.", r.Method, r.URL.Path).WithSlug("no_route")
	})

	m.HandleFunc("GET /login", s.login)
	m.HandleFunc("POST /login", s.login)
	m.Handle("/", s.static())
	s.mux = m
	return m
}

// wrap turns a handlerFunc into an http.Handler that writes returned errors
// in the standard shape.
func (s *Server) wrap(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// guard applies request IDs and, for the loopback listener, the Host,
// Origin and admin-token checks.
func (s *Server) guard(next http.Handler, inProcess bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := strings.ToLower(rand.Text()[:12])
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(context.WithValue(r.Context(), keyRequestID, id))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		if !inProcess {
			w.Header().Set("X-Frame-Options", "DENY")
			if !loopback.HostAllowed(r.Host) {
				s.writeError(w, r, backend.Errorf(backend.EFORBIDDEN, "Requests for the host %q are refused.", r.Host).
					WithSlug("bad_host").
					WithFix("Use http://127.0.0.1 or http://localhost with Patchbay's port; other names are refused to stop DNS-rebinding attacks."))
				return
			}
			if o := r.Header.Get("Origin"); o != "" && !loopback.SameOrigin(o, r.Host) {
				s.writeError(w, r, backend.Errorf(backend.EFORBIDDEN, "Requests from the web origin %q are refused.", o).
					WithSlug("bad_origin").
					WithFix("Only Patchbay's own pages may call its API."))
				return
			}
			if strings.HasPrefix(r.URL.Path, "/api/") && r.URL.Path != "/api/v1/health" && !s.authorized(r) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="patchbay-admin"`)
				s.writeError(w, r, backend.Errorf(backend.EUNAUTHORIZED, "The admin API needs the admin token.").
					WithSlug("admin_token_required").
					WithFix("Open the login link that `patchbay serve` printed, or send `Authorization: Bearer <admin token>` (the CLI reads it from the keychain or PATCHBAY_ADMIN_TOKEN)."))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

const cookieName = "patchbay_session"

func (s *Server) authorized(r *http.Request) bool {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && s.opts.AdminToken != "" {
		return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.opts.AdminToken)) == 1
	}
	if c, err := r.Cookie(cookieName); err == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		exp, ok := s.sessions[c.Value]
		return ok && time.Now().Before(exp)
	}
	return false
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "version": s.opts.Version})
}

// RequestID returns the request ID of r, set by the guard.
func RequestID(r *http.Request) string {
	id, _ := r.Context().Value(keyRequestID).(string)
	return id
}
