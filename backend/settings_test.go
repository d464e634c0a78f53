package backend_test

import (
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/backend"
)

func TestSettingsValidateRules(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(s *backend.Settings)
		want   want
	}{
		{"privileged port", func(s *backend.Settings) { s.Port = 1023 }, want{"port", "must be between 1024 and 65535 (got 1023)"}},
		{"port zero", func(s *backend.Settings) { s.Port = 0 }, want{"port", "(got 0)"}},
		{"port too high", func(s *backend.Settings) { s.Port = 65536 }, want{"port", "(got 65536)"}},
		{"approval timeout too short", func(s *backend.Settings) { s.ApprovalTimeoutSeconds = 4 },
			want{"approval_timeout_seconds", "must be between 5 and 3600 seconds (got 4)"}},
		{"approval timeout too long", func(s *backend.Settings) { s.ApprovalTimeoutSeconds = 3601 },
			want{"approval_timeout_seconds", "(got 3601)"}},
		{"retention zero", func(s *backend.Settings) { s.ActivityRetentionDays = 0 },
			want{"activity_retention_days", "must be between 1 and 3650 days (got 0)"}},
		{"retention too long", func(s *backend.Settings) { s.ActivityRetentionDays = 3651 },
			want{"activity_retention_days", "(got 3651)"}},
		{"too few entries", func(s *backend.Settings) { s.ActivityMaxEntries = 99 },
			want{"activity_max_entries", "must be between 100 and 10000000 (got 99)"}},
		{"too many entries", func(s *backend.Settings) { s.ActivityMaxEntries = 10_000_001 },
			want{"activity_max_entries", "(got 10000001)"}},
		{"unknown default policy", func(s *backend.Settings) { s.DefaultPolicy = "ask" },
			want{"default_policy", `must be empty or one of always_allow, needs_approval, disabled (got "ask")`}},
		{"unknown theme", func(s *backend.Settings) { s.Theme = "solarized" },
			want{"theme", `must be system, light or dark (got "solarized")`}},
		{"empty theme", func(s *backend.Settings) { s.Theme = "" }, want{"theme", `(got "")`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := backend.DefaultSettings()
			tt.mutate(&s)
			checkOnly(t, fieldErrors(t, s.Validate()), tt.want)
		})
	}
}

func TestSettingsValidateGood(t *testing.T) {
	d := backend.DefaultSettings()
	if err := d.Validate(); err != nil {
		t.Fatalf("DefaultSettings().Validate() = %v", err)
	}
	low := backend.Settings{Port: 1024, ApprovalTimeoutSeconds: 5, ActivityRetentionDays: 1, ActivityMaxEntries: 100, Theme: "light", DefaultPolicy: backend.PolicyDisabled}
	high := backend.Settings{Port: 65535, ApprovalTimeoutSeconds: 3600, ActivityRetentionDays: 3650, ActivityMaxEntries: 10_000_000, Theme: "dark", DefaultPolicy: backend.PolicyAlwaysAllow}
	for _, s := range []backend.Settings{low, high} {
		if err := s.Validate(); err != nil {
			t.Errorf("%v: Validate() = %v", s, err)
		}
	}
}

func TestSettingsValidateReportsEverything(t *testing.T) {
	s := backend.Settings{DefaultPolicy: "x"}
	checkOnly(t, fieldErrors(t, s.Validate()),
		want{"port", "1024"}, want{"approval_timeout_seconds", "5"}, want{"activity_retention_days", "1"},
		want{"activity_max_entries", "100"}, want{"default_policy", "x"}, want{"theme", "system"})
}

func TestSettingsHelpers(t *testing.T) {
	s := backend.DefaultSettings()
	if s.Port != backend.DefaultPort || s.Addr() != "127.0.0.1:47821" {
		t.Errorf("default port %d addr %s", s.Port, s.Addr())
	}
	if got := s.ApprovalTimeout(); got != 2*time.Minute {
		t.Errorf("ApprovalTimeout() = %v", got)
	}
	if got := (&backend.Settings{ApprovalTimeoutSeconds: 30}).ApprovalTimeout(); got != 30*time.Second {
		t.Errorf("ApprovalTimeout() = %v, want 30s", got)
	}
	if got := (&backend.Settings{}).ApprovalTimeout(); got != 2*time.Minute {
		t.Errorf("zero ApprovalTimeout() = %v, want the 2m fallback", got)
	}
	if str := s.String(); !strings.Contains(str, "port=47821") || !strings.Contains(str, "approval_timeout=120s") {
		t.Errorf("String() = %q", str)
	}
}
