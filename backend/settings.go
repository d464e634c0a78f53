package backend

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// DefaultPort is the loopback port Patchbay serves on unless configured
// otherwise: the MCP endpoint (/mcp), the admin API (/api/v1) and the web UI.
const DefaultPort = 47821

// Settings are the person's preferences, stored with the rest of the state.
type Settings struct {
	// Port is the loopback port of the endpoint and admin API.
	Port int `json:"port"`
	// ApprovalTimeoutSeconds is how long a call waits for a person before it
	// is denied.
	ApprovalTimeoutSeconds int `json:"approval_timeout_seconds"`
	// ActivityRetentionDays and ActivityMaxEntries bound the activity log;
	// the oldest entries go first.
	ActivityRetentionDays int `json:"activity_retention_days"`
	ActivityMaxEntries    int `json:"activity_max_entries"`
	// DefaultPolicy, when set, is the policy of new tools of connectors that
	// set none. Empty keeps the rule: read-only tools allowed, others ask.
	DefaultPolicy string `json:"default_policy,omitempty"`
	// Theme is system, light or dark.
	Theme string `json:"theme"`
	// ElicitApprovals asks approval questions in the client too, when the
	// client supports elicitation.
	ElicitApprovals bool `json:"elicit_approvals"`
	// CloseHintShown records that the person was told that closing the
	// window keeps Patchbay running.
	CloseHintShown bool `json:"close_hint_shown,omitempty"`
}

// DefaultSettings returns the settings of a fresh installation.
func DefaultSettings() Settings {
	return Settings{
		Port:                   DefaultPort,
		ApprovalTimeoutSeconds: 120,
		ActivityRetentionDays:  30,
		ActivityMaxEntries:     100_000,
		Theme:                  "system",
	}
}

// ApprovalTimeout returns the approval timeout as a duration.
func (s *Settings) ApprovalTimeout() time.Duration {
	if s.ApprovalTimeoutSeconds <= 0 {
		return 2 * time.Minute
	}
	return time.Duration(s.ApprovalTimeoutSeconds) * time.Second
}

// Addr returns the loopback listen address for the configured port.
func (s Settings) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
}

// Validate checks every setting and reports every problem at once.
func (s *Settings) Validate() error {
	var p Problems
	if s.Port < 1024 || s.Port > 65535 {
		p.Add("port", "must be between 1024 and 65535 (got %d)", s.Port)
	}
	if s.ApprovalTimeoutSeconds < 5 || s.ApprovalTimeoutSeconds > 3600 {
		p.Add("approval_timeout_seconds", "must be between 5 and 3600 seconds (got %d)", s.ApprovalTimeoutSeconds)
	}
	if s.ActivityRetentionDays < 1 || s.ActivityRetentionDays > 3650 {
		p.Add("activity_retention_days", "must be between 1 and 3650 days (got %d)", s.ActivityRetentionDays)
	}
	if s.ActivityMaxEntries < 100 || s.ActivityMaxEntries > 10_000_000 {
		p.Add("activity_max_entries", "must be between 100 and 10000000 (got %d)", s.ActivityMaxEntries)
	}
	if s.DefaultPolicy != "" && !ValidPolicy(s.DefaultPolicy) {
		p.Add("default_policy", "must be empty or one of always_allow, needs_approval, disabled (got %q)", s.DefaultPolicy)
	}
	switch s.Theme {
	case "system", "light", "dark":
	default:
		p.Add("theme", "must be system, light or dark (got %q)", s.Theme)
	}
	return p.Err("settings")
}

// String is used in log lines.
func (s Settings) String() string {
	return fmt.Sprintf("port=%d approval_timeout=%ds retention=%dd/%d", s.Port, s.ApprovalTimeoutSeconds, s.ActivityRetentionDays, s.ActivityMaxEntries)
}
