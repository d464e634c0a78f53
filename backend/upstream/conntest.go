package upstream

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/patchbay/patchbay/backend"
)

var stepTitles = map[string]string{
	stepResolve:   "Resolve the host name",
	stepConnect:   "Open a connection",
	stepTLS:       "Secure the connection (TLS)",
	stepHTTP:      "HTTP reply",
	stepTransport: "Detect the transport",
	stepHandshake: "MCP handshake",
	stepAuth:      "Authentication",
	stepTools:     "List tools",
}

var stepOrder = []string{stepResolve, stepConnect, stepTLS, stepHTTP, stepTransport, stepHandshake, stepAuth, stepTools}

// tester runs one connection test and reports its steps.
type tester struct {
	m      *Manager
	c      *backend.Connector
	onStep func(backend.TestStep)
	res    backend.TestResult
	done   map[string]bool
}

// Test runs the connection to c step by step — host name, connection, TLS,
// HTTP reply, transport, MCP handshake, authentication, tool listing — and
// reports each step as it starts (status running) and ends, with its
// outcome and timing. A failed step names the cause and the fix; the steps
// after it are skipped. c may be unsaved (secrets may carry their Value);
// the test uses its own session and leaves the live one alone. For a saved
// connector (ID set) each step is also published as EventTestStep.
func (m *Manager) Test(ctx context.Context, c *backend.Connector, onStep func(backend.TestStep)) backend.TestResult {
	t := &tester{m: m, c: c, onStep: onStep, done: map[string]bool{}}
	t.run(ctx)
	for _, id := range stepOrder {
		if !t.done[id] {
			t.finish(backend.TestStep{ID: id, Status: backend.StepSkipped}, 0)
		}
	}
	t.res.OK = true
	for _, st := range t.res.Steps {
		if st.Status == backend.StepFailed {
			t.res.OK = false
		}
	}
	return t.res
}

func (t *tester) emit(st backend.TestStep) {
	st.Title = stepTitles[st.ID]
	if t.onStep != nil {
		t.onStep(st)
	}
	if t.c.ID != "" {
		t.m.pub.Publish(backend.NewEvent(backend.EventTestStep, struct {
			ConnectorID string `json:"connector_id"`
			backend.TestStep
		}{t.c.ID, st}))
	}
}

func (t *tester) start(id string) time.Time {
	t.emit(backend.TestStep{ID: id, Status: backend.StepRunning})
	return time.Now()
}

func (t *tester) finish(st backend.TestStep, d time.Duration) {
	st.Title = stepTitles[st.ID]
	st.DurationMS = float64(d.Microseconds()) / 1000
	t.done[st.ID] = true
	t.res.Steps = append(t.res.Steps, st)
	t.emit(st)
}

func (t *tester) ok(id, detail string, d time.Duration) {
	t.finish(backend.TestStep{ID: id, Status: backend.StepOK, Detail: detail}, d)
}

func (t *tester) fail(id string, f *failure, d time.Duration) {
	t.finish(backend.TestStep{ID: id, Status: backend.StepFailed, Error: f.sentence(), Fix: f.fix}, d)
}

func (t *tester) run(ctx context.Context) {
	timeout := t.m.opts.ConnectTimeout
	u, err := url.Parse(t.c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		t.start(stepResolve)
		t.fail(stepResolve, &failure{detail: "the URL is not a valid http:// or https:// address.",
			fix: "Enter the server's full URL, for example https://example.com/mcp."}, 0)
		return
	}
	host := u.Hostname()

	// Resolve the host name.
	began := t.start(stepResolve)
	if ip := net.ParseIP(host); ip != nil {
		t.ok(stepResolve, "IP address, no lookup needed", time.Since(began))
	} else {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		addrs, err := net.DefaultResolver.LookupHost(rctx, host)
		cancel()
		if err != nil {
			t.fail(stepResolve, t.diagnoseNet(err), time.Since(began))
			return
		}
		t.ok(stepResolve, strings.Join(addrs, ", "), time.Since(began))
	}

	// Open a TCP connection.
	began = t.start(stepConnect)
	d := net.Dialer{Timeout: timeout}
	// By name, so that every address found is tried (IPv4 and IPv6).
	raw, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, portOf(u)))
	if err != nil {
		t.fail(stepConnect, t.diagnoseNet(err), time.Since(began))
		return
	}
	t.ok(stepConnect, "connected to "+raw.RemoteAddr().String(), time.Since(began))

	// TLS, on the same connection.
	if u.Scheme != "https" {
		raw.Close()
		t.finish(backend.TestStep{ID: stepTLS, Status: backend.StepSkipped, Detail: "not used: the URL starts with http://"}, 0)
	} else {
		began = t.start(stepTLS)
		// The sessions' transport trusts the system roots, and so does this.
		tc := tls.Client(raw, &tls.Config{ServerName: host})
		hctx, cancel := context.WithTimeout(ctx, timeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		tc.Close()
		if err != nil {
			t.fail(stepTLS, t.diagnoseNet(err), time.Since(began))
			return
		}
		t.ok(stepTLS, tlsDetail(tc.ConnectionState()), time.Since(began))
	}

	t.mcp(ctx)
}

// mcp runs the MCP connection (with transport detection) and the tool
// listing, and turns what the RoundTripper saw into the remaining steps.
func (t *tester) mcp(ctx context.Context) {
	began := t.start(stepHTTP)
	res := t.m.dial(ctx, nil, t.c)
	if res.sess != nil {
		defer res.sess.close()
	}
	f := res.fail
	if len(res.tried) == 0 {
		// Nothing was sent: a secret that cannot be read, or no sign-in.
		t.finish(backend.TestStep{ID: stepHTTP, Status: backend.StepSkipped, Detail: "not reached: the credentials are missing"}, 0)
		t.finish(backend.TestStep{ID: stepTransport, Status: backend.StepSkipped}, 0)
		t.finish(backend.TestStep{ID: stepHandshake, Status: backend.StepSkipped}, 0)
		t.start(stepAuth)
		t.fail(stepAuth, f, 0)
		return
	}
	var first *exchange
	for _, tr := range res.tried {
		if tr.view.first != nil {
			first = tr.view.first
			break
		}
	}
	switch {
	case first == nil:
		t.fail(stepHTTP, f, time.Since(began))
		return
	case f != nil && f.step == stepHTTP:
		t.fail(stepHTTP, f, first.At.Sub(began))
		return
	}
	t.ok(stepHTTP, fmt.Sprintf("HTTP %d %s%s", first.Status, first.StatusText, contentNote(first.ContentType)), first.At.Sub(began))

	last := first.At
	chosen := res.tried[len(res.tried)-1]
	t.start(stepTransport)
	if f != nil && f.step == stepAuth {
		t.finish(backend.TestStep{ID: stepTransport, Status: backend.StepSkipped, Detail: "the server asked for credentials first"}, 0)
		t.finish(backend.TestStep{ID: stepHandshake, Status: backend.StepSkipped}, 0)
		t.start(stepAuth)
		t.fail(stepAuth, f, 0)
		return
	}
	if f != nil && (chosen.view.firstM == nil || f.step == stepTransport) {
		t.fail(stepTransport, f, time.Since(last))
		return
	}
	if at := chosen.view.firstM.At; at.After(last) {
		t.ok(stepTransport, transportDetail(t.c, res.tried), at.Sub(last))
		last = at
	} else {
		t.ok(stepTransport, transportDetail(t.c, res.tried), 0)
	}

	t.start(stepHandshake)
	if f != nil {
		t.fail(stepHandshake, f, chosen.end.Sub(last))
		return
	}
	s := res.sess
	detail := "protocol " + s.protocol
	if info := s.cs.InitializeResult(); info != nil && info.ServerInfo != nil {
		detail += fmt.Sprintf(", server %s %s", info.ServerInfo.Name, info.ServerInfo.Version)
	}
	t.ok(stepHandshake, strings.TrimSpace(detail), chosen.end.Sub(last))

	t.start(stepAuth)
	t.ok(stepAuth, authDetail(t.c), 0)

	began = t.start(stepTools)
	lctx, cancel := context.WithTimeout(ctx, 2*t.m.opts.ConnectTimeout)
	defs, err := s.listTools(lctx)
	cancel()
	if err != nil {
		lf := diagnose(t.c, err, s.rt.obs.snapshot(), t.m.opts.ConnectTimeout, s.red)
		lf.detail = "listing the tools failed: " + lf.detail
		t.fail(stepTools, lf, time.Since(began))
		return
	}
	t.ok(stepTools, plural(len(defs), "tool"), time.Since(began))
}

// diagnoseNet explains an error of the resolve, connect or TLS steps.
func (t *tester) diagnoseNet(err error) *failure {
	return diagnose(t.c, err, logView{}, t.m.opts.ConnectTimeout, newRedactor())
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

func tlsDetail(cs tls.ConnectionState) string {
	s := tls.VersionName(cs.Version)
	if len(cs.PeerCertificates) > 0 {
		cert := cs.PeerCertificates[0]
		s += fmt.Sprintf(", certificate valid until %s", cert.NotAfter.Format("2006-01-02"))
	}
	return s
}

func contentNote(ct string) string {
	if ct == "" {
		return ""
	}
	return " (" + ct + ")"
}

func transportDetail(c *backend.Connector, tr []tried) string {
	if len(tr) == 0 {
		return ""
	}
	name := map[string]string{backend.TransportStreamableHTTP: "Streamable HTTP", backend.TransportSSE: "SSE (legacy HTTP+SSE)"}
	chosen := tr[len(tr)-1]
	s := name[chosen.transport]
	if c.Transport == backend.TransportAuto {
		s += ", detected"
		if len(tr) > 1 {
			prev := tr[0]
			why := "it did not answer as one"
			if prev.view.last != nil && prev.view.last.Status != 0 {
				why = fmt.Sprintf("it answered HTTP %d", prev.view.last.Status)
			}
			s += fmt.Sprintf(" (the URL is not a %s endpoint: %s)", name[prev.transport], why)
		}
	}
	return s
}

func authDetail(c *backend.Connector) string {
	switch c.Auth.Type {
	case backend.AuthAPIKey:
		if a := c.Auth.APIKey; a != nil && a.In == backend.APIKeyInQuery {
			return fmt.Sprintf("API key accepted (query parameter %s)", a.Name)
		} else if a != nil {
			return fmt.Sprintf("API key accepted (header %s)", a.Name)
		}
	case backend.AuthOAuth:
		return "signed in (OAuth)"
	}
	return "no authentication needed"
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
