package gateway

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/patchbay/patchbay/backend"
)

// record is one call on its way to the activity log.
type record struct {
	entry  *backend.ActivityEntry
	args   json.RawMessage
	result *mcp.CallToolResult // as the upstream returned it, uncapped
}

// recorder writes activity entries off the call path: a call only queues
// its record (a channel send); encoding, redaction and capping happen on
// the recorder's goroutine, and the store batches the writes.
type recorder struct {
	store   Store
	red     *redactor
	secrets *secretWatch
	maxLog  int

	ch       chan any // *record or flushReq
	closeMu  sync.RWMutex
	isClosed bool
}

type flushReq chan struct{}

func newRecorder(s Store, red *redactor, sw *secretWatch, maxLog int) *recorder {
	return &recorder{store: s, red: red, secrets: sw, maxLog: maxLog, ch: make(chan any, 4096)}
}

// add queues a record. When the queue is full (a burst far beyond what a
// person's clients make) the caller waits rather than losing an entry.
func (r *recorder) add(rec *record) {
	r.closeMu.RLock()
	defer r.closeMu.RUnlock()
	if r.isClosed {
		r.write(rec)
		return
	}
	r.ch <- rec
}

// flush returns once everything queued before it is written.
func (r *recorder) flush() {
	r.closeMu.RLock()
	if r.isClosed {
		r.closeMu.RUnlock()
		return
	}
	done := make(flushReq)
	r.ch <- done
	r.closeMu.RUnlock()
	<-done
}

// close writes what is queued and stops run.
func (r *recorder) close() {
	r.closeMu.Lock()
	if r.isClosed {
		r.closeMu.Unlock()
		return
	}
	r.isClosed = true
	close(r.ch)
	r.closeMu.Unlock()
}

func (r *recorder) run(wg *sync.WaitGroup) {
	defer wg.Done()
	for item := range r.ch {
		switch x := item.(type) {
		case *record:
			r.write(x)
		case flushReq:
			close(x)
		}
	}
}

// write finishes an entry — redacted arguments, redacted and capped result,
// redacted error — and appends it.
func (r *recorder) write(rec *record) {
	if r.secrets != nil {
		r.secrets.refreshIfStale(context.Background())
	}
	e := rec.entry
	if len(rec.args) > 0 {
		e.Arguments = r.redactCapped(rec.args)
	}
	if rec.result != nil {
		if b, err := json.Marshal(rec.result); err == nil {
			e.ResultSize = len(b)
			e.ResultTruncated = len(b) > r.maxLog
			e.Result = r.redactCapped(b)
		}
	}
	e.Error = r.red.String(e.Error)
	r.store.AppendActivity(e)
}

// redactCapped returns raw redacted, or, when it is longer than the log
// keeps, the redacted start of it as a JSON string. A little more than is
// kept is redacted, so that a secret cut at the edge cannot survive as a
// prefix.
func (r *recorder) redactCapped(raw []byte) json.RawMessage {
	if len(raw) <= r.maxLog {
		return r.red.JSON(raw)
	}
	s := r.red.String(truncateUTF8(string(raw), r.maxLog+4096))
	return capJSON([]byte(s), r.maxLog)
}

// capJSON returns raw when it fits in n bytes, else its first n bytes as a
// JSON string (the log shows it as text, marked truncated).
func capJSON(raw []byte, n int) json.RawMessage {
	if len(raw) <= n {
		return raw
	}
	b, _ := json.Marshal(truncateUTF8(string(raw), n))
	return b
}

// ActivityService wraps the store's activity reader so that a reader sees
// every call made before it asked, including those still on their way
// from the gateway to the store.
func (g *Gateway) ActivityService(s backend.ActivityService) backend.ActivityService {
	return activityReader{g: g, s: s}
}

type activityReader struct {
	g *Gateway
	s backend.ActivityService
}

func (a activityReader) ListActivity(ctx context.Context, f backend.ActivityFilter) (*backend.ActivityPage, error) {
	a.g.FlushActivity()
	return a.s.ListActivity(ctx, f)
}

func (a activityReader) GetActivity(ctx context.Context, seq uint64) (*backend.ActivityEntry, error) {
	a.g.FlushActivity()
	return a.s.GetActivity(ctx, seq)
}
