package app_test

// End-to-end tests of the real headless binary: the CLI, the keychain (the
// real Secret Service, under .ci/with-keyring) and `patchbay serve`.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/patchbay/patchbay/app/apptest"
)

type run struct {
	stdout, stderr string
	code           int
}

// patchbay runs the binary with home as PATCHBAY_HOME.
func patchbay(t *testing.T, home, stdin string, args ...string) run {
	t.Helper()
	cmd := exec.Command(apptest.Binary(t), args...)
	cmd.Env = append(os.Environ(), "PATCHBAY_HOME="+home, "PATCHBAY_ADMIN_TOKEN=")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := run{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return r
}

func secretTool(args ...string) (string, error) {
	out, err := exec.Command("secret-tool", args...).Output()
	return string(out), err
}

// A 1×1 PNG.
var pngIcon = mustB64("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

func mustB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestCLIConnectorRoundTripKeepsSecretsInKeychainOnly(t *testing.T) {
	apptest.RequireKeyring(t)
	home := t.TempDir()
	icon := filepath.Join(t.TempDir(), "icon.png")
	os.WriteFile(icon, pngIcon, 0o600)
	const keyCanary = "canary-key-51c3e9"
	const hdrCanary = "canary-hdr-8d27aa"

	r := patchbay(t, home, keyCanary+"\n"+hdrCanary+"\n",
		"connector", "add", "--name", "  Docs Search  ", "--slug", "docs", "--description", "Team docs",
		"--icon", icon, "--url", "https://docs.example.com/mcp", "--transport", "sse",
		"--api-key-header", "X-API-Key", "--api-key", "-",
		"--header", "X-Env: prod", "--secret-header", "X-Team-Token",
		"--default-policy", "needs_approval", "--call-timeout", "90")
	if r.code != 0 {
		t.Fatalf("add failed (%d): %s%s", r.code, r.stdout, r.stderr)
	}
	show := patchbay(t, home, "", "connector", "show", "docs", "--json")
	if show.code != 0 {
		t.Fatalf("show: %s", show.stderr)
	}
	var c struct {
		Name, Slug, Description, Icon, URL, Transport string
		DefaultPolicy                                 string `json:"default_policy"`
		CallTimeout                                   int    `json:"call_timeout_seconds"`
		Auth                                          struct {
			Type   string
			APIKey struct {
				In, Name string
				Value    struct{ Source, Key, Value string }
			} `json:"api_key"`
		}
		Headers []struct {
			Name, Value string
			Secret      *struct{ Source, Key, Value string }
		}
	}
	if err := json.Unmarshal([]byte(show.stdout), &c); err != nil {
		t.Fatalf("show --json: %v\n%s", err, show.stdout)
	}
	want := fmt.Sprintf("%q %q %q %q %q %q %d", "Docs Search", "docs", "Team docs", "https://docs.example.com/mcp", "sse", "needs_approval", 90)
	got := fmt.Sprintf("%q %q %q %q %q %q %d", c.Name, c.Slug, c.Description, c.URL, c.Transport, c.DefaultPolicy, c.CallTimeout)
	if got != want {
		t.Fatalf("fields:\n got %s\nwant %s", got, want)
	}
	if c.Icon != "data:image/png;base64,"+base64.StdEncoding.EncodeToString(pngIcon) {
		t.Fatalf("icon = %.60s", c.Icon)
	}
	if c.Auth.Type != "api-key" || c.Auth.APIKey.In != "header" || c.Auth.APIKey.Name != "X-API-Key" ||
		c.Auth.APIKey.Value.Source != "keychain" || c.Auth.APIKey.Value.Value != "" {
		t.Fatalf("auth = %+v", c.Auth)
	}
	if len(c.Headers) != 2 || c.Headers[0].Name != "X-Env" || c.Headers[0].Value != "prod" ||
		c.Headers[1].Name != "X-Team-Token" || c.Headers[1].Secret == nil || c.Headers[1].Secret.Source != "keychain" {
		t.Fatalf("headers = %+v", c.Headers)
	}

	// The values are in the OS keychain under service "patchbay".
	keys := map[string]string{c.Auth.APIKey.Value.Key: keyCanary, c.Headers[1].Secret.Key: hdrCanary}
	for key, want := range keys {
		v, err := secretTool("lookup", "service", "patchbay", "username", key)
		if err != nil || v != want {
			t.Fatalf("secret-tool lookup %s = %q, %v; want the canary", key, v, err)
		}
	}
	// … and nowhere else: not in the data directory, not in any output.
	for _, out := range []string{r.stdout, r.stderr, show.stdout, show.stderr, patchbay(t, home, "", "connector", "show", "docs").stdout, patchbay(t, home, "", "connector", "list", "--json").stdout} {
		if strings.Contains(out, keyCanary) || strings.Contains(out, hdrCanary) {
			t.Fatalf("a canary appeared in CLI output:\n%s", out)
		}
	}
	assertNotInDir(t, home, keyCanary, hdrCanary)

	// Editing without new secrets keeps them; remove deletes them.
	if r := patchbay(t, home, "", "connector", "edit", "docs", "--description", "Edited"); r.code != 0 {
		t.Fatalf("edit: %s", r.stderr)
	}
	if v, _ := secretTool("lookup", "service", "patchbay", "username", c.Auth.APIKey.Value.Key); v != keyCanary {
		t.Fatalf("edit lost the API key: %q", v)
	}
	if r := patchbay(t, home, "", "connector", "remove", "docs"); r.code == 0 {
		t.Fatal("remove without --yes and without a terminal succeeded")
	}
	if r := patchbay(t, home, "", "connector", "remove", "docs", "--yes"); r.code != 0 {
		t.Fatalf("remove: %s", r.stderr)
	}
	for key := range keys {
		if v, err := secretTool("lookup", "service", "patchbay", "username", key); err == nil && v != "" {
			t.Fatalf("secret %s still in the keychain after remove", key)
		}
	}
}

func assertNotInDir(t *testing.T, dir string, canaries ...string) {
	t.Helper()
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		for _, c := range canaries {
			if bytes.Contains(b, []byte(c)) {
				t.Errorf("canary %q found in %s", c, path)
			}
		}
		return nil
	})
}

func TestCLIRefusesSecretsOnTheCommandLineAndReportsEveryProblem(t *testing.T) {
	apptest.RequireKeyring(t)
	home := t.TempDir()
	r := patchbay(t, home, "", "connector", "add", "--name", "x", "--url", "https://a.example/mcp", "--bearer", "--api-key", "sk-live-123")
	if r.code != 1 || !strings.Contains(r.stderr, "shell history") || strings.Contains(r.stderr, "sk-live-123") {
		t.Fatalf("secret flag value: code %d stderr %q", r.code, r.stderr)
	}
	r = patchbay(t, home, "", "connector", "add", "--name", "", "--url", "ftp://x", "--transport", "pigeon", "--header", "Bad Header: v", "--default-policy", "sometimes")
	if r.code != 1 {
		t.Fatalf("bad add: code %d", r.code)
	}
	for _, want := range []string{"name: is required", "url: must start with https://", "transport: must be one of", "headers[0].name", "default_policy", "Fix:"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r := patchbay(t, home, "", "connector", "list", "--json"); strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("a failed add saved something: %s", r.stdout)
	}
}

// serve starts `patchbay serve` on a free port and waits until it is ready.
type served struct {
	cmd  *exec.Cmd
	addr string
	out  *bytes.Buffer
	done chan error
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startServe(t *testing.T, home string, args ...string) *served {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(apptest.Binary(t), append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Env = append(os.Environ(), "PATCHBAY_HOME="+home, "PATCHBAY_ADMIN_TOKEN=")
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, addr: addr, out: &bytes.Buffer{}, done: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.out.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "Press Ctrl-C") {
				close(ready)
			}
		}
	}()
	go func() { s.done <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	select {
	case <-ready:
	case err := <-s.done:
		t.Fatalf("serve exited early: %v\n%s", err, errb.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve not ready after 30s:\n%s\n%s", s.out, errb.String())
	}
	return s
}

func TestServeGuardsAPIAndRefusesSecondInstance(t *testing.T) {
	apptest.RequireKeyring(t)
	home := t.TempDir()
	s := startServe(t, home)
	base := "http://" + s.addr
	if !strings.Contains(s.out.String(), base+"/login?code=") {
		t.Fatalf("banner lacks the login link:\n%s", s.out)
	}

	// No token: 401. Foreign Origin (even with the token): 403.
	resp, err := http.Get(base + "/api/v1/connectors")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
	tok, err := secretTool("lookup", "service", "patchbay", "username", "admin-token")
	if err != nil || tok == "" {
		t.Fatalf("admin token not in the keychain: %v", err)
	}
	if r := patchbay(t, home, "", "admin-token"); r.code != 0 || r.stdout != tok+"\n" {
		t.Fatalf("admin-token printed %q (code %d, %s), want the keychain's token", r.stdout, r.code, r.stderr)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/connectors", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Origin", "https://evil.example")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %d", resp.StatusCode)
	}

	// A second serve on the same data directory fails fast and says why.
	start := time.Now()
	second := patchbay(t, home, "", "serve", "--addr", freePort(t))
	if second.code == 0 || !strings.Contains(second.stderr, "already running (pid") {
		t.Fatalf("second serve: code %d stderr %q", second.code, second.stderr)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("second serve took %s to fail; must be under 2s", d)
	}

	// With an instance running, the CLI goes through its API (opening the
	// store itself would fail, as the second serve did).
	if r := patchbay(t, home, "", "connector", "add", "--name", "Live", "--url", "https://live.example/mcp"); r.code != 0 {
		t.Fatalf("CLI add while serving: %s", r.stderr)
	}
	req, _ = http.NewRequest("GET", base+"/api/v1/connectors/live", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("connector added by the CLI is not visible to the instance: %v %v", err, resp)
	}
	resp.Body.Close()

	// Ctrl-C: a clean shutdown (exit 0), instance record and lock released.
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve exited with %v after Ctrl-C", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10s of Ctrl-C")
	}
	for _, f := range []string{"instance.json", "patchbay.pid"} {
		if _, err := os.Stat(filepath.Join(home, f)); !os.IsNotExist(err) {
			t.Errorf("%s left behind after shutdown", f)
		}
	}
	if r := patchbay(t, home, "", "connector", "list"); r.code != 0 || !strings.Contains(r.stdout, "Live") {
		t.Fatalf("after shutdown the CLI cannot read the store: %s %s", r.stdout, r.stderr)
	}
}

func TestServeRefusesBusyPortAndNonLoopback(t *testing.T) {
	apptest.RequireKeyring(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := patchbay(t, t.TempDir(), "", "serve", "--addr", l.Addr().String())
	if r.code == 0 || !strings.Contains(r.stderr, "already in use") || !strings.Contains(r.stderr, "--addr") {
		t.Fatalf("busy port: code %d stderr %q", r.code, r.stderr)
	}
	r = patchbay(t, t.TempDir(), "", "serve", "--addr", "0.0.0.0:0")
	if r.code == 0 || !strings.Contains(r.stderr, "not a loopback address") {
		t.Fatalf("non-loopback: code %d stderr %q", r.code, r.stderr)
	}
}

// Without a usable keychain, serve still starts: the admin token lives for
// the run only (printed for the CLI), and secrets must be ${ENV} references;
// nothing falls back to plain text.
func TestServeWithoutKeychainUsesOneRunAdminToken(t *testing.T) {
	home := t.TempDir()
	addr := freePort(t)
	cmd := exec.Command(apptest.Binary(t), "serve", "--addr", addr)
	cmd.Env = append(os.Environ(), "PATCHBAY_HOME="+home, "PATCHBAY_ADMIN_TOKEN=", "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(home, "no-bus"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGINT); cmd.Wait() }()
	var banner strings.Builder
	token := ""
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		banner.WriteString(sc.Text() + "\n")
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "export PATCHBAY_ADMIN_TOKEN="); ok {
			token = v
		}
		if strings.Contains(sc.Text(), "Press Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, out)
	if token == "" || !strings.Contains(banner.String(), "keychain cannot be used") {
		t.Fatalf("banner does not explain the missing keychain:\n%s", banner.String())
	}
	run := func(stdin string, args ...string) run {
		c := exec.Command(apptest.Binary(t), args...)
		c.Env = append(os.Environ(), "PATCHBAY_HOME="+home, "PATCHBAY_ADMIN_TOKEN="+token, "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(home, "no-bus"))
		c.Stdin = strings.NewReader(stdin)
		var o, e bytes.Buffer
		c.Stdout, c.Stderr = &o, &e
		err := c.Run()
		r := run{stdout: o.String(), stderr: e.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		}
		return r
	}
	r := run("canary-no-keychain\n", "connector", "add", "--name", "Keyed", "--url", "https://k.example/mcp", "--bearer", "--api-key", "-")
	if r.code == 0 || !strings.Contains(r.stderr, "Nothing was saved") {
		t.Fatalf("a keychain secret without a keychain: code %d %s", r.code, r.stderr)
	}
	r = run("", "connector", "add", "--name", "Env", "--url", "https://e.example/mcp", "--bearer", "--api-key", "${SOME_KEY}")
	if r.code != 0 {
		t.Fatalf("an ${ENV} secret without a keychain: %s", r.stderr)
	}
	assertNotInDir(t, home, "canary-no-keychain")
}
