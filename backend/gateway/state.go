package gateway

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
)

// state is the configuration the gateway serves, as last read from the
// store. Only sync touches it (under syncMu).
type state struct {
	connectors map[string]*backend.Connector // by ID
	tools      map[string][]*backend.Tool    // by connector ID; present once read
	servers    map[string]*convServer        // by conversation ID
}

// toolEntry is one tool of one conversation, as clients see it.
type toolEntry struct {
	exposed   string
	connector *backend.Connector
	tool      *backend.Tool
	// listed is whether the conversation offers the tool: callable and,
	// when the conversation has an allow-list, on it.
	listed bool
	// inConversation is false for tools left out by the allow-list; they
	// are unknown to the conversation's clients.
	inConversation bool
	// sig changes whenever what clients see of the tool changes.
	sig string
}

// convView is a conversation with its tools: the state every call is
// checked against. It is replaced whole, never modified.
type convView struct {
	conv  *backend.Conversation
	tools map[string]*toolEntry // by exposed name
}

// ensureFresh brings the state up to date with every change announced so
// far. It costs one atomic load when nothing changed.
func (g *Gateway) ensureFresh() {
	if g.synced.Load() != g.gen.Load() {
		g.sync()
	}
}

// sync re-reads what changed and updates every conversation's server.
func (g *Gateway) sync() {
	g.syncMu.Lock()
	defer g.syncMu.Unlock()
	target := g.gen.Load()
	if g.synced.Load() == target || g.closed.Load() {
		return
	}
	// The hub listener marks before it counts, so reading the target first
	// and the marks second never misses a change.
	g.dirtyMu.Lock()
	dirty, all := g.dirty, g.allDirty
	g.dirty, g.allDirty = map[string]bool{}, false
	g.dirtyMu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gone, err := g.load(ctx, dirty, all)
	// Sessions (and calls) of a conversation deleted or renamed end; not
	// under syncMu, since go-sdk's Close waits for their calls, which may
	// be waiting for this very lock.
	for _, cs := range gone {
		g.flights.cancel(func(f *flight) bool { return f.cs == cs })
		g.goBackground(cs.closeSessions)
	}
	if err != nil {
		g.log.Error("reading the configuration failed; serving the previous one", "err", err)
		g.dirtyMu.Lock()
		g.allDirty = true
		g.dirtyMu.Unlock()
		return
	}
	g.synced.Store(target)
}

// load re-reads the configuration and updates the servers. It returns the
// servers whose sessions must end (their conversation was deleted, or its
// path changed).
func (g *Gateway) load(ctx context.Context, dirty map[string]bool, all bool) (gone []*convServer, err error) {
	conns, err := g.opts.Store.ListConnectors(ctx)
	if err != nil {
		return nil, err
	}
	convs, err := g.opts.Store.ListConversations(ctx)
	if err != nil {
		return nil, err
	}
	st := g.st
	if st == nil {
		st = &state{tools: map[string][]*backend.Tool{}, servers: map[string]*convServer{}}
	}
	st.connectors = make(map[string]*backend.Connector, len(conns))
	for _, c := range conns {
		st.connectors[c.ID] = c
	}
	needed := map[string]bool{}
	for _, cv := range convs {
		for _, id := range cv.Connectors {
			if st.connectors[id] != nil {
				needed[id] = true
			}
		}
	}
	for id := range st.tools {
		if !needed[id] || all || dirty[id] {
			delete(st.tools, id)
		}
	}
	for id := range needed {
		if _, ok := st.tools[id]; ok {
			continue
		}
		tools, err := g.opts.Store.ListTools(ctx, id)
		if err != nil {
			return nil, err
		}
		if tools == nil {
			tools = []*backend.Tool{}
		}
		st.tools[id] = tools
	}
	names := map[string]map[string]string{}
	for id := range needed {
		c := st.connectors[id]
		list := make([]string, 0, len(st.tools[id]))
		for _, t := range st.tools[id] {
			list = append(list, t.Name)
		}
		names[id] = exposedNames(c.Slug, list)
	}

	bySlug := make(map[string]*convServer, len(convs))
	seen := map[string]bool{}
	for _, cv := range convs {
		seen[cv.ID] = true
		cs := st.servers[cv.ID]
		if cs == nil {
			cs = g.newConvServer(cv)
			st.servers[cv.ID] = cs
		} else if old := cs.view.Load(); old != nil && old.conv.Slug != cv.Slug {
			// Sessions are bound to the path they were opened on.
			gone = append(gone, cs)
		}
		cs.apply(g.buildView(cv, st, names))
		bySlug[cv.Slug] = cs
	}
	for id, cs := range st.servers {
		if !seen[id] {
			delete(st.servers, id)
			gone = append(gone, cs)
		}
	}
	g.st = st
	g.convs.Store(bySlug)
	return gone, nil
}

// buildView computes the tools of one conversation.
func (g *Gateway) buildView(cv *backend.Conversation, st *state, names map[string]map[string]string) *convView {
	v := &convView{conv: cv, tools: map[string]*toolEntry{}}
	allowed := map[string]bool{}
	for _, n := range cv.AllowedTools {
		allowed[n] = true
	}
	for _, id := range cv.Connectors {
		c := st.connectors[id]
		if c == nil {
			continue
		}
		for _, t := range st.tools[id] {
			name := names[id][t.Name]
			in := len(allowed) == 0 || allowed[name] || allowed[c.Slug+"_"+t.Name]
			e := &toolEntry{exposed: name, connector: c, tool: t, inConversation: in}
			e.listed = in && t.Callable()
			if e.listed {
				e.sig = name + "\x00" + t.Pin + "\x00" + c.Name + "\x00" + string(t.Meta)
			}
			v.tools[name] = e
		}
	}
	return v
}

// clientTool is the definition a client sees: the accepted upstream
// definition under its exposed name, the description marked with the
// connector it comes from.
func clientTool(e *toolEntry) *mcp.Tool {
	t := e.tool
	desc := "[" + e.connector.Name + "]"
	if t.Description != "" {
		desc += " " + t.Description
	}
	out := &mcp.Tool{
		Name:        e.exposed,
		Title:       t.Title,
		Description: desc,
		InputSchema: normalizeInput(t.InputSchema),
	}
	if len(t.OutputSchema) > 0 && string(t.OutputSchema) != "null" {
		out.OutputSchema = t.OutputSchema
	}
	if len(t.Annotations) > 0 {
		var a mcp.ToolAnnotations
		if json.Unmarshal(t.Annotations, &a) == nil {
			out.Annotations = &a
		}
	}
	if len(t.Meta) > 0 {
		var m mcp.Meta
		if json.Unmarshal(t.Meta, &m) == nil {
			out.Meta = m
		}
	}
	return out
}

// normalizeInput guarantees what go-sdk requires of an input schema (an
// object schema). The upstream manager stores normalised schemas; this
// guards against older data.
func normalizeInput(raw json.RawMessage) json.RawMessage {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || m == nil || m["type"] != "object" {
		return json.RawMessage(`{"type":"object"}`)
	}
	return raw
}

// conversations returns the conversation servers, in no particular order.
func (g *Gateway) conversations() []*convServer {
	return slices.Collect(maps.Values(g.convs.Load().(map[string]*convServer)))
}

// conversation returns the server of the conversation with slug, or nil.
func (g *Gateway) conversation(slug string) *convServer {
	return g.convs.Load().(map[string]*convServer)[slug]
}
