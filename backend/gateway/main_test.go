package gateway_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test closes what it started (the gateway, its sessions, the
// upstream manager, the test servers): nothing may keep running.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Idle keep-alive connections of http.DefaultTransport, used by the
		// test clients, outlive the tests that made them.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}
