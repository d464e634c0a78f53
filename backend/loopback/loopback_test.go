package loopback

import "testing"

func TestHostAllowed(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:47821": true, "localhost:47821": true, "LOCALHOST": true, "[::1]:80": true, "127.8.9.1": true,
		"evil.example": false, "evil.example:47821": false, "foo.localhost:1": false, "0.0.0.0:1": false,
		"192.168.1.2:47821": false, "": false,
	} {
		if got := HostAllowed(host); got != want {
			t.Errorf("HostAllowed(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestSameOrigin(t *testing.T) {
	for _, c := range []struct {
		origin, host string
		want         bool
	}{
		{"http://127.0.0.1:47821", "127.0.0.1:47821", true},
		{"https://localhost:1", "localhost:1", true},
		{"https://evil.example", "127.0.0.1:47821", false},
		{"null", "127.0.0.1:47821", false},
		{"http://127.0.0.1:47822", "127.0.0.1:47821", false},
	} {
		if got := SameOrigin(c.origin, c.host); got != c.want {
			t.Errorf("SameOrigin(%q, %q) = %v", c.origin, c.host, got)
		}
	}
}
