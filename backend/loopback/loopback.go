// Package loopback holds the request checks every loopback listener of
// Patchbay applies: the admin API and the MCP endpoint share them so that
// the two can never disagree about which requests come from this machine.
//
// A DNS-rebinding attack reaches a loopback port under the attacker's host
// name, so the Host header must name this machine; a web page calling the
// port carries its own Origin, so an Origin, when present, must be the
// listener's own.
package loopback

import (
	"net"
	"strings"
)

// HostAllowed reports whether a Host header (host or host:port) names this
// machine: "localhost" or a loopback IP address. Other names, including
// subdomains of localhost, are refused.
func HostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SameOrigin reports whether an Origin header names the listener reached
// at host (the request's Host header).
func SameOrigin(origin, host string) bool {
	return strings.EqualFold(origin, "http://"+host) || strings.EqualFold(origin, "https://"+host)
}
