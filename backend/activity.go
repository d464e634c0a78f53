package backend

import (
	"encoding/json"
	"fmt"
	"strings"
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

// Matches reports whether e passes every set field of f except the paging
// fields (Before, After, Limit). Text matches case-insensitively against the
// tool, connector, client, conversation, error, and the text inside the
// arguments and result (JSON unescaped).
func (f *ActivityFilter) Matches(e *ActivityEntry) bool {
	switch {
	case f.ConnectorID != "" && e.ConnectorID != f.ConnectorID:
		return false
	case f.Tool != "" && e.Tool != f.Tool && e.ExposedName != f.Tool:
		return false
	case f.Outcome != "" && e.Outcome != f.Outcome:
		return false
	case f.Conversation != "" && e.Conversation != f.Conversation:
		return false
	}
	text := strings.ToLower(strings.TrimSpace(f.Text))
	if text == "" {
		return true
	}
	for _, s := range []string{e.Tool, e.ExposedName, e.Connector, e.ClientName, e.TokenLabel, e.Error, e.Conversation, jsonText(e.Arguments), jsonText(e.Result)} {
		if strings.Contains(strings.ToLower(s), text) {
			return true
		}
	}
	return false
}

// jsonText returns the keys and values of a JSON document as plain text,
// unescaped, so that a search for `say "hi"` finds {"m":"say \"hi\""}.
func jsonText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				b.WriteString(k)
				b.WriteByte(' ')
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case string:
			b.WriteString(v)
			b.WriteByte(' ')
		default:
			fmt.Fprint(&b, v, " ")
		}
	}
	walk(v)
	return b.String()
}
