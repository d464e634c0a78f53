package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
)

// callTool is the gate every tool call goes through, whatever name it uses.
// It judges the call by the state at this moment, not by what the client
// was shown: a tool disabled or held after listing is refused.
func (g *Gateway) callTool(ctx context.Context, cs *convServer, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	start := g.now()
	g.ensureFresh()
	name := req.Params.Name
	rec := &record{entry: &backend.ActivityEntry{Time: start.UTC(), ExposedName: name}, args: req.Params.Arguments}
	tokenID := g.describeCaller(rec.entry, cs, req)
	ctx, done := g.flights.start(ctx, g.ctx, tokenID, cs)
	defer done()
	defer func() {
		rec.entry.DurationMS = float64(g.now().Sub(start).Microseconds()) / 1000
		g.rec.add(rec)
	}()

	v := cs.view.Load()
	e := v.tools[name]
	if e == nil || !e.inConversation {
		rec.entry.Outcome = backend.OutcomeBlocked
		rec.entry.Error = fmt.Sprintf("No tool %q in this conversation.", name)
		// The spec's answer to an unknown tool: a protocol error.
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("unknown tool %q", name)}
	}
	t := e.tool
	rec.entry.ConnectorID, rec.entry.Connector, rec.entry.Tool = e.connector.ID, e.connector.Name, t.Name
	switch {
	case t.Removed:
		return rec.blocked(fmt.Sprintf("The tool %q is no longer offered by %q.", name, e.connector.Name))
	case t.Held():
		return rec.blocked(fmt.Sprintf("The tool %q is on hold: %q changed its definition, and the change must be reviewed and accepted in Patchbay before the tool can be used again.", name, e.connector.Name))
	case t.Policy == backend.PolicyDisabled:
		return rec.blocked(fmt.Sprintf("The tool %q is disabled in Patchbay; the user can enable it there.", name))
	case t.Policy == backend.PolicyNeedsApproval:
		decision := g.approve(ctx, cs, e, req, rec.entry)
		rec.entry.Approval = decision
		switch decision {
		case backend.DecisionAllowOnce, backend.DecisionAllowAlways:
		case backend.DecisionDeny:
			rec.entry.Outcome = backend.OutcomeDenied
			return declined(fmt.Sprintf("The user declined this call to %q in Patchbay. Do not retry it unless the user asks you to.", name)), nil
		case backend.DecisionTimeout:
			rec.entry.Outcome = backend.OutcomeTimedOut
			return declined(fmt.Sprintf("The call to %q was declined by the user: nobody approved it in Patchbay within %s. Ask the user before trying again.", name, g.approvalTimeout())), nil
		default: // the client gave up
			rec.entry.Outcome = backend.OutcomeCancelled
			return nil, ctx.Err()
		}
	}
	return g.forward(ctx, e, req, rec)
}

// forward calls the tool upstream, passing progress back to the client.
func (g *Gateway) forward(ctx context.Context, e *toolEntry, req *mcp.CallToolRequest, rec *record) (*mcp.CallToolResult, error) {
	var progress func(*mcp.ProgressNotificationParams)
	if token := req.Params.GetProgressToken(); token != nil && req.Session != nil {
		progress = func(p *mcp.ProgressNotificationParams) {
			_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
				ProgressToken: token, Progress: p.Progress, Total: p.Total, Message: p.Message,
			})
		}
	}
	res, err := g.opts.Upstream.Call(ctx, e.connector.ID, e.tool.Name, req.Params.Arguments, progress)
	if err != nil {
		if ctx.Err() != nil {
			rec.entry.Outcome = backend.OutcomeCancelled
			rec.entry.Error = "The client cancelled the call."
			return nil, ctx.Err()
		}
		rec.entry.Outcome = backend.OutcomeError
		msg := upstreamErrorText(err, e.connector.Name)
		rec.entry.Error = msg
		return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg}}}, nil
	}
	rec.result = res
	rec.entry.Outcome = backend.OutcomeOK
	if res.IsError {
		rec.entry.Outcome = backend.OutcomeToolError
	}
	// go-sdk writes into the result it is given (its _meta) while the
	// recorder reads the upstream's: they must not share one.
	out := capResult(res, g.opts.MaxResultBytes)
	if out == res {
		c := *res
		c.Meta = maps.Clone(res.Meta)
		out = &c
	}
	return out, nil
}

// upstreamErrorText explains a failed upstream call as a tool error that
// names the connector (the upstream package's messages do).
func upstreamErrorText(err error, connector string) string {
	var be *backend.Error
	if errors.As(err, &be) {
		msg := be.Message
		if be.SuggestedFix != "" {
			msg += " " + be.SuggestedFix
		}
		return msg
	}
	return fmt.Sprintf("Calling %q failed: %s", connector, backend.ErrorMessage(err))
}

// declined is the tool error of a call a person (or the timeout) refused.
func declined(text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: text}}}
}

func (rec *record) blocked(msg string) (*mcp.CallToolResult, error) {
	rec.entry.Outcome = backend.OutcomeBlocked
	rec.entry.Error = msg
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg}}}, nil
}

// describeCaller fills in who made the call and returns its token's ID.
func (g *Gateway) describeCaller(e *backend.ActivityEntry, cs *convServer, req *mcp.CallToolRequest) (tokenID string) {
	e.Conversation = cs.slug()
	if req.Extra != nil {
		tokenID, e.TokenLabel = tokenOf(req.Extra.TokenInfo)
	}
	name, version := clientIdentity(req)
	e.ClientName = name
	if req.Session != nil {
		e.SessionID = req.Session.ID()
	}
	if e.SessionID == "" {
		// A 2026-07-28 client: the ID the live-session list shows for it.
		e.SessionID = statelessKey{tokenID: tokenID, convID: cs.id, name: name, version: version}.id()
	}
	return tokenID
}

// approve asks a person about a call and returns the decision.
func (g *Gateway) approve(ctx context.Context, cs *convServer, e *toolEntry, req *mcp.CallToolRequest, entry *backend.ActivityEntry) string {
	settings := g.opts.Store.Settings()
	a := &backend.Approval{
		Conversation: entry.Conversation, ClientName: entry.ClientName, TokenLabel: entry.TokenLabel,
		ConnectorID: e.connector.ID, Connector: e.connector.Name, Tool: e.tool.Name, ExposedName: e.exposed,
		Title: e.tool.Title,
	}
	if len(req.Params.Arguments) > 0 {
		g.secrets.refreshIfStale(ctx)
		a.Arguments = g.red.JSON(req.Params.Arguments)
	}
	var ready func(string)
	var stop context.CancelFunc = func() {}
	if settings.ElicitApprovals {
		ready, stop = g.elicitor(ctx, req, a)
	}
	defer stop()
	return g.approvals.ask(ctx, a, g.approvalTimeout(), ready)
}

// capResult cuts a result whose content is larger than limit bytes, saying
// so in a note the model reads.
func capResult(res *mcp.CallToolResult, limit int) *mcp.CallToolResult {
	size := contentSize(res)
	if size <= limit {
		return res
	}
	out := &mcp.CallToolResult{IsError: res.IsError, Meta: maps.Clone(res.Meta)}
	budget := limit
	for _, c := range res.Content {
		n := itemSize(c)
		if n <= budget {
			out.Content = append(out.Content, c)
			budget -= n
			continue
		}
		if t, ok := c.(*mcp.TextContent); ok && budget > 0 {
			out.Content = append(out.Content, &mcp.TextContent{Text: truncateUTF8(t.Text, budget)})
		}
		break
	}
	out.Content = append(out.Content, &mcp.TextContent{Text: fmt.Sprintf(
		"[Patchbay: this result was %s, more than the %s a client is sent, so it was cut here. Ask for less (a narrower query, a page, a range) to see the rest.]",
		humanBytes(size), humanBytes(limit))})
	return out
}

// contentSize estimates the size of a result as sent, without encoding it.
func contentSize(res *mcp.CallToolResult) int {
	n := 0
	for _, c := range res.Content {
		n += itemSize(c)
	}
	if res.StructuredContent != nil {
		if b, err := json.Marshal(res.StructuredContent); err == nil {
			n += len(b)
		}
	}
	return n
}

func itemSize(c mcp.Content) int {
	switch c := c.(type) {
	case *mcp.TextContent:
		return len(c.Text)
	case *mcp.ImageContent:
		return len(c.Data) * 4 / 3
	case *mcp.AudioContent:
		return len(c.Data) * 4 / 3
	case *mcp.EmbeddedResource:
		if c.Resource != nil {
			return len(c.Resource.Text) + len(c.Resource.Blob)*4/3
		}
	}
	return 64
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

func humanBytes(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
