package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/patchbay/patchbay/backend"
	"golang.org/x/oauth2"
)

// oauth2Config is the golang.org/x/oauth2 view of a client and server.
func (cl *client) oauth2Config(md *metadata, redirectURI string, scopes []string) *oauth2.Config {
	style := oauth2.AuthStyleInParams
	if cl.Method == backend.TokenAuthBasic {
		style = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{
		ClientID:     cl.ID,
		ClientSecret: cl.secretToSend(),
		Endpoint:     oauth2.Endpoint{AuthURL: md.AuthorizationURL, TokenURL: md.TokenURL, AuthStyle: style},
		RedirectURL:  redirectURI,
		Scopes:       scopes,
	}
}

// secretToSend is the secret when the method sends one; a public client
// ("none") never sends it, even if one is configured.
func (cl *client) secretToSend() string {
	if cl.Method == backend.TokenAuthNone {
		return ""
	}
	return cl.Secret
}

// tokenError is a failed token, refresh or revocation request, described
// without the response body (which is the server's, unchecked).
type tokenError struct {
	Code, Description string
	Status            int
	Cause             error // a transport failure
}

func (e *tokenError) Error() string {
	switch {
	case e.Cause != nil:
		return cleanText(e.Cause.Error())
	case e.Code != "" || e.Description != "":
		return describeOAuthError(e.Code, e.Description)
	default:
		return fmt.Sprintf("HTTP %d", e.Status)
	}
}

// dead reports whether the server refused the grant or the client for
// good: only a new sign-in helps.
func (e *tokenError) dead() bool {
	switch e.Code {
	case "invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope", "invalid_target":
		return true
	}
	return e.Cause == nil && e.Code == "" && (e.Status == http.StatusBadRequest || e.Status == http.StatusUnauthorized)
}

// exchange trades an authorization code for tokens with x/oauth2, sending
// the PKCE verifier and the RFC 8707 resource.
func (m *Manager) exchange(ctx context.Context, cfg *oauth2.Config, code, verifier, resource string) (*tokenSet, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, m.hc)
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("resource", resource)}
	if verifier != "" {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	tok, err := cfg.Exchange(ctx, code, opts...)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			te := &tokenError{Code: re.ErrorCode, Description: re.ErrorDescription}
			if re.Response != nil {
				te.Status = re.Response.StatusCode
			}
			return nil, te
		}
		return nil, &tokenError{Cause: err}
	}
	ts := &tokenSet{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: tok.TokenType,
		Expiry: tok.Expiry, ObtainedAt: m.now()}
	if s, ok := tok.Extra("scope").(string); ok {
		ts.Scope = s
	}
	return ts, checkTokenType(ts.TokenType)
}

func checkTokenType(t string) error {
	if t == "" || strings.EqualFold(t, "bearer") {
		return nil
	}
	return &tokenError{Code: "unsupported_token_type", Description: fmt.Sprintf("the server issued a %q token; Patchbay supports Bearer tokens", t)}
}

// postForm sends a form to a token or revocation endpoint with the
// client's authentication: HTTP Basic for client_secret_basic (id and
// secret form-encoded first, as RFC 6749 2.3.1 says), else in the body.
func (m *Manager) postForm(ctx context.Context, endpoint string, cl *client, form url.Values) (*http.Response, []byte, error) {
	if cl.Method == backend.TokenAuthBasic {
		form.Del("client_id")
	} else {
		form.Set("client_id", cl.ID)
		if s := cl.secretToSend(); s != "" {
			form.Set("client_secret", s)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", m.opts.UserAgent)
	if cl.Method == backend.TokenAuthBasic {
		req.SetBasicAuth(url.QueryEscape(cl.ID), url.QueryEscape(cl.Secret))
	}
	resp, err := m.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, body, err
}

// tokenJSON is a token endpoint answer (RFC 6749 5.1 and 5.2).
type tokenJSON struct {
	AccessToken      string          `json:"access_token"`
	TokenType        string          `json:"token_type"`
	RefreshToken     string          `json:"refresh_token"`
	ExpiresIn        json.RawMessage `json:"expires_in"`
	Scope            string          `json:"scope"`
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

// refreshGrant uses the refresh token of old. It is written by hand rather
// than with x/oauth2, whose refresh cannot send the RFC 8707 resource —
// without it, servers that bind tokens to a resource issue tokens for
// something else, and sign-ins break at the first refresh.
func (m *Manager) refreshGrant(ctx context.Context, md *metadata, cl *client, old *tokenSet) (*tokenSet, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old.RefreshToken}}
	if md.Resource != "" {
		form.Set("resource", md.Resource)
	}
	resp, body, err := m.postForm(ctx, md.TokenURL, cl, form)
	if err != nil {
		return nil, &tokenError{Cause: err}
	}
	var tj tokenJSON
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" || mt == "text/plain" {
		v, _ := url.ParseQuery(string(body))
		tj = tokenJSON{AccessToken: v.Get("access_token"), TokenType: v.Get("token_type"), RefreshToken: v.Get("refresh_token"),
			ExpiresIn: json.RawMessage(strconv.Quote(v.Get("expires_in"))), Scope: v.Get("scope"), Error: v.Get("error"), ErrorDescription: v.Get("error_description")}
	} else if err := json.Unmarshal(body, &tj); err != nil && resp.StatusCode/100 == 2 {
		return nil, &tokenError{Status: resp.StatusCode, Description: "the answer is not JSON"}
	}
	if resp.StatusCode/100 != 2 || tj.Error != "" || tj.AccessToken == "" {
		return nil, &tokenError{Code: tj.Error, Description: tj.ErrorDescription, Status: resp.StatusCode}
	}
	ts := &tokenSet{AccessToken: tj.AccessToken, RefreshToken: tj.RefreshToken, TokenType: tj.TokenType,
		Scope: tj.Scope, ObtainedAt: m.now(), Config: old.Config}
	if ts.RefreshToken == "" {
		ts.RefreshToken = old.RefreshToken // not rotated (RFC 6749 6)
	}
	if ts.Scope == "" {
		ts.Scope = old.Scope
	}
	if n := expiresIn(tj.ExpiresIn); n > 0 {
		ts.Expiry = ts.ObtainedAt.Add(time.Duration(n) * time.Second)
	}
	return ts, checkTokenType(ts.TokenType)
}

// expiresIn reads expires_in, which some servers send as a string.
func expiresIn(raw json.RawMessage) int64 {
	s := strings.Trim(string(raw), `"`)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// revoke revokes one token (RFC 7009); hint is its type.
func (m *Manager) revoke(ctx context.Context, endpoint string, cl *client, token, hint string) error {
	resp, body, err := m.postForm(ctx, endpoint, cl, url.Values{"token": {token}, "token_type_hint": {hint}})
	if err != nil {
		return &tokenError{Cause: err}
	}
	if resp.StatusCode/100 != 2 {
		var tj tokenJSON
		_ = json.Unmarshal(body, &tj)
		return &tokenError{Code: tj.Error, Description: tj.ErrorDescription, Status: resp.StatusCode}
	}
	return nil
}
