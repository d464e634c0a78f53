package backend

import (
	"encoding/json"
	"time"
)

// Call outcomes recorded in the activity log.
const (
	OutcomeOK        = "ok"         // the upstream answered with a normal result
	OutcomeToolError = "tool_error" // the upstream answered with isError: true
	OutcomeError     = "error"      // the call failed: upstream unreachable, timed out, protocol error
	OutcomeDenied    = "denied"     // a person denied the call
	OutcomeTimedOut  = "timed_out"  // nobody answered the approval prompt in time
	OutcomeBlocked   = "blocked"    // the tool is disabled, held for review, unknown or not in the conversation
	OutcomeCancelled = "cancelled"  // the client cancelled the call
)

// Approval decisions.
const (
	DecisionAllowOnce   = "allow_once"
	DecisionAllowAlways = "allow_always"
	DecisionDeny        = "deny"
	DecisionTimeout     = "timeout"   // recorded, never sent by a person
	DecisionCancelled   = "cancelled" // the client gave up while waiting
)

// ActivityEntry records one tool call through the gateway.
type ActivityEntry struct {
	// Seq is assigned by the store, increasing; newest has the highest.
	Seq          uint64    `json:"seq"`
	Time         time.Time `json:"time"`
	Conversation string    `json:"conversation"` // slug
	SessionID    string    `json:"session_id,omitempty"`
	ClientName   string    `json:"client_name,omitempty"`
	TokenLabel   string    `json:"token_label,omitempty"`
	ConnectorID  string    `json:"connector_id,omitempty"`
	Connector    string    `json:"connector,omitempty"` // name at the time
	Tool         string    `json:"tool,omitempty"`      // upstream name
	ExposedName  string    `json:"exposed_name"`        // as the client called it
	// Arguments are redacted before they are recorded.
	Arguments json.RawMessage `json:"arguments,omitempty"`
	// Result is the upstream result, redacted and capped at a size limit;
	// ResultSize is its full size in bytes and ResultTruncated tells whether
	// the cap applied.
	Result          json.RawMessage `json:"result,omitempty"`
	ResultSize      int             `json:"result_size"`
	ResultTruncated bool            `json:"result_truncated,omitempty"`
	Outcome         string          `json:"outcome"`
	Error           string          `json:"error,omitempty"`
	DurationMS      float64         `json:"duration_ms"`
	// Approval is the decision when the call needed one.
	Approval string `json:"approval,omitempty"`
}

// ActivityFilter selects activity entries. Zero fields match everything.
type ActivityFilter struct {
	ConnectorID  string
	Tool         string // upstream or exposed name
	Outcome      string
	Conversation string
	// Text matches, case-insensitively, any of tool, connector, client,
	// arguments, result and error.
	Text string
	// Before returns entries with Seq < Before (paging newest-first); 0
	// starts at the newest.
	Before uint64
	// After returns entries with Seq > After (following a live log).
	After uint64
	Limit int
}

// ActivityPage is one page of entries, newest first.
type ActivityPage struct {
	Entries []*ActivityEntry `json:"entries"`
	// Next is the Before value for the next (older) page; 0 when there is none.
	Next uint64 `json:"next,omitempty"`
}
