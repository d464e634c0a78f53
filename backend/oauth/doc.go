// Package oauth signs Patchbay in to OAuth-protected MCP servers and keeps
// the sign-in alive. It implements upstream.OAuth: every HTTP request a
// connector's session makes asks Token for an access token, and a 401/403
// reply is reported to Unauthorized, so both transports (Streamable HTTP and
// SSE, which has no OAuth hook in go-sdk) get OAuth from one RoundTripper.
//
// The failures people meet most with other MCP hosts shape this package:
//
//   - Sign-ins that break after an hour or a day. Refresh tokens are
//     requested (offline_access when the server offers it, and the
//     refresh_token grant in dynamic registration), access tokens are
//     refreshed shortly before they expire and again on a 401, the RFC 8707
//     resource goes with every authorization, token and refresh request, and
//     a rotated refresh token is written to the keychain before the new
//     access token is handed out. A refresh that the server refuses (revoked,
//     expired) deletes the dead tokens and turns into an EUNAUTHORIZED error
//     that tells the person how to sign in again; the upstream Manager shows
//     the connector as needs-sign-in and other connectors are untouched.
//   - Many concurrent calls racing one refresh, and several sign-ins racing
//     each other. Each connector has one lock around its tokens (one refresh
//     for any number of callers), and one sign-in flow at a time that every
//     Login call joins.
//   - Registration that is not persisted. A dynamically registered client
//     (RFC 7591) is saved to the keychain before it is used and reused while
//     its redirect URI still applies; the loopback port that worked is
//     remembered, so the redirect URI stays stable.
//   - Servers without dynamic registration. A pre-registered client ID (and
//     secret, sent in the POST body or with HTTP Basic) can be given, with
//     or without hand-set endpoints; Discover fills endpoints from an issuer.
//
// Discovery follows the MCP authorization spec with go-sdk's oauthex and
// auth packages: the WWW-Authenticate challenge of a 401 (or of a probe),
// RFC 9728 protected resource metadata, RFC 8414 / OpenID Connect
// authorization server metadata, then a pre-registered client or RFC 7591
// registration. The authorization request uses PKCE S256 (unless turned off
// for a provider that rejects it), a random state, and an exact loopback
// redirect URI http://127.0.0.1:PORT/callback served by a one-shot listener
// that checks the state, the RFC 9207 iss and the Host, and times out. The
// code is exchanged, and tokens are refreshed, with golang.org/x/oauth2.
//
// Secrets live only in the keychain: one JSON entry per connector for the
// tokens (backend.OAuthSecretKey(id, "token")) and one for a registered
// client (OAuthSecretKey(id, "client")). Non-secret discovered metadata goes
// to the store's "oauth" namespace under "<id>/metadata". No error message,
// log line or event carries a token, code, verifier or client secret.
package oauth
