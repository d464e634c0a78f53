package gateway

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/store"
)

func benchRecord() *record {
	return &record{
		entry: &backend.ActivityEntry{Time: time.Now(), Conversation: "default", ClientName: "bench", TokenLabel: "bench",
			ConnectorID: "c_bench", Connector: "Bench", Tool: "echo", ExposedName: "bench_echo", Outcome: backend.OutcomeOK, DurationMS: 0.4},
		args:   json.RawMessage(`{"message":"benchmark call with a Bearer abcdefghijklmnopqrstuvwxyz token"}`),
		result: &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "Echo: benchmark call"}}},
	}
}

// BenchmarkActivityOnCallPath is what a call pays to be logged: queueing
// its record. Redaction, encoding and the batched write happen on the
// recorder's goroutine; the benchmark lets it keep up (as it does at any
// real call rate) and reports the time spent in the call's goroutine.
func BenchmarkActivityOnCallPath(b *testing.B) {
	db, err := store.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	r := newRecorder(db, &redactor{}, nil, 64<<10)
	var wg sync.WaitGroup
	wg.Add(1)
	go r.run(&wg)
	var onPath time.Duration
	n := 0
	for b.Loop() {
		rec := benchRecord()
		t0 := time.Now()
		r.add(rec)
		onPath += time.Since(t0)
		if n++; n%1000 == 0 {
			r.flush() // the recorder catches up, as between real calls
		}
	}
	b.ReportMetric(float64(onPath.Nanoseconds())/float64(n), "ns-on-call-path")
	r.close()
	wg.Wait()
}

// BenchmarkActivityBackground is the recorder's own work per entry
// (redaction, encoding, queueing for the batched write): off the call path.
func BenchmarkActivityBackground(b *testing.B) {
	db, err := store.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	red := &redactor{}
	red.setValues([]string{"a-stored-secret-value-0123456789", "another-secret-value-abcdef"})
	r := newRecorder(db, red, nil, 64<<10)
	b.ReportAllocs()
	for b.Loop() {
		r.write(benchRecord())
	}
	b.StopTimer()
	db.FlushActivity()
}
