package backend_test

import (
	"strings"
	"testing"

	"github.com/patchbay/patchbay/backend"
)

func TestConversationValidateRules(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *backend.Conversation)
		want   []want
	}{
		{"name empty", func(c *backend.Conversation) { c.Name = "  " }, []want{{"name", "is required"}}},
		{"name too long", func(c *backend.Conversation) { c.Name = strings.Repeat("ñ", 65) },
			[]want{{"name", "is 65 characters; the limit is 64"}}},
		{"name control character", func(c *backend.Conversation) { c.Name = "Work\x1bplan" },
			[]want{{"name", "must not contain control characters"}}},
		{"slug not derivable", func(c *backend.Conversation) { c.Name, c.Slug = "???", "" },
			[]want{{"slug", "is required (it is derived from the name"}}},
		{"slug too long", func(c *backend.Conversation) { c.Slug = strings.Repeat("w", 33) },
			[]want{{"slug", "is 33 characters; the limit is 32"}}},
		{"slug invalid", func(c *backend.Conversation) { c.Slug = "Work_Plan" },
			[]want{{"slug", `may contain only a-z, 0-9 and single hyphens between them (got "Work_Plan")`}}},
		{"connector listed twice", func(c *backend.Conversation) { c.Connectors = []string{"c_1", "c_2", "c_1"} },
			[]want{{"connectors[2]", `connector "c_1" is listed twice`}}},
		{"allowed tool with space", func(c *backend.Conversation) { c.AllowedTools = []string{"linear_search", "linear search"} },
			[]want{{"allowed_tools[1]", `"linear search" is not a tool name as clients see it (<connector-slug>_<tool>)`}}},
		{"allowed tool empty", func(c *backend.Conversation) { c.AllowedTools = []string{""} },
			[]want{{"allowed_tools[0]", "is not a tool name"}}},
		{"allowed tool too long", func(c *backend.Conversation) { c.AllowedTools = []string{strings.Repeat("t", 65)} },
			[]want{{"allowed_tools[0]", "is not a tool name"}}},
		{"allowed tool with dot", func(c *backend.Conversation) { c.AllowedTools = []string{"linear.search"} },
			[]want{{"allowed_tools[0]", "is not a tool name"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &backend.Conversation{Name: "Work", Slug: "work", Connectors: []string{"c_1"}}
			tt.mutate(c)
			c.Normalize()
			checkOnly(t, fieldErrors(t, c.Validate()), tt.want...)
		})
	}
}

func TestConversationValidateGood(t *testing.T) {
	for _, c := range []*backend.Conversation{
		{Name: "Default", Slug: backend.DefaultConversationSlug},
		{Name: "  Écriture & Recherche  "},
		{Name: strings.Repeat("x", 64), Slug: strings.Repeat("x", 32), Connectors: []string{"c_1", "c_2"},
			AllowedTools: []string{"linear_search", "gh-issues_list", strings.Repeat("T", 64)}},
	} {
		c.Normalize()
		if err := c.Validate(); err != nil {
			t.Errorf("%q: Validate() = %v", c.Name, err)
		}
	}
}

func TestConversationValidateReportsEverything(t *testing.T) {
	c := &backend.Conversation{Name: "", Slug: "-x-", Connectors: []string{"a", "a"}, AllowedTools: []string{"a b", "ok"}}
	checkOnly(t, fieldErrors(t, c.Validate()),
		want{"name", "is required"}, want{"slug", "may contain only"},
		want{"connectors[1]", "listed twice"}, want{"allowed_tools[0]", "not a tool name"})
}

func TestConversationNormalize(t *testing.T) {
	c := &backend.Conversation{Name: "  Café Research  "}
	c.Normalize()
	if c.Name != "Café Research" || c.Slug != "cafe-research" {
		t.Errorf("Normalize: name %q slug %q", c.Name, c.Slug)
	}
	if c.Connectors == nil || len(c.Connectors) != 0 {
		t.Errorf("Normalize: connectors = %#v, want an empty, non-nil list (JSON [] not null)", c.Connectors)
	}
	k := &backend.Conversation{Name: "Work", Slug: " job ", Connectors: []string{"c_1"}}
	k.Normalize()
	if k.Slug != "job" || len(k.Connectors) != 1 {
		t.Errorf("Normalize changed given values: slug %q connectors %v", k.Slug, k.Connectors)
	}
}

func TestConversationPath(t *testing.T) {
	tests := []struct{ slug, want string }{
		{"", "/mcp"},
		{backend.DefaultConversationSlug, "/mcp"},
		{"work", "/mcp/work"},
		{"side-project-2", "/mcp/side-project-2"},
	}
	for _, tt := range tests {
		if got := backend.ConversationPath(tt.slug); got != tt.want {
			t.Errorf("ConversationPath(%q) = %q, want %q", tt.slug, got, tt.want)
		}
		c := backend.Conversation{Slug: tt.slug}
		if got := c.Path(); got != tt.want {
			t.Errorf("Conversation{Slug: %q}.Path() = %q, want %q", tt.slug, got, tt.want)
		}
	}
	if !(&backend.Conversation{Slug: "default"}).IsDefault() || (&backend.Conversation{Slug: "work"}).IsDefault() {
		t.Error("IsDefault is wrong")
	}
}

func TestConversationEnabled(t *testing.T) {
	c := &backend.Conversation{Connectors: []string{"c_1", "c_2"}}
	if !c.Enabled("c_1") || !c.Enabled("c_2") || c.Enabled("c_3") || c.Enabled("") {
		t.Error("Enabled is wrong")
	}
}

func TestValidToolName(t *testing.T) {
	good := []string{"a", "linear_search", "gh-issues_list", "A1_b-2", strings.Repeat("x", 64)}
	bad := []string{"", strings.Repeat("x", 65), "a b", "a.b", "a/b", "a:b", "ação", "a\nb", "tool()", "a@b"}
	for _, n := range good {
		if !backend.ValidToolName(n) {
			t.Errorf("ValidToolName(%q) = false", n)
		}
	}
	for _, n := range bad {
		if backend.ValidToolName(n) {
			t.Errorf("ValidToolName(%q) = true", n)
		}
	}
}
