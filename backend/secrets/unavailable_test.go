package secrets

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/backend"
)

// These tests run the test binary again as a helper process in a broken
// environment, because go-keyring's session bus connection is process-wide
// and cached: the errors they check come from real D-Bus and gnome-keyring.

const helperEnv = "PATCHBAY_SECRETS_HELPER"

// helperResult is what the helper reports for one operation.
type helperResult struct {
	Op, Code, Slug, Message, Fix, Text string
	Unavailable                        bool
	Seconds                            float64
}

// helperMain runs Check, Set and Get against whatever keychain the process
// environment points at and prints the outcomes as JSON.
func helperMain() int {
	k := NewKeychain(&Options{Service: os.Getenv("PATCHBAY_SECRETS_SERVICE"), Timeout: 3 * time.Second})
	ctx := context.Background()
	var results []helperResult
	record := func(op string, start time.Time, err error) {
		r := helperResult{Op: op, Code: backend.ErrorCode(err), Seconds: time.Since(start).Seconds(), Unavailable: IsUnavailable(err)}
		var e *backend.Error
		if errors.As(err, &e) {
			r.Slug, r.Message, r.Fix = e.Slug, e.Message, e.SuggestedFix
		}
		for c := err; c != nil; c = errors.Unwrap(c) {
			r.Text += c.Error() + "\n"
		}
		results = append(results, r)
	}
	start := time.Now()
	record("check", start, k.Check(ctx))
	start = time.Now()
	record("set", start, k.Set(ctx, "key", os.Getenv("PATCHBAY_SECRETS_VALUE")))
	start = time.Now()
	_, err := k.Get(ctx, "key")
	record("get", start, err)
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// runHelper runs the helper under the command prefix (may be empty) with env
// changed as given ("" removes a variable) and returns its results. It fails
// the test if the secret value shows up anywhere in the helper's output.
func runHelper(t *testing.T, prefix []string, env map[string]string) []helperResult {
	t.Helper()
	secret := canary()
	env[helperEnv] = "1"
	env["PATCHBAY_SECRETS_SERVICE"] = uniqueService()
	env["PATCHBAY_SECRETS_VALUE"] = secret
	var environ []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if _, changed := env[name]; !changed {
			environ = append(environ, kv)
		}
	}
	for name, v := range env {
		if v != "" {
			environ = append(environ, name+"="+v)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	args := append(append([]string{}, prefix...), os.Args[0])
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = environ
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helper process: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), secret) {
		t.Fatal("the secret value appears in the helper's output")
	}
	var results []helperResult
	if err := json.Unmarshal(stdout.Bytes(), &results); err != nil || len(results) != 3 {
		t.Fatalf("helper output %q: %v\n%s", stdout.String(), err, stderr.String())
	}
	return results
}

// wantAllUnavailable checks that every operation failed as unavailable with
// a message and fix containing the given texts, within the 3s timeout.
func wantAllUnavailable(t *testing.T, results []helperResult, slugs []string, message string, fix ...string) {
	t.Helper()
	for _, r := range results {
		if !r.Unavailable || !slices.Contains(slugs, r.Slug) || !strings.Contains(r.Message, message) {
			t.Fatalf("%s: %s/%s %q; want %v with %q", r.Op, r.Code, r.Slug, r.Message, slugs, message)
		}
		for _, f := range fix {
			if !strings.Contains(r.Fix, f) {
				t.Fatalf("%s: fix %q does not mention %q", r.Op, r.Fix, f)
			}
		}
		if r.Seconds > 10 {
			t.Fatalf("%s took %.1fs; want it bounded by the 3s timeout", r.Op, r.Seconds)
		}
	}
}

func TestNoSessionBusIsUnavailable(t *testing.T) {
	results := runHelper(t, nil, map[string]string{
		"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + filepath.Join(t.TempDir(), "no-bus"),
	})
	wantAllUnavailable(t, results, []string{SlugUnavailable}, "No D-Bus session bus", "gnome-keyring", "${ENV_VAR}")
}

// A session bus on which nothing provides org.freedesktop.secrets, as on a
// machine without gnome-keyring or KWallet.
func TestNoSecretServiceIsUnavailable(t *testing.T) {
	results := runHelper(t, nil, map[string]string{"DBUS_SESSION_BUS_ADDRESS": emptyBus(t)})
	wantAllUnavailable(t, results, []string{SlugUnavailable}, "No Secret Service on the session bus",
		"Install and unlock gnome-keyring", "${ENV_VAR}")
}

// A Secret Service whose login collection is locked, with no display to show
// an unlock prompt on: go-keyring either gets the prompt dismissed or waits
// on it; both must end as an unavailable error that says to unlock.
func TestLockedKeychainIsUnavailable(t *testing.T) {
	harness, err := filepath.Abs("../../.ci/with-keyring")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(harness); err != nil {
		t.Fatalf("%v: %s", err, harnessHint)
	}
	lock := `dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets ` +
		`org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null && exec "$@"`
	results := runHelper(t, []string{harness, "sh", "-c", lock, "sh"}, map[string]string{
		"DISPLAY": "", "WAYLAND_DISPLAY": "", // never show a real prompt
	})
	wantAllUnavailable(t, results, []string{SlugLocked, SlugTimeout}, "", "Unlock your keychain")
}

// emptyBus starts a private dbus-daemon without any activatable services and
// returns its address.
func emptyBus(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		t.Fatalf("dbus-daemon not found: %s", harnessHint)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "bus.conf")
	err := os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+filepath.Join(dir, "bus")+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon did not print its address: %v", err)
	}
	return strings.TrimSpace(addr)
}
