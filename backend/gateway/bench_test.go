package gateway_test

// Benchmarks of the MCP endpoint, run by `make bench` (.ci/bench.sh), which
// writes the figures to BENCHMARKS.md. Upstreams are in-process go-sdk
// servers on loopback; clients are go-sdk clients of the 2026-07-28 era.
// Every figure through Patchbay has a "direct" twin: the same client
// calling the same upstream without Patchbay.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/internal/testpeer"
	"github.com/patchbay/patchbay/backend/registry"
	"github.com/patchbay/patchbay/backend/secrets"
	"github.com/patchbay/patchbay/backend/store"
)

// benchTransport keeps enough idle connections for 32 concurrent clients
// (http.DefaultTransport keeps 2 per host, which would measure TCP churn).
var benchTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 256
	t.MaxIdleConns = 256
	return t
}()

func benchClient(b *testing.B, url, token string) *mcp.ClientSession {
	return benchClientEra(b, url, token, "")
}

// benchClientEra connects a client speaking era ("" is the newest).
func benchClientEra(b *testing.B, url, token, era string) *mcp.ClientSession {
	b.Helper()
	var rt http.RoundTripper = benchTransport
	if token != "" {
		rt = &authTransport{token: token, base: benchTransport}
	}
	cl := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
	cs, err := cl.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: rt}}, &mcp.ClientSessionOptions{ProtocolVersion: era})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cs.Close() })
	return cs
}

// callSetup returns a function connecting a client of era that calls echo:
// directly on the upstream, or through Patchbay as peer_echo.
func callSetup(b *testing.B, mode, era string) (string, func() *mcp.ClientSession) {
	p := newPeer(b)
	switch mode {
	case "direct":
		return "echo", func() *mcp.ClientSession { return benchClientEra(b, p.URL, "", era) }
	case "bare-proxy":
		// The two hops and nothing else: a go-sdk server whose tool calls
		// the upstream through a go-sdk client. What any MCP proxy built on
		// go-sdk pays, before it checks or records anything.
		up := benchClient(b, p.URL, "")
		srv := mcp.NewServer(&mcp.Implementation{Name: "proxy", Version: "1"}, nil)
		srv.AddTool(&mcp.Tool{Name: "peer_echo", InputSchema: map[string]any{"type": "object"}}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return up.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: req.Params.Arguments})
		})
		hs := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: true}))
		b.Cleanup(hs.Close)
		return "peer_echo", func() *mcp.ClientSession { return benchClientEra(b, hs.URL, "", era) }
	}
	h := newHarness(b, harnessOptions{})
	h.addPeer("Peer", "peer", p.URL, backend.PolicyAlwaysAllow)
	return "peer_echo", func() *mcp.ClientSession { return benchClientEra(b, h.url("/mcp"), h.token, era) }
}

func echo(b *testing.B, cs *mcp.ClientSession, name string) {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{"message": "benchmark"}})
	if err != nil || res.IsError {
		b.Fatalf("call: %v %v", res, err)
	}
}

// BenchmarkCallLatency: one client calling one tool, one call at a time.
// Reports the median and 99th percentile of a call. The 2026-07-28 client
// is served statelessly by Patchbay; a 2025-11-25 client ("legacy") has a
// session.
func BenchmarkCallLatency(b *testing.B) {
	for _, era := range []string{"", legacyEra} {
		for _, mode := range []string{"direct", "bare-proxy", "patchbay"} {
			name := mode
			if era != "" && mode == "bare-proxy" {
				continue
			}
			if era != "" {
				name = "legacy-client/" + mode
			}
			b.Run(name, func(b *testing.B) {
				tool, connect := callSetup(b, mode, era)
				cs := connect()
				for range 300 { // warm up connections and caches
					echo(b, cs, tool)
				}
				durs := make([]time.Duration, 0, 4096)
				for b.Loop() {
					t0 := time.Now()
					echo(b, cs, tool)
					durs = append(durs, time.Since(t0))
				}
				slices.Sort(durs)
				b.ReportMetric(float64(durs[len(durs)/2].Nanoseconds())/1e3, "p50-µs")
				b.ReportMetric(float64(durs[len(durs)*99/100].Nanoseconds())/1e3, "p99-µs")
			})
		}
	}
}

// BenchmarkThroughput: 1 and 32 clients, each with its own session,
// calling as fast as they can. Reports calls per second.
func BenchmarkThroughput(b *testing.B) {
	for _, clients := range []int{1, 32} {
		for _, mode := range []string{"direct", "patchbay"} {
			b.Run(fmt.Sprintf("clients=%d/%s", clients, mode), func(b *testing.B) {
				tool, connect := callSetup(b, mode, "")
				sessions := make([]*mcp.ClientSession, clients)
				for i := range sessions {
					sessions[i] = connect()
					echo(b, sessions[i], tool)
				}
				var next atomic.Int64
				total := int64(b.N)
				b.ResetTimer()
				start := time.Now()
				var wg sync.WaitGroup
				for _, cs := range sessions {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for next.Add(1) <= total {
							echo(b, cs, tool)
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64(total)/time.Since(start).Seconds(), "calls/s")
			})
		}
	}
}

// manyTools adds n tools with realistic schemas to an upstream.
func manyTools(s *mcp.Server, n int) {
	for i := range n {
		mcp.AddTool(s, &mcp.Tool{Name: fmt.Sprintf("tool_%02d", i), Description: fmt.Sprintf("Tool number %d: does something useful with a query and a limit, and says what it found.", i)},
			func(context.Context, *mcp.CallToolRequest, struct {
				Query string `json:"query" jsonschema:"what to look for"`
				Limit int    `json:"limit,omitempty" jsonschema:"at most this many results"`
			}) (*mcp.CallToolResult, any, error) {
				return &mcp.CallToolResult{}, nil, nil
			})
	}
}

// slowPeer answers every request after delay.
func slowPeer(b *testing.B, tools int, delay time.Duration) *testpeer.Server {
	p := testpeer.NewServer(b, testpeer.ServerOptions{})
	p.MCP.RemoveTools("echo", "add", "slow", "fail")
	manyTools(p.MCP, tools)
	if delay > 0 {
		p.MCP.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
			return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
				if !strings.HasPrefix(method, "notifications/") {
					time.Sleep(delay)
				}
				return next(ctx, method, req)
			}
		})
	}
	return p
}

const listBody = `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`

// rawList lists tools with one plain HTTP request and reads the whole
// answer: the time Patchbay takes, without a client's decoding.
func rawList(b *testing.B, url, token string) int {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(listBody))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", "tools/list")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := benchTransport.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		b.Fatalf("tools/list: %d", resp.StatusCode)
	}
	return int(n)
}

// BenchmarkToolsList: 20 connectors with 50 tools each in one
// conversation. warm: the tools are known (the usual case); cold: a fresh
// Patchbay that has never listed them, with upstreams that answer after
// 50 ms, fanned out in parallel. slowest-upstream is the time a client
// takes to connect to one such upstream and list its tools directly.
func BenchmarkToolsList(b *testing.B) {
	const connectors, perConnector = 20, 50
	b.Run("warm", func(b *testing.B) {
		h := newHarness(b, harnessOptions{})
		for i := range connectors {
			p := slowPeer(b, perConnector, 0)
			h.addPeer(fmt.Sprintf("Connector %02d", i), fmt.Sprintf("c%02d", i), p.URL, backend.PolicyAlwaysAllow)
		}
		cs := benchClient(b, h.url("/mcp"), h.token)
		res, err := cs.ListTools(ctx, nil)
		if err != nil || len(res.Tools) != connectors*perConnector {
			b.Fatalf("listed %d tools: %v", len(res.Tools), err)
		}
		b.Run("http", func(b *testing.B) {
			var size int
			for b.Loop() {
				size = rawList(b, h.url("/mcp"), h.token)
			}
			b.ReportMetric(float64(size)/1024, "KiB")
		})
		// The same 1,000 definitions served by a plain go-sdk server: what
		// any Go MCP server pays to answer this list.
		b.Run("direct-http", func(b *testing.B) {
			mirror := mcp.NewServer(&mcp.Implementation{Name: "mirror", Version: "1"}, &mcp.ServerOptions{PageSize: 5000})
			for _, tl := range res.Tools {
				schema, _ := json.Marshal(tl.InputSchema)
				c := *tl
				c.InputSchema = json.RawMessage(schema)
				mirror.AddTool(&c, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
					return &mcp.CallToolResult{}, nil
				})
			}
			srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return mirror }, &mcp.StreamableHTTPOptions{Stateless: true}))
			defer srv.Close()
			var size int
			for b.Loop() {
				size = rawList(b, srv.URL, "")
			}
			b.ReportMetric(float64(size)/1024, "KiB")
		})
		b.Run("go-sdk-client", func(b *testing.B) {
			for b.Loop() {
				if _, err := cs.ListTools(ctx, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("cold", func(b *testing.B) {
		var urls []string
		for range connectors {
			urls = append(urls, slowPeer(b, perConnector, 50*time.Millisecond).URL)
		}
		// The baseline: a client that follows list changes (as Patchbay
		// must) connecting to one such upstream and listing its tools.
		var slowest time.Duration
		for _, u := range urls[:3] {
			t0 := time.Now()
			cl := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, &mcp.ClientOptions{
				ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {},
			})
			cs, err := cl.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: u, HTTPClient: &http.Client{Transport: benchTransport}}, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := cs.ListTools(ctx, nil); err != nil {
				b.Fatal(err)
			}
			slowest = max(slowest, time.Since(t0))
			cs.Close()
		}
		var total time.Duration
		n := 0
		for b.Loop() {
			b.StopTimer()
			h := newHarness(b, harnessOptions{})
			for i, u := range urls {
				_, err := h.reg.CreateConnector(ctx, &backend.Connector{Name: fmt.Sprintf("Slow %02d", i), Slug: fmt.Sprintf("s%02d", i), URL: u,
					Transport: backend.TransportStreamableHTTP, Auth: backend.Auth{Type: backend.AuthNone}, DefaultPolicy: backend.PolicyAlwaysAllow})
				if err != nil {
					b.Fatal(err)
				}
			}
			cs := benchClient(b, h.url("/mcp"), h.token)
			b.StartTimer()
			t0 := time.Now()
			res, err := cs.ListTools(ctx, nil)
			d := time.Since(t0)
			b.StopTimer()
			if err != nil || len(res.Tools) != connectors*perConnector {
				b.Fatalf("cold list: %d tools, %v", len(res.Tools), err)
			}
			total += d
			n++
			cs.Close()
			h.gw.Close()
			h.up.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(slowest.Microseconds())/1e3, "slowest-upstream-ms")
		b.ReportMetric(float64(total.Microseconds())/1e3/float64(n), "cold-ms")
		b.ReportMetric(float64(total)/float64(n)/float64(slowest), "x-slowest")
	})
}

// BenchmarkStartup starts the real headless binary (PATCHBAY_TEST_BINARY)
// with 100 connectors configured and measures the time until it is ready
// (its banner, printed once it listens), then its resident memory after
// two idle seconds.
func BenchmarkStartup(b *testing.B) {
	bin := os.Getenv("PATCHBAY_TEST_BINARY")
	if bin == "" {
		b.Fatal("PATCHBAY_TEST_BINARY is not set: run `make bench` (it builds bin/patchbay-headless), or `make headless` and set it to the absolute path")
	}
	dir := b.TempDir()
	db, err := store.Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	reg := registry.New(registry.Options{Store: db, Secrets: secrets.NewMemory()})
	for i := range 100 {
		if _, err := reg.CreateConnector(ctx, &backend.Connector{Name: fmt.Sprintf("Connector %03d", i), URL: fmt.Sprintf("https://mcp%03d.example.com/mcp", i), Auth: backend.Auth{Type: backend.AuthNone}}); err != nil {
			b.Fatal(err)
		}
	}
	db.Close()
	var rss float64
	for i := 0; b.Loop(); i++ {
		cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
		cmd.Env = append(os.Environ(), "PATCHBAY_HOME="+dir, "PATCHBAY_ADMIN_TOKEN=pba_bench-admin-token-0123456789")
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		ready := false
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Press Ctrl-C") {
				ready = true
				break
			}
		}
		if !ready {
			cmd.Process.Kill()
			cmd.Wait()
			b.Fatal("the binary never became ready")
		}
		if i == 0 {
			b.StopTimer()
			time.Sleep(2 * time.Second)
			rss = rssMB(b, cmd.Process.Pid)
			b.StartTimer()
		}
		b.StopTimer()
		go io.Copy(io.Discard, out)
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		b.StartTimer()
	}
	b.ReportMetric(rss, "idle-RSS-MB")
}

func rssMB(b *testing.B, pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatalf("reading the process's memory: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
