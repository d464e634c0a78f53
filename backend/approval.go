package backend

import (
	"encoding/json"
	"time"
)

// Approval is a tool call waiting for a person to allow or deny it.
type Approval struct {
	ID           string          `json:"id"`
	Conversation string          `json:"conversation"`
	ClientName   string          `json:"client_name,omitempty"`
	TokenLabel   string          `json:"token_label,omitempty"`
	ConnectorID  string          `json:"connector_id"`
	Connector    string          `json:"connector"`
	Tool         string          `json:"tool"`
	ExposedName  string          `json:"exposed_name"`
	Title        string          `json:"title,omitempty"`
	Arguments    json.RawMessage `json:"arguments,omitempty"` // redacted
	CreatedAt    time.Time       `json:"created_at"`
	ExpiresAt    time.Time       `json:"expires_at"`
}

// ValidDecision reports whether d is a decision a person can send.
func ValidDecision(d string) bool {
	return d == DecisionAllowOnce || d == DecisionAllowAlways || d == DecisionDeny
}
