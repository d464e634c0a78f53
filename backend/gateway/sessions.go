package gateway

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
)

// sessionTracker keeps the list of live clients per conversation.
//
// A client of the 2025-11-25 era has a real session: it starts with
// initialize, lives while its Mcp-Session-Id is used, and ends with DELETE,
// when Patchbay closes it, or after SessionIdle without a request or an
// open stream. A 2026-07-28 client has no session at all, so a "live
// session" is the client as identified by its token and clientInfo: it
// appears with its first request and is forgotten after SessionIdle without
// a request or an open subscriptions/listen stream.
type sessionTracker struct {
	pub backend.Publisher
	now func() time.Time
	wg  sync.WaitGroup // goroutines waiting for sessions to end

	mu        sync.Mutex
	byID      map[string]*live
	stateless map[statelessKey]*live
	lastPub   map[string]time.Time // conversation slug → last last-call event
	nextID    int                  // keys of listen streams' cancels
}

type live struct {
	s       backend.LiveSession
	ss      *mcp.ServerSession // stateful sessions only
	streams int                // open GET or listen streams
	seen    time.Time
	cancels map[int]context.CancelFunc // open listen streams
}

type statelessKey struct {
	tokenID, convID, name, version string
}

// id is the stable ID shown for a stateless client.
func (k statelessKey) id() string {
	return "c-" + shortHash(k.tokenID+"\x00"+k.convID+"\x00"+k.name+"\x00"+k.version, 12)
}

func newSessionTracker(pub backend.Publisher, now func() time.Time) *sessionTracker {
	return &sessionTracker{pub: pub, now: now, byID: map[string]*live{}, stateless: map[statelessKey]*live{}, lastPub: map[string]time.Time{}}
}

// tokenOf returns the token ID and label the request was authorised with.
func tokenOf(ti *auth.TokenInfo) (id, label string) {
	if ti == nil {
		return "", ""
	}
	id, _ = ti.Extra["token_id"].(string)
	label, _ = ti.Extra["token_label"].(string)
	return id, label
}

func (t *sessionTracker) changed(slug string) {
	t.pub.Publish(backend.NewEvent(backend.EventSessionsChanged, map[string]string{"conversation": slug}))
}

// started records a stateful session once initialized, and forgets it
// when it ends.
func (t *sessionTracker) started(cs *convServer, ss *mcp.ServerSession, extra *mcp.RequestExtra) {
	id := ss.ID()
	if id == "" {
		return
	}
	var ti *auth.TokenInfo
	if extra != nil {
		ti = extra.TokenInfo
	}
	tokID, label := tokenOf(ti)
	l := &live{ss: ss, seen: t.now()}
	l.s = backend.LiveSession{ID: id, Conversation: cs.slug(), TokenID: tokID, TokenLabel: label, Since: t.now().UTC()}
	if p := ss.InitializeParams(); p != nil {
		l.s.ProtocolVersion = p.ProtocolVersion
		if p.ClientInfo != nil {
			l.s.ClientName, l.s.ClientVersion = p.ClientInfo.Name, p.ClientInfo.Version
		}
	}
	t.mu.Lock()
	t.byID[id] = l
	t.mu.Unlock()
	t.changed(l.s.Conversation)
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		_ = ss.Wait()
		t.mu.Lock()
		_, ok := t.byID[id]
		delete(t.byID, id)
		t.mu.Unlock()
		if ok {
			t.changed(l.s.Conversation)
		}
	}()
}

// seen notes a request of a client: stateless clients appear with their
// first one; every tool call updates "last call".
func (t *sessionTracker) seen(cs *convServer, req mcp.Request, method string) {
	now := t.now()
	isCall := method == "tools/call"
	var l *live
	created := false
	t.mu.Lock()
	if ss, ok := req.GetSession().(*mcp.ServerSession); ok && ss.ID() != "" {
		l = t.byID[ss.ID()]
	} else if !strings.HasPrefix(method, "notifications/") {
		l, created = t.statelessLocked(cs, req, now)
	}
	if l == nil {
		t.mu.Unlock()
		return
	}
	l.seen = now
	publish := created
	if isCall {
		l.s.LastCall = now.UTC()
		if now.Sub(t.lastPub[l.s.Conversation]) > time.Second {
			t.lastPub[l.s.Conversation] = now
			publish = true
		}
	}
	slug := l.s.Conversation
	t.mu.Unlock()
	if publish {
		t.changed(slug)
	}
}

// statelessLocked returns the entry of a 2026-07-28 client, creating it.
func (t *sessionTracker) statelessLocked(cs *convServer, req mcp.Request, now time.Time) (*live, bool) {
	var tokID, label string
	if ex := req.GetExtra(); ex != nil {
		tokID, label = tokenOf(ex.TokenInfo)
	}
	k := statelessKey{tokenID: tokID, convID: cs.id}
	k.name, k.version = clientIdentity(req)
	if l := t.stateless[k]; l != nil {
		return l, false
	}
	l := &live{seen: now, cancels: map[int]context.CancelFunc{}}
	l.s = backend.LiveSession{
		ID: k.id(), Conversation: cs.slug(),
		ClientName: k.name, ClientVersion: k.version, TokenID: tokID, TokenLabel: label, Since: now.UTC(),
	}
	l.s.ProtocolVersion = protocolVersion(req)
	t.stateless[k] = l
	return l, true
}

// listening marks an open subscriptions/listen stream; the returned
// context ends when the client's token is revoked or Patchbay closes.
func (t *sessionTracker) listening(ctx context.Context, cs *convServer, req mcp.Request) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	t.mu.Lock()
	l, created := t.statelessLocked(cs, req, t.now())
	t.nextID++
	n := t.nextID
	l.streams++
	l.cancels[n] = cancel
	slug := l.s.Conversation
	t.mu.Unlock()
	if created {
		t.changed(slug)
	}
	return ctx, func() {
		cancel()
		t.mu.Lock()
		l.streams--
		delete(l.cancels, n)
		l.seen = t.now()
		t.mu.Unlock()
	}
}

// stream marks an open GET stream of a stateful session; call the
// returned function when it ends.
func (t *sessionTracker) stream(id string) func() {
	t.mu.Lock()
	l := t.byID[id]
	if l != nil {
		l.streams++
	}
	t.mu.Unlock()
	return func() {
		if l == nil {
			return
		}
		t.mu.Lock()
		l.streams--
		l.seen = t.now()
		t.mu.Unlock()
	}
}

// list returns the live clients of a conversation, oldest first.
func (t *sessionTracker) list(slug string) []backend.LiveSession {
	t.mu.Lock()
	out := []backend.LiveSession{}
	for _, l := range t.byID {
		if l.s.Conversation == slug {
			out = append(out, l.s)
		}
	}
	for _, l := range t.stateless {
		if l.s.Conversation == slug {
			out = append(out, l.s)
		}
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b backend.LiveSession) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// sweep ends sessions idle for longer than idle with no open stream.
func (t *sessionTracker) sweep(idle time.Duration) {
	t.end(func(l *live) bool { return l.streams == 0 && t.now().Sub(l.seen) > idle })
}

// closeToken ends every session of a token.
func (t *sessionTracker) closeToken(id string) {
	t.end(func(l *live) bool { return l.s.TokenID == id })
}

// closeAll ends every session (Patchbay is closing) and waits for their
// watchers.
func (t *sessionTracker) closeAll() {
	t.end(func(*live) bool { return true })
	t.wg.Wait()
}

// tokensInUse returns the token IDs of live sessions.
func (t *sessionTracker) tokensInUse() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	add := func(l *live) {
		if !seen[l.s.TokenID] {
			seen[l.s.TokenID] = true
			out = append(out, l.s.TokenID)
		}
	}
	for _, l := range t.byID {
		add(l)
	}
	for _, l := range t.stateless {
		add(l)
	}
	return out
}

// end closes the sessions that match: stateful ones are closed (their
// watcher removes them), stateless ones are forgotten and their streams
// ended.
func (t *sessionTracker) end(match func(*live) bool) {
	var closeSS []*mcp.ServerSession
	var cancels []context.CancelFunc
	slugs := map[string]bool{}
	t.mu.Lock()
	for _, l := range t.byID {
		if match(l) {
			closeSS = append(closeSS, l.ss)
		}
	}
	for k, l := range t.stateless {
		if match(l) {
			delete(t.stateless, k)
			for _, c := range l.cancels {
				cancels = append(cancels, c)
			}
			slugs[l.s.Conversation] = true
		}
	}
	t.mu.Unlock()
	for _, c := range cancels {
		c()
	}
	// go-sdk's Close waits for the session's calls to finish; the caller
	// (the worker, a sweep) must not wait with it.
	for _, ss := range closeSS {
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			_ = ss.Close()
		}()
	}
	for s := range slugs {
		t.changed(s)
	}
}

// clientIdentity returns the calling client's name and version: from the
// request's _meta (2026-07-28) or the session's initialize (older). It
// reads the already-decoded _meta map rather than ServerRequest.ClientInfo,
// which re-encodes and decodes it on every call.
func clientIdentity(req mcp.Request) (name, version string) {
	if p := req.GetParams(); p != nil {
		if ci, ok := p.GetMeta()["io.modelcontextprotocol/clientInfo"].(map[string]any); ok {
			name, _ = ci["name"].(string)
			version, _ = ci["version"].(string)
			return name, version
		}
	}
	if ss, ok := req.GetSession().(*mcp.ServerSession); ok {
		if p := ss.InitializeParams(); p != nil && p.ClientInfo != nil {
			return p.ClientInfo.Name, p.ClientInfo.Version
		}
	}
	return "", ""
}

// protocolVersion returns the request's protocol version (see
// clientIdentity).
func protocolVersion(req mcp.Request) string {
	if p := req.GetParams(); p != nil {
		if v, ok := p.GetMeta()["io.modelcontextprotocol/protocolVersion"].(string); ok {
			return v
		}
	}
	if ss, ok := req.GetSession().(*mcp.ServerSession); ok {
		if p := ss.InitializeParams(); p != nil {
			return p.ProtocolVersion
		}
	}
	return ""
}
