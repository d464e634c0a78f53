package api

import (
	"net/http"
	"strconv"

	"github.com/patchbay/patchbay/backend"
)

// IssuedToken is the answer to issuing a client token: the only time its
// value is shown.
type IssuedToken struct {
	*backend.ClientToken
	Token string `json:"token"`
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	list, err := s.opts.Tokens.ListTokens(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []*backend.ClientToken{}
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Label  string `json:"label"`
		Client string `json:"client,omitempty"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	value, t, err := s.opts.Tokens.IssueToken(r.Context(), in.Label, in.Client)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, IssuedToken{ClientToken: t, Token: value})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := s.opts.Tokens.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) error {
	st, err := s.opts.Settings.GetSettings(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (s *Server) putSettings(w http.ResponseWriter, r *http.Request) error {
	cur, err := s.opts.Settings.GetSettings(r.Context())
	if err != nil {
		return err
	}
	// Start from the current settings so that a partial body changes only
	// what it names.
	in := *cur
	if err := readJSON(r, &in); err != nil {
		return err
	}
	st, err := s.opts.Settings.UpdateSettings(r.Context(), &in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (s *Server) listActivity(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Activity == nil {
		return unavailable("The activity log")
	}
	q := r.URL.Query()
	f := backend.ActivityFilter{
		ConnectorID: q.Get("connector"), Tool: q.Get("tool"), Outcome: q.Get("outcome"),
		Conversation: q.Get("conversation"), Text: q.Get("q"),
	}
	var p backend.Problems
	for name, dst := range map[string]*uint64{"before": &f.Before, "after": &f.After} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				p.Add(name, "must be a sequence number, not %q", v)
			}
			*dst = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			p.Add("limit", "must be a number from 1 to 1000, not %q", v)
		}
		f.Limit = n
	}
	if f.ConnectorID != "" && s.opts.Connectors != nil {
		if c, err := s.opts.Connectors.GetConnector(r.Context(), f.ConnectorID); err == nil {
			f.ConnectorID = c.ID
		}
	}
	if err := p.Err("query"); err != nil {
		return err
	}
	page, err := s.opts.Activity.ListActivity(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

func (s *Server) getActivity(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Activity == nil {
		return unavailable("The activity log")
	}
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil {
		return backend.Errorf(backend.ENOTFOUND, "No activity entry %q.", r.PathValue("seq"))
	}
	e, err := s.opts.Activity.GetActivity(r.Context(), seq)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, e)
}

func (s *Server) listApprovals(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Approvals == nil {
		return writeJSON(w, http.StatusOK, []*backend.Approval{})
	}
	list, err := s.opts.Approvals.ListApprovals(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []*backend.Approval{}
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) decideApproval(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Approvals == nil {
		return unavailable("Approvals")
	}
	var in struct {
		Decision string `json:"decision"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if !backend.ValidDecision(in.Decision) {
		var p backend.Problems
		p.Add("decision", "must be allow_once, allow_always or deny (got %q)", in.Decision)
		return p.Err("request")
	}
	if err := s.opts.Approvals.DecideApproval(r.Context(), r.PathValue("id"), in.Decision); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
