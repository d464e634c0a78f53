package oauth

import (
	"context"
	"testing"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/secrets"
)

func BenchmarkToken(b *testing.B) {
	ctx := context.Background()
	kc := secrets.NewMemory()
	c := &backend.Connector{ID: "c_1", Name: "x", URL: "https://mcp.example.com/mcp", Auth: backend.Auth{Type: backend.AuthOAuth}}
	m := New(Options{Secrets: kc})
	ts := &tokenSet{AccessToken: "at", Expiry: time.Now().Add(time.Hour), ObtainedAt: time.Now(), Config: fingerprint(c)}
	if err := m.saveSecretJSON(ctx, tokenKey(c.ID), ts); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Token(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}
