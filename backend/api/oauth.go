package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/oauth"
)

// OAuth is what the OAuth routes need; *oauth.Manager implements it.
type OAuth interface {
	Login(ctx context.Context, c *backend.Connector) (*oauth.Flow, bool, error)
	Logout(ctx context.Context, c *backend.Connector) (*oauth.LogoutResult, error)
	Status(ctx context.Context, c *backend.Connector) (*oauth.Status, error)
	Discover(ctx context.Context, issuer string) (*oauth.Endpoints, error)
}

// LoginStarted is the answer to POST /api/v1/connectors/{ref}/login. The
// sign-in goes on in the background; its progress arrives as
// oauth.progress events and in GET /api/v1/connectors/{ref}/oauth.
type LoginStarted struct {
	ConnectorID      string `json:"connector_id"`
	AuthorizationURL string `json:"authorization_url"`
	RedirectURI      string `json:"redirect_uri"`
	State            string `json:"state"`
	// Joined: a sign-in for this connector was already under way and this
	// request joined it.
	Joined bool `json:"joined"`
}

// HandleOAuth adds the OAuth routes; call it before Handler:
//
//	POST /api/v1/connectors/{ref}/login    start (or join) a sign-in
//	POST /api/v1/connectors/{ref}/logout   revoke and delete the tokens
//	GET  /api/v1/connectors/{ref}/oauth    sign-in state
//	POST /api/v1/oauth/discover            {"issuer"} → the provider's endpoints
//	GET  /api/v1/oauth/redirect-uri?ports=8765,8766  the redirect URI a sign-in would use
func (s *Server) HandleOAuth(o OAuth) {
	s.Handle("POST /api/v1/connectors/{ref}/login", func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.opts.Connectors.GetConnector(r.Context(), r.PathValue("ref"))
		if err != nil {
			return err
		}
		f, joined, err := o.Login(r.Context(), c)
		if err != nil {
			return err
		}
		st := f.Status()
		return writeJSON(w, http.StatusOK, LoginStarted{ConnectorID: c.ID, AuthorizationURL: st.AuthorizationURL,
			RedirectURI: st.RedirectURI, State: st.State, Joined: joined})
	})
	s.Handle("POST /api/v1/connectors/{ref}/logout", onConnector(s, o.Logout))
	s.Handle("GET /api/v1/connectors/{ref}/oauth", onConnector(s, o.Status))
	s.Handle("POST /api/v1/oauth/discover", func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Issuer string `json:"issuer"`
		}
		if err := readJSON(r, &in); err != nil {
			return err
		}
		if strings.TrimSpace(in.Issuer) == "" {
			var p backend.Problems
			p.Add("issuer", "is required: the provider's issuer URL, such as https://accounts.example.com")
			return p.Err("request")
		}
		ep, err := o.Discover(r.Context(), in.Issuer)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, ep)
	})
	s.Handle("GET /api/v1/oauth/redirect-uri", func(w http.ResponseWriter, r *http.Request) error {
		var ports []int
		var p backend.Problems
		for _, v := range strings.FieldsFunc(r.URL.Query().Get("ports"), func(r rune) bool { return r == ',' || r == ' ' }) {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 65535 {
				p.Add("ports", "%q is not a port number (1-65535)", v)
				continue
			}
			ports = append(ports, n)
		}
		if err := p.Err("request"); err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, oauth.PreviewRedirect(ports))
	})
}

// onConnector serves a route that does one thing to the connector named in
// the path and answers with its result.
func onConnector[T any](s *Server, do func(context.Context, *backend.Connector) (T, error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.opts.Connectors.GetConnector(r.Context(), r.PathValue("ref"))
		if err != nil {
			return err
		}
		res, err := do(r.Context(), c)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, res)
	}
}
