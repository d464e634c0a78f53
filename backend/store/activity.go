package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/patchbay/patchbay/backend"
	bolt "go.etcd.io/bbolt"
)

// The activity log is append-heavy: every tool call adds an entry. Appends
// go to an in-memory queue and a writer commits them in batches, so a call
// pays for a slice append, not for an fsync. Keys are big-endian sequence
// numbers, so bbolt appends at the end of the B+tree and reading
// newest-first is a reverse cursor walk.

const (
	defaultFlushInterval = 50 * time.Millisecond
	maxBatch             = 1024
	// pruneEvery bounds how often retention runs: it needs a scan from the
	// oldest entry, cheap but not free.
	pruneEvery = time.Minute
)

type activityLog struct {
	db       *DB
	interval time.Duration
	onWrite  func([]*backend.ActivityEntry)

	mu      sync.Mutex
	pending []*backend.ActivityEntry
	wake    chan struct{} // first entry queued
	full    chan struct{} // a full batch is queued
	stop    chan struct{}
	closed  bool
	done    chan struct{}

	// flushMu serialises flushes between the writer and readers that want
	// to see their own writes.
	flushMu   sync.Mutex
	lastPrune time.Time
	count     int // entries in the bucket, kept to enforce the size limit cheaply
}

func newActivityLog(db *DB, interval time.Duration, onWrite func([]*backend.ActivityEntry)) *activityLog {
	if interval <= 0 {
		interval = defaultFlushInterval
	}
	l := &activityLog{db: db, interval: interval, onWrite: onWrite, wake: make(chan struct{}, 1), full: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		l.count = tx.Bucket(bucketActivity).Stats().KeyN
		return nil
	})
	go l.run()
	return l
}

// AppendActivity queues an entry for the log. It never blocks on disk; the
// entry is committed within the flush interval (with its Seq and Time set).
func (db *DB) AppendActivity(e *backend.ActivityEntry) {
	l := db.activity
	if e.Time.IsZero() {
		e.Time = db.now()
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.pending = append(l.pending, e)
	n := len(l.pending)
	l.mu.Unlock()
	if n == 1 {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
	if n >= maxBatch {
		select {
		case l.full <- struct{}{}:
		default:
		}
	}
}

// FlushActivity commits every queued entry now.
func (db *DB) FlushActivity() error { return db.activity.flush() }

func (l *activityLog) run() {
	defer close(l.done)
	for {
		select {
		case <-l.wake:
		case <-l.stop:
			return // close flushes what is left
		}
		// Let a burst accumulate into one transaction, unless the batch is
		// already full.
		t := time.NewTimer(l.interval)
		select {
		case <-t.C:
		case <-l.full:
			t.Stop()
		case <-l.stop:
			t.Stop()
			return
		}
		if err := l.flush(); err != nil {
			slog.Error("activity log: write failed; entries are kept for the next attempt", "err", err)
		}
	}
}

func (l *activityLog) close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	<-l.done
	_ = l.flush()
}

func (l *activityLog) flush() error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	batch := l.pending
	l.pending = nil
	l.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	settings := l.db.Settings()
	now := l.db.now()
	count := l.count + len(batch)
	prune := now.Sub(l.lastPrune) >= pruneEvery || count > settings.ActivityMaxEntries
	removed := 0
	err := l.db.update(context.Background(), func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketActivity)
		// Without HTML escaping, raw JSON keeps "<" as it is, which keeps
		// the text pre-filter simple.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for _, e := range batch {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			e.Seq = seq
			buf.Reset()
			if err := enc.Encode(e); err != nil {
				return err
			}
			// bbolt keeps the slice until the commit: give it its own copy.
			val := bytes.Clone(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
			if err := b.Put(seqKey(seq), val); err != nil {
				return err
			}
		}
		if !prune {
			return nil
		}
		var err error
		removed, err = pruneBucket(b, count, now, settings)
		return err
	})
	if err != nil {
		// The transaction rolled back: put the batch back in front so
		// nothing is lost; the count and the prune time stand as they were.
		for _, e := range batch {
			e.Seq = 0
		}
		l.mu.Lock()
		l.pending = append(batch, l.pending...)
		l.mu.Unlock()
		return err
	}
	l.count = count - removed
	if prune {
		l.lastPrune = now
	}
	if l.onWrite != nil {
		l.onWrite(batch)
	}
	return nil
}

// pruneBucket deletes entries older than the retention age and, beyond
// that, the oldest entries over the size limit; count is the number of
// entries in b. It returns how many it deleted.
func pruneBucket(b *bolt.Bucket, count int, now time.Time, s backend.Settings) (int, error) {
	cutoff := now.AddDate(0, 0, -s.ActivityRetentionDays)
	excess := count - s.ActivityMaxEntries
	removed := 0
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.First() {
		if removed >= excess {
			var e struct {
				Time time.Time `json:"time"`
			}
			if err := json.Unmarshal(v, &e); err == nil && !e.Time.Before(cutoff) {
				break
			}
		}
		if err := c.Delete(); err != nil {
			return removed, err
		}
		removed++
	}
	return removed, nil
}

func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// ListActivity returns entries newest-first matching f. Queued entries are
// flushed first, so a caller sees its own calls.
func (db *DB) ListActivity(ctx context.Context, f backend.ActivityFilter) (*backend.ActivityPage, error) {
	if err := db.activity.flush(); err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	if limit > 1000 {
		limit = 1000
	}
	text := strings.ToLower(strings.TrimSpace(f.Text))
	// The raw-JSON pre-filter is only sound when the text has no characters
	// that JSON escapes.
	prefilter := text != "" && strings.IndexFunc(text, func(r rune) bool {
		return r > '~' || r < ' ' || strings.ContainsRune(`<>&"\`, r)
	}) < 0
	page := &backend.ActivityPage{Entries: []*backend.ActivityEntry{}}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketActivity).Cursor()
		var k, v []byte
		if f.Before > 0 {
			k, v = c.Seek(seqKey(f.Before))
			if k == nil {
				k, v = c.Last()
			}
			for k != nil && binary.BigEndian.Uint64(k) >= f.Before {
				k, v = c.Prev()
			}
		} else {
			k, v = c.Last()
		}
		scanned := 0
		for ; k != nil; k, v = c.Prev() {
			seq := binary.BigEndian.Uint64(k)
			if f.After > 0 && seq <= f.After {
				break
			}
			if scanned++; scanned%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if prefilter && !bytes.Contains(bytes.ToLower(v), []byte(text)) {
				continue // cheap pre-filter on the raw JSON; refined below
			}
			e := new(backend.ActivityEntry)
			if err := json.Unmarshal(v, e); err != nil {
				return err
			}
			if !f.Matches(e) {
				continue
			}
			if len(page.Entries) == limit {
				page.Next = page.Entries[limit-1].Seq
				return nil
			}
			page.Entries = append(page.Entries, e)
		}
		return nil
	})
	return page, err
}

// GetActivity returns one entry by its sequence number.
func (db *DB) GetActivity(ctx context.Context, seq uint64) (*backend.ActivityEntry, error) {
	if err := db.activity.flush(); err != nil {
		return nil, err
	}
	e := new(backend.ActivityEntry)
	var ok bool
	err := db.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketActivity).Get(seqKey(seq))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, e)
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("activity entry", strconv.FormatUint(seq, 10), "It may have been removed by retention; see `patchbay activity`.")
	}
	return e, nil
}
