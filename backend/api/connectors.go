package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/patchbay/patchbay/backend"
)

// ConnectorView is a connector as the API returns it: its configuration
// (secrets as references), its live status and a summary of its tools.
type ConnectorView struct {
	*backend.Connector
	Status backend.ConnectorStatus `json:"status"`
	Tools  ToolCounts              `json:"tools"`
}

// ToolCounts summarises a connector's tools by policy.
type ToolCounts struct {
	Total         int `json:"total"`
	AlwaysAllow   int `json:"always_allow"`
	NeedsApproval int `json:"needs_approval"`
	Disabled      int `json:"disabled"`
	// Held counts tools with a changed definition awaiting review.
	Held int `json:"held"`
}

func (s *Server) view(ctx context.Context, c *backend.Connector) *ConnectorView {
	v := &ConnectorView{Connector: c.Redacted(), Status: backend.ConnectorStatus{ConnectorID: c.ID, State: backend.StateIdle}}
	if s.opts.Upstream != nil {
		v.Status = s.opts.Upstream.Status(c.ID)
	}
	if s.opts.Tools != nil {
		if tools, err := s.opts.Tools.ListTools(ctx, c.ID); err == nil {
			for _, t := range tools {
				if t.Removed {
					continue
				}
				v.Tools.Total++
				switch {
				case t.Held():
					v.Tools.Held++
				case t.Policy == backend.PolicyAlwaysAllow:
					v.Tools.AlwaysAllow++
				case t.Policy == backend.PolicyNeedsApproval:
					v.Tools.NeedsApproval++
				case t.Policy == backend.PolicyDisabled:
					v.Tools.Disabled++
				}
			}
		}
	}
	if v.Status.ToolCount == 0 {
		v.Status.ToolCount = v.Tools.Total
	}
	return v
}

func (s *Server) listConnectors(w http.ResponseWriter, r *http.Request) error {
	list, err := s.opts.Connectors.ListConnectors(r.Context())
	if err != nil {
		return err
	}
	out := make([]*ConnectorView, 0, len(list))
	for _, c := range list {
		out = append(out, s.view(r.Context(), c))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getConnector(w http.ResponseWriter, r *http.Request) error {
	c, err := s.opts.Connectors.GetConnector(r.Context(), r.PathValue("ref"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.view(r.Context(), c))
}

func (s *Server) createConnector(w http.ResponseWriter, r *http.Request) error {
	var in backend.Connector
	if err := readJSON(r, &in); err != nil {
		return err
	}
	c, err := s.opts.Connectors.CreateConnector(r.Context(), &in)
	if err != nil {
		return err
	}
	s.refreshInBackground(c.ID)
	return writeJSON(w, http.StatusCreated, s.view(r.Context(), c))
}

func (s *Server) updateConnector(w http.ResponseWriter, r *http.Request) error {
	var in backend.Connector
	if err := readJSON(r, &in); err != nil {
		return err
	}
	c, err := s.opts.Connectors.UpdateConnector(r.Context(), r.PathValue("ref"), &in)
	if err != nil {
		return err
	}
	s.refreshInBackground(c.ID)
	return writeJSON(w, http.StatusOK, s.view(r.Context(), c))
}

// refreshInBackground connects a new or edited connector so that its status
// and tools show up without the person asking; failures show as status.
func (s *Server) refreshInBackground(id string) {
	if s.opts.Upstream == nil || !s.opts.ConnectOnSave {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), backend.DefaultCallTimeout)
		defer cancel()
		if _, err := s.opts.Upstream.RefreshTools(ctx, id); err != nil {
			s.log.Info("initial tool refresh failed", "connector", id, "err", backend.ErrorMessage(err))
		}
	}()
}

func (s *Server) deleteConnector(w http.ResponseWriter, r *http.Request) error {
	if err := s.opts.Connectors.DeleteConnector(r.Context(), r.PathValue("ref")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) testSaved(w http.ResponseWriter, r *http.Request) error {
	c, err := s.opts.Connectors.GetConnector(r.Context(), r.PathValue("ref"))
	if err != nil {
		return err
	}
	return s.runTest(w, r, c)
}

// testUnsaved tests the connector in the body without saving it: the form's
// Test button. Secret values in the body are used for this test only.
func (s *Server) testUnsaved(w http.ResponseWriter, r *http.Request) error {
	var in backend.Connector
	if err := readJSON(r, &in); err != nil {
		return err
	}
	c, err := s.opts.Connectors.UnsavedConnector(r.Context(), &in)
	if err != nil {
		return err
	}
	return s.runTest(w, r, c)
}

// runTest runs a connection test. With Accept: text/event-stream the steps
// stream as they happen (event "step"), ending with event "result";
// otherwise the whole result is returned as JSON.
func (s *Server) runTest(w http.ResponseWriter, r *http.Request, c *backend.Connector) error {
	if s.opts.Upstream == nil {
		return unavailable("Testing connections")
	}
	if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		res := s.opts.Upstream.Test(r.Context(), c, nil)
		return writeJSON(w, http.StatusOK, res)
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		return writeJSON(w, http.StatusOK, s.opts.Upstream.Test(r.Context(), c, nil))
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	var mu sync.Mutex
	send := func(event string, v any) {
		b, _ := json.Marshal(v)
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		flusher.Flush()
	}
	res := s.opts.Upstream.Test(r.Context(), c, func(step backend.TestStep) { send("step", step) })
	send("result", res)
	return nil
}

func (s *Server) reconnect(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Upstream == nil {
		return unavailable("Reconnecting")
	}
	c, err := s.opts.Connectors.GetConnector(r.Context(), r.PathValue("ref"))
	if err != nil {
		return err
	}
	if err := s.opts.Upstream.Reconnect(r.Context(), c.ID); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.view(r.Context(), c))
}

func (s *Server) listTools(w http.ResponseWriter, r *http.Request) error {
	tools, err := s.opts.Tools.ListTools(r.Context(), r.PathValue("ref"))
	if err != nil {
		return err
	}
	if tools == nil {
		tools = []*backend.Tool{}
	}
	return writeJSON(w, http.StatusOK, tools)
}

func (s *Server) refreshTools(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Upstream == nil {
		return unavailable("Refreshing tools")
	}
	c, err := s.opts.Connectors.GetConnector(r.Context(), r.PathValue("ref"))
	if err != nil {
		return err
	}
	ch, err := s.opts.Upstream.RefreshTools(r.Context(), c.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ch)
}

type policyRequest struct {
	Policy string `json:"policy"`
	// Tools names the tools to change; empty means all of them.
	Tools []string `json:"tools,omitempty"`
}

func (s *Server) setPolicies(w http.ResponseWriter, r *http.Request) error {
	var in policyRequest
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if err := s.opts.Tools.SetToolPolicy(r.Context(), r.PathValue("ref"), in.Tools, in.Policy); err != nil {
		return err
	}
	return s.listTools(w, r)
}

func (s *Server) setPolicy(w http.ResponseWriter, r *http.Request) error {
	var in policyRequest
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if err := s.opts.Tools.SetToolPolicy(r.Context(), r.PathValue("ref"), []string{r.PathValue("tool")}, in.Policy); err != nil {
		return err
	}
	return s.listTools(w, r)
}

func (s *Server) acceptTool(w http.ResponseWriter, r *http.Request) error {
	if err := s.opts.Tools.AcceptToolChange(r.Context(), r.PathValue("ref"), r.PathValue("tool")); err != nil {
		return err
	}
	return s.listTools(w, r)
}
