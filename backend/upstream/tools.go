package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
)

// maxTools bounds one tool listing, so that a server whose pagination never
// ends cannot run Patchbay out of memory.
const maxTools = 10000

// RefreshTools lists connector id's tools (connecting when needed), merges
// them with the stored ones — new tools get their initial policy, changed
// ones are held until reviewed, missing ones are marked removed — and
// stores the result. When anything changed it publishes EventToolsChanged.
// A request that a listing started after it answers returns no changes:
// that listing published them.
func (m *Manager) RefreshTools(ctx context.Context, id string) (backend.ToolChanges, error) {
	c := m.conn(id)
	if c == nil {
		return backend.ToolChanges{}, errManagerClosed()
	}
	return c.refresh(ctx)
}

func (c *conn) refresh(ctx context.Context) (backend.ToolChanges, error) {
	ch, s, err := c.refreshLocked(ctx)
	if err != nil || ch.Empty() {
		return ch, err
	}
	// Outside refreshMu, so that a listener may refresh again.
	s.log.Info("upstream tools changed", "added", ch.Added, "removed", ch.Removed, "changed", ch.Changed)
	c.m.pub.Publish(backend.NewEvent(backend.EventToolsChanged, toolsChangedEvent{ConnectorID: c.id, ToolChanges: ch}))
	return ch, nil
}

func (c *conn) refreshLocked(ctx context.Context) (backend.ToolChanges, *session, error) {
	asked := c.tickets.Add(1)
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	if c.listedTicket > asked {
		// A listing that started after this request already finished; it
		// recorded (and published) whatever changed.
		return backend.ToolChanges{}, nil, nil
	}
	ticket := c.tickets.Add(1)
	s, err := c.session(ctx)
	if err != nil {
		return backend.ToolChanges{}, nil, waitError(ctx, err)
	}
	start := time.Now()
	defs, err := s.listTools(ctx)
	if err != nil {
		return backend.ToolChanges{}, s, c.listFailed(ctx, s, err, start)
	}
	var merged []*backend.Tool
	var ch backend.ToolChanges
	err = c.m.opts.Store.UpdateTools(ctx, c.id, func(stored []*backend.Tool) ([]*backend.Tool, error) {
		merged, ch = backend.MergeTools(s.connector, stored, defs, c.m.opts.GlobalDefaultPolicy(), time.Now().UTC())
		return merged, nil
	})
	if err != nil {
		return backend.ToolChanges{}, s, fmt.Errorf("storing tools of %s: %w", c.id, err)
	}
	c.listedTicket = ticket
	count := 0
	for _, t := range merged {
		if !t.Removed {
			count++
		}
	}
	c.mu.Lock()
	changedCount := c.toolCount != count
	c.toolCount = count
	c.mu.Unlock()
	if changedCount {
		c.publishNow()
	}
	return ch, s, nil
}

// toolsChangedEvent is the data of EventToolsChanged.
type toolsChangedEvent struct {
	ConnectorID string `json:"connector_id"`
	backend.ToolChanges
}

// listFailed explains a failed listing; a broken connection is retired so
// the next use reconnects.
func (c *conn) listFailed(ctx context.Context, s *session, err error, start time.Time) error {
	name := s.connector.Name
	what := fmt.Sprintf("Listing the tools of %q", name)
	cause := s.red.Error(err)
	if f := c.refusal(s, start); f != nil {
		return f.requestError(what, cause)
	}
	if ctx.Err() != nil {
		return contextEnded(ctx, fmt.Sprintf("listing the tools of %q", name))
	}
	if rpcErr := answered(s, err); rpcErr != nil {
		return &backend.Error{Code: backend.EUNAVAILABLE, Slug: "upstream_error",
			Message: fmt.Sprintf("%q could not list its tools: %s", name, s.red.String(rpcErr.Message)), Err: cause}
	}
	f, _ := c.broken(s, err)
	return f.requestError(what, cause)
}

// listTools lists every tool, following pagination.
func (s *session) listTools(ctx context.Context) ([]backend.ToolDef, error) {
	var defs []backend.ToolDef
	for t, err := range s.cs.Tools(ctx, nil) {
		if err != nil {
			return nil, err
		}
		if len(defs) >= maxTools {
			return nil, fmt.Errorf("the server lists more than %d tools", maxTools)
		}
		defs = append(defs, ToolDef(t))
	}
	return defs, nil
}

// ToolDef converts a go-sdk tool to Patchbay's definition, normalising its
// schemas (see NormalizeInputSchema and NormalizeOutputSchema).
func ToolDef(t *mcp.Tool) backend.ToolDef {
	d := backend.ToolDef{Name: t.Name, Title: t.Title, Description: t.Description}
	d.InputSchema = NormalizeInputSchema(marshalOrNil(t.InputSchema))
	d.OutputSchema = NormalizeOutputSchema(marshalOrNil(t.OutputSchema))
	if t.Annotations != nil {
		d.Annotations = marshalOrNil(t.Annotations)
	}
	if len(t.Meta) > 0 {
		d.Meta = marshalOrNil(t.Meta)
	}
	return d
}

func marshalOrNil(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// objectSchema is the schema that accepts any arguments object.
var objectSchema = json.RawMessage(`{"type":"object"}`)

// NormalizeInputSchema returns an input schema go-sdk accepts when serving
// the tool: a JSON object with "type":"object". A missing, null or
// non-object schema becomes {"type":"object"}; an object without a type
// gets "type":"object"; a type list that includes "object" is narrowed to
// it; any other type is replaced by {"type":"object"}, since tool
// arguments are always an object. A valid schema is returned unchanged.
func NormalizeInputSchema(raw json.RawMessage) json.RawMessage {
	m, ok := schemaObject(raw)
	if !ok {
		return slices.Clone(objectSchema)
	}
	switch typ := m["type"].(type) {
	case string:
		if typ == "object" {
			return raw
		}
		return slices.Clone(objectSchema)
	case nil:
		if _, present := m["type"]; present {
			return slices.Clone(objectSchema)
		}
	case []any:
		if !slices.Contains(typ, any("object")) {
			return slices.Clone(objectSchema)
		}
	default:
		return slices.Clone(objectSchema)
	}
	m["type"] = "object"
	b, err := json.Marshal(m)
	if err != nil {
		return slices.Clone(objectSchema)
	}
	return b
}

// NormalizeOutputSchema returns the output schema when it is a JSON object
// and nil otherwise (a non-object output schema is dropped rather than
// passed on to clients that would reject the whole tool list).
func NormalizeOutputSchema(raw json.RawMessage) json.RawMessage {
	if _, ok := schemaObject(raw); !ok {
		return nil
	}
	return raw
}

func schemaObject(raw json.RawMessage) (map[string]any, bool) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, false
	}
	var m map[string]any
	if err := json.Unmarshal(trimmed, &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}
