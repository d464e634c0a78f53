package api

import (
	"net/http"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/clients"
)

// ConversationView is a conversation as the API returns it, with its
// endpoint URL and setup commands for the main clients.
type ConversationView struct {
	*backend.Conversation
	MCPURL   string                `json:"mcp_url"`
	Commands map[string]string     `json:"commands"`
	Sessions []backend.LiveSession `json:"sessions"`
}

// conversationInput is the body of create and update requests. It accepts
// the brief's field names (connector_ids) as well as the stored ones.
type conversationInput struct {
	Name         string   `json:"name"`
	Slug         string   `json:"slug,omitempty"`
	ConnectorIDs []string `json:"connector_ids,omitempty"`
	Connectors   []string `json:"connectors,omitempty"`
	AllowedTools []string `json:"allowed_tools,omitempty"`
}

func (in *conversationInput) conversation() *backend.Conversation {
	c := &backend.Conversation{Name: in.Name, Slug: in.Slug, AllowedTools: in.AllowedTools}
	c.Connectors = append(append([]string{}, in.ConnectorIDs...), in.Connectors...)
	return c
}

func (s *Server) baseURL() string {
	if s.opts.BaseURL != nil {
		return s.opts.BaseURL()
	}
	return "http://127.0.0.1"
}

func (s *Server) conversationView(c *backend.Conversation) *ConversationView {
	url := s.baseURL() + c.Path()
	name := "patchbay"
	if !c.IsDefault() {
		name = "patchbay-" + c.Slug
	}
	return &ConversationView{Conversation: c, MCPURL: url, Commands: clients.Snippets(name, url, ""), Sessions: s.liveSessions(c.Slug)}
}

func (s *Server) liveSessions(slug string) []backend.LiveSession {
	if s.opts.Sessions != nil {
		if live := s.opts.Sessions.LiveSessions(slug); live != nil {
			return live
		}
	}
	return []backend.LiveSession{}
}

func (s *Server) listConversations(w http.ResponseWriter, r *http.Request) error {
	list, err := s.opts.Conversations.ListConversations(r.Context())
	if err != nil {
		return err
	}
	out := make([]*ConversationView, 0, len(list))
	for _, c := range list {
		out = append(out, s.conversationView(c))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getConversation(w http.ResponseWriter, r *http.Request) error {
	c, err := s.opts.Conversations.GetConversation(r.Context(), r.PathValue("ref"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.conversationView(c))
}

func (s *Server) createConversation(w http.ResponseWriter, r *http.Request) error {
	var in conversationInput
	if err := readJSON(r, &in); err != nil {
		return err
	}
	c, err := s.opts.Conversations.CreateConversation(r.Context(), in.conversation())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, s.conversationView(c))
}

func (s *Server) updateConversation(w http.ResponseWriter, r *http.Request) error {
	var in conversationInput
	if err := readJSON(r, &in); err != nil {
		return err
	}
	c, err := s.opts.Conversations.UpdateConversation(r.Context(), r.PathValue("ref"), in.conversation())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.conversationView(c))
}

func (s *Server) deleteConversation(w http.ResponseWriter, r *http.Request) error {
	if err := s.opts.Conversations.DeleteConversation(r.Context(), r.PathValue("ref")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) toggleConnector(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Enabled *bool `json:"enabled"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if in.Enabled == nil {
		var p backend.Problems
		p.Add("enabled", "is required (true or false)")
		return p.Err("request")
	}
	c, err := s.opts.Conversations.SetConnectorEnabled(r.Context(), r.PathValue("ref"), r.PathValue("connector"), *in.Enabled)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.conversationView(c))
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) error {
	c, err := s.opts.Conversations.GetConversation(r.Context(), r.PathValue("ref"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.liveSessions(c.Slug))
}
