package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/patchbay/patchbay/backend"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// oauth2Config is the golang.org/x/oauth2 view of a client and server.
func (cl *client) oauth2Config(md *metadata, redirectURI string, scopes []string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     cl.ID,
		ClientSecret: cl.secretToSend(),
		Endpoint:     oauth2.Endpoint{AuthURL: md.AuthorizationURL, TokenURL: md.TokenURL, AuthStyle: cl.authStyle()},
		RedirectURL:  redirectURI,
		Scopes:       scopes,
	}
}

// authStyle is how x/oauth2 sends the client's credentials.
func (cl *client) authStyle() oauth2.AuthStyle {
	if cl.Method == backend.TokenAuthBasic {
		return oauth2.AuthStyleInHeader
	}
	return oauth2.AuthStyleInParams
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
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("resource", resource)}
	if verifier != "" {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	return tokenSetOf(cfg.Exchange(context.WithValue(ctx, oauth2.HTTPClient, m.hc), code, opts...))
}

// refreshGrant uses the refresh token of old, sending the RFC 8707
// resource: without it, servers that bind tokens to a resource issue
// tokens for something else, and sign-ins break at the first refresh.
// x/oauth2's own refresh (Config.TokenSource) sends no extra parameters;
// its clientcredentials.Config does (EndpointParams, which may replace the
// grant_type), and so makes the refresh request, with the client's
// authentication and the answer's parsing shared with the code exchange.
func (m *Manager) refreshGrant(ctx context.Context, md *metadata, cl *client, old *tokenSet) (*tokenSet, error) {
	params := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old.RefreshToken}}
	if md.Resource != "" {
		params.Set("resource", md.Resource)
	}
	cfg := &clientcredentials.Config{ClientID: cl.ID, ClientSecret: cl.secretToSend(), TokenURL: md.TokenURL,
		AuthStyle: cl.authStyle(), EndpointParams: params}
	ts, err := tokenSetOf(cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, m.hc)))
	if err != nil {
		return nil, err
	}
	ts.Config = old.Config
	if ts.RefreshToken == "" {
		ts.RefreshToken = old.RefreshToken // not rotated (RFC 6749 6)
	}
	if ts.Scope == "" {
		ts.Scope = old.Scope
	}
	return ts, nil
}

// tokenSetOf turns an x/oauth2 token answer into a tokenSet, or its error
// into a *tokenError.
func tokenSetOf(tok *oauth2.Token, err error) (*tokenSet, error) {
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
		Expiry: tok.Expiry, ObtainedAt: time.Now()}
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

// revoke revokes one token (RFC 7009); hint is its type. The client
// authenticates as at the token endpoint: with HTTP Basic for
// client_secret_basic (id and secret form-encoded first, as RFC 6749 2.3.1
// says), else in the body.
func (m *Manager) revoke(ctx context.Context, endpoint string, cl *client, token, hint string) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	if cl.Method != backend.TokenAuthBasic {
		form.Set("client_id", cl.ID)
		if s := cl.secretToSend(); s != "" {
			form.Set("client_secret", s)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return &tokenError{Cause: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", m.opts.UserAgent)
	if cl.Method == backend.TokenAuthBasic {
		req.SetBasicAuth(url.QueryEscape(cl.ID), url.QueryEscape(cl.Secret))
	}
	resp, err := m.hc.Do(req)
	if err != nil {
		return &tokenError{Cause: err}
	}
	defer resp.Body.Close()
	var e struct {
		Code        string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e)
	if resp.StatusCode/100 != 2 {
		return &tokenError{Code: e.Code, Description: e.Description, Status: resp.StatusCode}
	}
	return nil
}
