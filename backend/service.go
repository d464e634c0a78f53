package backend

import (
	"context"
	"time"
)

// ConnectorService manages connectors. Every method that takes a reference
// accepts a connector's ID, slug or name.
type ConnectorService interface {
	ListConnectors(ctx context.Context) ([]*Connector, error)
	GetConnector(ctx context.Context, ref string) (*Connector, error)
	// CreateConnector validates in, moves its secret values to the keychain
	// and saves it. Nothing is saved when any step fails.
	CreateConnector(ctx context.Context, in *Connector) (*Connector, error)
	// UpdateConnector replaces the connector's fields with in. A secret field
	// with a Source and no Value keeps the saved secret; a zero one removes it.
	UpdateConnector(ctx context.Context, ref string, in *Connector) (*Connector, error)
	// DeleteConnector removes the connector, its tools, its secrets and its
	// OAuth tokens.
	DeleteConnector(ctx context.Context, ref string) error
	// UnsavedConnector prepares in for a connection test that saves
	// nothing: validated, with kept secrets pointing at the saved
	// connector's keychain entries (never at entries the input names).
	UnsavedConnector(ctx context.Context, in *Connector) (*Connector, error)
}

// ToolService manages the tools of connectors and their policies.
type ToolService interface {
	ListTools(ctx context.Context, connectorRef string) ([]*Tool, error)
	SetToolPolicy(ctx context.Context, connectorRef string, tools []string, policy string) error
	// AcceptToolChange makes the pending (changed) definition the accepted
	// one, so the tool can be called again.
	AcceptToolChange(ctx context.Context, connectorRef, tool string) error
}

// ConversationService manages conversations.
type ConversationService interface {
	ListConversations(ctx context.Context) ([]*Conversation, error)
	GetConversation(ctx context.Context, ref string) (*Conversation, error)
	CreateConversation(ctx context.Context, in *Conversation) (*Conversation, error)
	UpdateConversation(ctx context.Context, ref string, in *Conversation) (*Conversation, error)
	DeleteConversation(ctx context.Context, ref string) error
	SetConnectorEnabled(ctx context.Context, conversationRef, connectorRef string, enabled bool) (*Conversation, error)
}

// TokenService manages client tokens.
type TokenService interface {
	// IssueToken creates a token and returns its value, shown only this once.
	IssueToken(ctx context.Context, label, client string) (string, *ClientToken, error)
	ListTokens(ctx context.Context) ([]*ClientToken, error)
	RevokeToken(ctx context.Context, id string) error
}

// SettingsService reads and changes settings.
type SettingsService interface {
	GetSettings(ctx context.Context) (*Settings, error)
	UpdateSettings(ctx context.Context, s *Settings) (*Settings, error)
}

// ActivityService reads the activity log.
type ActivityService interface {
	ListActivity(ctx context.Context, f ActivityFilter) (*ActivityPage, error)
	GetActivity(ctx context.Context, seq uint64) (*ActivityEntry, error)
}

// ApprovalService lists pending approvals and records decisions.
type ApprovalService interface {
	ListApprovals(ctx context.Context) ([]*Approval, error)
	DecideApproval(ctx context.Context, id, decision string) error
}

// TestStep is one step of a connection test.
type TestStep struct {
	// ID is stable: resolve, connect, tls, http, transport, handshake, auth, tools.
	ID     string `json:"id"`
	Title  string `json:"title"`
	Status string `json:"status"` // ok, failed, skipped, running
	// Detail says what was found ("TLS 1.3", "protocol 2025-11-25, server
	// everything 2.0", "12 tools").
	Detail string `json:"detail,omitempty"`
	// Error and Fix are set when the step failed: the cause in plain words
	// and what to do about it.
	Error      string  `json:"error,omitempty"`
	Fix        string  `json:"fix,omitempty"`
	DurationMS float64 `json:"duration_ms"`
}

// Test step statuses.
const (
	StepOK      = "ok"
	StepFailed  = "failed"
	StepSkipped = "skipped"
	StepRunning = "running"
)

// TestResult is the outcome of a connection test.
type TestResult struct {
	OK    bool       `json:"ok"`
	Steps []TestStep `json:"steps"`
}

// Clock abstracts time for tests of expiry and retention.
type Clock func() time.Time
