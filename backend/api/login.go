package api

import (
	"crypto/rand"
	"crypto/subtle"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

// Browser sessions last a week; one-time login codes ten minutes.
const (
	sessionTTL   = 7 * 24 * time.Hour
	loginCodeTTL = 10 * time.Minute
)

// NewLoginLink returns a one-time link that signs a browser in: opening it
// sets the session cookie and redirects to the UI. `serve` prints one.
func (s *Server) NewLoginLink() string {
	code := rand.Text()
	now := time.Now()
	s.mu.Lock()
	for k, exp := range s.codes {
		if now.After(exp) {
			delete(s.codes, k) // expired links are never accepted; forget them
		}
	}
	s.codes[code] = now.Add(loginCodeTTL)
	s.mu.Unlock()
	return s.baseURL() + "/login?code=" + code
}

func (s *Server) startSession(w http.ResponseWriter) {
	id := rand.Text() + rand.Text()
	s.mu.Lock()
	now := time.Now()
	for k, exp := range s.sessions {
		if now.After(exp) {
			delete(s.sessions, k)
		}
	}
	s.sessions[id] = now.Add(sessionTTL)
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: id, Path: "/", MaxAge: int(sessionTTL.Seconds()),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
}

// login handles GET /login?code=… (the one-time link) and POST /login with
// the admin token in a form (the fallback when the link has expired).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var ok bool
	switch r.Method {
	case http.MethodGet:
		code := r.URL.Query().Get("code")
		if code == "" {
			loginPage.Execute(w, map[string]string{})
			return
		}
		s.mu.Lock()
		exp, found := s.codes[code]
		delete(s.codes, code) // one use, found or not
		s.mu.Unlock()
		ok = found && time.Now().Before(exp)
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		tok := strings.TrimSpace(r.FormValue("token"))
		ok = s.opts.AdminToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.AdminToken)) == 1
	}
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		loginPage.Execute(w, map[string]string{"Error": "That login link has expired or was already used, or the token is wrong. Paste the admin token (`patchbay admin-token` prints it), or restart `patchbay serve` for a new link."})
		return
	}
	s.startSession(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Patchbay — sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color-scheme:light dark}
input{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1rem;font:inherit}
.err{color:#b00020}</style></head><body>
<h1>Sign in to Patchbay</h1>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<p>Open the login link printed by <code>patchbay serve</code>, or paste the admin token.</p>
<form method="post" action="/login"><label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="off" autofocus>
<button type="submit">Sign in</button></form></body></html>`))

// static serves the built frontend. Unknown paths without a file extension
// get index.html, so client-side routes survive a reload.
func (s *Server) static() http.Handler {
	if s.opts.Frontend == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(`<!doctype html><title>Patchbay</title><h1>Patchbay</h1><p>The web UI was not built into this binary. Run <code>make build</code>; the admin API is at /api/v1.</p>`))
		})
	}
	files := http.FileServerFS(s.opts.Frontend)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		p := strings.TrimPrefix(r.URL.Path, "/")
		if p != "" {
			if _, err := fs.Stat(s.opts.Frontend, p); err != nil && !strings.Contains(p[strings.LastIndex(p, "/")+1:], ".") {
				r2 := r.Clone(r.Context())
				r2.URL.Path = "/"
				files.ServeHTTP(w, r2)
				return
			}
		}
		files.ServeHTTP(w, r)
	})
}
