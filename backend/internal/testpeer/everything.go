package testpeer

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// NodeDir returns the directory of the test peers' npm packages.
func NodeDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "node")
}

// requireNode returns the node binary and the path of a file under
// node_modules, failing the test with what to run when either is missing.
func requireNode(t testing.TB, module string) (node, path string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: run `make test-deps` (needs node and npm)")
	}
	path = filepath.Join(NodeDir(), "node_modules", filepath.FromSlash(module))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is missing: run `make test-deps` (needs node and npm)", path)
	}
	return node, path
}

// Peer is a running @modelcontextprotocol/server-everything.
type Peer struct {
	// URL is the MCP endpoint: /mcp for streamableHttp, /sse for sse.
	URL string

	port   int
	t      testing.TB
	node   string
	script string
	mode   string
	logf   *os.File

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Everything starts server-everything in mode "streamableHttp" or "sse" on
// a free loopback port, waits until it accepts connections and kills it
// when the test ends.
func Everything(t testing.TB, mode string) *Peer {
	t.Helper()
	if mode != "streamableHttp" && mode != "sse" {
		t.Fatalf("testpeer: unknown server-everything mode %q", mode)
	}
	node, script := requireNode(t, "@modelcontextprotocol/server-everything/dist/index.js")
	port := freePort(t)
	logf, err := os.Create(filepath.Join(t.TempDir(), "server-everything.log"))
	if err != nil {
		t.Fatal(err)
	}
	path := "/mcp"
	if mode == "sse" {
		path = "/sse"
	}
	p := &Peer{
		URL:  fmt.Sprintf("http://127.0.0.1:%d%s", port, path),
		port: port, t: t, node: node, script: script, mode: mode, logf: logf,
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			if b, err := os.ReadFile(logf.Name()); err == nil {
				t.Logf("server-everything output:\n%s", tail(b, 4000))
			}
		}
		logf.Close()
	})
	p.Start()
	return p
}

// Start starts the server (again) on its port and waits until it accepts
// connections.
func (p *Peer) Start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return
	}
	cmd := exec.Command(p.node, p.script, p.mode)
	cmd.Dir = NodeDir()
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(p.port))
	// Files, not buffers: exec then needs no copying goroutines, which
	// keeps goroutine-leak checks in tests precise.
	cmd.Stdout, cmd.Stderr = p.logf, p.logf
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("starting server-everything: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited

	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)), time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(p.logf.Name())
			p.cmd = nil
			p.t.Fatalf("server-everything exited while starting:\n%s", tail(b, 4000))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("server-everything did not accept connections on port %d within 30s", p.port)
		}
	}
}

// Stop kills the server (SIGKILL: no goodbye to its clients) and waits
// until it is gone.
func (p *Peer) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.cmd = nil
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
