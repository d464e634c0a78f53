package secrets

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/patchbay/patchbay/backend"
)

func TestMemoryBehavesLikeTheKeychain(t *testing.T) {
	var m Memory // the zero value is ready
	ctx := t.Context()
	if _, err := m.Get(ctx, "k"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("Get missing = %v; want ENOTFOUND", err)
	}
	if err := m.Set(ctx, "k", "v1"); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(ctx, "k", "v2"); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Get(ctx, "k"); err != nil || got != "v2" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := m.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete missing = %v; want nil", err)
	}
	if len(m.Keys()) != 0 {
		t.Fatalf("Keys = %v after Delete", m.Keys())
	}
}

func TestMemoryIsSafeForConcurrentUse(t *testing.T) {
	m := NewMemory()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			key := fmt.Sprintf("k%02d", i)
			if err := m.Set(t.Context(), key, key); err != nil {
				t.Error(err)
			}
			if got, err := m.Get(t.Context(), key); err != nil || got != key {
				t.Errorf("Get(%s) = %q, %v", key, got, err)
			}
			m.Keys()
		})
	}
	wg.Wait()
	if n := len(m.Keys()); n != 20 {
		t.Fatalf("%d keys; want 20", n)
	}
}

func TestMemoryHookSimulatesFailures(t *testing.T) {
	m := NewMemory()
	var seen []string
	m.SetHook(func(_ context.Context, op, key string) error {
		seen = append(seen, op+" "+key)
		return NewUnavailableError()
	})
	err := m.Set(t.Context(), "k", "v")
	if !IsUnavailable(err) {
		t.Fatalf("Set = %v; want the unavailable error", err)
	}
	if len(m.Keys()) != 0 {
		t.Fatal("a failed Set stored the value")
	}
	m.Get(t.Context(), "k")
	m.Delete(t.Context(), "k")
	if want := []string{"set k", "get k", "delete k"}; !slices.Equal(seen, want) {
		t.Fatalf("hook saw %v; want %v", seen, want)
	}
	m.SetHook(nil)
	if err := m.Set(t.Context(), "k", "v"); err != nil {
		t.Fatal(err)
	}
}

func TestMemoryHonoursDoneContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := NewMemory().Set(ctx, "k", "v"); err == nil {
		t.Fatal("Set with a cancelled context succeeded")
	}
}
