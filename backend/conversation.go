package backend

import (
	"fmt"
	"strings"
	"time"
)

// DefaultConversationSlug is the slug of the conversation served at /mcp.
// Every other conversation is served at /mcp/<slug>.
const DefaultConversationSlug = "default"

// Conversation is a named set of enabled connectors with its own endpoint
// path. A desktop client connected to that path sees exactly the tools of
// those connectors (optionally narrowed to AllowedTools).
type Conversation struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
	// Connectors holds the IDs of the enabled connectors.
	Connectors []string `json:"connectors"`
	// AllowedTools, when non-empty, restricts the conversation to these
	// tools, named as clients see them ("<slug>_<tool>").
	AllowedTools []string  `json:"allowed_tools,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// IsDefault reports whether c is the default conversation (served at /mcp).
func (c *Conversation) IsDefault() bool { return c.Slug == DefaultConversationSlug }

// Path returns the conversation's endpoint path.
func (c *Conversation) Path() string { return ConversationPath(c.Slug) }

// ConversationPath returns the endpoint path of the conversation with slug.
func ConversationPath(slug string) string {
	if slug == "" || slug == DefaultConversationSlug {
		return "/mcp"
	}
	return "/mcp/" + slug
}

// Enabled reports whether the connector with id is enabled in c.
func (c *Conversation) Enabled(connectorID string) bool {
	for _, id := range c.Connectors {
		if id == connectorID {
			return true
		}
	}
	return false
}

// Normalize trims input and derives the slug from the name when it is empty.
func (c *Conversation) Normalize() {
	c.Name = strings.TrimSpace(c.Name)
	c.Slug = strings.TrimSpace(c.Slug)
	if c.Slug == "" {
		c.Slug = Slugify(c.Name, MaxSlugLen)
	}
	if c.Connectors == nil {
		c.Connectors = []string{}
	}
}

// Validate checks c's own fields; the existence of its connectors and the
// uniqueness of its slug are checked by the service that knows them.
func (c *Conversation) Validate() error {
	var p Problems
	validateName(&p, "name", c.Name)
	validateSlug(&p, "slug", c.Slug)
	seen := map[string]bool{}
	for i, id := range c.Connectors {
		if seen[id] {
			p.Add(fmt.Sprintf("connectors[%d]", i), "connector %q is listed twice", id)
		}
		seen[id] = true
	}
	for i, name := range c.AllowedTools {
		if !ValidToolName(name) {
			p.Add(fmt.Sprintf("allowed_tools[%d]", i), "%q is not a tool name as clients see it (<connector-slug>_<tool>)", name)
		}
	}
	return p.Err("conversation")
}

// ValidToolName reports whether name is acceptable to MCP clients:
// ^[a-zA-Z0-9_-]{1,64}$.
func ValidToolName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// LiveSession is a desktop client connected to a conversation right now.
type LiveSession struct {
	ID              string    `json:"id"`
	Conversation    string    `json:"conversation"` // slug
	ClientName      string    `json:"client_name,omitempty"`
	ClientVersion   string    `json:"client_version,omitempty"`
	ProtocolVersion string    `json:"protocol_version,omitempty"`
	TokenID         string    `json:"token_id,omitempty"`
	TokenLabel      string    `json:"token_label,omitempty"`
	Since           time.Time `json:"since"`
	LastCall        time.Time `json:"last_call,omitzero"`
}
