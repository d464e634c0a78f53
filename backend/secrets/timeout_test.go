package secrets

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/zalando/go-keyring"
)

// fakeKeyring is a keyring.Keyring in memory that can hang like a locked
// keychain waiting for a prompt, or fail with a given error.
type fakeKeyring struct {
	mu      sync.Mutex
	values  map[string]string
	hang    chan struct{} // when non-nil, calls wait until it is closed
	err     error         // when non-nil, every call fails with it
	setErr  error         // when non-nil, every Set fails with it
	entered atomic.Int32  // calls that reached the keychain
}

func newFakeKeyring() *fakeKeyring { return &fakeKeyring{values: map[string]string{}} }

func (f *fakeKeyring) enter() error {
	f.entered.Add(1)
	f.mu.Lock()
	hang, err := f.hang, f.err
	f.mu.Unlock()
	if hang != nil {
		<-hang
	}
	return err
}

func (f *fakeKeyring) Get(service, user string) (string, error) {
	if err := f.enter(); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.values[service+"/"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeKeyring) Set(service, user, pass string) error {
	if err := f.enter(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.setErr != nil {
		return f.setErr
	}
	f.values[service+"/"+user] = pass
	return nil
}

func (f *fakeKeyring) Delete(service, user string) error {
	if err := f.enter(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.values[service+"/"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.values, service+"/"+user)
	return nil
}

func (f *fakeKeyring) DeleteAll(string) error { return errors.New("not used") }

func fakeKeychain(f *fakeKeyring, timeout time.Duration) *Keychain {
	k := NewKeychain(&Options{Service: "svc", Timeout: timeout})
	k.kr = f
	k.preflight = func() error { return nil }
	return k
}

// The timeout tests run in a synctest bubble: time is virtual, so a 5s
// timeout takes no real time and elapsed times are exact, and the bubble
// fails the test if any goroutine is left behind.

func TestHungKeychainTimesOutWithoutPilingUpCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeKeyring()
		f.hang = make(chan struct{})
		k := fakeKeychain(f, 5*time.Second)
		secret := canary()

		start := time.Now()
		_, err := k.Get(t.Context(), "key")
		if d := time.Since(start); d != 5*time.Second {
			t.Fatalf("Get returned after %s; want the 5s timeout", d)
		}
		e := wantError(t, err, backend.ETIMEOUT, SlugTimeout, "")
		if !strings.Contains(e.Message, "did not answer within 5s") || !strings.Contains(e.SuggestedFix, "Unlock your keychain") {
			t.Fatalf("error = %q / %q; want the timeout and how to fix it", e.Message, e.SuggestedFix)
		}
		if !IsUnavailable(err) {
			t.Fatal("IsUnavailable = false for a timeout")
		}

		// While that call is stuck, more calls time out without reaching
		// the keychain, so no further goroutines pile up behind it.
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				err := k.Set(t.Context(), "key", secret)
				wantError(t, err, backend.ETIMEOUT, SlugTimeout, secret)
			})
		}
		wg.Wait()
		if n := f.entered.Load(); n != 1 {
			t.Fatalf("%d calls reached the hung keychain; want 1", n)
		}

		// Once the stuck call returns, the keychain is usable again.
		f.mu.Lock()
		close(f.hang)
		f.hang = nil
		f.mu.Unlock()
		synctest.Wait()
		if err := k.Set(t.Context(), "key", secret); err != nil {
			t.Fatal(err)
		}
		if got, err := k.Get(t.Context(), "key"); err != nil || got != secret {
			t.Fatalf("Get = %q, %v after the keychain recovered", got, err)
		}
	})
}

func TestSoonerCallerDeadlineWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeKeyring()
		f.hang = make(chan struct{})
		defer close(f.hang)
		k := fakeKeychain(f, 5*time.Second)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		_, err := k.Get(ctx, "key")
		if d := time.Since(start); d != time.Second {
			t.Fatalf("Get returned after %s; want the caller's 1s", d)
		}
		if e := wantError(t, err, backend.ETIMEOUT, SlugTimeout, ""); !strings.Contains(e.Message, "within 1s") {
			t.Fatalf("message %q; want it to say 1s", e.Message)
		}
	})
}

func TestCancelledCallerGetsContextCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeKeyring()
		f.hang = make(chan struct{})
		defer close(f.hang)
		k := fakeKeychain(f, 5*time.Second)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Second, cancel)
		_, err := k.Get(ctx, "key")
		if !errors.Is(err, context.Canceled) || backend.ErrorCode(err) == backend.ETIMEOUT {
			t.Fatalf("got %v; want context.Canceled, not a timeout", err)
		}
	})
}

func TestSplitValueStopsAtTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeKeyring()
		k := fakeKeychain(f, 5*time.Second)
		k.chunkSize = 10
		// The keychain hangs after the first few calls of a split Set.
		var calls atomic.Int32
		hang := make(chan struct{})
		k.kr = hookKeyring{f, func() {
			if calls.Add(1) == 3 {
				<-hang
			}
		}}
		err := k.Set(t.Context(), "key", strings.Repeat("x", 100))
		wantError(t, err, backend.ETIMEOUT, SlugTimeout, "")
		close(hang)
		synctest.Wait()
		if n := calls.Load(); n != 3 {
			t.Fatalf("%d calls made; want the Set to stop after the stuck third", n)
		}
	})
}

// hookKeyring runs before ahead of every call to the wrapped keyring.
type hookKeyring struct {
	*fakeKeyring
	before func()
}

func (h hookKeyring) Get(s, u string) (string, error) { h.before(); return h.fakeKeyring.Get(s, u) }
func (h hookKeyring) Set(s, u, p string) error        { h.before(); return h.fakeKeyring.Set(s, u, p) }
func (h hookKeyring) Delete(s, u string) error        { h.before(); return h.fakeKeyring.Delete(s, u) }
