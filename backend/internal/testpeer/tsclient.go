package testpeer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TSClient is the TypeScript SDK's MCP client (node/mcp-repl.mjs), driven
// command by command from a test. It speaks the protocol up to 2025-11-25.
type TSClient struct {
	t     testing.TB
	cmd   *exec.Cmd
	stdin io.WriteCloser
	// Events receives the client's notifications: "tools_list_changed",
	// "progress", "stderr" (a stdio child's), "error".
	Events chan TSEvent

	mu      sync.Mutex
	next    int
	pending map[int]chan map[string]json.RawMessage
	done    chan struct{}
	logf    *os.File
}

// TSEvent is a notification the client reported.
type TSEvent struct {
	Event  string          `json:"event"`
	Text   string          `json:"text,omitempty"`
	ID     int             `json:"id,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
}

// StartTSClient starts the client process; it is closed when the test ends.
func StartTSClient(t testing.TB) *TSClient {
	t.Helper()
	node, _ := requireNode(t, "@modelcontextprotocol/sdk/package.json")
	cmd := exec.Command(node, filepath.Join(NodeDir(), "mcp-repl.mjs"))
	cmd.Dir = NodeDir()
	logf, err := os.Create(filepath.Join(t.TempDir(), "ts-client.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the TypeScript client: %v", err)
	}
	c := &TSClient{t: t, cmd: cmd, stdin: stdin, Events: make(chan TSEvent, 256), pending: map[int]chan map[string]json.RawMessage{}, done: make(chan struct{}), logf: logf}
	go c.read(stdout)
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-c.done
		}
		if t.Failed() {
			if b, err := os.ReadFile(logf.Name()); err == nil && len(b) > 0 {
				t.Logf("TypeScript client stderr:\n%s", tail(b, 4000))
			}
		}
		logf.Close()
	})
	return c
}

func (c *TSClient) read(r io.Reader) {
	defer close(c.done)
	defer c.cmd.Wait()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var m map[string]json.RawMessage
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		if _, isEvent := m["event"]; isEvent {
			var e TSEvent
			json.Unmarshal(sc.Bytes(), &e)
			select {
			case c.Events <- e:
			default: // a test that does not read events must not stall the client
			}
			continue
		}
		var id int
		json.Unmarshal(m["id"], &id)
		c.mu.Lock()
		ch := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
	c.mu.Lock()
	for id, ch := range c.pending {
		close(ch)
		delete(c.pending, id)
	}
	c.mu.Unlock()
}

// Send sends a command and returns a channel for its answer (closed
// without one if the client exits).
func (c *TSClient) Send(cmd map[string]any) <-chan map[string]json.RawMessage {
	c.mu.Lock()
	c.next++
	id := c.next
	ch := make(chan map[string]json.RawMessage, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	cmd["id"] = id
	b, _ := json.Marshal(cmd)
	if _, err := c.stdin.Write(append(b, '\n')); err != nil {
		c.t.Fatalf("TypeScript client: %v", err)
	}
	return ch
}

// Do sends a command and waits for its answer; an answer with "error"
// fails the test unless allowError is set.
func (c *TSClient) Do(cmd map[string]any) map[string]json.RawMessage {
	c.t.Helper()
	return c.Wait(c.Send(cmd), false)
}

// Wait waits for an answer; with allowError the caller inspects "error".
func (c *TSClient) Wait(ch <-chan map[string]json.RawMessage, allowError bool) map[string]json.RawMessage {
	c.t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			c.t.Fatal("the TypeScript client exited")
		}
		if e, bad := m["error"]; bad && !allowError {
			c.t.Fatalf("TypeScript client: %s", e)
		}
		return m
	case <-time.After(60 * time.Second):
		c.t.Fatal("no answer from the TypeScript client within 60s")
		return nil
	}
}

// WaitEvent waits for the next event of a kind, skipping others.
func (c *TSClient) WaitEvent(kind string) TSEvent {
	c.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case e := <-c.Events:
			if e.Event == kind {
				return e
			}
		case <-deadline:
			c.t.Fatalf("no %q event from the TypeScript client within 30s", kind)
		}
	}
}

// DrainEvents discards the events received so far.
func (c *TSClient) DrainEvents() {
	for {
		select {
		case <-c.Events:
		default:
			return
		}
	}
}

// ToolNames lists the client's tools by name.
func (c *TSClient) ToolNames() []string {
	c.t.Helper()
	var tools []struct{ Name string }
	if err := json.Unmarshal(c.Do(map[string]any{"op": "list"})["tools"], &tools); err != nil {
		c.t.Fatal(err)
	}
	names := make([]string, len(tools))
	for i, tl := range tools {
		names[i] = tl.Name
	}
	return names
}

// TSResult is a CallToolResult as the TypeScript client returned it.
type TSResult struct {
	Content []struct {
		Type, Text string
	} `json:"content"`
	StructuredContent map[string]any `json:"structuredContent"`
	IsError           bool           `json:"isError"`
}

// Text joins the text content.
func (r TSResult) Text() string {
	s := ""
	for _, c := range r.Content {
		s += c.Text
	}
	return s
}

// Call calls a tool and returns the result, or the protocol error text.
func (c *TSClient) Call(name string, args map[string]any) (TSResult, string) {
	c.t.Helper()
	return c.CallAnswer(c.Send(map[string]any{"op": "call", "name": name, "arguments": args}))
}

// CallAnswer waits for the answer of a call sent with Send.
func (c *TSClient) CallAnswer(ch <-chan map[string]json.RawMessage) (TSResult, string) {
	c.t.Helper()
	m := c.Wait(ch, true)
	var res TSResult
	if e, bad := m["error"]; bad {
		var s string
		json.Unmarshal(e, &s)
		return res, s
	}
	if err := json.Unmarshal(m["result"], &res); err != nil {
		c.t.Fatalf("call result: %v", err)
	}
	return res, ""
}

// String describes the client for test names.
func (c *TSClient) String() string { return fmt.Sprintf("ts-sdk pid %d", c.cmd.Process.Pid) }
