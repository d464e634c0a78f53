package store_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/store"
)

func benchEntry(i int) *backend.ActivityEntry {
	return &backend.ActivityEntry{
		Conversation: "default", ConnectorID: "c_bench", Connector: "Bench", Tool: "echo", ExposedName: "bench_echo",
		Arguments: json.RawMessage(fmt.Sprintf(`{"message":"benchmark call %d"}`, i)),
		Result:    json.RawMessage(`{"content":[{"type":"text","text":"Echo: benchmark"}]}`),
		Outcome:   backend.OutcomeOK, DurationMS: 0.4,
	}
}

// BenchmarkAppendActivity measures what a tool call pays to log itself: the
// queueing only; the batched commit happens on the writer goroutine.
func BenchmarkAppendActivity(b *testing.B) {
	db := open(b, b.TempDir(), nil)
	// Build the entries first: what a call pays is the queueing, not the
	// making of a test entry.
	entries := make([]*backend.ActivityEntry, b.N)
	for i := range entries {
		entries[i] = benchEntry(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, e := range entries {
		db.AppendActivity(e)
	}
	b.StopTimer()
	db.FlushActivity()
}

// BenchmarkActivityThroughput includes the commit: appends followed by a
// flush, so the per-entry figure is the amortised disk cost.
func BenchmarkActivityThroughput(b *testing.B) {
	db := open(b, b.TempDir(), &store.Options{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		db.AppendActivity(benchEntry(i))
		if i%256 == 255 {
			db.FlushActivity()
		}
	}
	db.FlushActivity()
}

// BenchmarkListActivityTextSearch searches 20,000 entries for a term that
// matches none of them: the worst case, a full scan.
func BenchmarkListActivityTextSearch(b *testing.B) {
	db := open(b, b.TempDir(), nil)
	for i := 0; i < 20_000; i++ {
		db.AppendActivity(benchEntry(i))
	}
	db.FlushActivity()
	b.ResetTimer()
	for b.Loop() {
		if _, err := db.ListActivity(ctx, backend.ActivityFilter{Text: "no such thing", Limit: 50}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListActivityFirstPage reads the newest 50 entries of 20,000.
func BenchmarkListActivityFirstPage(b *testing.B) {
	db := open(b, b.TempDir(), nil)
	for i := 0; i < 20_000; i++ {
		db.AppendActivity(benchEntry(i))
	}
	db.FlushActivity()
	b.ResetTimer()
	for b.Loop() {
		if _, err := db.ListActivity(ctx, backend.ActivityFilter{Limit: 50}); err != nil {
			b.Fatal(err)
		}
	}
}
