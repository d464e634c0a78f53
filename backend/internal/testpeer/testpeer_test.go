package testpeer

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestEverythingStopsAndStartsOnItsPort(t *testing.T) {
	p := Everything(t, "sse")
	if !strings.HasSuffix(p.URL, "/sse") {
		t.Fatalf("URL = %s", p.URL)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(p.URL, "http://"), "/sse")
	p.Stop()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("still accepting connections after Stop")
	}
	p.Start()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatalf("not accepting connections after Start: %v", err)
	}
	c.Close()
}

func TestServerRequiresTheKey(t *testing.T) {
	s := NewServer(t, ServerOptions{APIKey: "k", KeyQuery: "api_key"})
	for _, key := range []string{"", "wrong", "k"} {
		resp, err := http.Post(s.URL+"?api_key="+key, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if refused := resp.StatusCode == http.StatusUnauthorized; refused != (key != "k") {
			t.Errorf("key %q: status %d", key, resp.StatusCode)
		}
	}
	r := s.Requests()
	if len(r) != 3 || r[0].Authorized || r[1].Authorized || !r[2].Authorized {
		t.Errorf("requests = %+v", r)
	}
}
