package api

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/patchbay/patchbay/backend/clients"
)

// ClientSetup is what the Clients screen needs (implemented by
// *clients.Service).
type ClientSetup interface {
	List(ctx context.Context) ([]clients.Status, error)
	Get(ctx context.Context, id string) (*clients.Status, error)
	Connect(ctx context.Context, id string, req clients.ConnectRequest) (*clients.ConnectResult, error)
	Disconnect(ctx context.Context, id string, req clients.DisconnectRequest) (*clients.DisconnectResult, error)
	Undo(ctx context.Context, id string, req clients.UndoRequest) (*clients.UndoResult, error)
	Snippet(ctx context.Context, id string, req clients.SnippetRequest) (*clients.SnippetResult, error)
}

// HandleClients adds the client setup routes. Call it before Handler.
//
//	GET  /api/v1/clients                     every client: detected, connected, conversation
//	GET  /api/v1/clients/{id}                one client
//	POST /api/v1/clients/{id}/connect        {conversation, dry_run, overwrite, scope, project_dir}
//	POST /api/v1/clients/{id}/disconnect     {scope, project_dir, dry_run}
//	POST /api/v1/clients/{id}/undo           {force, dry_run} (body optional)
//	GET  /api/v1/clients/{id}/snippet        ?conversation=slug&scope=user|project
//	POST /api/v1/clients/{id}/snippet        {conversation, scope, issue_token}
func (s *Server) HandleClients(c ClientSetup) {
	s.Handle("GET /api/v1/clients", func(w http.ResponseWriter, r *http.Request) error {
		list, err := c.List(r.Context())
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, list)
	})
	s.Handle("GET /api/v1/clients/{id}", func(w http.ResponseWriter, r *http.Request) error {
		st, err := c.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, st)
	})
	s.Handle("POST /api/v1/clients/{id}/connect", clientPost(c.Connect))
	s.Handle("POST /api/v1/clients/{id}/disconnect", clientPost(c.Disconnect))
	s.Handle("POST /api/v1/clients/{id}/undo", clientPost(c.Undo))
	s.Handle("GET /api/v1/clients/{id}/snippet", func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		res, err := c.Snippet(r.Context(), r.PathValue("id"), clients.SnippetRequest{
			Conversation: q.Get("conversation"), Scope: q.Get("scope"),
		})
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, res)
	})
	s.Handle("POST /api/v1/clients/{id}/snippet", clientPost(c.Snippet))
}

// clientPost is the handler of a POST about one client: the body (which
// may be left out) is the request and the answer is the result. The
// service publishes what changed.
func clientPost[Req, Res any](do func(context.Context, string, Req) (*Res, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in Req
		if err := readOptionalJSON(r, &in); err != nil {
			return err
		}
		res, err := do(r.Context(), r.PathValue("id"), in)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, res)
	}
}

// readOptionalJSON is readJSON for bodies that may be left out entirely
// (POST .../undo with nothing to say).
func readOptionalJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return badJSON(err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return readJSON(r, v)
}
