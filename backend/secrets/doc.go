// Package secrets keeps Patchbay's secret values (API keys, secret header
// values, OAuth client secrets and tokens) in the OS keychain, so that the
// bbolt store holds only references to them.
//
// Keychain implements backend.SecretStore with go-keyring under the service
// name "patchbay". It adds what the bare library lacks for an app that must
// never hang or lose a secret:
//
//   - a deadline on every operation, because a locked keychain can block a
//     call indefinitely on a password prompt (see gate);
//   - splitting of values larger than the platform allows in one entry
//     (Windows 2,560 bytes, macOS about 3,000), joined back and checked
//     against a hash (see chunks.go);
//   - errors that name the cause and the fix, such as "No Secret Service on
//     the session bus", and never contain the value. There is deliberately no
//     plain-text fallback: when no keychain is available, secrets can be
//     given as ${ENV_VAR} references instead, which Resolver reads from the
//     environment at use and which are never stored.
//
// Memory is an in-memory SecretStore for unit tests of other packages.
//
// The tests run against a real Secret Service: `.ci/with-keyring go test
// ./backend/secrets/` starts a private session bus with an unlocked
// gnome-keyring.
package secrets
