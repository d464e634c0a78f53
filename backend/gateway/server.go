package gateway

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
)

// convServer is one conversation's MCP server. AddTool and RemoveTools on
// it notify exactly the clients of this conversation.
type convServer struct {
	g    *Gateway
	id   string
	srv  *mcp.Server
	view atomic.Pointer[convView]
	// registered maps the exposed names on srv to their sig; only sync
	// touches it (under syncMu).
	registered map[string]string
}

// pageSize is large enough that a conversation's whole tool list fits one
// page: some clients never ask for the next one.
const pageSize = 5000

func (g *Gateway) newConvServer(cv *backend.Conversation) *convServer {
	cs := &convServer{g: g, id: cv.ID, registered: map[string]string{}}
	cs.srv = mcp.NewServer(&mcp.Implementation{Name: "patchbay", Title: "Patchbay", Version: g.opts.Version}, &mcp.ServerOptions{
		Instructions: "Tools of the MCP connectors the user set up in Patchbay. Each tool is named <connector>_<tool>; " +
			"its description starts with the connector's name in brackets. Some calls wait for the user's approval.",
		Logger: g.sdkLog,
		// Tools are added after clients connect; advertise them (and their
		// list changes) from the start. Nothing else is offered.
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{ListChanged: true}},
		PageSize:     pageSize,
	})
	cs.srv.AddReceivingMiddleware(cs.middleware)
	return cs
}

// slug returns the conversation's current slug.
func (cs *convServer) slug() string {
	if v := cs.view.Load(); v != nil {
		return v.conv.Slug
	}
	return ""
}

// apply makes the server offer exactly the listed tools of v. The view is
// published first, so calls are judged by the new state at once; the
// server's list follows, and go-sdk tells the clients.
func (cs *convServer) apply(v *convView) {
	cs.view.Store(v)
	want := map[string]*toolEntry{}
	for name, e := range v.tools {
		if e.listed {
			want[name] = e
		}
	}
	var remove []string
	for name := range cs.registered {
		if want[name] == nil {
			remove = append(remove, name)
		}
	}
	if len(remove) > 0 {
		slices.Sort(remove)
		cs.srv.RemoveTools(remove...)
		for _, n := range remove {
			delete(cs.registered, n)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		e := want[name]
		if cs.registered[name] == e.sig {
			continue
		}
		if err := cs.addTool(e); err != nil {
			cs.g.log.Warn("a tool cannot be offered to clients", "conversation", v.conv.Slug, "tool", name, "err", err)
			if _, was := cs.registered[name]; was {
				cs.srv.RemoveTools(name)
				delete(cs.registered, name)
			}
			continue
		}
		cs.registered[name] = e.sig
	}
}

// addTool registers one tool. go-sdk panics on definitions it cannot
// serve (a schema it rejects); an upstream server must not be able to take
// Patchbay down that way, so the panic becomes an error.
func (cs *convServer) addTool(e *toolEntry) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("go-sdk refused the definition: %v", r)
		}
	}()
	name := e.exposed
	cs.srv.AddTool(clientTool(e), func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		// Calls are handled by the middleware; this is reached only if
		// something bypasses it, and takes the same path.
		req.Params.Name = name
		return cs.g.callTool(ctx, cs, req)
	})
	return nil
}

// middleware routes every tool call through the gate (so that no name,
// listed or not, reaches upstream unchecked), lets tools/list warm up
// connectors, and keeps the live-session list current.
func (cs *convServer) middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		cs.g.sessions.seen(cs, req, method)
		switch method {
		case "tools/call":
			if r, ok := req.(*mcp.CallToolRequest); ok {
				return cs.g.callTool(ctx, cs, r)
			}
		case "tools/list":
			cs.g.beforeList(ctx, cs)
		case "subscriptions/listen":
			var done func()
			ctx, done = cs.g.sessions.listening(ctx, cs, req)
			defer done()
		case "notifications/initialized":
			// A client of the 2025-11-25 era (or older) has set up its
			// session. (ServerOptions.InitializedHandler would not see the
			// token the request came with.)
			res, err := next(ctx, method, req)
			if ss, ok := req.GetSession().(*mcp.ServerSession); ok && err == nil {
				cs.g.sessions.started(cs, ss, req.GetExtra())
			}
			return res, err
		}
		return next(ctx, method, req)
	}
}

// closeSessions hangs up on every stateful session of the conversation.
func (cs *convServer) closeSessions() {
	for ss := range cs.srv.Sessions() {
		if ss.ID() != "" {
			_ = ss.Close()
		}
	}
}
