package backend_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/backend"
)

// canary is a secret value that must never show up in any output.
const canary = "CANARY-s3cr3t-7f1d9a"

// baseConnector returns a connector that validates cleanly and has no auth;
// each test case breaks one thing about it.
func baseConnector() *backend.Connector {
	return &backend.Connector{
		Name: "Linear",
		Slug: "linear",
		URL:  "https://mcp.linear.app/mcp",
	}
}

func withAPIKey(c *backend.Connector, in, name string) *backend.Auth {
	c.Auth = backend.Auth{Type: backend.AuthAPIKey, APIKey: &backend.APIKeyAuth{
		In: in, Name: name, Value: &backend.Secret{Value: canary},
	}}
	return &c.Auth
}

func withOAuth(c *backend.Connector) *backend.OAuthAuth {
	c.Auth = backend.Auth{Type: backend.AuthOAuth, OAuth: &backend.OAuthAuth{}}
	return c.Auth.OAuth
}

// fieldErrors returns the field errors of a validation error, failing the
// test when err is not an EINVALID *backend.Error.
func fieldErrors(t *testing.T, err error) []backend.FieldError {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *backend.Error
	if !errors.As(err, &e) {
		t.Fatalf("error is %T (%v), want *backend.Error", err, err)
	}
	if e.Code != backend.EINVALID || e.Slug != "validation_failed" {
		t.Errorf("code/slug = %q/%q, want %q/validation_failed", e.Code, e.Slug, backend.EINVALID)
	}
	return e.Fields
}

func dump(fs []backend.FieldError) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	return b.String()
}

type want struct{ field, msg string }

// checkOnly asserts that fs holds exactly the wanted problems, in order, each
// message containing the wanted substring.
func checkOnly(t *testing.T, fs []backend.FieldError, ws ...want) {
	t.Helper()
	if len(fs) != len(ws) {
		t.Fatalf("got %d problem(s), want %d:%s", len(fs), len(ws), dump(fs))
	}
	for i, w := range ws {
		if fs[i].Field != w.field {
			t.Errorf("problem %d field = %q, want %q:%s", i, fs[i].Field, w.field, dump(fs))
		}
		if !strings.Contains(fs[i].Message, w.msg) {
			t.Errorf("problem %d (%s) message = %q, want it to contain %q", i, fs[i].Field, fs[i].Message, w.msg)
		}
	}
}

func TestConnectorValidateRules(t *testing.T) {
	long := func(s string, n int) string { return strings.Repeat(s, n) }
	tests := []struct {
		name string
		// raw skips Normalize, to reach rules that Normalize would hide.
		raw    bool
		mutate func(c *backend.Connector)
		want   []want
	}{
		// name
		{"name empty", false, func(c *backend.Connector) { c.Name = "" }, []want{{"name", "is required"}}},
		{"name only spaces", false, func(c *backend.Connector) { c.Name = " \t " }, []want{{"name", "is required"}}},
		{"name too long counts runes", false, func(c *backend.Connector) { c.Name = long("é", 65) },
			[]want{{"name", "is 65 characters; the limit is 64"}}},
		{"name control character", false, func(c *backend.Connector) { c.Name = "Lin\x07ear" },
			[]want{{"name", "must not contain control characters"}}},
		{"name inner newline", false, func(c *backend.Connector) { c.Name = "Lin\near" },
			[]want{{"name", "must not contain control characters"}}},

		// slug
		{"slug not derivable", false, func(c *backend.Connector) { c.Name, c.Slug = "!!!", "" },
			[]want{{"slug", "is required (it is derived from the name"}}},
		{"slug too long", false, func(c *backend.Connector) { c.Slug = long("a", 33) },
			[]want{{"slug", "is 33 characters; the limit is 32"}}},
		{"slug upper case", false, func(c *backend.Connector) { c.Slug = "Linear" },
			[]want{{"slug", `may contain only a-z, 0-9 and single hyphens between them (got "Linear")`}}},
		{"slug underscore", false, func(c *backend.Connector) { c.Slug = "lin_ear" }, []want{{"slug", "may contain only a-z, 0-9"}}},
		{"slug double hyphen", false, func(c *backend.Connector) { c.Slug = "lin--ear" }, []want{{"slug", "single hyphens"}}},
		{"slug leading hyphen", false, func(c *backend.Connector) { c.Slug = "-linear" }, []want{{"slug", "single hyphens"}}},
		{"slug trailing hyphen", false, func(c *backend.Connector) { c.Slug = "linear-" }, []want{{"slug", "single hyphens"}}},
		{"slug inner space", false, func(c *backend.Connector) { c.Slug = "lin ear" }, []want{{"slug", "may contain only"}}},
		{"slug non-ASCII", false, func(c *backend.Connector) { c.Slug = "café" }, []want{{"slug", "may contain only"}}},

		// description
		{"description too long", false, func(c *backend.Connector) { c.Description = long("ü", 2001) },
			[]want{{"description", "is 2001 characters; the limit is 2000"}}},

		// url
		{"url empty", false, func(c *backend.Connector) { c.URL = "  " }, []want{{"url", "is required"}}},
		{"url ftp", false, func(c *backend.Connector) { c.URL = "ftp://example.com/mcp" }, []want{{"url", "must start with https://"}}},
		{"url no scheme", false, func(c *backend.Connector) { c.URL = "example.com/mcp" }, []want{{"url", "must start with https://"}}},
		{"url websocket", false, func(c *backend.Connector) { c.URL = "wss://example.com/mcp" }, []want{{"url", "must start with https://"}}},
		{"url no host", false, func(c *backend.Connector) { c.URL = "https:///mcp" }, []want{{"url", "must include a host name"}}},
		{"url port only", false, func(c *backend.Connector) { c.URL = "https://:443/mcp" }, []want{{"url", "must include a host name"}}},
		{"url opaque", false, func(c *backend.Connector) { c.URL = "https:example.com" }, []want{{"url", "must include a host name"}}},
		{"url userinfo", false, func(c *backend.Connector) { c.URL = "https://me:pw@example.com/mcp" },
			[]want{{"url", "must not contain a user name or password"}}},
		{"url fragment", false, func(c *backend.Connector) { c.URL = "https://example.com/mcp#top" }, []want{{"url", "must not contain a #fragment"}}},
		{"url plain http remote", false, func(c *backend.Connector) { c.URL = "http://example.com/mcp" },
			[]want{{"url", "uses plain http:// for a host that is not this machine"}}},
		{"url plain http private address", false, func(c *backend.Connector) { c.URL = "http://10.0.0.1:8080/mcp" },
			[]want{{"url", "use https://"}}},
		{"url plain http localhost lookalike", false, func(c *backend.Connector) { c.URL = "http://localhost.example.com/mcp" },
			[]want{{"url", "plain http://"}}},
		{"url unparsable host", false, func(c *backend.Connector) { c.URL = "https://exa mple.com/mcp" },
			[]want{{"url", "is not a valid URL: invalid character"}}},
		{"url missing scheme", false, func(c *backend.Connector) { c.URL = "://example.com" },
			[]want{{"url", "is not a valid URL: missing protocol scheme"}}},

		// transport
		{"transport unknown", false, func(c *backend.Connector) { c.Transport = "websocket" },
			[]want{{"transport", `must be one of auto, streamable-http, sse (got "websocket")`}}},
		{"transport wrong case", false, func(c *backend.Connector) { c.Transport = "SSE" }, []want{{"transport", "must be one of"}}},

		// auth type
		{"auth type unknown", false, func(c *backend.Connector) { c.Auth.Type = "basic" },
			[]want{{"auth.type", `must be one of none, api-key, oauth (got "basic")`}}},
		{"api key without block", false, func(c *backend.Connector) { c.Auth.Type = backend.AuthAPIKey },
			[]want{{"auth.api_key", "is required when auth type is api-key"}}},
		{"api key block with auth none", false, func(c *backend.Connector) {
			withAPIKey(c, "header", "X-API-Key").Type = backend.AuthNone
		}, []want{{"auth.api_key", "is set but auth type is none"}}},
		{"oauth block with api key auth", false, func(c *backend.Connector) {
			withAPIKey(c, "header", "X-API-Key").OAuth = &backend.OAuthAuth{}
		}, []want{{"auth.oauth", "is set but auth type is api-key"}}},

		// api key
		{"api key in unknown", false, func(c *backend.Connector) { withAPIKey(c, "cookie", "k") },
			[]want{{"auth.api_key.in", `must be header or query (got "cookie")`}}},
		{"api key in empty without normalize", true, func(c *backend.Connector) {
			c.Transport = backend.TransportAuto
			withAPIKey(c, "", "k")
		},
			[]want{{"auth.api_key.in", `must be header or query (got "")`}}},
		{"api key header name empty", false, func(c *backend.Connector) { withAPIKey(c, "header", "  ") },
			[]want{{"auth.api_key.name", "is required: the header to send the key in"}}},
		{"api key header name with space", false, func(c *backend.Connector) { withAPIKey(c, "header", "X API Key") },
			[]want{{"auth.api_key.name", `"X API Key" is not a valid header name`}}},
		{"api key header name with colon", false, func(c *backend.Connector) { withAPIKey(c, "header", "X-Key:") },
			[]want{{"auth.api_key.name", "is not a valid header name"}}},
		{"api key prefix with line break", false, func(c *backend.Connector) {
			withAPIKey(c, "header", "Authorization").APIKey.Prefix = "Bearer\r\nX-Evil: 1"
		}, []want{{"auth.api_key.prefix", "must not contain line breaks or NUL characters"}}},
		{"api key query name empty", false, func(c *backend.Connector) { withAPIKey(c, "query", "") },
			[]want{{"auth.api_key.name", "is required: the query parameter to send the key in"}}},
		{"api key query name with space", false, func(c *backend.Connector) { withAPIKey(c, "query", "api key") },
			[]want{{"auth.api_key.name", "must not contain spaces, control characters or any of & = # ? %"}}},
		{"api key query name with ampersand", false, func(c *backend.Connector) { withAPIKey(c, "query", "a&b") },
			[]want{{"auth.api_key.name", "must not contain spaces"}}},
		{"api key query name with equals", false, func(c *backend.Connector) { withAPIKey(c, "query", "a=b") },
			[]want{{"auth.api_key.name", "must not contain spaces"}}},
		{"api key query name with hash", false, func(c *backend.Connector) { withAPIKey(c, "query", "a#b") },
			[]want{{"auth.api_key.name", "must not contain spaces"}}},
		{"api key query name with question mark", false, func(c *backend.Connector) { withAPIKey(c, "query", "a?b") },
			[]want{{"auth.api_key.name", "must not contain spaces"}}},
		{"api key query name with percent", false, func(c *backend.Connector) { withAPIKey(c, "query", "a%b") },
			[]want{{"auth.api_key.name", "must not contain spaces"}}},
		{"api key query name with DEL", false, func(c *backend.Connector) { withAPIKey(c, "query", "a\x7fb") },
			[]want{{"auth.api_key.name", "control characters"}}},
		{"api key query with prefix", false, func(c *backend.Connector) {
			withAPIKey(c, "query", "api_key").APIKey.Prefix = "Bearer "
		}, []want{{"auth.api_key.prefix", "applies only to keys sent in a header"}}},
		{"api key value missing", false, func(c *backend.Connector) { withAPIKey(c, "header", "X-API-Key").APIKey.Value = nil },
			[]want{{"auth.api_key.value", "is required"}}},
		{"api key value empty", false, func(c *backend.Connector) { withAPIKey(c, "header", "X-API-Key").APIKey.Value = &backend.Secret{} },
			[]want{{"auth.api_key.value", "is required"}}},
		{"api key value key without source", false, func(c *backend.Connector) {
			withAPIKey(c, "header", "X-API-Key").APIKey.Value = &backend.Secret{Key: "acct"}
		}, []want{{"auth.api_key.value", "is required"}}},
		{"api key value with newline", false, func(c *backend.Connector) {
			withAPIKey(c, "header", "X-API-Key").APIKey.Value.Value = canary + "\n"
		}, []want{{"auth.api_key.value", "must not contain line breaks or NUL characters"}}},
		{"api key value with NUL", false, func(c *backend.Connector) {
			withAPIKey(c, "header", "X-API-Key").APIKey.Value.Value = canary + "\x00"
		}, []want{{"auth.api_key.value", "must not contain line breaks or NUL characters"}}},
		{"api key value too large", false, func(c *backend.Connector) {
			withAPIKey(c, "header", "X-API-Key").APIKey.Value.Value = canary + long("x", backend.MaxSecretBytes+1-len(canary))
		}, []want{{"auth.api_key.value", "is 65537 bytes; the limit is 65536"}}},
		{"api key env name invalid", false, func(c *backend.Connector) {
			withAPIKey(c, "header", "X-API-Key").APIKey.Value = &backend.Secret{Source: backend.SecretEnv, Env: "1BAD"}
		}, []want{{"auth.api_key.value", `environment variable name "1BAD" is not valid`}}},
		{"api key env name empty", false, func(c *backend.Connector) {
			withAPIKey(c, "header", "X-API-Key").APIKey.Value = &backend.Secret{Source: backend.SecretEnv}
		}, []want{{"auth.api_key.value", `environment variable name "" is not valid`}}},
		{"api key unknown source", false, func(c *backend.Connector) {
			withAPIKey(c, "header", "X-API-Key").APIKey.Value = &backend.Secret{Source: "vault", Key: "k"}
		}, []want{{"auth.api_key.value", `source "vault" is not one of keychain, env`}}},

		// oauth
		{"oauth client id control character", false, func(c *backend.Connector) { withOAuth(c).ClientID = "abc\x00def" },
			[]want{{"auth.oauth.client_id", "must not contain control characters"}}},
		{"oauth client secret without client id", false, func(c *backend.Connector) {
			withOAuth(c).ClientSecret = &backend.Secret{Value: canary}
		}, []want{{"auth.oauth.client_secret", "needs a client ID as well"}}},
		{"oauth client secret with newline", false, func(c *backend.Connector) {
			o := withOAuth(c)
			o.ClientID, o.ClientSecret = "cid", &backend.Secret{Value: canary + "\r"}
		}, []want{{"auth.oauth.client_secret", "must not contain line breaks"}}},
		{"oauth client secret unknown source", false, func(c *backend.Connector) {
			o := withOAuth(c)
			o.ClientID, o.ClientSecret = "cid", &backend.Secret{Source: "file", Key: "x"}
		}, []want{{"auth.oauth.client_secret", `source "file" is not one of keychain, env`}}},
		{"oauth scope with quote", false, func(c *backend.Connector) { withOAuth(c).Scopes = []string{"read", `wr"ite`} },
			[]want{{"auth.oauth.scopes[1]", "must be printable ASCII without spaces, quotes or backslashes"}}},
		{"oauth scope with backslash", false, func(c *backend.Connector) { withOAuth(c).Scopes = []string{`a\b`} },
			[]want{{"auth.oauth.scopes[0]", "must be printable ASCII"}}},
		{"oauth scope non-ASCII", false, func(c *backend.Connector) { withOAuth(c).Scopes = []string{"lesen", "schreiben", "löschen"} },
			[]want{{"auth.oauth.scopes[2]", "must be printable ASCII"}}},
		{"oauth scope with space without normalize", true, func(c *backend.Connector) {
			c.Transport = backend.TransportAuto
			withOAuth(c).Scopes = []string{"read write"}
		}, []want{{"auth.oauth.scopes[0]", "without spaces"}}},
		{"oauth issuer plain http", false, func(c *backend.Connector) { withOAuth(c).Issuer = "http://auth.example.com" },
			[]want{{"auth.oauth.issuer", "uses plain http://"}}},
		{"oauth authorization url bad scheme", false, func(c *backend.Connector) {
			o := withOAuth(c)
			o.ClientID, o.AuthorizationURL, o.TokenURL = "cid", "ftp://auth.example.com/authorize", "https://auth.example.com/token"
		}, []want{{"auth.oauth.authorization_url", "must start with https://"}}},
		{"oauth token url no host", false, func(c *backend.Connector) {
			o := withOAuth(c)
			o.ClientID, o.AuthorizationURL, o.TokenURL = "cid", "https://auth.example.com/authorize", "https:///token"
		}, []want{{"auth.oauth.token_url", "must include a host name"}}},
		{"oauth revocation url fragment", false, func(c *backend.Connector) {
			withOAuth(c).RevocationURL = "https://auth.example.com/revoke#x"
		}, []want{{"auth.oauth.revocation_url", "must not contain a #fragment"}}},
		{"oauth authorization url alone", false, func(c *backend.Connector) {
			o := withOAuth(c)
			o.ClientID, o.AuthorizationURL = "cid", "https://auth.example.com/authorize"
		}, []want{{"auth.oauth", "authorization_url and token_url go together"}}},
		{"oauth token url alone", false, func(c *backend.Connector) {
			o := withOAuth(c)
			o.ClientID, o.TokenURL = "cid", "https://auth.example.com/token"
		}, []want{{"auth.oauth", "set both, or neither to discover them"}}},
		{"oauth manual endpoints without client id", false, func(c *backend.Connector) {
			o := withOAuth(c)
			o.AuthorizationURL, o.TokenURL = "https://auth.example.com/authorize", "https://auth.example.com/token"
		}, []want{{"auth.oauth.client_id", "is required when the endpoints are set by hand"}}},
		{"oauth token auth method unknown", false, func(c *backend.Connector) { withOAuth(c).TokenAuthMethod = "private_key_jwt" },
			[]want{{"auth.oauth.token_auth_method", `must be client_secret_post, client_secret_basic or none (got "private_key_jwt")`}}},
		{"oauth basic without secret", false, func(c *backend.Connector) {
			o := withOAuth(c)
			o.ClientID, o.TokenAuthMethod = "cid", backend.TokenAuthBasic
		}, []want{{"auth.oauth.token_auth_method", "client_secret_basic needs a client secret"}}},
		{"oauth post without secret", false, func(c *backend.Connector) {
			o := withOAuth(c)
			o.ClientID, o.TokenAuthMethod = "cid", backend.TokenAuthPost
		}, []want{{"auth.oauth.token_auth_method", "client_secret_post needs a client secret"}}},
		{"oauth redirect port zero", false, func(c *backend.Connector) { withOAuth(c).RedirectPorts = []int{0} },
			[]want{{"auth.oauth.redirect_ports[0]", "must be a port between 1 and 65535 (got 0)"}}},
		{"oauth redirect port negative", false, func(c *backend.Connector) { withOAuth(c).RedirectPorts = []int{8080, -1} },
			[]want{{"auth.oauth.redirect_ports[1]", "(got -1)"}}},
		{"oauth redirect port too high", false, func(c *backend.Connector) { withOAuth(c).RedirectPorts = []int{65536} },
			[]want{{"auth.oauth.redirect_ports[0]", "(got 65536)"}}},
		{"oauth redirect port twice", false, func(c *backend.Connector) { withOAuth(c).RedirectPorts = []int{8080, 8081, 8080} },
			[]want{{"auth.oauth.redirect_ports[2]", "port 8080 is listed twice"}}},

		// headers
		{"too many headers", false, func(c *backend.Connector) {
			for i := range backend.MaxHeaders + 1 {
				c.Headers = append(c.Headers, backend.Header{Name: fmt.Sprintf("X-H%d", i), Value: "v"})
			}
		}, []want{{"headers", "has 51 headers; the limit is 50"}}},
		{"header name empty", false, func(c *backend.Connector) { c.Headers = []backend.Header{{Name: " ", Value: "v"}} },
			[]want{{"headers[0].name", "is required"}}},
		{"header name with space", false, func(c *backend.Connector) {
			c.Headers = []backend.Header{{Name: "X-Ok", Value: "v"}, {Name: "X Bad", Value: "v"}}
		}, []want{{"headers[1].name", `"X Bad" is not a valid header name`}}},
		{"header name with colon", false, func(c *backend.Connector) { c.Headers = []backend.Header{{Name: "X-Bad:", Value: "v"}} },
			[]want{{"headers[0].name", "is not a valid header name"}}},
		{"header name non-ASCII", false, func(c *backend.Connector) { c.Headers = []backend.Header{{Name: "X-Grüße", Value: "v"}} },
			[]want{{"headers[0].name", "is not a valid header name"}}},
		{"header name with parenthesis", false, func(c *backend.Connector) { c.Headers = []backend.Header{{Name: "X(1)", Value: "v"}} },
			[]want{{"headers[0].name", "is not a valid header name"}}},
		{"header reserved host", false, func(c *backend.Connector) { c.Headers = []backend.Header{{Name: "Host", Value: "evil"}} },
			[]want{{"headers[0].name", "Host is set by Patchbay itself and cannot be customised"}}},
		{"header reserved any case", false, func(c *backend.Connector) { c.Headers = []backend.Header{{Name: "CONTENT-TYPE", Value: "x"}} },
			[]want{{"headers[0].name", "is set by Patchbay itself"}}},
		{"header reserved session id", false, func(c *backend.Connector) { c.Headers = []backend.Header{{Name: "Mcp-Session-Id", Value: "x"}} },
			[]want{{"headers[0].name", "is set by Patchbay itself"}}},
		{"header reserved protocol version", false, func(c *backend.Connector) {
			c.Headers = []backend.Header{{Name: "MCP-Protocol-Version", Value: "x"}}
		}, []want{{"headers[0].name", "is set by Patchbay itself"}}},
		{"header reserved mcp-param prefix", false, func(c *backend.Connector) { c.Headers = []backend.Header{{Name: "Mcp-Param-Foo", Value: "x"}} },
			[]want{{"headers[0].name", "is set by Patchbay itself"}}},
		{"header duplicate ignoring case", false, func(c *backend.Connector) {
			c.Headers = []backend.Header{{Name: "X-Team", Value: "a"}, {Name: "x-team", Value: "b"}}
		}, []want{{"headers[1].name", "x-team is already set by headers[0]"}}},
		{"header plain and secret", false, func(c *backend.Connector) {
			c.Headers = []backend.Header{{Name: "X-Token", Value: "plain", Secret: &backend.Secret{Value: canary}}}
		}, []want{{"headers[0]", "has both a plain value and a secret value; keep one"}}},
		{"header value CRLF", false, func(c *backend.Connector) {
			c.Headers = []backend.Header{{Name: "X-Team", Value: "a\r\nX-Evil: 1"}}
		}, []want{{"headers[0].value", "must not contain line breaks or NUL characters"}}},
		{"header value LF", false, func(c *backend.Connector) { c.Headers = []backend.Header{{Name: "X-Team", Value: "a\nb"}} },
			[]want{{"headers[0].value", "must not contain line breaks"}}},
		{"header value CR", false, func(c *backend.Connector) { c.Headers = []backend.Header{{Name: "X-Team", Value: "a\rb"}} },
			[]want{{"headers[0].value", "must not contain line breaks"}}},
		{"header value NUL", false, func(c *backend.Connector) { c.Headers = []backend.Header{{Name: "X-Team", Value: "a\x00b"}} },
			[]want{{"headers[0].value", "NUL characters"}}},
		{"header value too long", false, func(c *backend.Connector) {
			c.Headers = []backend.Header{{Name: "X-Team", Value: long("v", backend.MaxHeaderValueLen+1)}}
		}, []want{{"headers[0].value", "is 8193 bytes; the limit is 8192"}}},
		{"header secret with newline", false, func(c *backend.Connector) {
			c.Headers = []backend.Header{{Name: "X-Token", Secret: &backend.Secret{Value: canary + "\n"}}}
		}, []want{{"headers[0].secret", "must not contain line breaks"}}},
		{"header secret bad env name", false, func(c *backend.Connector) {
			c.Headers = []backend.Header{{Name: "X-Token", Secret: &backend.Secret{Source: backend.SecretEnv, Env: "MY-TOKEN"}}}
		}, []want{{"headers[0].secret", `environment variable name "MY-TOKEN" is not valid`}}},
		{"header secret unknown source", false, func(c *backend.Connector) {
			c.Headers = []backend.Header{{Name: "X-Token", Secret: &backend.Secret{Source: "disk", Key: "k"}}}
		}, []want{{"headers[0].secret", `source "disk" is not one of keychain, env`}}},

		// policy and timeout
		{"default policy unknown", false, func(c *backend.Connector) { c.DefaultPolicy = "sometimes" },
			[]want{{"default_policy", `must be one of always_allow, needs_approval, disabled (got "sometimes")`}}},
		{"call timeout negative", false, func(c *backend.Connector) { c.CallTimeoutSeconds = -1 },
			[]want{{"call_timeout_seconds", "must be between 1 and 3600 seconds, or 0 for the default (1m0s)"}}},
		{"call timeout too long", false, func(c *backend.Connector) { c.CallTimeoutSeconds = backend.MaxCallTimeout + 1 },
			[]want{{"call_timeout_seconds", "must be between 1 and 3600"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := baseConnector()
			tt.mutate(c)
			if !tt.raw {
				c.Normalize()
			}
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want %v", tt.want)
			}
			checkOnly(t, fieldErrors(t, err), tt.want...)
			if strings.Contains(err.Error(), canary) {
				t.Errorf("validation error reveals the secret value: %v", err)
			}
		})
	}
}

// TestConnectorValidateIcon feeds real tiny images and broken ones.
func TestConnectorValidateIcon(t *testing.T) {
	png, gif, jpeg := tinyPNG(t), tinyGIF(t), tinyJPEG(t)
	oversize := append(append([]byte(nil), png...), make([]byte, backend.MaxIconBytes+1-len(png))...)
	atLimit := append(append([]byte(nil), png...), make([]byte, backend.MaxIconBytes-len(png))...)
	good := []struct{ name, icon string }{
		{"png", dataURL("png", png)},
		{"gif", dataURL("gif", gif)},
		{"jpeg", dataURL("jpeg", jpeg)},
		{"webp", dataURL("webp", tinyWebP)},
		{"svg", dataURL("svg+xml", []byte(tinySVG))},
		{"svg with xml prolog", dataURL("svg+xml", []byte(`<?xml version="1.0"?>`+"\n"+tinySVG))},
		{"base64 wrapped over lines", wrap(dataURL("png", png), 20)},
		{"exactly at the size limit", dataURL("png", atLimit)},
		{"empty means no icon", ""},
		{"surrounding space is trimmed", "  " + dataURL("png", png) + "\n"},
	}
	for _, tt := range good {
		t.Run("good/"+tt.name, func(t *testing.T) {
			c := baseConnector()
			c.Icon = tt.icon
			c.Normalize()
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate() = %v", err)
			}
		})
	}
	bad := []struct{ name, icon, msg string }{
		{"https URL", "https://example.com/icon.png", "must be a data: URL of a PNG, JPEG, GIF, WebP or SVG image"},
		{"bitmap", dataURL("bmp", []byte("BM\x00\x00")), "must be a data: URL"},
		{"not base64 encoded", "data:image/png," + string(png), "must be a data: URL"},
		{"base64 alphabet broken", "data:image/png;base64,iVBO*w0K", "must be a data: URL"},
		{"truncated base64", "data:image/png;base64,iVBORw0", "is not valid base64"},
		{"oversize", dataURL("png", oversize), "is 65 KiB; the limit is 64 KiB (use a smaller image)"},
		{"png label gif data", dataURL("png", gif), "says PNG but the data is not a PNG image"},
		{"jpeg label png data", dataURL("jpeg", png), "says JPEG but the data is not a JPEG image"},
		{"gif label png data", dataURL("gif", png), "says GIF but the data is not a GIF image"},
		{"webp label png data", dataURL("webp", png), "says WebP but the data is not a WebP image"},
		{"webp truncated", dataURL("webp", tinyWebP[:10]), "says WebP but the data is not a WebP image"},
		{"riff but not webp", dataURL("webp", append([]byte("RIFF\x10\x00\x00\x00WAVE"), tinyWebP[12:]...)), "says WebP"},
		{"svg label png data", dataURL("svg+xml", png), "says SVG but the data is not an SVG image"},
		{"png label empty data", "data:image/png;base64,====", "is not valid base64"},
	}
	for _, tt := range bad {
		t.Run("bad/"+tt.name, func(t *testing.T) {
			c := baseConnector()
			c.Icon = tt.icon
			c.Normalize()
			checkOnly(t, fieldErrors(t, c.Validate()), want{"icon", tt.msg})
		})
	}
}

// TestConnectorValidateGood shows connectors of every auth kind that
// validate cleanly, including values right at each limit.
func TestConnectorValidateGood(t *testing.T) {
	tests := []struct {
		name string
		c    backend.Connector
	}{
		{"no auth, minimal", backend.Connector{Name: "Docs", URL: "https://docs.example.com/mcp"}},
		{"no auth, everything set", backend.Connector{
			Name: strings.Repeat("é", backend.MaxNameLen), Slug: strings.Repeat("a", backend.MaxSlugLen),
			Description: strings.Repeat("d", backend.MaxDescriptionLen), URL: "https://docs.example.com:8443/mcp?team=1",
			Transport: backend.TransportSSE, Auth: backend.Auth{Type: backend.AuthNone},
			Headers: []backend.Header{
				{Name: "X-Team", Value: "core"},
				{Name: "X-Empty"},
				{Name: "X-Token", Secret: &backend.Secret{Value: canary}},
				{Name: "X-Kept", Secret: &backend.Secret{Source: backend.SecretKeychain, Key: "patchbay/c_1/header/X-Kept"}},
				{Name: "X-Env", Secret: &backend.Secret{Value: "${TEAM_TOKEN}"}},
				{Name: "!#$%&'*+-.^_`|~09azAZ", Value: "tchar soup"},
			},
			DefaultPolicy: backend.PolicyNeedsApproval, CallTimeoutSeconds: backend.MaxCallTimeout,
		}},
		{"plain http on localhost", backend.Connector{Name: "Local", URL: "http://localhost:3000/mcp", Transport: backend.TransportStreamableHTTP}},
		{"plain http on 127.0.0.1", backend.Connector{Name: "Local", URL: "http://127.0.0.1/mcp"}},
		{"plain http on [::1]", backend.Connector{Name: "Local", URL: "http://[::1]:8080/sse", Transport: backend.TransportSSE}},
		{"api key header", backend.Connector{Name: "Keyed", URL: "https://api.example.com/mcp", Auth: backend.Auth{
			Type: backend.AuthAPIKey, APIKey: &backend.APIKeyAuth{In: backend.APIKeyInHeader, Name: "Authorization", Prefix: "Bearer ", Value: &backend.Secret{Value: canary}},
		}}},
		{"api key header, in defaults to header", backend.Connector{Name: "Keyed", URL: "https://api.example.com/mcp", Auth: backend.Auth{
			Type: backend.AuthAPIKey, APIKey: &backend.APIKeyAuth{Name: "X-API-Key", Value: &backend.Secret{Value: canary}},
		}}},
		{"api key query", backend.Connector{Name: "Keyed", URL: "https://api.example.com/sse", Auth: backend.Auth{
			Type: backend.AuthAPIKey, APIKey: &backend.APIKeyAuth{In: backend.APIKeyInQuery, Name: "api_key", Value: &backend.Secret{Value: canary}},
		}}},
		{"api key kept in keychain", backend.Connector{Name: "Keyed", URL: "https://api.example.com/mcp", Auth: backend.Auth{
			Type: backend.AuthAPIKey, APIKey: &backend.APIKeyAuth{Name: "X-API-Key", Value: &backend.Secret{Source: backend.SecretKeychain, Key: "patchbay/c_1/api-key"}},
		}}},
		{"api key from environment", backend.Connector{Name: "Keyed", URL: "https://api.example.com/mcp", Auth: backend.Auth{
			Type: backend.AuthAPIKey, APIKey: &backend.APIKeyAuth{Name: "X-API-Key", Value: &backend.Secret{Source: backend.SecretEnv, Env: "API_KEY"}},
		}}},
		{"oauth, all discovered", backend.Connector{Name: "Notion", URL: "https://mcp.notion.com/mcp", Auth: backend.Auth{Type: backend.AuthOAuth}}},
		{"oauth, empty block", backend.Connector{Name: "Notion", URL: "https://mcp.notion.com/mcp", Auth: backend.Auth{Type: backend.AuthOAuth, OAuth: &backend.OAuthAuth{}}}},
		{"oauth, public client with PKCE off", backend.Connector{Name: "Notion", URL: "https://mcp.notion.com/mcp", Auth: backend.Auth{Type: backend.AuthOAuth, OAuth: &backend.OAuthAuth{
			ClientID: "public-client", TokenAuthMethod: backend.TokenAuthNone, DisablePKCE: true, Scopes: []string{"read write", "offline_access"},
		}}}},
		{"oauth, confidential client, basic, manual endpoints", backend.Connector{Name: "GitHub", URL: "https://api.githubcopilot.com/mcp/", Auth: backend.Auth{Type: backend.AuthOAuth, OAuth: &backend.OAuthAuth{
			ClientID: "Iv1.abc", ClientSecret: &backend.Secret{Value: canary}, Scopes: []string{"repo", "read:org"},
			Issuer: "https://github.com", AuthorizationURL: "https://github.com/login/oauth/authorize",
			TokenURL: "https://github.com/login/oauth/access_token", RevocationURL: "https://api.github.com/applications/x/token",
			TokenAuthMethod: backend.TokenAuthBasic, RedirectPorts: []int{1, 33418, 65535},
		}}}},
		{"oauth, client secret post from env", backend.Connector{Name: "Local IdP", URL: "http://localhost:9000/mcp", Auth: backend.Auth{Type: backend.AuthOAuth, OAuth: &backend.OAuthAuth{
			ClientID: "cid", ClientSecret: &backend.Secret{Value: "${CLIENT_SECRET}"}, TokenAuthMethod: backend.TokenAuthPost,
			AuthorizationURL: "http://127.0.0.1:9001/authorize", TokenURL: "http://127.0.0.1:9001/token",
		}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			c.Normalize()
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate() = %v", err)
			}
		})
	}
}

// TestConnectorValidateReportsEverything: one call reports every problem,
// each with its field, so a form can mark all of them at once.
func TestConnectorValidateReportsEverything(t *testing.T) {
	c := &backend.Connector{
		Name:        "",
		Slug:        "Bad Slug",
		Description: strings.Repeat("x", backend.MaxDescriptionLen+1),
		Icon:        "https://example.com/icon.png",
		URL:         "http://example.com/mcp",
		Transport:   "websocket",
		Auth: backend.Auth{Type: backend.AuthAPIKey, APIKey: &backend.APIKeyAuth{
			In: backend.APIKeyInQuery, Name: "api key", Prefix: "Bearer ", Value: &backend.Secret{Value: canary + "\n"},
		}},
		Headers: []backend.Header{
			{Name: "Bad Header", Value: "a\r\nb"},
			{Name: "Host", Value: "x"},
		},
		DefaultPolicy:      "maybe",
		CallTimeoutSeconds: -5,
	}
	c.Normalize()
	err := c.Validate()
	fs := fieldErrors(t, err)
	wantFields := []string{
		"name", "slug", "description", "icon", "url", "transport",
		"auth.api_key.name", "auth.api_key.prefix", "auth.api_key.value",
		"headers[0].name", "headers[0].value", "headers[1].name",
		"default_policy", "call_timeout_seconds",
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.Field)
	}
	if strings.Join(got, ",") != strings.Join(wantFields, ",") {
		t.Fatalf("fields = %v\nwant     %v%s", got, wantFields, dump(fs))
	}
	if want := "The connector has 14 problem(s)."; backend.ErrorMessage(err) != want {
		t.Errorf("message = %q, want %q", backend.ErrorMessage(err), want)
	}
	if strings.Contains(err.Error(), canary) {
		t.Errorf("error reveals the secret: %v", err)
	}
}

func TestConnectorNormalize(t *testing.T) {
	c := &backend.Connector{
		Name:        "  Café Déjà Vu  ",
		Description: "  about  ",
		URL:         "\thttps://example.com/mcp \n",
		Icon:        " data:image/png;base64,AAAA ",
		Auth: backend.Auth{
			APIKey: &backend.APIKeyAuth{Name: "  X-API-Key ", Value: &backend.Secret{Value: " ${API_KEY} "}},
			OAuth: &backend.OAuthAuth{
				ClientID: " cid ", Issuer: " https://i ", AuthorizationURL: " https://a ", TokenURL: " https://t ", RevocationURL: " https://r ",
				Scopes:       []string{" read  write ", "", "admin\tdelete"},
				ClientSecret: &backend.Secret{Value: "${CLIENT_SECRET}"},
			},
		},
		Headers: []backend.Header{
			{Name: " X-Team ", Value: "  kept as is  "},
			{Name: "X-Token", Secret: &backend.Secret{Value: "${TOKEN}"}},
			{Name: "X-Literal", Secret: &backend.Secret{Value: "not ${AN_ENV} reference"}},
		},
	}
	c.Normalize()
	checks := []struct{ what, got, want string }{
		{"name", c.Name, "Café Déjà Vu"},
		{"slug", c.Slug, "cafe-deja-vu"},
		{"description", c.Description, "about"},
		{"url", c.URL, "https://example.com/mcp"},
		{"icon", c.Icon, "data:image/png;base64,AAAA"},
		{"transport", c.Transport, backend.TransportAuto},
		{"auth type", c.Auth.Type, backend.AuthNone},
		{"api key in", c.Auth.APIKey.In, backend.APIKeyInHeader},
		{"api key name", c.Auth.APIKey.Name, "X-API-Key"},
		{"client id", c.Auth.OAuth.ClientID, "cid"},
		{"issuer", c.Auth.OAuth.Issuer, "https://i"},
		{"authorization url", c.Auth.OAuth.AuthorizationURL, "https://a"},
		{"token url", c.Auth.OAuth.TokenURL, "https://t"},
		{"revocation url", c.Auth.OAuth.RevocationURL, "https://r"},
		{"scopes", strings.Join(c.Auth.OAuth.Scopes, "|"), "read|write|admin|delete"},
		{"header name", c.Headers[0].Name, "X-Team"},
		{"plain header value", c.Headers[0].Value, "  kept as is  "},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %q, want %q", ck.what, ck.got, ck.want)
		}
	}
	// ${NAME} values become env references, so they never reach the keychain.
	envs := []struct {
		what string
		s    *backend.Secret
		env  string
	}{
		{"api key", c.Auth.APIKey.Value, "API_KEY"},
		{"client secret", c.Auth.OAuth.ClientSecret, "CLIENT_SECRET"},
		{"header secret", c.Headers[1].Secret, "TOKEN"},
	}
	for _, e := range envs {
		if *e.s != (backend.Secret{Source: backend.SecretEnv, Env: e.env}) {
			t.Errorf("%s secret = %+v, want env reference to %s", e.what, *e.s, e.env)
		}
	}
	if got := c.Headers[2].Secret; got.Source != "" || got.Value != "not ${AN_ENV} reference" {
		t.Errorf("a value merely containing ${…} must stay a value, got %+v", *got)
	}

	// An explicit slug is kept (trimmed), not re-derived.
	c2 := &backend.Connector{Name: "Linear", Slug: " lin "}
	c2.Normalize()
	if c2.Slug != "lin" {
		t.Errorf("slug = %q, want the given slug trimmed", c2.Slug)
	}
	// Normalize leaves explicit values alone.
	c3 := &backend.Connector{Transport: backend.TransportSSE, Auth: backend.Auth{Type: backend.AuthOAuth}}
	c3.Normalize()
	if c3.Transport != backend.TransportSSE || c3.Auth.Type != backend.AuthOAuth {
		t.Errorf("Normalize changed explicit transport/auth: %q %q", c3.Transport, c3.Auth.Type)
	}
}

func TestSlugify(t *testing.T) {
	tests := []struct {
		name string
		max  int
		want string
	}{
		{"Linear", 32, "linear"},
		{"GitHub Copilot", 32, "github-copilot"},
		{"  My -- Server!! (prod) ", 32, "my-server-prod"},
		{"Café Déjà Vu", 32, "cafe-deja-vu"},
		{"ÀÉÎÕÜ Ñandú Ÿ", 32, "aeiou-nandu-y"},
		{"naïve façade", 32, "naive-facade"},
		{"Straße", 32, "stra-e"}, // letters it cannot fold split the word
		{"日本語 server", 32, "server"},
		{"日本語", 32, ""},
		{"!!!", 32, ""},
		{"", 32, ""},
		{"v2.0_beta", 32, "v2-0-beta"},
		{"abc def ghi", 7, "abc-def"},
		{"abc def ghi", 4, "abc"}, // cut at "abc-": no trailing hyphen
		{"abc def ghi", 3, "abc"},
		{strings.Repeat("a", 40), 32, strings.Repeat("a", 32)},
	}
	for _, tt := range tests {
		got := backend.Slugify(tt.name, tt.max)
		if got != tt.want {
			t.Errorf("Slugify(%q, %d) = %q, want %q", tt.name, tt.max, got, tt.want)
		}
		if len(got) > tt.max {
			t.Errorf("Slugify(%q, %d) = %q is longer than %d", tt.name, tt.max, got, tt.max)
		}
	}
}

func TestIsLoopbackHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LocalHost", true},
		{"localhost.", true},
		{"app.localhost", true},
		{"127.0.0.1", true},
		{"127.0.0.2", true},
		{"127.255.255.254", true},
		{"::1", true},
		{"[::1]", true},
		{"::ffff:127.0.0.1", true},
		{"example.com", false},
		{"localhost.example.com", false},
		{"mylocalhost", false},
		{"10.0.0.1", false},
		{"192.168.1.1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"128.0.0.1", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := backend.IsLoopbackHost(tt.host); got != tt.want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestIsToken(t *testing.T) {
	good := []string{"X-API-Key", "Authorization", "a", "0", "!#$%&'*+-.^_`|~", "x_y.z"}
	bad := []string{"", "X API", "X:Key", "X-Kéy", "X\tKey", "X\r\nKey", "(x)", "a,b", "a;b", `"a"`, "a/b", "a@b", "[a]", "{a}", "a=b", "a?b", "a\\b", "\x7f"}
	for _, s := range good {
		if !backend.IsToken(s) {
			t.Errorf("IsToken(%q) = false, want true", s)
		}
	}
	for _, s := range bad {
		if backend.IsToken(s) {
			t.Errorf("IsToken(%q) = true, want false", s)
		}
	}
}
