package secrets

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/zalando/go-keyring"
)

// Defaults for Options.
const (
	DefaultService = "patchbay"
	DefaultTimeout = 5 * time.Second
)

// probeKey is the account Check writes to and removes again.
const probeKey = "patchbay-probe"

// Options configure a Keychain. The zero value gives the defaults.
type Options struct {
	// Service is the keychain service name every entry is filed under.
	// Tests use a unique one so that runs never collide. Default: "patchbay".
	Service string
	// Timeout bounds each operation (Get, Set, Delete) as a whole; a
	// context deadline that comes sooner wins. Default: 5s.
	Timeout time.Duration
	// ChunkSize is the largest value stored as one entry; larger values are
	// split. 0 means the platform's limit: 2,560 bytes on Windows, 2,048 on
	// macOS, 64 KiB elsewhere (see defaultChunkSize in the platform files).
	ChunkSize int
}

// Keychain is the backend.SecretStore on top of the OS keychain (go-keyring:
// Secret Service on Linux, Keychain on macOS, Credential Manager on Windows).
// It is safe for concurrent use; operations run one at a time.
type Keychain struct {
	service   string
	timeout   time.Duration
	chunkSize int

	kr        keyring.Keyring // the OS keychain; tests substitute fakes
	preflight func() error
	gate      *gate
}

var _ backend.SecretStore = (*Keychain)(nil)

// NewKeychain returns a Keychain; opts may be nil.
func NewKeychain(opts *Options) *Keychain {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Service == "" {
		o.Service = DefaultService
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = defaultChunkSize
	}
	return &Keychain{
		service:   o.Service,
		timeout:   o.Timeout,
		chunkSize: o.ChunkSize,
		kr:        osKeyring{},
		preflight: preflight,
		gate:      newGate(),
	}
}

// osKeyring is go-keyring's package-level API as a keyring.Keyring.
type osKeyring struct{}

func (osKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (osKeyring) Set(service, user, pass string) error     { return keyring.Set(service, user, pass) }
func (osKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }
func (osKeyring) DeleteAll(service string) error           { return keyring.DeleteAll(service) }

// Service returns the service name entries are filed under.
func (k *Keychain) Service() string { return k.service }

// Get returns the value stored under key, or an ENOTFOUND *backend.Error.
func (k *Keychain) Get(ctx context.Context, key string) (string, error) {
	var value string
	err := k.run(ctx, key, func(o *op) error {
		v, err := o.get(key)
		if err != nil {
			return err
		}
		value, err = o.join(key, v)
		return err
	})
	return value, err
}

// Set stores value under key, replacing any previous value and removing the
// parts a previous, larger value was split into.
func (k *Keychain) Set(ctx context.Context, key, value string) error {
	return k.run(ctx, key, func(o *op) error {
		oldN, err := o.partCount(key)
		if err != nil {
			return err
		}
		newN := 0
		if needsChunks(value, k.chunkSize) {
			// Parts first, header last: until the header is written, the
			// old value (or a clear error) is what readers get.
			parts := split(value, k.chunkSize)
			for i, p := range parts {
				if err := o.set(chunkKey(key, i+1), p); err != nil {
					return err
				}
			}
			newN = len(parts)
			err = o.set(key, header(newN, value))
		} else {
			err = o.set(key, value)
		}
		if err != nil {
			return err
		}
		return o.removeParts(key, newN, oldN)
	})
}

// Delete removes key and its parts; deleting a missing key is not an error.
func (k *Keychain) Delete(ctx context.Context, key string) error {
	return k.run(ctx, key, func(o *op) error {
		oldN, err := o.partCount(key)
		if err != nil {
			return err
		}
		if err := o.del(key); err != nil && !errors.Is(err, keyring.ErrNotFound) {
			return err
		}
		return o.removeParts(key, 0, oldN)
	})
}

// Check stores, reads back and removes a probe value, so that start-up can
// report a missing or locked keychain before any secret is needed. The whole
// check shares one Timeout.
func (k *Keychain) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	probe := "probe-" + rand.Text()
	if err := k.Set(ctx, probeKey, probe); err != nil {
		return err
	}
	got, err := k.Get(ctx, probeKey)
	if err != nil {
		return err
	}
	if got != probe {
		return backend.Errorf(backend.EUNAVAILABLE, "The keychain returned something other than what was just stored in it.").
			WithSlug(SlugUnavailable).
			WithFix("Check the keychain's health (on Linux: gnome-keyring or KWallet), or " + fixEnvRef + ".")
	}
	return k.Delete(ctx, probeKey)
}

// run checks key, waits for the gate and runs fn with a deadline, mapping
// every error to a *backend.Error.
func (k *Keychain) run(ctx context.Context, key string, fn func(*op) error) error {
	if key == "" || chunkSuffixRe.MatchString(key) {
		return backend.Errorf(backend.EINVALID, "The keychain key %q is not valid: it must be non-empty and must not end in #<number>, which names the parts of a split value.", key).
			WithSlug(SlugInvalidKey)
	}
	if err := k.preflight(); err != nil {
		return err
	}
	budget := k.timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < budget {
		budget = time.Until(dl)
	}
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	h, err := k.gate.acquire(ctx)
	if err != nil {
		return ctxError(err, budget)
	}
	defer h.release()
	err = fn(&op{k: k, h: h})
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return ctxError(err, budget)
	}
	return mapError(key, err)
}

func ctxError(err error, budget time.Duration) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("keychain: %w", err)
	}
	return timedOut(budget, err)
}

// op is one operation's access to the keychain through its hold on the gate.
// Its methods return go-keyring's errors unmapped, so that the logic above
// can tell keyring.ErrNotFound apart.
type op struct {
	k *Keychain
	h *hold
}

func (o *op) get(user string) (v string, err error) {
	err = o.h.do(func() error {
		v, err = o.k.kr.Get(o.k.service, user)
		return err
	})
	return v, err
}

func (o *op) set(user, value string) error {
	err := o.h.do(func() error { return o.k.kr.Set(o.k.service, user, value) })
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		return tooLarge(len(value))
	}
	return err
}

func (o *op) del(user string) error {
	return o.h.do(func() error { return o.k.kr.Delete(o.k.service, user) })
}

// join returns the value v stands for: v itself, or the parts its header
// names, checked against the header's hash.
func (o *op) join(key, v string) (string, error) {
	n, sum, isHeader, err := parseHeader(v)
	if err != nil {
		return "", corrupt(key, err.Error())
	}
	if !isHeader {
		return v, nil
	}
	var b strings.Builder
	for i := 1; i <= n; i++ {
		p, err := o.get(chunkKey(key, i))
		if errors.Is(err, keyring.ErrNotFound) {
			return "", corrupt(key, fmt.Sprintf("part %d of %d is missing", i, n))
		}
		if err != nil {
			return "", err
		}
		b.WriteString(p)
	}
	if digest(b.String()) != sum {
		return "", corrupt(key, "its parts do not match the checksum")
	}
	return b.String(), nil
}

// partCount returns how many parts the value now under key was split into
// (0 for a plain, missing or unreadable entry).
func (o *op) partCount(key string) (int, error) {
	v, err := o.get(key)
	if errors.Is(err, keyring.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, _, _, _ := parseHeader(v)
	return n, nil
}

// removeParts deletes the parts beyond the first keep, knowing the entry had
// had parts. It deletes from the highest down so that an interruption leaves
// no gap, then sweeps on upwards until a part is missing, collecting parts
// that an earlier interrupted Set or Delete left behind.
func (o *op) removeParts(key string, keep, had int) error {
	for i := had; i > keep; i-- {
		if err := o.del(chunkKey(key, i)); err != nil && !errors.Is(err, keyring.ErrNotFound) {
			return err
		}
	}
	for i := max(keep, had) + 1; i <= max(keep, had)+maxChunks; i++ {
		err := o.del(chunkKey(key, i))
		if errors.Is(err, keyring.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}
