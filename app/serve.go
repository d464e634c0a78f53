package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/patchbay/patchbay/backend"
)

// InstanceFile, in the data directory, tells the CLI (and a second launch of
// the app) where the running instance listens.
const InstanceFile = "instance.json"

// Instance describes a running Patchbay.
type Instance struct {
	PID       int       `json:"pid"`
	Addr      string    `json:"addr"`
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at"`
}

// URL returns the instance's base URL.
func (i *Instance) URL() string { return "http://" + i.Addr }

// ReadInstance returns the instance recorded in dir, or nil when none is.
func ReadInstance(dir string) *Instance {
	b, err := os.ReadFile(filepath.Join(dir, InstanceFile))
	if err != nil {
		return nil
	}
	var i Instance
	if json.Unmarshal(b, &i) != nil || i.Addr == "" {
		return nil
	}
	return &i
}

// writeInstance records inst in dir, atomically: a CLI starting at the same
// moment reads the old file or the new one, never half of one.
func writeInstance(dir string, inst *Instance) error {
	b, _ := json.MarshalIndent(inst, "", "  ")
	tmp, err := os.CreateTemp(dir, InstanceFile+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone after the rename; cleans up a failure
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, InstanceFile))
}

// Listener is the loopback HTTP server of a running Core.
type Listener struct {
	core *Core
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// ListenOptions configure Listen.
type ListenOptions struct {
	// Addr is host:port; empty means 127.0.0.1 and the configured port.
	Addr string
	// AllowNonLoopback permits binding a non-loopback address. Anyone who
	// can reach it and has a token can use the connectors; the caller warns.
	AllowNonLoopback bool
}

// Listen starts serving the core's handler on a loopback address and
// records the instance for the CLI.
func (c *Core) Listen(o ListenOptions) (*Listener, error) {
	addr := o.Addr
	if addr == "" {
		addr = c.DB.Settings().Addr()
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, backend.Errorf(backend.EINVALID, "The address %q is not host:port.", addr).
			WithFix("Use a form like 127.0.0.1:47821.")
	}
	if !backend.IsLoopbackHost(host) && !o.AllowNonLoopback {
		return nil, backend.Errorf(backend.EINVALID, "Refusing to listen on %s: it is not a loopback address, so other machines could reach your connectors.", addr).
			WithSlug("non_loopback").
			WithFix("Use 127.0.0.1 (the default). If you really mean it, add --allow-non-loopback.")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, backend.Errorf(backend.ECONFLICT, "Port %s on %s is already in use by another program.", port, host).
				WithSlug("port_busy").
				WithFix("Stop that program, or start Patchbay on another port with --addr 127.0.0.1:PORT (and save it in Settings so clients keep working).")
		}
		return nil, backend.Errorf(backend.EUNAVAILABLE, "Cannot listen on %s: %v.", addr, err)
	}
	real := ln.Addr().String()
	c.setBaseURL("http://" + real)
	l := &Listener{core: c, ln: ln, done: make(chan error, 1)}
	l.srv = &http.Server{
		Handler:           c.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
	}
	// Open MCP streams (GET and subscriptions/listen) would hold Shutdown
	// until its deadline: hang up on them first.
	l.srv.RegisterOnShutdown(func() { _ = c.Gateway.Close() })
	go func() { l.done <- l.srv.Serve(ln) }()
	inst := Instance{PID: os.Getpid(), Addr: real, Version: c.Version, StartedAt: time.Now().UTC()}
	if err := writeInstance(c.Dir, &inst); err != nil {
		c.Log.Warn("could not record the instance for the CLI", "err", err)
	}
	return l, nil
}

// Addr returns the address the listener is bound to.
func (l *Listener) Addr() string { return l.ln.Addr().String() }

// Done is closed (with the serve error) when the server stops.
func (l *Listener) Done() <-chan error { return l.done }

// Shutdown stops accepting requests, lets in-flight ones finish (up to the
// context's deadline) and removes the instance record.
func (l *Listener) Shutdown(ctx context.Context) error {
	_ = os.Remove(filepath.Join(l.core.Dir, InstanceFile))
	err := l.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = l.srv.Close()
	}
	return err
}

// Banner is what `serve` prints once it is ready.
func (c *Core) Banner(l *Listener) string {
	b := fmt.Sprintf("Patchbay %s is ready.\n  MCP endpoint:  %s/mcp\n  Web UI:        %s\n  Sign in:       %s\n  Data:          %s\n",
		c.Version, c.BaseURL(), c.BaseURL(), c.API.NewLoginLink(), c.Dir)
	if c.KeychainProblem != "" {
		b += "\nThe OS keychain cannot be used: " + c.KeychainProblem + "\n" +
			"Until it can, connector secrets must be given as ${ENV_VAR} references, and the admin\n" +
			"token lives for this run only. For the CLI in another terminal:\n" +
			"  export PATCHBAY_ADMIN_TOKEN=" + c.AdminToken + "\n\n"
	}
	return b + "Press Ctrl-C to stop.\n"
}
