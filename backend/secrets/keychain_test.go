package secrets

import (
	"fmt"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/backend"
	"github.com/zalando/go-keyring"
)

// These tests use the real Secret Service (see newTestKeychain).

func TestKeychainRoundTrip(t *testing.T) {
	k := newTestKeychain(t, 0)
	v := canary() + " with spaces, ünïcode and \"quotes\""
	if err := k.Set(t.Context(), "connector/1/api_key", v); err != nil {
		t.Fatal(err)
	}
	got, err := k.Get(t.Context(), "connector/1/api_key")
	if err != nil || got != v {
		t.Fatalf("Get = %q, %v; want the stored value", got, err)
	}
}

func TestKeychainValueIsInTheOSKeychain(t *testing.T) {
	k := newTestKeychain(t, 0)
	v := canary()
	if err := k.Set(t.Context(), "token", v); err != nil {
		t.Fatal(err)
	}
	got, ok := secretTool(t, k.Service(), "token")
	if !ok || got != v {
		t.Fatalf("secret-tool lookup = %q, %v; want the stored value", got, ok)
	}
}

func TestKeychainOverwrite(t *testing.T) {
	k := newTestKeychain(t, 0)
	first, second := canary(), canary()
	for _, v := range []string{first, second} {
		if err := k.Set(t.Context(), "key", v); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := k.Get(t.Context(), "key"); err != nil || got != second {
		t.Fatalf("Get = %q, %v; want the second value", got, err)
	}
}

func TestKeychainGetMissingIsNotFound(t *testing.T) {
	k := newTestKeychain(t, 0)
	_, err := k.Get(t.Context(), "missing")
	e := wantError(t, err, backend.ENOTFOUND, SlugNotFound, "")
	if !strings.Contains(e.Message, `"missing"`) {
		t.Fatalf("message %q does not name the key", e.Message)
	}
}

func TestKeychainDelete(t *testing.T) {
	k := newTestKeychain(t, 0)
	if err := k.Set(t.Context(), "key", canary()); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete(t.Context(), "key"); err != nil {
		t.Fatal(err)
	}
	if _, ok := secretTool(t, k.Service(), "key"); ok {
		t.Fatal("the entry is still in the keychain after Delete")
	}
	_, err := k.Get(t.Context(), "key")
	wantError(t, err, backend.ENOTFOUND, SlugNotFound, "")
	if err := k.Delete(t.Context(), "key"); err != nil {
		t.Fatalf("Delete of a missing key: %v; want nil", err)
	}
}

// bigValue returns n bytes of text that include multi-byte characters, so
// that splitting meets character boundaries.
func bigValue(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%05d-é€😀-", i)
	}
	return b.String()[:n]
}

// parts returns the parts of key as the Secret Service holds them, read with
// secret-tool, and checks that the one after the last does not exist.
func parts(t *testing.T, k *Keychain, key string, n int) []string {
	t.Helper()
	var ps []string
	for i := 1; i <= n; i++ {
		p, ok := secretTool(t, k.Service(), chunkKey(key, i))
		if !ok {
			t.Fatalf("part %d of %d is not in the keychain", i, n)
		}
		ps = append(ps, p)
	}
	if _, ok := secretTool(t, k.Service(), chunkKey(key, n+1)); ok {
		t.Fatalf("there is a part %d; want %d parts", n+1, n)
	}
	return ps
}

func TestKeychainLargeValueIsSplitIntoEntries(t *testing.T) {
	k := newTestKeychain(t, 500)
	v := canary() + bigValue(10_000)
	if err := k.Set(t.Context(), "oauth", v); err != nil {
		t.Fatal(err)
	}
	got, err := k.Get(t.Context(), "oauth")
	if err != nil || got != v {
		t.Fatalf("Get = %d bytes, %v; want the %d-byte value back", len(got), err, len(v))
	}
	main, _ := secretTool(t, k.Service(), "oauth")
	n, _, isHeader, err := parseHeader(main)
	if !isHeader || err != nil || strings.Contains(main, "CANARY") {
		t.Fatalf("main entry = %q; want only a header", main)
	}
	ps := parts(t, k, "oauth", n)
	for i, p := range ps {
		if len(p) > 500 {
			t.Fatalf("part %d is %d bytes; want at most 500", i+1, len(p))
		}
	}
	if strings.Join(ps, "") != v {
		t.Fatal("the parts in the keychain do not add up to the value")
	}
}

func TestKeychainShrinkingRemovesStaleParts(t *testing.T) {
	k := newTestKeychain(t, 500)
	if err := k.Set(t.Context(), "key", bigValue(10_000)); err != nil {
		t.Fatal(err)
	}
	smaller := bigValue(1_200)
	if err := k.Set(t.Context(), "key", smaller); err != nil {
		t.Fatal(err)
	}
	main, _ := secretTool(t, k.Service(), "key")
	n, _, _, _ := parseHeader(main)
	if n != 3 {
		t.Fatalf("header %q; want 3 parts", main)
	}
	parts(t, k, "key", 3)
	if got, err := k.Get(t.Context(), "key"); err != nil || got != smaller {
		t.Fatalf("Get = %d bytes, %v; want the smaller value", len(got), err)
	}
	if err := k.Set(t.Context(), "key", "small"); err != nil {
		t.Fatal(err)
	}
	if main, _ := secretTool(t, k.Service(), "key"); main != "small" {
		t.Fatalf("main entry = %q; want the plain value", main)
	}
	parts(t, k, "key", 0)
}

func TestKeychainDeleteRemovesParts(t *testing.T) {
	k := newTestKeychain(t, 500)
	if err := k.Set(t.Context(), "key", bigValue(2_000)); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete(t.Context(), "key"); err != nil {
		t.Fatal(err)
	}
	if _, ok := secretTool(t, k.Service(), "key"); ok {
		t.Fatal("the header is still in the keychain")
	}
	parts(t, k, "key", 0)
}

func TestKeychainValueLikeAHeaderRoundTrips(t *testing.T) {
	k := newTestKeychain(t, 0)
	for _, v := range []string{
		header(1, "something else"),
		chunkPrefix,
		chunkPrefix + "v9:whatever",
	} {
		if err := k.Set(t.Context(), "key", v); err != nil {
			t.Fatal(err)
		}
		if got, err := k.Get(t.Context(), "key"); err != nil || got != v {
			t.Fatalf("Get = %q, %v; want %q", got, err, v)
		}
	}
}

func TestKeychainDamagedPartsGiveAnErrorNotAValue(t *testing.T) {
	k := newTestKeychain(t, 500)
	v := canary() + bigValue(2_000)
	if err := k.Set(t.Context(), "key", v); err != nil {
		t.Fatal(err)
	}
	// Another program (or an interrupted write) changes part 2.
	if err := keyring.Set(k.Service(), chunkKey("key", 2), "tampered"); err != nil {
		t.Fatal(err)
	}
	got, err := k.Get(t.Context(), "key")
	e := wantError(t, err, backend.EINTERNAL, SlugCorrupt, "CANARY")
	if got != "" || !strings.Contains(e.Message, "checksum") {
		t.Fatalf("Get = %q, %q; want no value and a checksum error", got, e.Message)
	}
	main, _ := secretTool(t, k.Service(), "key")
	n, _, _, _ := parseHeader(main)
	if err := keyring.Delete(k.Service(), chunkKey("key", 3)); err != nil {
		t.Fatal(err)
	}
	_, err = k.Get(t.Context(), "key")
	if e := wantError(t, err, backend.EINTERNAL, SlugCorrupt, "CANARY"); !strings.Contains(e.Message, fmt.Sprintf("part 3 of %d is missing", n)) {
		t.Fatalf("message %q; want it to name the missing part", e.Message)
	}
}

func TestKeychainDefaultHoldsTheLargestSecretInOneEntry(t *testing.T) {
	k := newTestKeychain(t, 0)
	v := bigValue(backend.MaxSecretBytes)
	if err := k.Set(t.Context(), "key", v); err != nil {
		t.Fatal(err)
	}
	if got, _ := secretTool(t, k.Service(), "key"); got != v {
		t.Fatalf("secret-tool returned %d bytes; want the %d-byte value in one entry", len(got), len(v))
	}
	parts(t, k, "key", 0)
}

func TestKeychainCheckLeavesNothingBehind(t *testing.T) {
	k := newTestKeychain(t, 0) // runs Check
	if err := k.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, ok := secretTool(t, k.Service(), probeKey); ok {
		t.Fatal("Check left its probe entry in the keychain")
	}
}

func TestKeychainRejectsKeysThatNameParts(t *testing.T) {
	k := NewKeychain(&Options{Service: uniqueService()})
	for _, key := range []string{"", "key#1", "key#12"} {
		err := k.Set(t.Context(), key, "v")
		wantError(t, err, backend.EINVALID, SlugInvalidKey, "")
	}
}
