package backend

import "encoding/json"

// Event kinds published on the event bus and forwarded to the UI (as
// server-sent events in a browser, as Wails events in the window).
const (
	EventConnectorChanged    = "connector.changed"    // Data: {"id"}; created, updated or deleted
	EventConnectorStatus     = "connector.status"     // Data: ConnectorStatus
	EventToolsChanged        = "tools.changed"        // Data: {"connector_id", ToolChanges}
	EventConversationChanged = "conversation.changed" // Data: {"id"}
	EventSessionsChanged     = "sessions.changed"     // Data: {"conversation"}
	EventApprovalRequested   = "approval.requested"   // Data: Approval
	EventApprovalResolved    = "approval.resolved"    // Data: {"id","decision"}
	EventActivity            = "activity"             // Data: ActivityEntry
	EventOAuthProgress       = "oauth.progress"       // Data: {"connector_id","step","message"}
	EventTestStep            = "connector.test"       // Data: {"connector_id", TestStep}
	EventSettingsChanged     = "settings.changed"     // Data: Settings
	EventTokensChanged       = "tokens.changed"       // Data: {"id","change"}
)

// Event is a notification that something changed.
type Event struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data,omitempty"`
}

// NewEvent returns an event with data encoded as JSON.
func NewEvent(typ string, data any) Event {
	b, _ := json.Marshal(data)
	return Event{Type: typ, Data: b}
}

// Publisher publishes events to whoever listens. Publish never blocks: a
// slow subscriber misses events rather than slowing the publisher.
type Publisher interface {
	Publish(Event)
}

// NopPublisher discards events.
type NopPublisher struct{}

// Publish implements Publisher.
func (NopPublisher) Publish(Event) {}

// DecodeEvent decodes the data of e into v.
func DecodeEvent(e Event, v any) error { return json.Unmarshal(e.Data, v) }
