package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/patchbay/patchbay/backend"
)

// Endpoints describe an authorization server, as Discover finds them.
type Endpoints struct {
	Issuer           string   `json:"issuer"`
	AuthorizationURL string   `json:"authorization_url"`
	TokenURL         string   `json:"token_url"`
	RevocationURL    string   `json:"revocation_url,omitempty"`
	RegistrationURL  string   `json:"registration_url,omitempty"`
	ScopesSupported  []string `json:"scopes_supported,omitempty"`
	TokenAuthMethods []string `json:"token_auth_methods,omitempty"`
	// PKCE reports whether the server advertises PKCE with S256.
	PKCE bool `json:"pkce"`
	// MetadataURL is where the metadata was found.
	MetadataURL string `json:"metadata_url"`
}

// Discover reads the metadata of the authorization server whose issuer URL
// is given (RFC 8414 /.well-known/oauth-authorization-server or OpenID
// Connect /.well-known/openid-configuration), for filling in a connector's
// endpoints by hand.
func (m *Manager) Discover(ctx context.Context, issuer string) (*Endpoints, error) {
	issuer = strings.TrimSpace(issuer)
	if err := checkEndpoint("issuer", issuer); err != nil {
		return nil, err
	}
	asm, where, err := m.fetchASMeta(ctx, issuer)
	if err != nil {
		return nil, backend.Errorf(backend.EUNAVAILABLE, "Cannot read the provider's metadata from %s: %s.", issuer, strings.TrimSuffix(err.Error(), ".")).
			WithSlug("oauth_discovery_failed").
			WithFix("Check the issuer URL (for example https://accounts.example.com); Patchbay looks for /.well-known/openid-configuration and /.well-known/oauth-authorization-server under it. Otherwise enter the endpoints by hand.")
	}
	return &Endpoints{
		Issuer: asm.Issuer, AuthorizationURL: asm.AuthorizationEndpoint, TokenURL: asm.TokenEndpoint,
		RevocationURL: asm.RevocationEndpoint, RegistrationURL: asm.RegistrationEndpoint,
		ScopesSupported: asm.ScopesSupported, TokenAuthMethods: asm.TokenEndpointAuthMethodsSupported,
		PKCE: slices.Contains(asm.CodeChallengeMethodsSupported, "S256"), MetadataURL: where,
	}, nil
}

// asMetadataURLs lists where an issuer's metadata may be, as the MCP spec
// orders them (RFC 8414 first, then OpenID Connect, with path insertion).
func asMetadataURLs(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil
	}
	path := strings.Trim(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	at := func(p string) string { v := *u; v.Path = p; return v.String() }
	if path == "" {
		return []string{at("/.well-known/oauth-authorization-server"), at("/.well-known/openid-configuration")}
	}
	return []string{
		at("/.well-known/oauth-authorization-server/" + path),
		at("/.well-known/openid-configuration/" + path),
		at("/" + path + "/.well-known/openid-configuration"),
	}
}

// fetchASMeta reads an authorization server's metadata without go-sdk's
// insistence on advertised PKCE, which providers set up by hand (or with
// PKCE turned off) may lack. It checks the issuer and the endpoints' schemes.
func (m *Manager) fetchASMeta(ctx context.Context, issuer string) (*oauthex.AuthServerMeta, string, error) {
	var tried []string
	for _, where := range asMetadataURLs(issuer) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
		if err != nil {
			return nil, "", err
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", m.opts.UserAgent)
		resp, err := m.hc.Do(req)
		if err != nil {
			return nil, "", fmt.Errorf("fetching %s: %w", where, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, "", fmt.Errorf("reading %s: %w", where, err)
		}
		if resp.StatusCode >= 400 && resp.StatusCode < 500 {
			tried = append(tried, where)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return nil, "", fmt.Errorf("%s answered %s", where, resp.Status)
		}
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
			return nil, "", fmt.Errorf("%s did not answer with JSON", where)
		}
		var asm oauthex.AuthServerMeta
		if err := json.Unmarshal(body, &asm); err != nil {
			return nil, "", fmt.Errorf("%s is not valid metadata: %w", where, err)
		}
		if !issuersEqual(asm.Issuer, issuer) {
			return nil, "", fmt.Errorf("the metadata at %s names the issuer %q, not %q", where, asm.Issuer, issuer)
		}
		for name, v := range map[string]string{"authorization_endpoint": asm.AuthorizationEndpoint, "token_endpoint": asm.TokenEndpoint} {
			if v == "" {
				return nil, "", fmt.Errorf("the metadata at %s has no %s", where, name)
			}
		}
		for name, v := range map[string]string{"authorization_endpoint": asm.AuthorizationEndpoint, "token_endpoint": asm.TokenEndpoint,
			"revocation_endpoint": asm.RevocationEndpoint, "registration_endpoint": asm.RegistrationEndpoint} {
			if v == "" {
				continue
			}
			if err := checkEndpoint(name, v); err != nil {
				return nil, "", err
			}
		}
		return &asm, where, nil
	}
	return nil, "", fmt.Errorf("no metadata at %s", strings.Join(tried, " or "))
}

// checkEndpoint refuses URLs that would carry codes, tokens or secrets in
// the clear: only https, or http to this machine.
func checkEndpoint(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return backend.Errorf(backend.EINVALID, "The %s %q is not an http(s) URL.", name, raw).WithSlug("oauth_bad_endpoint")
	}
	if u.Scheme == "http" && !backend.IsLoopbackHost(u.Hostname()) {
		return backend.Errorf(backend.EINVALID, "The %s %s uses plain http:// for a host that is not this machine.", name, raw).
			WithSlug("oauth_insecure_endpoint").
			WithFix("Use the provider's https:// address; Patchbay does not send sign-in codes or tokens unencrypted over a network.")
	}
	return nil
}

// issuersEqual compares issuer identifiers, tolerating one trailing slash
// as RFC 8414 validation in practice must.
func issuersEqual(a, b string) bool {
	return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

// canonicalResource is the RFC 8707 resource for a server URL: as given,
// with the scheme and host in lower case and no fragment (the canonical
// server URI of the MCP spec).
func canonicalResource(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Fragment = ""
	return u.String()
}

// challengeInfo is what a WWW-Authenticate header says about OAuth.
type challengeInfo struct {
	resourceMetadata string
	scopes           []string
	err              string
}

func parseChallenge(header string) challengeInfo {
	var ci challengeInfo
	if header == "" {
		return ci
	}
	cs, err := oauthex.ParseWWWAuthenticate([]string{header})
	if err != nil {
		return ci
	}
	for _, c := range cs {
		if v := c.Params["resource_metadata"]; v != "" && ci.resourceMetadata == "" {
			ci.resourceMetadata = v
		}
		if !strings.EqualFold(c.Scheme, "bearer") {
			continue
		}
		if v := c.Params["scope"]; v != "" && ci.scopes == nil {
			ci.scopes = strings.Fields(v)
		}
		if v := c.Params["error"]; v != "" && ci.err == "" {
			ci.err = v
		}
	}
	return ci
}

// discover finds a connector's authorization the way the MCP spec says:
// the challenge's resource metadata or the RFC 9728 well-known URLs, then
// the authorization server's metadata; servers of the 2025-03-26 era
// without metadata get the default endpoints at their origin.
func (m *Manager) discover(ctx context.Context, c *backend.Connector, challenge string) (*metadata, error) {
	o := oauthConfig(c)
	ci := parseChallenge(challenge)
	md := &metadata{ChallengeScopes: ci.scopes, Resource: canonicalResource(c.URL)}
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, errDiscovery(c, "the connector URL is not valid")
	}
	origin := u.Scheme + "://" + u.Host
	asURL := origin
	if prm, where := m.protectedResource(ctx, c.URL, origin, ci.resourceMetadata); prm != nil {
		md.Resource, md.ResourceScopes, md.ResourceMetadataURL = prm.Resource, prm.ScopesSupported, where
		asURL = prm.AuthorizationServers[0]
	}
	if o.Issuer != "" {
		asURL = o.Issuer
	}
	asm, err := auth.GetAuthServerMetadata(ctx, asURL, m.hc)
	if err != nil && o.DisablePKCE {
		asm, _, err = m.fetchASMeta(ctx, asURL)
	}
	if err != nil {
		return nil, errDiscovery(c, fmt.Sprintf("the authorization server %s: %s", asURL, cleanText(err.Error())))
	}
	if asm == nil {
		// 2025-03-26: the server's origin is its authorization server.
		base := strings.TrimSuffix(asURL, "/")
		md.Issuer, md.AuthorizationURL, md.TokenURL, md.RegistrationURL = asURL, base+"/authorize", base+"/token", base+"/register"
		return md, nil
	}
	md.Issuer, md.AuthorizationURL, md.TokenURL = asm.Issuer, asm.AuthorizationEndpoint, asm.TokenEndpoint
	md.RevocationURL, md.RegistrationURL = asm.RevocationEndpoint, asm.RegistrationEndpoint
	md.TokenAuthMethods, md.ASScopes = asm.TokenEndpointAuthMethodsSupported, asm.ScopesSupported
	md.IssRequired = asm.AuthorizationResponseIssParameterSupported
	if !o.DisablePKCE && len(asm.CodeChallengeMethodsSupported) > 0 && !slices.Contains(asm.CodeChallengeMethodsSupported, "S256") {
		return nil, errDiscovery(c, "the authorization server does not support PKCE with S256")
	}
	return md, nil
}

// protectedResource looks for RFC 9728 metadata: at the URL the challenge
// named, at the path-specific well-known URL, then at the root (where
// servers name either their origin or their full URL as the resource).
func (m *Manager) protectedResource(ctx context.Context, serverURL, origin, fromChallenge string) (*oauthex.ProtectedResourceMetadata, string) {
	type candidate struct{ where, resource string }
	var cands []candidate
	if fromChallenge != "" {
		cands = append(cands, candidate{fromChallenge, serverURL})
	}
	if u, err := url.Parse(serverURL); err == nil && strings.Trim(u.Path, "/") != "" {
		cands = append(cands, candidate{origin + "/.well-known/oauth-protected-resource/" + strings.TrimLeft(u.Path, "/"), serverURL})
	}
	root := origin + "/.well-known/oauth-protected-resource"
	cands = append(cands, candidate{root, serverURL}, candidate{root, origin})
	for _, cand := range cands {
		prm, err := oauthex.GetProtectedResourceMetadata(ctx, cand.where, cand.resource, m.hc)
		if err != nil || prm == nil || len(prm.AuthorizationServers) == 0 {
			continue
		}
		return prm, cand.where
	}
	return nil, ""
}

// probe asks the server for its challenge with an unauthenticated request,
// for sign-ins that start before any 401 was seen.
func (m *Manager) probe(ctx context.Context, c *backend.Connector) string {
	method, body := http.MethodPost, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"patchbay","version":"probe"}}}`
	accept := "application/json, text/event-stream"
	if c.Transport == backend.TransportSSE || c.DetectedTransport == backend.TransportSSE {
		method, body, accept = http.MethodGet, "", "text/event-stream"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL, strings.NewReader(body))
	if err != nil {
		return ""
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", m.opts.UserAgent)
	resp, err := m.hc.Do(req)
	if err != nil {
		return ""
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		return ""
	}
	return strings.Join(resp.Header.Values("WWW-Authenticate"), ", ")
}

// resolve returns the connector's authorization metadata: hand-set
// endpoints, the stored discovery (unless fresh is set) or a new one that
// starts from challenge, the last WWW-Authenticate header (probed for when
// there is none).
func (m *Manager) resolve(ctx context.Context, c *backend.Connector, challenge string, fresh bool) (*metadata, error) {
	o := oauthConfig(c)
	stored := m.loadMetadata(ctx, c)
	if stored != nil && !fresh && stored.TokenURL != "" {
		if o.AuthorizationURL != "" && o.RevocationURL != "" {
			stored.RevocationURL = o.RevocationURL // not part of the fingerprint
		}
		return stored, nil
	}
	var md *metadata
	if o.AuthorizationURL != "" {
		md = &metadata{Manual: true, Issuer: o.Issuer, AuthorizationURL: o.AuthorizationURL, TokenURL: o.TokenURL,
			RevocationURL: o.RevocationURL, Resource: canonicalResource(c.URL), ChallengeScopes: parseChallenge(challenge).scopes}
		for name, v := range map[string]string{"authorization endpoint": md.AuthorizationURL, "token endpoint": md.TokenURL} {
			if err := checkEndpoint(name, v); err != nil {
				return nil, err
			}
		}
		if o.Issuer != "" {
			// Best effort: what the issuer's metadata adds (iss support,
			// revocation, auth methods) makes the sign-in safer.
			if asm, _, err := m.fetchASMeta(ctx, o.Issuer); err == nil {
				md.IssRequired = asm.AuthorizationResponseIssParameterSupported
				md.TokenAuthMethods, md.ASScopes = asm.TokenEndpointAuthMethodsSupported, asm.ScopesSupported
				if md.RevocationURL == "" {
					md.RevocationURL = asm.RevocationEndpoint
				}
			}
		}
	} else {
		if challenge == "" {
			challenge = m.probe(ctx, c)
		}
		var err error
		if md, err = m.discover(ctx, c, challenge); err != nil {
			return nil, err
		}
	}
	if stored != nil {
		md.RedirectPort, md.StepUpScopes = stored.RedirectPort, stored.StepUpScopes
		if md.ChallengeScopes == nil {
			md.ChallengeScopes = stored.ChallengeScopes
		}
	}
	m.saveMetadata(ctx, c, md)
	return md, nil
}
