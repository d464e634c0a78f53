package backend

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on connector fields.
const (
	MaxNameLen        = 64
	MaxSlugLen        = 32
	MaxDescriptionLen = 2000
	MaxIconBytes      = 64 << 10 // decoded image size
	MaxHeaders        = 50
	MaxHeaderValueLen = 8 << 10
	MaxCallTimeout    = 3600
)

// Normalize trims and fills defaults on input: the name is trimmed, an empty
// slug is derived from the name, an empty transport becomes auto, an empty
// auth type becomes none, and ${ENV} secret values become env references.
// It is applied before Validate.
func (c *Connector) Normalize() {
	c.Name = strings.TrimSpace(c.Name)
	c.Slug = strings.TrimSpace(c.Slug)
	if c.Slug == "" {
		c.Slug = Slugify(c.Name, MaxSlugLen)
	}
	c.Description = strings.TrimSpace(c.Description)
	c.URL = strings.TrimSpace(c.URL)
	c.Icon = strings.TrimSpace(c.Icon)
	if c.Transport == "" {
		c.Transport = TransportAuto
	}
	if c.Auth.Type == "" {
		c.Auth.Type = AuthNone
	}
	if a := c.Auth.APIKey; a != nil {
		a.Name = strings.TrimSpace(a.Name)
		if a.In == "" {
			a.In = APIKeyInHeader
		}
	}
	if o := c.Auth.OAuth; o != nil {
		o.ClientID = strings.TrimSpace(o.ClientID)
		o.Issuer = strings.TrimSpace(o.Issuer)
		o.AuthorizationURL = strings.TrimSpace(o.AuthorizationURL)
		o.TokenURL = strings.TrimSpace(o.TokenURL)
		o.RevocationURL = strings.TrimSpace(o.RevocationURL)
		var scopes []string
		for _, s := range o.Scopes {
			for _, f := range strings.Fields(s) {
				scopes = append(scopes, f)
			}
		}
		o.Scopes = scopes
	}
	for i := range c.Headers {
		c.Headers[i].Name = strings.TrimSpace(c.Headers[i].Name)
	}
	for _, f := range c.secretFields() {
		f.secret.NormalizeInput()
	}
}

// Validate checks every field of c and returns every problem at once, as an
// EINVALID *Error with one FieldError per problem. Uniqueness of the name and
// slug is checked by the registry, which knows the other connectors.
func (c *Connector) Validate() error {
	var p Problems
	validateName(&p, "name", c.Name)
	validateSlug(&p, "slug", c.Slug)
	if n := utf8.RuneCountInString(c.Description); n > MaxDescriptionLen {
		p.Add("description", "is %d characters; the limit is %d", n, MaxDescriptionLen)
	}
	if c.Icon != "" {
		validateIcon(&p, "icon", c.Icon)
	}
	validateServerURL(&p, "url", c.URL, true)
	switch c.Transport {
	case TransportAuto, TransportStreamableHTTP, TransportSSE:
	default:
		p.Add("transport", "must be one of auto, streamable-http, sse (got %q)", c.Transport)
	}
	c.validateAuth(&p)
	validateHeaders(&p, c.Headers)
	if c.DefaultPolicy != "" && !ValidPolicy(c.DefaultPolicy) {
		p.Add("default_policy", "must be one of %s (got %q)", strings.Join(Policies, ", "), c.DefaultPolicy)
	}
	if c.CallTimeoutSeconds < 0 || c.CallTimeoutSeconds > MaxCallTimeout {
		p.Add("call_timeout_seconds", "must be between 1 and %d seconds, or 0 for the default (%s)", MaxCallTimeout, DefaultCallTimeout)
	}
	return p.Err("connector")
}

func validateName(p *Problems, field, name string) {
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		p.Add(field, "is required")
	case n > MaxNameLen:
		p.Add(field, "is %d characters; the limit is %d", n, MaxNameLen)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		p.Add(field, "must not contain control characters")
	}
}

var slugRe = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func validateSlug(p *Problems, field, slug string) {
	switch {
	case slug == "":
		p.Add(field, "is required (it is derived from the name when the name has letters or digits)")
	case len(slug) > MaxSlugLen:
		p.Add(field, "is %d characters; the limit is %d", len(slug), MaxSlugLen)
	case !slugRe.MatchString(slug):
		p.Add(field, "may contain only a-z, 0-9 and single hyphens between them (got %q)", slug)
	}
}

// Slugify derives a slug from a name: lower case ASCII letters and digits,
// other runs of characters replaced by one hyphen, at most max bytes.
func Slugify(name string, max int) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(name) {
		r = foldAccent(r)
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		default:
			hyphen = true
		}
	}
	s := b.String()
	if len(s) > max {
		s = strings.TrimRight(s[:max], "-")
	}
	return s
}

// foldAccent maps common Latin letters with diacritics to their base letter,
// so "Café" becomes "cafe" rather than "caf".
func foldAccent(r rune) rune {
	const from = "àáâãäåçèéêëìíîïñòóôõöøùúûüýÿ"
	const to = "aaaaaaceeeeiiiinoooooouuuuyy"
	if i := strings.IndexRune(from, r); i >= 0 {
		return []rune(to)[utf8.RuneCountInString(from[:i])]
	}
	return r
}

var iconRe = regexp.MustCompile(`^data:image/(png|jpeg|gif|webp|svg\+xml);base64,([A-Za-z0-9+/=\s]+)$`)

func validateIcon(p *Problems, field, icon string) {
	m := iconRe.FindStringSubmatch(icon)
	if m == nil {
		p.Add(field, "must be a data: URL of a PNG, JPEG, GIF, WebP or SVG image (data:image/png;base64,…)")
		return
	}
	data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(m[2]), ""))
	if err != nil {
		p.Add(field, "is not valid base64")
		return
	}
	if len(data) > MaxIconBytes {
		p.Add(field, "is %d KiB; the limit is %d KiB (use a smaller image)", (len(data)+1023)/1024, MaxIconBytes/1024)
		return
	}
	magic := map[string][]byte{
		"png":  []byte("\x89PNG\r\n\x1a\n"),
		"jpeg": []byte("\xff\xd8\xff"),
		"gif":  []byte("GIF8"),
	}
	switch kind := m[1]; kind {
	case "webp":
		if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
			p.Add(field, "says WebP but the data is not a WebP image")
		}
	case "svg+xml":
		if !bytes.Contains(data, []byte("<svg")) {
			p.Add(field, "says SVG but the data is not an SVG image")
		}
	default:
		if !bytes.HasPrefix(data, magic[kind]) {
			p.Add(field, "says %s but the data is not a %s image", strings.ToUpper(kind), strings.ToUpper(kind))
		}
	}
}

// validateServerURL checks an absolute http(s) URL; plain http is allowed
// only for loopback hosts, so credentials never cross a network unencrypted.
func validateServerURL(p *Problems, field, raw string, required bool) {
	if raw == "" {
		if required {
			p.Add(field, "is required")
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		p.Add(field, "is not a valid URL: %s", strings.TrimPrefix(err.Error(), "parse "+fmt.Sprintf("%q", raw)+": "))
		return
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		p.Add(field, "must start with https:// (or http:// for a server on this machine)")
	case u.Host == "" || u.Hostname() == "":
		p.Add(field, "must include a host name, as in https://example.com/mcp")
	case u.User != nil:
		p.Add(field, "must not contain a user name or password; use API-key authentication instead")
	case u.Fragment != "":
		p.Add(field, "must not contain a #fragment")
	case u.Scheme == "http" && !IsLoopbackHost(u.Hostname()):
		p.Add(field, "uses plain http:// for a host that is not this machine; use https:// so credentials are encrypted")
	}
}

// IsLoopbackHost reports whether host names this machine: localhost or a
// loopback IP address.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Connector) validateAuth(p *Problems) {
	switch c.Auth.Type {
	case AuthNone:
	case AuthAPIKey:
		a := c.Auth.APIKey
		if a == nil {
			p.Add("auth.api_key", "is required when auth type is api-key")
			break
		}
		switch a.In {
		case APIKeyInHeader:
			if a.Name == "" {
				p.Add("auth.api_key.name", "is required: the header to send the key in, such as Authorization or X-API-Key")
			} else {
				validateHeaderName(p, "auth.api_key.name", a.Name)
			}
			if strings.ContainsAny(a.Prefix, "\r\n\x00") {
				p.Add("auth.api_key.prefix", "must not contain line breaks or NUL characters")
			}
		case APIKeyInQuery:
			if a.Name == "" {
				p.Add("auth.api_key.name", "is required: the query parameter to send the key in, such as api_key")
			} else if strings.ContainsAny(a.Name, "&=#?% \t\r\n") || strings.IndexFunc(a.Name, unicode.IsControl) >= 0 {
				p.Add("auth.api_key.name", "must not contain spaces, control characters or any of & = # ? %%")
			}
			if a.Prefix != "" {
				p.Add("auth.api_key.prefix", "applies only to keys sent in a header")
			}
		default:
			p.Add("auth.api_key.in", "must be header or query (got %q)", a.In)
		}
		a.Value.validate(p, "auth.api_key.value", true)
	case AuthOAuth:
		o := c.Auth.OAuth
		if o == nil {
			return // everything is discovered
		}
		if strings.IndexFunc(o.ClientID, unicode.IsControl) >= 0 {
			p.Add("auth.oauth.client_id", "must not contain control characters")
		}
		if o.ClientSecret.IsSet() {
			o.ClientSecret.validate(p, "auth.oauth.client_secret", false)
			if o.ClientID == "" {
				p.Add("auth.oauth.client_secret", "needs a client ID as well")
			}
		}
		for i, s := range o.Scopes {
			if strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == '"' || r == '\\' || r > '~' }) >= 0 {
				p.Add(fmt.Sprintf("auth.oauth.scopes[%d]", i), "must be printable ASCII without spaces, quotes or backslashes")
			}
		}
		validateServerURL(p, "auth.oauth.issuer", o.Issuer, false)
		validateServerURL(p, "auth.oauth.authorization_url", o.AuthorizationURL, false)
		validateServerURL(p, "auth.oauth.token_url", o.TokenURL, false)
		validateServerURL(p, "auth.oauth.revocation_url", o.RevocationURL, false)
		if (o.AuthorizationURL == "") != (o.TokenURL == "") {
			p.Add("auth.oauth", "authorization_url and token_url go together: set both, or neither to discover them")
		}
		if o.AuthorizationURL != "" && o.ClientID == "" {
			p.Add("auth.oauth.client_id", "is required when the endpoints are set by hand (there is no registration endpoint to get one from)")
		}
		switch o.TokenAuthMethod {
		case "", TokenAuthNone:
		case TokenAuthPost, TokenAuthBasic:
			if !o.ClientSecret.IsSet() {
				p.Add("auth.oauth.token_auth_method", "%s needs a client secret", o.TokenAuthMethod)
			}
		default:
			p.Add("auth.oauth.token_auth_method", "must be client_secret_post, client_secret_basic or none (got %q)", o.TokenAuthMethod)
		}
		seen := map[int]bool{}
		for i, port := range o.RedirectPorts {
			f := fmt.Sprintf("auth.oauth.redirect_ports[%d]", i)
			switch {
			case port < 1 || port > 65535:
				p.Add(f, "must be a port between 1 and 65535 (got %d)", port)
			case seen[port]:
				p.Add(f, "port %d is listed twice", port)
			}
			seen[port] = true
		}
	default:
		p.Add("auth.type", "must be one of none, api-key, oauth (got %q)", c.Auth.Type)
	}
	if c.Auth.Type != AuthAPIKey && c.Auth.APIKey != nil {
		p.Add("auth.api_key", "is set but auth type is %s; remove it or set the type to api-key", c.Auth.Type)
	}
	if c.Auth.Type != AuthOAuth && c.Auth.OAuth != nil {
		p.Add("auth.oauth", "is set but auth type is %s; remove it or set the type to oauth", c.Auth.Type)
	}
}

// reservedHeaders are set by Patchbay or the HTTP stack; letting a person set
// them would break the connection or the protocol.
var reservedHeaders = map[string]bool{
	"host": true, "content-length": true, "content-type": true, "transfer-encoding": true,
	"connection": true, "upgrade": true, "te": true, "trailer": true, "keep-alive": true,
	"accept": true, "mcp-session-id": true, "mcp-protocol-version": true, "last-event-id": true,
	"mcp-method": true, "mcp-name": true,
}

func validateHeaders(p *Problems, headers []Header) {
	if len(headers) > MaxHeaders {
		p.Add("headers", "has %d headers; the limit is %d", len(headers), MaxHeaders)
	}
	seen := map[string]int{}
	for i, h := range headers {
		f := fmt.Sprintf("headers[%d]", i)
		if h.Name == "" {
			p.Add(f+".name", "is required")
		} else {
			validateHeaderName(p, f+".name", h.Name)
			lower := strings.ToLower(h.Name)
			if reservedHeaders[lower] || strings.HasPrefix(lower, "mcp-param-") {
				p.Add(f+".name", "%s is set by Patchbay itself and cannot be customised", h.Name)
			}
			if j, ok := seen[lower]; ok {
				p.Add(f+".name", "%s is already set by headers[%d]", h.Name, j)
			}
			seen[lower] = i
		}
		switch {
		case h.Secret.IsSet() && h.Value != "":
			p.Add(f, "has both a plain value and a secret value; keep one")
		case h.Secret.IsSet():
			h.Secret.validate(p, f+".secret", true)
		default:
			if strings.ContainsAny(h.Value, "\r\n\x00") {
				p.Add(f+".value", "must not contain line breaks or NUL characters")
			}
			if len(h.Value) > MaxHeaderValueLen {
				p.Add(f+".value", "is %d bytes; the limit is %d", len(h.Value), MaxHeaderValueLen)
			}
		}
	}
}

// validateHeaderName checks that name is an RFC 9110 token.
func validateHeaderName(p *Problems, field, name string) {
	if !IsToken(name) {
		p.Add(field, "%q is not a valid header name (letters, digits and !#$%%&'*+-.^_`|~ only, no spaces or colons)", name)
	}
}

// IsToken reports whether s is an RFC 9110 token (tchar+).
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
