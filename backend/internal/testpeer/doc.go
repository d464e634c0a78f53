// Package testpeer starts MCP servers for Patchbay's tests: the reference
// @modelcontextprotocol/server-everything from npm (see Everything) and
// in-process go-sdk servers with API-key checks over both HTTP transports
// and both protocol eras (see NewServer).
//
// The npm packages live in node/ (package.json and package-lock.json, pinned
// exact versions); `make test-deps` installs them with `npm ci`. Only tests
// import this package.
package testpeer
