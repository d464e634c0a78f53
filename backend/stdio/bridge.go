// Package stdio is `patchbay stdio`: an MCP server on standard input and
// output for desktop clients that only launch local servers (Claude
// Desktop's config file), forwarding everything to the running Patchbay's
// MCP endpoint.
//
// The bridge holds no policy of its own: every call goes to Patchbay, which
// decides (disabled, held, needs approval), logs it and answers. It mirrors
// Patchbay's tool list and follows its changes (subscriptions/listen), so a
// connector toggled in Patchbay reaches the stdio client as
// notifications/tools/list_changed. Progress flows back, and a cancelled
// request cancels the call in Patchbay.
//
// The connection to Patchbay is made when the stdio client first needs it,
// so that the calls carry the stdio client's own name ("Claude via patchbay
// stdio") into Patchbay's activity log and live-session list.
package stdio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
)

// Options configure Serve.
type Options struct {
	// URL is the MCP endpoint of the conversation on the running Patchbay
	// (http://127.0.0.1:47821/mcp or …/mcp/<slug>).
	URL string
	// Token returns the client token to use; fresh asks for a new one
	// because the last one was refused.
	Token func(ctx context.Context, fresh bool) (string, error)
	// In and Out are the stdio client's pipes (os.Stdin and os.Stdout).
	In  io.ReadCloser
	Out io.WriteCloser
	// Logger receives diagnostics (stderr); nil discards them.
	Logger  *slog.Logger
	Version string
	// Transport is the HTTP transport to Patchbay (default: a clone of
	// http.DefaultTransport).
	Transport http.RoundTripper
}

// Serve runs the bridge until the stdio client closes its input or ctx
// ends.
func Serve(ctx context.Context, o Options) error {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	b := &bridge{o: o, log: o.Logger, tools: map[string]string{}, kick: make(chan struct{}, 1)}
	b.srv = mcp.NewServer(&mcp.Implementation{Name: "patchbay", Title: "Patchbay", Version: o.Version}, &mcp.ServerOptions{
		Instructions: "Tools of the MCP connectors the user set up in Patchbay. Each tool is named <connector>_<tool>; some calls wait for the user's approval in Patchbay.",
		Logger:       o.Logger,
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{ListChanged: true}},
		PageSize:     5000,
	})
	b.srv.AddReceivingMiddleware(b.middleware)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		b.follow(ctx)
	}()
	err := b.srv.Run(ctx, &mcp.IOTransport{Reader: o.In, Writer: o.Out})
	cancel()
	wg.Wait()
	b.mu.Lock()
	if b.cs != nil {
		_ = b.cs.Close()
	}
	b.mu.Unlock()
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, context.Canceled) || errors.Is(err, mcp.ErrConnectionClosed) {
		return nil
	}
	return err
}

type bridge struct {
	o   Options
	log *slog.Logger
	srv *mcp.Server

	mu      sync.Mutex // guards cs and token; held while connecting
	cs      *mcp.ClientSession
	token   string
	ss      *mcp.ServerSession // the stdio client's session
	kick    chan struct{}
	syncMu  sync.Mutex
	tools   map[string]string // mirrored tool → its definition as JSON
	seq     atomic.Uint64
	progMap sync.Map // token sent to Patchbay → func(*mcp.ProgressNotificationParams)
}

// middleware forwards every tool call to Patchbay (it is the gate, and logs
// even calls to names it does not know) and makes sure the tool list is
// Patchbay's before the first listing.
func (b *bridge) middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if ss, ok := req.GetSession().(*mcp.ServerSession); ok {
			b.mu.Lock()
			b.ss = ss
			b.mu.Unlock()
		}
		switch method {
		case "tools/call":
			if r, ok := req.(*mcp.CallToolRequest); ok {
				return b.call(ctx, r)
			}
		case "tools/list":
			if _, err := b.session(ctx); err != nil {
				return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: backend.ErrorMessage(err)}
			}
		}
		return next(ctx, method, req)
	}
}

// session returns the connection to Patchbay, connecting (and mirroring
// its tools) when there is none.
func (b *bridge) session(ctx context.Context) (*mcp.ClientSession, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cs != nil {
		return b.cs, nil
	}
	name, version := "stdio client", ""
	if b.ss != nil {
		if p := b.ss.InitializeParams(); p != nil && p.ClientInfo != nil {
			name, version = p.ClientInfo.Name, p.ClientInfo.Version
		}
	}
	for attempt := 0; ; attempt++ {
		if b.token == "" || attempt > 0 {
			tok, err := b.o.Token(ctx, attempt > 0)
			if err != nil {
				return nil, err
			}
			b.token = tok
		}
		rt := &authRT{base: b.o.Transport, token: b.token}
		client := mcp.NewClient(&mcp.Implementation{Name: name + " via patchbay stdio", Version: version}, &mcp.ClientOptions{
			Capabilities:                &mcp.ClientCapabilities{},
			ToolListChangedHandler:      func(context.Context, *mcp.ToolListChangedRequest) { b.changed() },
			ProgressNotificationHandler: b.onProgress,
		})
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: b.o.URL, HTTPClient: &http.Client{Transport: rt}, MaxRetries: 2}, nil)
		if err != nil {
			if rt.refused.Load() && attempt == 0 {
				b.log.Info("Patchbay refused the bridge's token; asking for a new one")
				continue
			}
			return nil, connectError(b.o.URL, err, rt.refused.Load())
		}
		b.cs = cs
		// A session that ends by itself (Patchbay quit) is dropped, so the
		// next request connects again and catches up with the tool list.
		go func() {
			_ = cs.Wait()
			b.drop(cs)
		}()
		break
	}
	if err := b.syncTools(ctx, b.cs); err != nil {
		_ = b.cs.Close()
		b.cs = nil
		return nil, err
	}
	return b.cs, nil
}

// drop forgets a broken connection; the next request connects again.
func (b *bridge) drop(cs *mcp.ClientSession) {
	b.mu.Lock()
	if b.cs == cs {
		b.cs = nil
	}
	b.mu.Unlock()
	_ = cs.Close()
}

func connectError(url string, err error, refused bool) error {
	if refused {
		return backend.Errorf(backend.EUNAUTHORIZED, "Patchbay at %s refused the stdio bridge's token.", url).
			WithSlug("bridge_token_refused").
			WithFix("Check that the bridge points at the right Patchbay (PATCHBAY_HOME), then restart the client.")
	}
	return &backend.Error{Code: backend.EUNAVAILABLE, Slug: "patchbay_not_running", Err: err,
		Message:      fmt.Sprintf("Patchbay is not answering at %s.", url),
		SuggestedFix: "Start Patchbay (the app, or `patchbay serve`), then try again."}
}

// changed notes a list change in Patchbay; follow applies it.
func (b *bridge) changed() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// follow mirrors Patchbay's tool list after each change.
func (b *bridge) follow(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.kick:
		}
		b.mu.Lock()
		cs := b.cs
		b.mu.Unlock()
		if cs == nil {
			continue
		}
		if err := b.syncTools(ctx, cs); err != nil && ctx.Err() == nil {
			b.log.Warn("updating the tool list from Patchbay failed", "err", err)
		}
	}
}

// syncTools makes the stdio server offer exactly Patchbay's tools; go-sdk
// sends list_changed to the stdio client when anything changed.
func (b *bridge) syncTools(ctx context.Context, cs *mcp.ClientSession) error {
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	want := map[string]*mcp.Tool{}
	sigs := map[string]string{}
	for t, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return fmt.Errorf("listing Patchbay's tools: %w", err)
		}
		sig, _ := json.Marshal(t)
		want[t.Name], sigs[t.Name] = t, string(sig)
	}
	var remove []string
	for name := range b.tools {
		if want[name] == nil {
			remove = append(remove, name)
			delete(b.tools, name)
		}
	}
	if len(remove) > 0 {
		b.srv.RemoveTools(remove...)
	}
	for name, t := range want {
		if b.tools[name] == sigs[name] {
			continue
		}
		if err := b.addTool(t); err != nil {
			b.log.Warn("a tool cannot be offered over stdio", "tool", name, "err", err)
			continue
		}
		b.tools[name] = sigs[name]
	}
	return nil
}

func (b *bridge) addTool(t *mcp.Tool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	b.srv.AddTool(t, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return b.call(ctx, req) // reached only if the middleware is bypassed
	})
	return nil
}

// call forwards one tool call to Patchbay.
func (b *bridge) call(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	cs, err := b.session(ctx)
	if err != nil {
		return toolError(backend.ErrorMessage(err) + " " + fix(err)), nil
	}
	params := &mcp.CallToolParams{Name: req.Params.Name}
	if len(req.Params.Arguments) > 0 {
		params.Arguments = req.Params.Arguments
	}
	if tok := req.Params.GetProgressToken(); tok != nil && req.Session != nil {
		up := "bridge-" + strconv.FormatUint(b.seq.Add(1), 10)
		params.SetProgressToken(up)
		b.progMap.Store(up, func(p *mcp.ProgressNotificationParams) {
			_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: p.Progress, Total: p.Total, Message: p.Message})
		})
		defer b.progMap.Delete(up)
	}
	res, err := cs.CallTool(ctx, params)
	if err == nil {
		return res, nil
	}
	var rpcErr *jsonrpc.Error
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.As(err, &rpcErr):
		return nil, rpcErr // Patchbay's answer (an unknown tool): pass it on
	}
	// The connection broke (Patchbay quit or restarted): the next request
	// connects again. The call may or may not have run, so it is not
	// repeated.
	b.drop(cs)
	return toolError(fmt.Sprintf("The call did not complete: Patchbay stopped answering (%v). If Patchbay is running again, try once more.", err)), nil
}

func (b *bridge) onProgress(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
	if req.Params == nil {
		return
	}
	if f, ok := b.progMap.Load(fmt.Sprint(req.Params.ProgressToken)); ok {
		f.(func(*mcp.ProgressNotificationParams))(req.Params)
	}
}

func toolError(msg string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg}}}
}

func fix(err error) string {
	var be *backend.Error
	if errors.As(err, &be) {
		return be.SuggestedFix
	}
	return ""
}

// authRT adds the client token and notes a refusal.
type authRT struct {
	base    http.RoundTripper
	token   string
	refused atomic.Bool
}

func (a *authRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := a.base.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		a.refused.Store(true)
	}
	return resp, err
}
